package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrChainsDiverge is what Import returns when the file's event log and
// the store's differ at some event: neither extends the other.
var ErrChainsDiverge = errors.New("the event logs diverge")

// TransferResult says what Export or Import copied.
type TransferResult struct {
	// Events is the length of the log written (Export) or appended (Import).
	Events int64
	// Head is the hash of the last event of the copy; "" for an empty log.
	Head string
	// Rows counts the rows copied per table, events included.
	Rows map[string]int64
	// AlreadyAhead is set by Import when the store's log already extends
	// the file's: nothing was written.
	AlreadyAhead bool
	// AlreadyHeld is set by Import when the store's log is the file's,
	// every event of it (the same file imported twice): nothing was
	// written. Head is then the file's head.
	AlreadyHeld bool
	// StoreEvents is the length of the store's log before the import.
	StoreEvents int64
	// Unlogged is set by Import when the store held the file's whole log
	// but not every row: per table, how many more rows the file held.
	// Those are rows written outside the log (a snapshot not finished,
	// interrupted or still running: its snapshot row, observations,
	// gaps, scopes, principals and checkpoints; no event records it until
	// it finishes), which the import then copied as it copies a file's.
	Unlogged map[string]int64
}

// skippedTables are not evidence and are not copied between stores:
// meta is engine-specific in part (its evidence keys are copied apart),
// http_cache is a connector's conditional-request cache for the machine
// that ran it.
var skippedTables = map[string]bool{"meta": true, "http_cache": true}

// transferTable is one table as the SQLite side of a transfer declares it.
type transferTable struct {
	name string
	cols []string
	pk   []string
}

