package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nhi-audit/nhi/sshsig"
)

// Tx is one write transaction on the evidence file. Events appended in it
// and the projection rows written beside them commit together or not at
// all: a reader never sees a decision without its event, or the reverse.
// Packages that own workflow state (campaigns) use it to keep their
// projections next to the log.
type Tx struct {
	s    *Store
	tx   *sql.Tx
	last Event // the last event appended, what a lost connection looks for (lost_postgres.go)
}

// Write runs fn in a write transaction and commits it when fn returns nil.
// The write lock is taken at the start (BEGIN IMMEDIATE, or the advisory
// lock on PostgreSQL: beginWrite), so concurrent writers in other
// processes queue; a writer that still finds the file busy
// after the busy timeout is retried a few times before the error surfaces
// (busyError).
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("%w: %s was opened read-only", ErrReadOnly, s.path)
	}
	once := func() error { return s.writeOnce(ctx, s.db, fn, nil) }
	if s.engine == enginePostgres {
		once = func() error { return s.writeSettled(ctx, fn) }
	}
	err := s.waitBusy(ctx, "", once)
	if errors.Is(err, ErrBusy) {
		return err
	}
	return s.permissionError(ctx, err)
}

// waitBusy runs once, and again while it fails busy, five times in all,
// a little apart; then it gives up with busyError. once must be safe to
// run again after a busy failure: a whole transaction, rolled back
// (Write), a BEGIN that took no lock (beginWriteWaiting), or one
// statement outside a transaction, which wrote nothing. own is the token
// of the snapshot lock the writer holds, if any: its own run is not
// named among what holds the file.
func (s *Store) waitBusy(ctx context.Context, own string, once func() error) error {
	if err := s.sameFile(); err != nil {
		return err
	}
	start := time.Now()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = once(); !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
	return s.busyError(ctx, time.Since(start), err, own)
}

// beginWriteWaiting is beginWriteOn (on the pool when on is nil) for the
// writes that run their own transaction rather than Write's (a
// snapshot's batches, gaps, checkpoints and finish; the policy; a
// migration; an import): the BEGIN waits for the write lock as Write
// does, and fails with busyError; own as for waitBusy.
func (s *Store) beginWriteWaiting(ctx context.Context, on txBeginner, own string) (*sql.Tx, error) {
	if on == nil {
		on = s.db
	}
	var tx *sql.Tx
	err := s.waitBusy(ctx, own, func() (err error) {
		tx, err = s.beginWriteOn(ctx, on)
		return err
	})
	return tx, err
}

