package audit

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// holdReader opens path as an external reader (the sqlite3 shell, a backup
// tool) would and keeps a read transaction open until the test ends.
func holdReader(t testing.TB, path string) *sql.Tx {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(); db.Close() })
	return tx
}

// TestWriteWithAnExternalReader: a reader holding a transaction neither
// blocks a write nor loses it; the write-ahead log it kept from being
// checkpointed is moved into the file by the next close after it leaves.
// (That the close no longer waits 10 s for the reader, the busy timeout,
// is BenchmarkWriteWhileReaderHolds.)
func TestWriteWithAnExternalReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, _ := Open(ctx, path, OpenOptions{Create: true})
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	s.Close()

	reader := holdReader(t, path)
	s, _ = Open(ctx, path, OpenOptions{})
	if _, err := s.SetOwner(ctx, "lead", a.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	reader.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	if n != 1 {
		t.Errorf("the reader's snapshot moved: %d events", n)
	}
	reader.Rollback()

	s, _ = Open(ctx, path, OpenOptions{})
	if r, _ := s.Verify(ctx); !r.OK() || r.Events != 2 {
		t.Errorf("after the reader left: %+v", r)
	}
	s.Close()
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the write-ahead log still holds %d bytes after the reader left and the file was closed", fi.Size())
	}
}

// BenchmarkWriteWhileReaderHolds is one CLI write (open, set an owner,
// close) while an external reader holds a read transaction: it used to
// take the 10 s busy timeout, waiting in the closing checkpoint.
func BenchmarkWriteWhileReaderHolds(b *testing.B) {
	path := filepath.Join(b.TempDir(), "nhi.db")
	s, _ := Open(ctx, path, OpenOptions{Create: true})
	a := obs("a", KindGitHubDeployKey)
	snapshot(b, s, nil, nil, a)
	s.Close()
	holdReader(b, path)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(ctx, path, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.SetOwner(ctx, "lead", a.ID, "alice"); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