// transferTables lists the evidence tables of the SQLite store s (audit's
// and every registered package's), parents before the tables whose
// foreign keys point at them, so a PostgreSQL target, whose constraints
// are immediate, accepts every row as it comes.
func transferTables(ctx context.Context, q querier) ([]transferTable, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		if !skippedTables[n] {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	byName := map[string]*transferTable{}
	parents := map[string][]string{}
	for _, n := range names {
		t := &transferTable{name: n}
		cols, err := q.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, err
		}
		pks := map[int]string{}
		for cols.Next() {
			var c string
			var pk int
			if err := cols.Scan(&c, &pk); err != nil {
				cols.Close()
				return nil, err
			}
			t.cols = append(t.cols, c)
			if pk > 0 {
				pks[pk] = c
			}
		}
		cols.Close()
		for i := 1; i <= len(pks); i++ {
			t.pk = append(t.pk, pks[i])
		}
		fks, err := q.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, err
		}
		for fks.Next() {
			var p string
			if err := fks.Scan(&p); err != nil {
				fks.Close()
				return nil, err
			}
			if p != n {
				parents[n] = append(parents[n], p)
			}
		}
		fks.Close()
		byName[n] = t
	}
	var order []transferTable
	done := map[string]bool{}
	var visit func(n string, depth int) error
	visit = func(n string, depth int) error {
		if done[n] || byName[n] == nil {
			return nil
		}
		if depth > len(names) {
			return fmt.Errorf("the foreign keys of table %s form a cycle", n)
		}
		for _, p := range parents[n] {
			if err := visit(p, depth+1); err != nil {
				return err
			}
		}
		done[n] = true
		order = append(order, *byName[n])
		return nil
	}
	for _, n := range names {
		if err := visit(n, 0); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Export writes the whole store into a new SQLite evidence file at path,
// which must not exist: every evidence table row for row (the event log
// byte for byte, so the copy has the same chain and head and passes nhi
// verify), read in one consistent transaction and written in batches.
// The file appears at path only once complete: it is written under a
// temporary name beside it and renamed. docs/team.md.
func (s *Store) Export(ctx context.Context, path string) (*TransferResult, error) {
	return s.export(ctx, path, false)
}

// ExportReplacing is Export into path that may exist: an evidence file
// there (with its -wal and -shm) is replaced only once the copy is
// complete, and stays as it was if the copy fails (no room, a quota, a
// read-only folder), where removing it first lost it with the copy.
func (s *Store) ExportReplacing(ctx context.Context, path string) (*TransferResult, error) {
	return s.export(ctx, path, true)
}

func (s *Store) export(ctx context.Context, path string, replace bool) (*TransferResult, error) {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("cannot write %s: it is a folder, not a file; choose another file (nothing was written)", path)
	} else if err == nil && !replace {
		return nil, fmt.Errorf("%s already exists; choose another file (nothing was written)", path)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	removeAbandonedExports(path)
	tmp, err := os.CreateTemp(filepath.Dir(path), exportTempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		// The copy is written beside path first: path's folder must take
		// a new file.
		return nil, fmt.Errorf("cannot write %s: cannot create a file in %s (%w); choose a folder you can write (nothing was written)", path, filepath.Dir(path), unwrapPathError(err))
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // Open creates it, 0600, as every evidence file
	cleanup := func() {
		for _, p := range []string{tmpPath, tmpPath + "-wal", tmpPath + "-shm"} {
			os.Remove(p)
		}
	}
	dst, err := Open(ctx, tmpPath, OpenOptions{Create: true, Now: s.clock})
	if err != nil {
		cleanup()
		return nil, writingAs{err, tmpPath, path}
	}
	res, err := s.exportInto(ctx, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, writingAs{err, tmpPath, path}
	}
	// The file replaced, with its -wal and -shm (a -wal left beside the
	// copy would be read into it), is set aside until the copy is in.
	old := tmpPath + ".old"
	var aside []string
	putBack := func() {
		for _, sfx := range slices.Backward(aside) {
			os.Rename(old+sfx, path+sfx)
		}
	}
	if replace {
		for _, sfx := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(path+sfx, old+sfx); err == nil {
				aside = append(aside, sfx)
			} else if !errors.Is(err, os.ErrNotExist) {
				putBack()
				cleanup()
				return nil, fmt.Errorf("cannot replace %s: %w; it is as it was (nothing was written)", path+sfx, unwrapPathError(err))
			}
		}
	}
	// Link, not rename: it fails, rather than replaces, when another
	// process created path meanwhile.
	if err := os.Link(tmpPath, path); err != nil {
		putBack()
		cleanup()
		return nil, fmt.Errorf("cannot create %s: %w (nothing was written)", path, unwrapPathError(err))
	}
	cleanup()
	for _, sfx := range aside {
		os.Remove(old + sfx)
	}
	return res, nil
}

// writingAs is err, of the temporary file tmp an export writes, said of
// path, the file the user named: tmp is nhi's, and removed by the time
// the error is read. It wraps err, so NoRoom and Damaged still see it.
type writingAs struct {
	err       error
	tmp, path string
}

func (w writingAs) Error() string { return strings.ReplaceAll(w.err.Error(), w.tmp, w.path) }
func (w writingAs) Unwrap() error { return w.err }

// exportTempPrefix starts the name of the temporary file an export to
// path writes beside it; the exporting process's ID follows, so that a
// later export can tell one still running from one that was killed.
func exportTempPrefix(path string) string { return "." + filepath.Base(path) + ".partial-" }

// setAside is the file an export to path killed while replacing it
// (--force: between setting the file there aside and linking its copy in)
// left beside path, ".F.partial-PID-….old", with the ID of the process
// that left it; "" when there is none, when path is there (the copy went
// in: the file set aside is removed by the next export) or when the
// process still runs.
func setAside(path string) (string, int) {
	if _, err := os.Lstat(path); err == nil {
		return "", 0
	}
	prefix := exportTempPrefix(path)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), prefix+"*.old"))
	for _, m := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), prefix), "-")
		if pid, err := strconv.Atoi(pidText); ok && err == nil && pid > 0 && pid != os.Getpid() && !processAlive(pid) {
			return m, pid
		}
	}
	return "", 0
}

// SetAsideError is an open of a file that is not there because an export
// replacing it was killed after it set the file aside: the file is whole
// under the name Aside, and nhi db export --to Path puts it back. It is
// not ErrNotExist: a command that would create a new file there (a first
// snapshot) stops instead, since the file is not gone.
type SetAsideError struct {
	Path, Aside string
	PID         int
}

func (e *SetAsideError) Error() string {
	return fmt.Sprintf("no evidence file at %s: an nhi db export replacing it (process %d, killed before it finished) set the file that was there aside as %s: put it back with mv %s %s, or run nhi db export --to %s again, which puts it back first",
		e.Path, e.PID, e.Aside, e.Aside, e.Path, e.Path)
}

