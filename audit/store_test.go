package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestOpenCreatesPrivateEvidenceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey))
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening an existing file keeps its data and needs no migration.
	s, err = Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.Identities(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("after reopen: %d identities, %v; want 1", len(ids), err)
	}
	var v, app int
	s.db.QueryRow("PRAGMA user_version").Scan(&v)
	s.db.QueryRow("PRAGMA application_id").Scan(&app)
	if v != SchemaVersion || app != ApplicationID {
		t.Errorf("user_version %d application_id %#x; want %d, %#x", v, app, SchemaVersion, ApplicationID)
	}
}

func TestMigrationUpgradesExistingFileAndKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey))
	if _, err := s.SetOwner(ctx, "auditor@acme.test", IdentityID("github", "acme", KindGitHubDeployKey, "k1"), "alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A later build adds a migration; opening the old file runs it.
	saved := migrations
	migrations = append(slices2(saved), `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`)
	SchemaVersion = len(migrations)
	defer func() { migrations, SchemaVersion = saved, len(saved) }()

	s, err = Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.db.QueryRow("PRAGMA user_version").Scan(&v)
	if v != len(saved)+1 {
		t.Errorf("user_version = %d, want %d", v, len(saved)+1)
	}
	if _, err := s.db.Exec(`INSERT INTO notes (body) VALUES ('x')`); err != nil {
		t.Errorf("new table missing after migration: %v", err)
	}
	ids, err := s.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Owner != "alice" {
		t.Fatalf("data after migration: %+v, %v", ids, err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify after migration: %+v, %v", r, err)
	}
}

// TestOpenStoppedIsNotRefused: an open whose context ends (ctrl-c while
// a command opens the file) fails with the context's error, never as a
// refusal of the file: it said "not an nhi evidence file" of a good one.
func TestOpenStoppedIsNotRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	stopped, stop := context.WithCancel(ctx)
	stop()
	for _, opts := range []OpenOptions{{}, {ReadOnly: true}} {
		s, err := Open(stopped, path, opts)
		if err == nil {
			s.Close()
			continue // opened before anything asked the context: as good
		}
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotEvidence) || strings.Contains(err.Error(), "not an nhi evidence file") {
			t.Errorf("read-only %v: a stopped open says %q", opts.ReadOnly, err)
		}
	}
}

// TestOpenStoppedAtThePackagesVersionsIsNotRefused: an open stopped once
// it has read the file's version, as it reads the version of a package's
// tables, fails with the context's error too, where it said "not an nhi
// evidence file: ... reading the schema version of campaigns: context
// canceled" of a good file (a read whose output's reader left, on a
// loaded machine). Here the open's step is called with the context ended
// there, whatever the machine's speed.
func TestOpenStoppedAtThePackagesVersionsIsNotRefused(t *testing.T) {
	saved := registeredMigrations()
	defer func() { packageMigrations = saved }()
	RegisterMigrations("widgets", `CREATE TABLE widgets (id INTEGER PRIMARY KEY)`)
	RegisterPostgresMigrations("widgets", `CREATE TABLE widgets (id BIGINT PRIMARY KEY)`)
	eachEngine(t, func(t *testing.T, e testEngine) {
		s := openAt(t, e.new(t))
		stopped, stop := context.WithCancel(ctx)
		stop()
		var err error
		if e.name == "postgres" {
			_, err = s.postgresPending(stopped, s.db, len(postgresMigrations), registeredMigrations())
		} else {
			_, err = s.pending(stopped, s.db, SchemaVersion, registeredMigrations())
		}
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotEvidence) {
			t.Errorf("an open stopped at the packages' versions says %q", err)
		}
		if e.name == "postgres" {
			_, err = s.postgresVersion(stopped, s.db, OpenOptions{ReadOnly: true})
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotEvidence) {
				t.Errorf("an open stopped at audit's version says %q", err)
			}
		}
	})
}

func TestOpenRefusesAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	foreignText := filepath.Join(dir, "notes.txt")
	os.WriteFile(foreignText, []byte("just some notes, not a database at all, but long enough to have a header....................................."), 0o600)

	foreignDB := filepath.Join(dir, "other.db")
	db, _ := sql.Open("sqlite", foreignDB)
	db.Exec(`CREATE TABLE things (x)`)
	db.Close()

	newer := filepath.Join(dir, "newer.db")
	s, err := Open(ctx, newer, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1))
	s.Close()

	readOnly := filepath.Join(dir, "ro.db")
	s, err = Open(ctx, readOnly, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Chmod(readOnly, 0o400)

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)

	cases := []struct {
		name, path string
		opts       OpenOptions
		want       error
		says       string
	}{
		{"missing", filepath.Join(dir, "absent.db"), OpenOptions{}, ErrNotExist, "nhi demo"},
		{"missing folder", filepath.Join(dir, "no", "such", "nhi.db"), OpenOptions{Create: true}, ErrNotExist, "does not exist"},
		{"directory", dir, OpenOptions{Create: true}, ErrNotEvidence, "is a directory"},
		{"text file", foreignText, OpenOptions{Create: true}, ErrNotEvidence, "not an SQLite database"},
		{"other sqlite", foreignDB, OpenOptions{Create: true}, ErrNotEvidence, "another application"},
		{"newer schema", newer, OpenOptions{}, ErrNewerSchema, "upgrade nhi"},
		{"newer schema read-only", newer, OpenOptions{ReadOnly: true}, ErrNewerSchema, "upgrade nhi"},
		{"read-only file", readOnly, OpenOptions{}, ErrReadOnly, "chmod u+w"},
		{"empty file without create", empty, OpenOptions{}, ErrNotEvidence, "is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before [32]byte
			if fi, err := os.Stat(c.path); err == nil && fi.Mode().IsRegular() {
				before = fileSum(t, c.path)
			}
			s, err := Open(ctx, c.path, c.opts)
			if err == nil {
				s.Close()
				t.Fatal("opened; want refusal")
			}
			if !errors.Is(err, c.want) {
				t.Errorf("error %v; want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if fi, err := os.Stat(c.path); err == nil && fi.Mode().IsRegular() {
				if fileSum(t, c.path) != before {
					t.Error("file changed")
				}
			}
			for _, suffix := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(c.path + suffix); err == nil {
					t.Errorf("left a %s file behind", suffix)
				}
			}
		})
	}

	// A read-only file can still be read.
	s, err = Open(ctx, readOnly, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a read-only file: %v", err)
	}
	if _, err := s.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestNewFilePageSize checks that a file nhi creates has pages of