// execWaiting runs one write statement outside a transaction (SQLite
// commits it alone), waiting for the write lock as Write does; own as
// for waitBusy.
func (s *Store) execWaiting(ctx context.Context, own, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.waitBusy(ctx, own, func() (err error) {
		res, err = s.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// ErrBusy is what every write returns, wrapped in busyError's message,
// when another process held the evidence file's write lock through the
// busy timeout five times over: errors.Is(err, ErrBusy). Nothing the
// failed write meant to record was recorded. An open that finds the file
// locked against readers too is ErrBusy as well (lockedError).
var ErrBusy = errors.New("the evidence file stayed busy with another writer")

// busyErr is busyError's error: its message, and the driver's error
// (SQLITE_BUSY) it wraps.
type busyErr struct {
	msg string
	err error
	// brief is what the review UI says: the message in the words of a
	// screen, which has no command to run again (Brief).
	brief string
}

// Brief is the message in the words of the review UI, which shows a
// refusal in three lines at 80 columns (tui's briefRefusal): where the
// full message said "run this command again" last, and that was cut.
func (e *busyErr) Brief(func(string) string) string { return e.brief }

func (e *busyErr) Error() string        { return e.msg + ": " + e.err.Error() }
func (e *busyErr) Unwrap() error        { return e.err }
func (e *busyErr) Is(target error) bool { return target == ErrBusy }

// busyTimeout is how long a statement on an evidence file waits for
// another connection's write lock before it fails busy (SQLite's
// busy_timeout), unless OpenOptions.BusyTimeout says otherwise; a write
// tries five times (waitBusy), so it gives up after five of them. A
// variable so tests can shorten it.
var busyTimeout = 10 * time.Second

// busyError is a write's error once it gave up after waited (waitBusy):
// on an evidence file, another process held the write lock all that
// time. It names that process where the system says which (heldBy:
// "sqlite3 (pid 1234)"), and what the file says is running now
// (runningHolders): the snapshots (their locks, snapshotlock.go) but the
// writer's own (own, its lock's token), and the long writes (WriteLong:
// a campaign create). What to do depends on the holder: an nhi finishes
// by itself, another program (the sqlite3 shell, a backup tool) holds
// the lock until its transaction ends, and a holder the system does not
// name may be either.
func (s *Store) busyError(ctx context.Context, waited time.Duration, err error, own string) error {
	if s.engine == enginePostgres {
		// The advisory lock waits without a timeout: what failed here is
		// a transaction that kept conflicting with others.
		return &busyErr{msg: s.path + " stayed busy with other writers; run the command again", err: err,
			brief: "the database stayed busy with other writers, so nothing was recorded: make the change again"}
	}
	who, name, kind := heldBy(s.path)
	var b strings.Builder
	fmt.Fprintf(&b, "%s stayed busy with other writers for %s: %s held its write lock all that time", s.path, waited.Round(time.Second), who)
	holders := s.runningHolders(ctx, own)
	for i, name := range holders {
		sep := "; running now: "
		if i > 0 {
			sep = ", "
		}
		b.WriteString(sep + name)
	}
	brief := fmt.Sprintf("%s stayed busy for %s with another process's write, so nothing was recorded", s.path, waited.Round(time.Second))
	switch {
	case kind == holderOther:
		brief = fmt.Sprintf("%s stayed busy for %s with a write of %s, so nothing was recorded", s.path, waited.Round(time.Second), who)
	case len(holders) > 0:
		brief = fmt.Sprintf("%s stayed busy for %s with %s, so nothing was recorded", s.path, waited.Round(time.Second), strings.Join(holders, ", "))
	}
	switch kind {
	case holderNhi:
		b.WriteString(". A campaign create or a snapshot of a large population holds it for minutes: wait for it to finish, then run this command again")
	case holderOther:
		fmt.Fprintf(&b, ". %s holds it until its transaction ends: end it (in the sqlite3 shell, COMMIT or ROLLBACK) or close %s, or wait for it to finish, then run this command again", name, name)
	default:
		b.WriteString(". If it is nhi, a campaign create or a snapshot of a large population holds it for minutes: wait for it to finish; if it is another program (the sqlite3 shell, a backup tool), it holds it until its transaction ends: end it or close the program; then run this command again")
	}
	return &busyErr{msg: b.String(), err: err, brief: brief + ": make the change again once it is done"}
}

// writeOnce runs fn in one write transaction begun on on (the pool, or a
// connection of the caller's) and commits it. When t is not nil it is
// set to the transaction, and what it appended, before the COMMIT is
// sent (writeSettled).
func (s *Store) writeOnce(ctx context.Context, on txBeginner, fn func(*Tx) error, t **Tx) error {
	tx, err := s.beginWriteOn(ctx, on)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w := &Tx{s: s, tx: tx}
	if err := fn(w); err != nil {
		return err
	}
	if t != nil {
		*t = w
	}
	return tx.Commit()
}

// isSQLiteBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED,
// extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE, ...)
// included: another connection holds the lock, and trying again can work.
func isSQLiteBusy(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// folderNotWritable reports whether err is SQLite's refusal to write the
// database at path because its folder takes no new file: its
// write-ahead log and -shm file live beside the file. SQLite says so
// (SQLITE_READONLY_DIRECTORY) when the folder's mode refuses; for the
// immutable attribute it says only that it cannot open the log
// (SQLITE_CANTOPEN), and the folder is asked.
func folderNotWritable(err error, path string) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Code() == sqlite3.SQLITE_READONLY_DIRECTORY {
		return true
	}
	if e.Code()&0xff != sqlite3.SQLITE_CANTOPEN {
		return false
	}
	if _, serr := os.Stat(path + "-wal"); !errors.Is(serr, fs.ErrNotExist) {
		return false
	}
	return folderRefusesFiles(filepath.Dir(path))
}

// sqliteCode is the primary result code (the extended code's low byte)
// of the SQLite error err is or wraps, 0 when it is none.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return 0
	}
	return e.Code() & 0xff
}

// NoRoom reports whether err is, or wraps, SQLite's failure to write to
// the evidence file for want of room: SQLITE_FULL (the disk is full) or
// SQLITE_IOERR_WRITE, which is also what a write past a file size limit
// (RLIMIT_FSIZE, ulimit -f; a FAT32 disk's 4 GB) gives, as the disk
// failing does, and SQLITE_IOERR_SHMSIZE, SQLite's failure to grow the
// -shm file it reads the write-ahead log through (32 KiB) on opening the
// file. SQLite rolls the write back: what it had committed before
// stands. Commands say where the room went (cmd/nhi).
func NoRoom(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code()&0xff == sqlite3.SQLITE_FULL || e.Code() == sqlite3.SQLITE_IOERR_WRITE || e.Code() == sqlite3.SQLITE_IOERR_SHMSIZE
}

// Damaged reports whether err is, or wraps, SQLite's finding that the
// file is malformed (SQLITE_CORRUPT, SQLITE_NOTADB) or ErrDamaged: a
// file cut short or overwritten in part, which no retry mends. Commands
// add what to do (cmd/nhi); the file is only read on the way there.
func Damaged(err error) bool {
	if errors.Is(err, ErrDamaged) {
		return true
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// Append adds an event to the log and returns it, stamped with the store's
// clock. The payload is stored as canonical JSON and covered by the hash.
func (t *Tx) Append(ctx context.Context, actor, typ string, payload any) (Event, error) {
	return t.AppendSigned(ctx, actor, typ, payload, nil)
}

// AppendSigned is Append, with the event's canonical bytes signed by key
// in the nhi-decision namespace (docs/people.md). Whether key may sign
// for actor is the caller's rule; nhi verify checks it against the
// directory.
func (t *Tx) AppendSigned(ctx context.Context, actor, typ string, payload any, key *sshsig.SigningKey) (Event, error) {
	ev, err := appendSigned(ctx, t.tx, t.s.now(), actor, typ, payload, key)
	if err == nil {
		t.last = ev
	}
	return ev, err
}

// Exec runs a statement that updates a projection.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, query, args...)
}

// Prepare readies a statement the transaction runs many times (a
// multi-row INSERT of a large population), parsed once; it is closed when
// the transaction ends.
func (t *Tx) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}

// Query reads inside the transaction.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRow reads one row inside the transaction.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Now is the store's clock.
func (t *Tx) Now() time.Time { return t.s.now() }

// Query reads the file outside any write transaction.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, query, args...)
}

