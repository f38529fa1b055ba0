package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