// PutBackSetAside puts the file a killed export to path set aside back at
// path (with its -wal and -shm), when path is not there, and returns the
// name it had ("" when there was none): an export that did not finish
// leaves what was at its --to as it was, even when it was killed between
// setting it aside and linking its copy in. nhi db export calls it first.
func PutBackSetAside(path string) (string, error) {
	old, _ := setAside(path)
	if old == "" {
		return "", nil
	}
	if err := os.Rename(old, path); err != nil {
		return "", fmt.Errorf("cannot put back %s (set aside as %s by an export that was killed): %w", path, old, unwrapPathError(err))
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(old + sfx); err == nil {
			os.Rename(old+sfx, path+sfx)
		}
	}
	return old, nil
}

// removeAbandonedExports deletes what exports to path killed before they
// finished (SIGKILL, the OOM killer, a lost machine) left beside it: the
// temporary file, its -wal and -shm, of each process that is gone. They
// are as big as the store, and nothing else would ever remove them.
// Best effort: what cannot be removed stays, and costs only space. A
// partial file of an export by an earlier nhi, which named no process,
// is left alone.
func removeAbandonedExports(path string) {
	prefix := exportTempPrefix(path)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), prefix+"*"))
	for _, m := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if strings.Contains(filepath.Base(m), ".old") {
			// A file --force set aside: the copy is not in its place, so
			// it is the only one; it is for the user to take back.
			if _, err := os.Lstat(path); err != nil {
				continue
			}
		}
		_ = os.Remove(m)
	}
}