// QueryRow reads one row outside any write transaction.
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, query, args...)
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// EventsOfType returns the events whose type starts with prefix, in order,
// for packages that verify their own projections by replaying them.
func (s *Store) EventsOfType(ctx context.Context, prefix string) ([]Event, error) {
	evs, err := s.Events(ctx)
	if err != nil {
		return nil, err
	}
	out := evs[:0]
	for _, e := range evs {
		if strings.HasPrefix(e.Type, prefix) {
			out = append(out, e)
		}
	}
	return out, nil
}

// requireIdentity fails with ErrUnknownIdentity unless the file knows id:
// an event about an identity nobody ever observed would be evidence of
// nothing.
func (tx *Tx) requireIdentity(ctx context.Context, id string) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM identities WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w %q: list known IDs with `nhi identities`", ErrUnknownIdentity, id)
	}
	return nil
}

// sameFile refuses a write when the path no longer names the evidence
// file the store opened: moved, deleted or replaced while nhi had it open
// (the review UI stays open for hours). The write would go through a
// connection still on the old file, whose last commits then lie in a
// write-ahead log under the old name (moved), vanish when nhi closes it
// (deleted), or sit beside another file's (replaced), where the user was
// told it was recorded.
func (s *Store) sameFile() error {
	if s.file == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	if err == nil && os.SameFile(fi, s.file) {
		return nil
	}
	base := filepath.Base(s.path)
	if err == nil {
		// The other file's write-ahead log is named as this one's: the
		// first to open it may read this one's last commits as its own,
		// unless nhi moves them out first, as it does on closing.
		return fmt.Errorf("%w: %s was replaced by another file since nhi opened it, so nothing was written. Quit nhi before anything opens the file now at %s: until nhi quits, what it recorded last is held in %s-wal, a name that file shares; on quitting nhi moves it into the file it opened, wherever that is now",
			ErrMoved, s.path, base, base)
	}
	return fmt.Errorf("%w: %s is gone (moved or deleted) since nhi opened it, so nothing was written. Quit nhi, then open the file where it is now: until nhi quits, what it recorded last is held in %s-wal under the old name, and a copy of the file, or an open of it elsewhere, lacks it; on quitting nhi moves it into the file (if it was deleted, it is gone with it), and the %s-wal and %s-shm left under the old name may then be removed. If nhi is killed before it quits, those writes stay in %s-wal: put the file back as %s beside it and open it once with nhi",
		ErrMoved, s.path, base, base, base, base, base)
}
