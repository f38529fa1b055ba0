package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// besideFile lists the folder of the evidence file at path.
func besideFile(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// readOnce opens the file at path read-only, reads it (identities,
// verify) and closes it, as nhi verify or nhi identities does.
func readOnce(t *testing.T, path string) {
	t.Helper()
	st, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	checkVerifies(t, st, "read-only")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// A read-only open leaves beside the evidence file what it found there:
// the write-ahead log and -shm files SQLite makes to read a file in WAL
// mode are removed on closing when there were none, the file itself
// unchanged, where before an empty nhi.db-wal and a nhi.db-shm stayed.
// Those of a writer that has the file open stay, and so does a log that
// holds another process's commits (a writer killed after it committed,
// while nhi read): the read neither removes it nor moves it into the
// file, which is a writer's to do.
func TestReadOnlyOpenLeavesWhatItFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	w := openAt(t, path)
	snapshot(t, w, nil, nil, obs("deploy", KindGitHubDeployKey))
	w.Close()
	alone := []string{"nhi.db"}
	if got := besideFile(t, path); !slices.Equal(got, alone) {
		t.Fatalf("after a writer closed: %v, want %v", got, alone)
	}
	before, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)

	st, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	if got := besideFile(t, path); len(got) != 3 {
		t.Errorf("while the read-only store is open SQLite reads through nhi.db-wal and nhi.db-shm; the folder holds %v", got)
	}
	st.Close()
	if got := besideFile(t, path); !slices.Equal(got, alone) {
		t.Errorf("a read-only open and close left %v beside the file, want %v", got, alone)
	}
	readOnce(t, path)
	if got := besideFile(t, path); !slices.Equal(got, alone) {
		t.Errorf("nhi verify and nhi identities left %v beside the file, want %v", got, alone)
	}
	after, _ := os.ReadFile(path)
	fa, _ := os.Stat(path)
	if !bytes.Equal(before, after) || !fa.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the read-only opens changed the file (modified %s, then %s)", fi.ModTime(), fa.ModTime())
	}

	// A writer has the file open: its log and -shm stay.
	w = openAt(t, path)
	if _, err := w.AddNotes(ctx, "auditor@acme.test", []string{obs("deploy", KindGitHubDeployKey).ID}, "while a reader reads"); err != nil {
		t.Fatal(err)
	}
	readOnce(t, path)
	if got := besideFile(t, path); len(got) != 3 {
		t.Errorf("a read beside an open writer removed its files: %v", got)
	}
	if _, err := w.AddNotes(ctx, "auditor@acme.test", []string{obs("deploy", KindGitHubDeployKey).ID}, "after the reader"); err != nil {
		t.Errorf("the writer after the read: %v", err)
	}
	w.Close()
	if got := besideFile(t, path); !slices.Equal(got, alone) {
		t.Errorf("after the writer closed: %v, want %v", got, alone)
	}

	// A writer that began after the read-only open, committed, and was
	// killed before the reader closed.
	before, _ = os.ReadFile(path)
	st, err = Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	_, release := holdLockElsewhere(t, "nhi", "commit", path)
	release()
	log, err := os.Stat(path + "-wal")
	if err != nil || log.Size() == 0 {
		t.Fatalf("the killed writer's commit should be in the log: %v", err)
	}
	st.Close()
	if now, err := os.Stat(path + "-wal"); err != nil || now.Size() != log.Size() {
		t.Errorf("the read-only close removed or changed the log that holds a killed writer's commit: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("the read-only close moved the killed writer's log into the file")
	}
	w = openAt(t, path)
	var v string
	if err := w.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'test.killed'`).Scan(&v); err != nil || v != "committed" {
		t.Errorf("the killed writer's commit, read after: %q %v", v, err)
	}
}