func (s *Store) exportInto(ctx context.Context, dst *Store) (*TransferResult, error) {
	src, err := s.readSnapshotTx(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Rollback()
	tables, err := transferTables(ctx, dst.db)
	if err != nil {
		return nil, fmt.Errorf("reading the tables of the new file: %w", err)
	}
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := copyTables(ctx, src, tx, dst.engine, tables)
	if err != nil {
		return nil, err
	}
	if err := s.flushSeen(ctx); err != nil {
		return nil, fmt.Errorf("making sure what was read is on the database's disk before writing it out: %w (nothing was written)", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// flushSeen returns once every commit a read begun before it could see
// is on the database's disk. On PostgreSQL a checked append is visible
// before it is flushed (append.go, lockAsync), so a crash can still
// take back what a reader saw — never what a writer was told was
// recorded; a reader whose copy leaves the database (an export) must
// not hand on an event that may vanish, and waits. A standby's readers
// see only what its primary flushed, and a standby cannot write the
// record flushQuery writes, so there it returns at once. Nothing to do
// on an evidence file, whose commits are visible once on disk.
func (s *Store) flushSeen(ctx context.Context) error {
	if s.engine != enginePostgres {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE (`+flushQuery+`) END`)
	return err
}

// readSnapshotTx is a transaction that reads the whole store as of one
// moment: REPEATABLE READ on PostgreSQL, whose writers go on meanwhile;
// on SQLite, a transaction, whose reads all see one state of the file
// (write-ahead log mode; a store opened for writing also holds the write
// lock, the DSN's _txlock, while it lasts).
func (s *Store) readSnapshotTx(ctx context.Context) (*sql.Tx, error) {
	if s.engine == enginePostgres {
		return s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.db.BeginTx(ctx, nil)
}

// copyTables copies the evidence keys of meta and every table of tables
// from src to dst. A row whose key dst already holds is updated only
// where it differs: the append-only triggers then refuse a difference in
// the log or a finished snapshot, which is what Import relies on.
func copyTables(ctx context.Context, src querier, dst *sql.Tx, dstEngine engine, tables []transferTable) (*TransferResult, error) {
	res := &TransferResult{Rows: map[string]int64{}}
	for _, t := range tables {
		n, err := copyTable(ctx, src, dst, t)
		if err != nil {
			return nil, fmt.Errorf("copying table %s: %w", t.name, err)
		}
		res.Rows[t.name] = n
		if dstEngine == enginePostgres && len(t.pk) == 1 {
			// Rows inserted with their ids leave an identity column's
			// sequence behind; the next snapshot would collide.
			var seq sql.NullString
			if err := dst.QueryRowContext(ctx, `SELECT pg_get_serial_sequence(?, ?)`, t.name, t.pk[0]).Scan(&seq); err != nil {
				return nil, fmt.Errorf("reading the id sequence of %s: %w", t.name, err)
			}
			if seq.Valid {
				if _, err := dst.ExecContext(ctx, `SELECT setval(?::regclass, m) FROM (SELECT max(`+t.pk[0]+`) AS m FROM `+t.name+`) x WHERE m IS NOT NULL`, seq.String); err != nil {
					return nil, fmt.Errorf("advancing the id sequence of %s: %w", t.name, err)
				}
			}
		}
	}
	meta := transferTable{name: "meta", cols: []string{"key", "value"}, pk: []string{"key"}}
	if _, err := copyRows(ctx, src, dst, meta, `SELECT key, value FROM meta WHERE key <> 'application' AND key NOT LIKE 'schema.%' AND key NOT LIKE 'snapshot.lock %' AND key NOT LIKE 'write.hold %' ORDER BY key`); err != nil {
		return nil, fmt.Errorf("copying the log head: %w", err)
	}
	err := src.QueryRowContext(ctx, `SELECT count(*), coalesce((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), '') FROM events`).Scan(&res.Events, &res.Head)
	return res, err
}

func copyTable(ctx context.Context, src querier, dst *sql.Tx, t transferTable) (int64, error) {
	order := ""
	if len(t.pk) > 0 {
		order = " ORDER BY " + strings.Join(t.pk, ", ")
	}
	return copyRows(ctx, src, dst, t, `SELECT `+strings.Join(t.cols, ", ")+` FROM `+t.name+order)
}

// maxParams keeps a batch under both engines' limits on bound values
// (SQLite's 32766, PostgreSQL's 65535).
const maxParams = 30000

// copyRows streams the rows query selects from src into t on dst, in
// multi-row INSERTs of at most 500 rows, holding one batch in memory.
func copyRows(ctx context.Context, src querier, dst *sql.Tx, t transferTable, query string) (int64, error) {
	rows, err := src.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	per := min(500, maxParams/len(t.cols))
	var (
		n     int64
		batch = make([]any, 0, per*len(t.cols))
		stmts = map[int]*sql.Stmt{}
	)
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	flush := func() error {
		k := len(batch) / len(t.cols)
		if k == 0 {
			return nil
		}
		st := stmts[k]
		if st == nil {
			var err error
			if st, err = dst.PrepareContext(ctx, insertSQL(t, k)); err != nil {
				return err
			}
			stmts[k] = st
		}
		if _, err := st.ExecContext(ctx, batch...); err != nil {
			return err
		}
		n += int64(k)
		batch = batch[:0]
		return nil
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...) // the driver reuses its buffer
			}
			batch = append(batch, v)
		}
		if len(batch) == per*len(t.cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// insertSQL is an INSERT of k rows into t that, for a key already there,
// updates the row only where a column differs (IS DISTINCT FROM, on both
// engines), so an identical row is left alone.
func insertSQL(t transferTable, k int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.name, strings.Join(t.cols, ", "))
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	for i := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if len(t.pk) == 0 {
		return b.String()
	}
	isPK := map[string]bool{}
	for _, c := range t.pk {
		isPK[c] = true
	}
	var set, differs []string
	for _, c := range t.cols {
		if !isPK[c] {
			set = append(set, c+" = excluded."+c)
			differs = append(differs, t.name+"."+c+" IS DISTINCT FROM excluded."+c)
		}
	}
	fmt.Fprintf(&b, " ON CONFLICT (%s) DO ", strings.Join(t.pk, ", "))
	if len(set) == 0 {
		b.WriteString("NOTHING")
		return b.String()
	}
	fmt.Fprintf(&b, "UPDATE SET %s WHERE %s", strings.Join(set, ", "), strings.Join(differs, " OR "))
	return b.String()
}

// Import copies the evidence of src, an SQLite evidence file, into s
// (typically a shared PostgreSQL database), in one transaction that
// holds the store's write lock. The store's log must be a prefix of the
// file's (an empty log is one): the events it lacks are appended, and
// every other row is copied, a row already there left alone when equal
// and brought up to the file's state when not (the projections of the
// events appended). When the logs differ at some event, Import returns
// ErrChainsDiverge naming the first such event and writes nothing; when
// the store's log already extends the file's, it writes nothing either
// (AlreadyAhead), nor when it is the file's log, every event, and the
// store holds as many rows of every table (AlreadyHeld); with the same
// log and fewer rows (a snapshot the file has not finished: Unlogged)
// it copies them. The caller verifies the file first (nhi db import
// does).
func (s *Store) Import(ctx context.Context, src *Store) (*TransferResult, error) {
	if src.engine != engineSQLite {
		return nil, fmt.Errorf("import reads an SQLite evidence file; %s is a database (export it with nhi db export first)", src.path)
	}
	if s.readOnly {
		return nil, fmt.Errorf("%w: %s is open read-only", ErrReadOnly, s.path)
	}
	from, err := src.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer from.Rollback()
	tables, err := transferTables(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("reading the tables of %s: %w", src.path, err)
	}
	res, err := s.importFrom(ctx, from, tables, src.path)
	return res, s.importPermissionError(ctx, err)
}

func (s *Store) importFrom(ctx context.Context, from *sql.Tx, tables []transferTable, srcPath string) (*TransferResult, error) {
	tx, err := s.beginWriteWaiting(ctx, nil, "")
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	have, fileLen, err := compareLogs(ctx, tx, from, s.path, srcPath)
	if err != nil {
		return nil, err
	}
	if have > fileLen {
		return &TransferResult{AlreadyAhead: true, StoreEvents: have, Rows: map[string]int64{}}, nil
	}
	var unlogged map[string]int64
	if have == fileLen && have > 0 {
		// The same log, event for event: the rows it records are its
		// projections, which the store holds already. A snapshot not
		// finished is not among them: its rows go in as it runs, and its
		// event only when it finishes, so a file imported and then
		// snapshotted again, the run interrupted, has rows the store
		// lacks under the same log. (Nothing else leaves the log without
		// its rows: an import killed part way rolls back whole, and nhi db
		// export --at, a file as of an earlier event, is refused.) Rows
		// are counted, table by table, and
		// copied only when the file has more: counting is a small part of
		// the file's verification, which reads every row, where copying
		// would be a pass over every row again. (Two empty logs still
		// copy: a new file's rows, whatever they are.)
		if unlogged, err = moreRows(ctx, from, tx, tables); err != nil {
			return nil, err
		}
		if len(unlogged) == 0 {
			var head string
			if err := from.QueryRowContext(ctx, `SELECT hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&head); err != nil {
				return nil, err
			}
			return &TransferResult{AlreadyHeld: true, StoreEvents: have, Head: head, Rows: map[string]int64{}}, nil
		}
	}
	res, err := copyTables(ctx, from, tx, s.engine, tables)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was written to %s", err, s.path)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	res.StoreEvents = have
	res.Events -= have
	res.Unlogged = unlogged
	return res, nil
}

// moreRows counts the rows of each table in the file and in the store
// and returns, for each table the file holds more rows of, how many more.
func moreRows(ctx context.Context, file, store querier, tables []transferTable) (map[string]int64, error) {
	more := map[string]int64{}
	for _, t := range tables {
		var inFile, inStore int64
		if err := file.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&inFile); err != nil {
			return nil, fmt.Errorf("counting the rows of %s in the file: %w", t.name, err)
		}
		if err := store.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&inStore); err != nil {
			return nil, fmt.Errorf("counting the rows of %s in the store: %w", t.name, err)
		}
		if inFile > inStore {
			more[t.name] = inFile - inStore
		}
	}
	return more, nil
}

