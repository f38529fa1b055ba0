package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ApplicationID marks an SQLite file as an nhi evidence file ("NHI1"), in the
// header field SQLite reserves for that purpose.
const ApplicationID = 0x4E484931

// Errors Open returns; callers match them with errors.Is to choose an exit
// code or a hint. The wrapped message already says what to do.
var (
	ErrNotExist    = errors.New("no evidence file")
	ErrNotEvidence = errors.New("not an nhi evidence file")
	ErrNewerSchema = errors.New("evidence file from a newer nhi")
	ErrReadOnly    = errors.New("evidence file is read-only")
	// ErrDamaged: the file's header says nhi's, but SQLite finds its
	// pages malformed (cut short, or overwritten in part).
	ErrDamaged = errors.New("evidence file is damaged")
	// ErrMoved: the path no longer names the file nhi opened (moved,
	// deleted or replaced since): a write refuses (Store.sameFile).
	ErrMoved = errors.New("evidence file is no longer where nhi opened it")
	// ErrNoConnection: a postgres:// store whose server could not be
	// reached or refused the connection: not a store that is not there.
	ErrNoConnection = errors.New("cannot connect to the PostgreSQL server")
	// ErrBadURL: a postgres:// store whose URL cannot be read (a space
	// in it, a port that is no number): a mistake in how nhi was
	// called, said in nhi's words (badURLReason), never the driver's,
	// which may quote part of a password.
	ErrBadURL = errors.New("the PostgreSQL URL cannot be read")
	// ErrTextOrder: a PostgreSQL database whose collation orders text
	// by a language's rules, not byte by byte (checkTextOrder).
	ErrTextOrder = errors.New("the PostgreSQL database sorts text by a language's rules")
)

// DamagedAdvice is what to do with an evidence file Damaged finds
// malformed, in the words both the commands (after the error) and the UI
// (after what it could not read) use: SQLite's words say what broke, not
// what to do.
const DamagedAdvice = "nhi does not repair it: keep it as it is, for the record, and work from a copy taken before the damage (a backup, or nhi db export's), checked with nhi verify --db COPY"

// OpenOptions says how to open an evidence file.
type OpenOptions struct {
	// Create makes a new file (mode 0600) when none exists.
	Create bool
	// ReadOnly opens without writing anything, not even a migration.
	ReadOnly bool
	// Now is the clock events and snapshots are stamped with; nil means
	// time.Now. Tests pass a fixed one.
	Now func() time.Time
	// BusyTimeout is how long a write on an evidence file waits for
	// another process's write lock before it tries again (five tries in
	// all, then the error names what holds the file: busyError); zero
	// means ten seconds. Tests shorten it.
	BusyTimeout time.Duration
	// AnyTextOrder opens a PostgreSQL database whose collation does not
	// order text byte by byte, which every other open refuses
	// (ErrTextOrder): only to copy the evidence out of it (nhi db
	// export), whose reads do not depend on that order.
	AnyTextOrder bool
}

// Store is an open evidence file.
type Store struct {
	db       *sql.DB
	path     string // the file, or the database URL without its password
	engine   engine
	readOnly bool
	clock    func() time.Time
	// pgConfig is, on PostgreSQL, how to connect: WatchEvents opens a
	// connection of its own to listen on.
	pgConfig *pgx.ConnConfig

	// file is the evidence file as opened, nil on PostgreSQL: a write
	// first checks that path still names it (sameFile).
	file os.FileInfo
	// tidyLog: a read-only open found neither the write-ahead log nor
	// the -shm file beside the file, so SQLite made them: Close removes
	// them (removeLogItMade).
	tidyLog bool

	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	cacheMu   sync.Mutex
	cacheWant map[string]string // see cacheHashes
	cachePut  map[string]string // key -> value hash of what this Store stored

	refresh refreshCache // Refresher's evaluators, at a head of the log
}

func (s *Store) now() time.Time { return s.clock().UTC() }

