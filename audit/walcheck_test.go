package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A write-ahead log beside an evidence file that was written for another
// file (a backup put back over a file whose process was killed, its log
// left beside it) is refused, the file untouched; the file and its own
// log, copied together, open as before. Before, SQLite read the other
// file's pages into this one: nhi verify named snapshots edited that
// nobody edited, and the first write checkpointed the mix into the file.
func TestForeignWriteAheadLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), filepath.Join(dir, "c.db")

	sa := openAt(t, a)
	var aObs, bObs []Observation
	for i := range 300 {
		aObs = append(aObs, obs(fmt.Sprintf("a%d", i), KindGitHubDeployKey))
		bObs = append(bObs, obs(fmt.Sprintf("b%d", i), KindGitHubDeployKey))
	}
	snapshot(t, sa, nil, nil, aObs...)
	// What a process killed now leaves: the file, and its log.
	copyFile(t, a, c)
	copyFile(t, a+"-wal", c+"-wal")

	// b.db lived longer than a.db: its header has counted more writes
	// that grew it, one a process.
	for range 3 {
		sb := openAt(t, b)
		snapshot(t, sb, nil, nil, bObs...)
		sb.Close()
	}
	copyFile(t, a+"-wal", b+"-wal")
	sum := fileSum(t, b)
	for _, readOnly := range []bool{true, false} {
		st, err := Open(ctx, b, OpenOptions{ReadOnly: readOnly})
		if err == nil {
			ids, _ := st.Identities(ctx)
			st.Close()
			t.Fatalf("read-only %v: opened b.db beside a.db's log, reading %d identities", readOnly, len(ids))
		}
		if !errors.Is(err, ErrForeignLog) {
			t.Errorf("read-only %v: %v", readOnly, err)
		}
	}
	if fileSum(t, b) != sum {
		t.Error("b.db changed")
	}
	if _, err := os.Stat(b + "-shm"); err == nil {
		t.Error("b.db-shm was created: SQLite opened the file")
	}

	// Its log moved aside, as the error says, b.db is as it was.
	os.Rename(b+"-wal", b+"-wal.aside")
	sb, err := Open(ctx, b, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if ids, err := sb.Identities(ctx); err != nil || len(ids) != len(bObs) || ids[0].ID != bObs[0].ID {
		t.Errorf("b.db: %d identities, %v", len(ids), err)
	}

	// a.db's own log, beside a copy of a.db, is its own.
	sc, err := Open(ctx, c, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if ids, err := sc.Identities(ctx); err != nil || len(ids) != len(aObs) {
		t.Errorf("c.db, with a.db's log: %d identities, %v", len(ids), err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A log a checkpoint has copied part of into the file (a reader held the
// rest back) is still the file's: the file's page 1 is one of the log's.
func TestPartlyCheckpointedLogIsTheFilesOwn(t *testing.T) {
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a.db"), filepath.Join(dir, "c.db")
	// Two stores write in turn, as two processes would: each reads page
	// 1 again after the other's commit, and counts one more write.
	stores := []*Store{openAt(t, a), openAt(t, a)}
	var n int
	for round := range 6 {
		s := stores[round%2]
		var o []Observation
		for i := range 200 {
			o = append(o, obs(fmt.Sprintf("r%d-%d", round, i), KindGitHubDeployKey))
		}
		snapshot(t, s, nil, nil, o...)
		n += len(o)
		if round == 2 {
			// A reader holds what the log says now; the checkpoint
			// copies all of it into the file, page 1 with it, and the
			// log is not begun again while the reader stays.
			conn, err := s.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			var k int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM observations").Scan(&k); err != nil {
				t.Fatal(err)
			}
			defer conn.ExecContext(ctx, "ROLLBACK")
			if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				t.Fatal(err)
			}
		}
	}
	copyFile(t, a, c)
	copyFile(t, a+"-wal", c+"-wal")
	sc, err := Open(ctx, c, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if ids, err := sc.Identities(ctx); err != nil || len(ids) != n {
		t.Errorf("c.db: %d identities of %d, %v", len(ids), n, err)
	}
}