// compareLogs walks the store's log and the file's side by side and
// returns their lengths, or ErrChainsDiverge at the first event (by seq)
// whose hash differs or that one of them lacks within the shorter.
func compareLogs(ctx context.Context, store, file querier, storeName, fileName string) (storeLen, fileLen int64, err error) {
	if err := store.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&storeLen); err != nil {
		return 0, 0, err
	}
	if err := file.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&fileLen); err != nil {
		return 0, 0, err
	}
	a, err := store.QueryContext(ctx, `SELECT seq, type, hash FROM events ORDER BY seq`)
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	b, err := file.QueryContext(ctx, `SELECT seq, type, hash FROM events ORDER BY seq`)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	for a.Next() {
		var sa, sb int64
		var ta, tb, ha, hb string
		if err := a.Scan(&sa, &ta, &ha); err != nil {
			return 0, 0, err
		}
		if !b.Next() {
			break // the file's log is a prefix of the store's
		}
		if err := b.Scan(&sb, &tb, &hb); err != nil {
			return 0, 0, err
		}
		if sa != sb || ha != hb {
			return 0, 0, fmt.Errorf("%w at event %d: %s holds event %d %s (hash %s), %s holds event %d %s (hash %s); nothing was written",
				ErrChainsDiverge, min(sa, sb), storeName, sa, ta, shortHash(ha), fileName, sb, tb, shortHash(hb))
		}
	}
	if err := a.Err(); err != nil {
		return 0, 0, err
	}
	return storeLen, fileLen, b.Err()
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