// Open opens the evidence file at path, creating it if asked, and brings its
// schema up to date. A postgres:// URL opens the evidence in that
// PostgreSQL database instead (docs/team.md). A file that is not an nhi evidence file, or comes from
// a newer nhi, is refused before anything is written to it.
func Open(ctx context.Context, path string, opts OpenOptions) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no path given; pass --db PATH", ErrNotExist)
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, opts)
	}
	// Taken before anything reads the file: checkFile's own reads open
	// it through SQLite too.
	tidyLog := opts.ReadOnly && absent(path+"-wal") && absent(path+"-shm")
	fresh, err := checkFile(path, opts)
	if err != nil {
		return nil, err
	}
	if fresh && !opts.ReadOnly {
		// Create the file ourselves so it is 0600 from its first byte;
		// SQLite gives its -wal and -shm files the same mode.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("cannot create evidence file %s: %w", path, unwrapPathError(err))
		}
		f.Close()
	}
	db, err := sql.Open("sqlite", dsn(path, opts.ReadOnly, opts.BusyTimeout, fresh))
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	if opts.ReadOnly {
		if db, err = readableOn(db, path); err != nil {
			return nil, err
		}
	}
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly, clock: opts.Now, closed: make(chan struct{}), tidyLog: tidyLog}
	s.file, _ = os.Stat(path)
	if s.clock == nil {
		s.clock = time.Now
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Path is the file the store reads and writes; on PostgreSQL, the
// database's URL without its password.
func (s *Store) Path() string { return s.path }

// Remote reports whether the store is a database server (PostgreSQL)
// rather than a file: there every statement is a round trip, so a write
// does its reads before it takes the write lock (AppendChecked); on a
// file, reads under the lock cost no more than reads before it.
func (s *Store) Remote() bool { return s.engine == enginePostgres }

// checkpoint moves the write-ahead log into the file, so that an auditor
// copying only nhi.db does not lose the last writes, when it can do so at
// once. A TRUNCATE checkpoint waits for every reader to finish, and with
// the busy timeout an external reader holding a transaction (the sqlite3
// shell, a backup tool) added 10 s to every command that wrote: here it
// does not wait, and the next close, or SQLite's own automatic
// checkpoints, move the log instead.
func (s *Store) checkpoint() {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return
	}
	_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// ReadOnly reports whether the store refuses writes.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close checkpoints the write-ahead log into the file and closes it; a
// read-only store removes the log and -shm files its open made.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() { close(s.closed); first = true })
	if !s.readOnly && s.engine == engineSQLite {
		s.checkpoint()
	}
	err := s.db.Close()
	if first && s.tidyLog {
		s.removeLogItMade()
	}
	return err
}

// A file in WAL mode is read through two files beside it, the
// write-ahead log (nhi.db-wal) and the index of it SQLite shares between
// processes (nhi.db-shm), which SQLite creates if they are not there,
// for a reader too. The last connection to close removes them, but only
// one that may write: it takes the file's exclusive lock (so no other
// process has it open), moves what the log holds into the file, and only
// then deletes them. A read-only connection can do none of that, so a
// read-only command (nhi verify, nhi identities, a report) left an empty
// nhi.db-wal and a nhi.db-shm where there were none. Opening the file
// with immutable=1 instead creates nothing, but reads past every lock:
// pages a writer checkpoints while it reads (a snapshot running beside
// nhi verify) would be read half old, half new. So the read goes through
// them as SQLite means it to, and Close has SQLite remove them as a
// writer's close does (removeLogItMade).

// absent reports whether nothing is at path.
func absent(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// removeLogItMade removes the write-ahead log and -shm files a read-only
// open made (tidyLog), through one connection that may write, opened
// and closed at once: SQLite deletes them on that close only when it is
// the file's last connection in any process, after moving the log into
// the file. It does so only when the path still names the file opened
// (sameFile) and the log is still empty: one another process wrote to
// since (a snapshot started while nhi verify read) holds its commits,
// and is that process's to move and remove. Where the file cannot be
// opened for writing (a file you may only read, in a folder you may
// write) the two files stay, empty: SQLite needs them to read the file
// beside a writer, and only a writer may remove them.
func (s *Store) removeLogItMade() {
	if s.sameFile() != nil {
		return
	}
	if fi, err := os.Stat(s.path + "-wal"); err != nil || fi.Size() != 0 {
		return // none made (an immutable read), or it holds another process's writes
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(0)")
	q.Set("mode", "rw")
	u := url.URL{Scheme: "file", OmitHost: true, Path: s.path, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var n int
	_ = db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n) // opens the log, which the close removes
}

// readableOn returns db, or when it cannot be read (SQLite in WAL mode
// wants to create the -shm file beside it, and the folder or the medium is
// read-only) and no write-ahead log is waiting to be checkpointed, a
// connection with immutable=1, which reads the file as it is and creates
// nothing. With a write-ahead log present immutable would ignore its
// writes: that is what a process killed before it closed the file
// leaves (SIGKILL, a lost machine), copied as it was, and with no -shm
// file to read the log through the file cannot be read in such a folder
// at all: the error says so and what to do (unreadableLog).
func readableOn(db *sql.DB, path string) (*sql.DB, error) {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n)
	if err == nil {
		return db, nil
	}
	if isSQLiteBusy(err) {
		// Another program holds the file's lock against readers too:
		// immutable=1 would read past the lock, half of what it writes.
		db.Close()
		return nil, lockedError(path, err)
	}
	if walHasHeader(path) {
		if _, serr := os.Stat(path + "-shm"); errors.Is(serr, fs.ErrNotExist) {
			db.Close()
			return nil, unreadableLog(path, err)
		}
		return db, nil
	}
	imm, err := sql.Open("sqlite", immutableDSN(path))
	if err != nil || imm.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n) != nil {
		if imm != nil {
			imm.Close()
		}
		return db, nil
	}
	db.Close()
	return imm, nil
}