// newFilePageSize, which a read of every identity pays for per page
// (docs/performance.md, "Page size"), also when it was created empty, and
// that a file an earlier build created keeps its 4 KiB pages, which SQLite
// cannot change in WAL mode, and reads and takes writes as before.
func TestNewFilePageSize(t *testing.T) {
	pageSize := func(t *testing.T, s *Store) int {
		t.Helper()
		var n int
		if err := s.db.QueryRow("PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "new.db"), empty} {
		s, err := Open(ctx, path, OpenOptions{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey))
		if n := pageSize(t, s); n != newFilePageSize {
			t.Errorf("%s: page_size %d, want %d", filepath.Base(path), n, newFilePageSize)
		}
		s.Close()
	}

	// A file of an earlier build, which left the page size to SQLite.
	old := filepath.Join(dir, "old.db")
	saved := newFilePageSize
	newFilePageSize = 4096
	s, err := Open(ctx, old, OpenOptions{Create: true})
	newFilePageSize = saved
	if err != nil {
		t.Fatal(err)
	}
	snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey))
	s.Close()
	s, err = Open(ctx, old, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey), obs("k2", KindGitHubDeployKey))
	if n := pageSize(t, s); n != 4096 {
		t.Errorf("earlier build's file: page_size %d after reopening, want 4096 as it was", n)
	}
	if ids, err := s.Identities(ctx); err != nil || len(ids) != 2 {
		t.Errorf("earlier build's file: %d identities, %v; want 2", len(ids), err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("earlier build's file: verify %+v, %v", r, err)
	}

	// Exported, it is a new file: at the new size, the same log.
	exported := filepath.Join(dir, "exported.db")
	if _, err := s.Export(ctx, exported); err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, exported, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := pageSize(t, e); n != newFilePageSize {
		t.Errorf("exported file: page_size %d, want %d", n, newFilePageSize)
	}
	if r, err := e.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("exported file: verify %+v, %v", r, err)
	}
}

func TestEmptyFileIsInitialised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	os.WriteFile(path, nil, 0o600)
	s, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A second process opening a file the first has just created, before
// anything was checkpointed, must see an evidence file.
func TestOpenWhileAnotherProcessHoldsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	first, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	snapshot(t, first, nil, nil, obs("a", KindGitHubDeployKey)) // leaves pages in the WAL
	second, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatalf("second opener: %v", err)
	}
	defer second.Close()
	if ids, err := second.Identities(ctx); err != nil || len(ids) != 1 {
		t.Errorf("second opener sees %d identities, %v", len(ids), err)
	}
}

// A file another program holds locked against readers (the sqlite3
// shell after PRAGMA locking_mode=EXCLUSIVE, a backup tool) is still
// nhi's: an open says it is locked and by whom to ask, nothing else.
// Before, a writer's open called it "not an nhi evidence file", and a
// reader's read it through immutable=1, past the lock, where the holder
// may be half way through a write.
func TestOpenOfALockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s := openAt(t, path)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()
	holder, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	holder.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE", "SELECT count(*) FROM events"} {
		if _, err := holder.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, readOnly := range []bool{false, true} {
		st, err := Open(ctx, path, OpenOptions{ReadOnly: readOnly, BusyTimeout: 50 * time.Millisecond})
		if err == nil {
			st.Close()
			t.Errorf("read-only %v: opened a file another program holds locked", readOnly)
			continue
		}
		if !errors.Is(err, ErrBusy) || errors.Is(err, ErrNotEvidence) || !strings.Contains(err.Error(), "locked by another program") {
			t.Errorf("read-only %v: %v", readOnly, err)
		}
	}
	if _, err := holder.Exec("COMMIT"); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	st, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ids, err := st.Identities(ctx); err != nil || len(ids) != 1 {
		t.Errorf("once the lock is let go: %d identities, %v", len(ids), err)
	}
}

func TestHeaderStillInTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE t (x)", fmt.Sprintf("PRAGMA application_id = %d", ApplicationID), fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	hdr, _ := os.ReadFile(path)
	if len(hdr) >= 72 && hdr[68] == 0x4E {
		t.Skip("SQLite checkpointed the header already; nothing to test")
	}
	if _, err := checkFile(path, OpenOptions{}); err != nil {
		t.Errorf("a header only in the WAL: %v", err)
	}
}

// Every connection that writes an evidence file commits with SQLite's
// synchronous FULL: a commit returns once the write-ahead log is on
// disk, so a power cut after nhi said a decision was recorded cannot
// take it back. A power cut cannot be made in a test; the setting that
// decides it can be read. Before, it was NORMAL (1), under which the
// last commits before a power cut could vanish.
func TestCommitsReachTheDisk(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	conns := make([]*sql.Conn, 3) // the pool's connections, each opened from the DSN
	for i := range conns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var level int
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		if level != 2 {
			t.Errorf("connection %d: synchronous %d, want 2 (FULL)", i, level)
		}
	}
}
