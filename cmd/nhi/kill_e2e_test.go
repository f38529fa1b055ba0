package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goneProcess is the ID of a process that has exited: what a killed
// nhi's files are named after.
func goneProcess(t *testing.T) int {
	t.Helper()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	return gone.Process.Pid
}

// TestDBExportRemovesWhatAKilledExportLeft: the temporary file (and its
// -wal and -shm) a `nhi db export` killed (SIGKILL) before it finished
// leaves beside its --to file is removed by the next export to that file;
// one of an export still running is left alone. Before, a killed export
// left a hidden copy of the store, as big as the store, for good.
func TestDBExportRemovesWhatAKilledExportLeft(t *testing.T) {
	db, _, _ := githubDB(t, 3)
	dir := t.TempDir()
	to := filepath.Join(dir, "evidence.db")
	killed := filepath.Join(dir, ".evidence.db.partial-"+strconv.Itoa(goneProcess(t))+"-123")
	running := filepath.Join(dir, ".evidence.db.partial-"+strconv.Itoa(os.Getpid())+"-456")
	for _, p := range []string{killed, killed + "-wal", killed + "-shm", running} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ok(t, "db", "export", "--db", db, "--to", to)
	for _, p := range []string{killed, killed + "-wal", killed + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s, left by a killed export, is still there", filepath.Base(p))
		}
	}
	if _, err := os.Stat(running); err != nil {
		t.Errorf("the running export's temporary file was removed: %v", err)
	}
	ok(t, "verify", "--db", to)
}

// TestKilledWriteOnReadOnlyMedia: an evidence file copied with the
// write-ahead log a killed (SIGKILL) `nhi snapshot` left beside it, but
// without its -shm file, onto read-only media cannot be read there
// (SQLite reads the log only through a -shm file it creates): every
// command says that, and what to do, and the copy made as it says reads.
// Before, each said the file was "not an nhi evidence file".
func TestKilledWriteOnReadOnlyMedia(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	run := startHeld(t, db)
	if err := run.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = run.cmd.Wait()
	if fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the killed run left no write-ahead log: %v", err)
	}
	media := filepath.Join(t.TempDir(), "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nhi.db", "nhi.db-wal"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(db), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(media, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ro := filepath.Join(readOnlyFolder(t, media), "nhi.db")
	for _, args := range [][]string{{"verify"}, {"snapshots"}, {"identities"}} {
		r := nhi(t, nil, append(args, "--db", ro)...)
		if r.code != 1 || strings.Contains(r.stderr, "not an nhi evidence file") ||
			!strings.Contains(r.stderr, "its write-ahead log nhi.db-wal holds writes not yet in the file") ||
			!strings.Contains(r.stderr, "copy nhi.db and nhi.db-wal together to a writable folder") {
			t.Errorf("nhi %s: exit %d\n%s%s", args[0], r.code, r.stdout, r.stderr)
		}
	}
	// What it says to do: the two files copied to a writable folder.
	copied := filepath.Join(t.TempDir(), "nhi.db")
	for _, sfx := range []string{"", "-wal"} {
		b, _ := os.ReadFile(ro + sfx)
		os.WriteFile(copied+sfx, b, 0o600)
	}
	if r := ok(t, "snapshots", "--db", copied); !strings.Contains(r.stdout, "running") {
		t.Errorf("the copy lacks the killed run's snapshot:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", copied)
}