// folderReadOnlyError is the error of a writing open of path, an nhi
// file that may be written, in a folder that may not: SQLite cannot
// create the write-ahead log beside it.
func folderReadOnlyError(path string, err error) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	return fmt.Errorf("%w: %s cannot be written in its folder: SQLite records each change in %s-wal beside the file, and %s does not let it create files there (%v); nothing was changed. Make the folder writable, or copy %s to a folder you can write and work on the copy; commands that only read (nhi identities, nhi verify, nhi --readonly) work where it is",
		ErrReadOnly, path, base, dir, err, base)
}

// unreadableLog is the error of a read-only open of path that could not
// read its write-ahead log: SQLite reads one only through its -shm file,
// and the folder lets nobody create that.
func unreadableLog(path string, err error) error {
	base := filepath.Base(path)
	return fmt.Errorf("%w: %s cannot be read in this folder: its write-ahead log %s-wal holds writes not yet in the file (left by a process stopped before it closed the file: killed, the machine lost, or one still writing), and SQLite reads the log only through %s-shm, which it cannot create in this folder (%v); nothing was read or changed. Run any nhi command on the file once where it can be written, which moves the log into it, or copy %s and %s-wal together to a writable folder and read the copy (the file alone lacks those writes)",
		ErrReadOnly, path, base, base, err, base, base)
}

// lockedError is the error of an open that found path locked against
// readers (SQLite's SQLITE_BUSY through every wait of its busy timeout):
// another program holds it exclusively, as the sqlite3 shell does after
// PRAGMA locking_mode=EXCLUSIVE or a backup or sync tool may, named where
// the system says which (heldBy). The file is nhi's as much as before:
// it is ErrBusy, never ErrNotEvidence.
func lockedError(path string, err error) error {
	who, name, kind := heldBy(path)
	switch {
	case who == "another process":
		who, name = "another program", "the program that holds it (an sqlite3 shell, a backup or sync tool)"
	case kind != holderOther:
		name = "it"
	}
	return &busyErr{
		msg:   fmt.Sprintf("%s is locked by %s, which kept even readers out; nothing was read or changed. Close %s, or wait for it to finish, then run this command again", path, who, name),
		err:   err,
		brief: fmt.Sprintf("%s is locked by %s, so nothing was read or changed: close it, then try again", path, who),
	}
}

func immutableDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("mode", "ro")
	q.Set("immutable", "1")
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}
	return u.String()
}

// newFilePageSize is the page size of an evidence file nhi creates.
// SQLite's default of 4 KiB made a read of a million identities (the
// table, verify) a read call and a page's set-up every 4 KiB; at 32 KiB
// the TUI's cold open takes about a tenth less CPU, writing a snapshot and
// verify a fifth less, and a single decision about 0.4 ms more
// (docs/performance.md, "Page size"). 16 KiB left half of the request
// cache's pages empty (its rows spill beyond a quarter of a page). A file
// keeps the page size it was created with: SQLite applies the pragma only
// before the file's first page is written.
var newFilePageSize = 32768 // a variable only for the test of an earlier build's file

// dsn is the SQLite URL of the evidence file at path; create sets the page
// size of a file that is new (empty).
func dsn(path string, readOnly bool, wait time.Duration, create bool) string {
	if wait <= 0 {
		wait = busyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", wait.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Set("mode", "ro")
	} else {
		if create {
			// The driver runs the _pragma list (sorted by name) before
			// _journal_mode, as it must: a file in WAL mode keeps its page
			// size.
			q.Add("_pragma", fmt.Sprintf("page_size(%d)", newFilePageSize))
		}
		// rw, not SQLite's default rwc: the file exists (Open creates a
		// new one itself), and a connection the pool opens after it was
		// moved or deleted fails, where it created an empty file at the
		// path and read "no such table" from it.
		q.Set("mode", "rw")
		q.Set("_journal_mode", "WAL")
		// FULL: a commit returns once the write-ahead log is on disk, so
		// what nhi says it recorded (a decision, the head nhi log head
		// prints) survives a power cut or a crash of the machine. Under
		// NORMAL the log reached the disk only at a checkpoint: the file
		// stayed whole, but its last commits could vanish, and a head
		// recorded elsewhere then failed nhi verify --head as a rewrite.
		// The fsync costs a few ms a commit (docs/performance.md).
		q.Add("_pragma", "synchronous(FULL)")
		// Take the write lock at BEGIN so two writers queue on busy_timeout
		// instead of failing when one upgrades a read to a write.
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}
	return u.String()
}

// checkFile refuses anything that is not an evidence file this build can
// use, reading only the header. It reports whether the file is new (absent
// or empty) and must be initialised.
func checkFile(path string, opts OpenOptions) (fresh bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if old, pid := setAside(path); old != "" {
			return false, &SetAsideError{Path: path, Aside: old, PID: pid}
		}
		if !opts.Create {
			return false, fmt.Errorf("%w at %s: create one with `nhi demo` or `nhi snapshot github --org ORG`, or pass --db PATH", ErrNotExist, path)
		}
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return false, fmt.Errorf("%w at %s: folder %s does not exist; create it first or pass another --db PATH", ErrNotExist, path, dir)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	case fi.IsDir():
		return false, fmt.Errorf("%w: %s is a directory; pass a file path such as --db %s", ErrNotEvidence, path, filepath.Join(path, "nhi.db"))
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("%w: %s is not a regular file", ErrNotEvidence, path)
	}
	if !opts.ReadOnly && fi.Mode().Perm()&0o200 == 0 {
		return false, fmt.Errorf("%w: %s is not writable; make it writable (chmod u+w) or work on a copy", ErrReadOnly, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	if !opts.ReadOnly {
		// The mode bits say nothing on a read-only mount or to root.
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return false, fmt.Errorf("%w: %s cannot be opened for writing (%v); work on a copy", ErrReadOnly, path, unwrapPathError(err))
		}
		w.Close()
	}
	var hdr [100]byte
	n, err := io.ReadFull(f, hdr[:])
	if n == 0 && (err == io.EOF) {
		if !opts.Create || opts.ReadOnly {
			return false, fmt.Errorf("%w: %s is empty; create an evidence file with `nhi demo` or `nhi snapshot github --org ORG`", ErrNotEvidence, path)
		}
		return true, nil
	}
	if err != nil || !bytes.Equal(hdr[:16], []byte("SQLite format 3\x00")) {
		return false, fmt.Errorf("%w: %s is not an SQLite database; nothing was changed", ErrNotEvidence, path)
	}
	if err := foreignLog(path, f); err != nil {
		return false, err
	}
	appID, version := binary.BigEndian.Uint32(hdr[68:72]), int(binary.BigEndian.Uint32(hdr[60:64]))
	if appID == 0 && version == 0 && opts.Create && !opts.ReadOnly && emptyDatabase(path) {
		// A database with no tables holds nothing to lose: what a process
		// killed while creating the file leaves behind.
		return true, nil
	}
	if appID != ApplicationID && walHasHeader(path) {
		// A file another process created and has not checkpointed yet
		// keeps its newest header in the write-ahead log: ask SQLite.
		appID, version = walHeader(path)
	}
	if appID == 0 && version == 0 && emptyDatabase(path) {
		// Nothing says whose it is: what an nhi stopped while it created
		// the file (killed, or past a file size limit) leaves, as much as
		// another program's.
		return false, fmt.Errorf("%w: %s is an empty SQLite database (no tables, as an nhi stopped while creating the file leaves), so there is nothing to read; record into it (nhi snapshot, nhi import, nhi demo) or remove it", ErrNotEvidence, path)
	}
	if appID != ApplicationID {
		return false, fmt.Errorf("%w: %s is an SQLite database of another application; nothing was changed", ErrNotEvidence, path)
	}
	if version > SchemaVersion {
		return false, newerSchemaError(path, version)
	}
	return false, nil
}

// walHasHeader reports whether path has a non-empty write-ahead log.
func walHasHeader(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err == nil && fi.Size() > 0
}

// walHeader reads application_id and user_version through SQLite, which
// sees the write-ahead log, on a read-only connection that changes nothing.
func walHeader(path string) (appID uint32, version int) {
	db, err := sql.Open("sqlite", dsn(path, true, 0, false))
	if err != nil {
		return 0, 0
	}
	defer db.Close()
	var id int64
	if db.QueryRow("PRAGMA application_id").Scan(&id) != nil || db.QueryRow("PRAGMA user_version").Scan(&version) != nil {
		return 0, 0
	}
	return uint32(id), version
}

// emptyDatabase reports whether the SQLite file at path has no schema,
// looking through a read-only connection that changes nothing.
func emptyDatabase(path string) bool {
	db, err := sql.Open("sqlite", dsn(path, true, 0, false))
	if err != nil {
		return false
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n)
	return err == nil && n == 0
}

func newerSchemaError(path string, v int) error {
	return fmt.Errorf("%w: %s has schema version %d but this nhi knows up to %d; upgrade nhi (nothing was changed)", ErrNewerSchema, path, v, SchemaVersion)
}

// OSReason is what the operating system said of err, without the path
// (or the two paths of a rename) its wrapper repeats: the caller's message
// names the file as the user named it, not a temporary one beside it.
func OSReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// unwrapPathError drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
