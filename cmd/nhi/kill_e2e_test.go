package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// TestDBExportPutsBackWhatAKilledForceSetAside: a `nhi db export --to F
// --force` killed between setting F aside and linking its copy in leaves
// F as ".F.partial-PID-….old", whole, and no F. An open of F says where
// it is and how to put it back, where it said only that there is no
// evidence file there; a snapshot into F does not make a new file over
// it; the next db export to F puts it back first, saying so, so F is as
// it was before the export that did not finish, as --force promises.
func TestDBExportPutsBackWhatAKilledForceSetAside(t *testing.T) {
	db, _, _ := githubDB(t, 3)
	dir := t.TempDir()
	to := filepath.Join(dir, "evidence.db")
	ok(t, "db", "export", "--db", db, "--to", to)
	before, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, ".evidence.db.partial-"+strconv.Itoa(goneProcess(t))+"-123")
	if err := os.Rename(to, partial+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, []byte("the copy, whole or not"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, nil, "identities", "--db", to)
	if r.code != 1 || !strings.Contains(r.stderr, "set the file that was there aside as "+partial+".old: put it back with mv "+partial+".old "+to) {
		t.Errorf("identities of the file set aside: exit %d\n%s", r.code, r.stderr)
	}
	r = nhi(t, []string{"GITHUB_TOKEN=x"}, "snapshot", "github", "--org", "northwind", "--api-url", "http://127.0.0.1:1/", "--db", to)
	if _, err := os.Stat(to); r.code == 0 || err == nil {
		t.Errorf("a snapshot made %s anew over the file set aside (exit %d):\n%s", to, r.code, r.stderr)
	}
	r = nhi(t, nil, "db", "export", "--db", db, "--to", to)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "nhi: put "+to+" back, which an earlier nhi db export, killed while replacing it, had set aside as "+partial+".old\n") ||
		!strings.Contains(r.stderr, to+" already exists; choose another file, or pass --force") {
		t.Errorf("db export after the killed one: exit %d\n%s", r.code, r.stderr)
	}
	if after, err := os.ReadFile(to); err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s was not put back as it was (%v)", to, err)
	}
	ok(t, "db", "export", "--db", db, "--to", to, "--force")
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("beside %s: %v (%v)", to, entries, err)
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
	// Its population is none, and nhi identities says why, where it said
	// to take a first snapshot.
	if r := ok(t, "identities", "--db", copied); !strings.Contains(r.stdout, "No identities yet: github/northwind has no finished snapshot: the newest, snapshot 1, stopped before it finished (no live nhi process holds it); nhi snapshots says more") {
		t.Errorf("identities of the killed run's file:\n%s", r.stdout)
	}
}

// TestSnapshotsTellRunningFromKilled: nhi snapshots says of a running
// snapshot whether a live process runs it (naming it) or it was stopped
// before it finished (SIGKILL: nothing will finish it but the next run,
// which it says to start), where it said "running, or was stopped" of
// both; and a killed run after the current snapshot is named as a failed
// one is (the population is older than the last attempt to read it).
func TestSnapshotsTellRunningFromKilled(t *testing.T) {
	db, _, _ := githubDB(t, 3) // snapshot 1, complete
	run := startHeld(t, db)
	live := fmt.Sprintf("Snapshot 2 is running (pid %d on host ", run.cmd.Process.Pid)
	if r := ok(t, "snapshots", "--db", db); !strings.Contains(r.stdout, live) || strings.Contains(r.stdout, "stopped") {
		t.Errorf("snapshots while it runs, want %q:\n%s", live, r.stdout)
	}
	runOf := func() map[string]any {
		t.Helper()
		var snaps []map[string]any
		if err := json.Unmarshal([]byte(ok(t, "snapshots", "--json", "--db", db).stdout), &snaps); err != nil {
			t.Fatal(err)
		}
		for _, sn := range snaps {
			if sn["id"] == float64(2) {
				if sn["status"] != "running" {
					t.Errorf("snapshots --json: snapshot 2's status %v, want running", sn["status"])
				}
				run, _ := sn["run"].(map[string]any)
				return run
			}
		}
		t.Fatal("snapshots --json lists no snapshot 2")
		return nil
	}
	if got := runOf(); got["state"] != "running" || got["pid"] != float64(run.cmd.Process.Pid) {
		t.Errorf("snapshots --json while it runs: run %v, want state running and pid %d", got, run.cmd.Process.Pid)
	}
	if r := ok(t, "verify", "--db", db); !strings.Contains(r.stdout, fmt.Sprintf("Not finished: snapshot 2 of github/northwind, running (pid %d on host ", run.cmd.Process.Pid)) {
		t.Errorf("verify while it runs:\n%s", r.stdout)
	}
	if err := run.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = run.cmd.Wait()
	if got := runOf(); got["state"] != "stopped" {
		t.Errorf("snapshots --json after the kill: run %v, want state stopped", got)
	}
	r := ok(t, "snapshots", "--db", db)
	for _, want := range []string{
		"Snapshot 2 (github/northwind) was stopped before it finished: no live nhi process holds it. Nothing of it is current or counted",
		"run the command that took it again (nhi snapshot, import or demo)",
		"github/northwind: a newer run, snapshot 2, stopped before it finished (no live nhi process holds it); the population is still snapshot 1's",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("snapshots after the kill lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "is running") {
		t.Errorf("snapshots calls the killed run running:\n%s", r.stdout)
	}
	if r := ok(t, "snapshots", "show", "2", "--db", db); !strings.Contains(r.stdout, "Identities: never counted unless it finishes: it was stopped before it finished") {
		t.Errorf("snapshots show 2 after the kill:\n%s", r.stdout)
	}
	// nhi verify passes, and says what the kill left unfinished, where
	// it counted the finished snapshots alone.
	if r := ok(t, "verify", "--db", db); !strings.Contains(r.stdout, "1 snapshot matches its digest") ||
		!strings.Contains(r.stdout, "Not finished: snapshot 2 of github/northwind, stopped before it finished (no live nhi process holds it): what it wrote so far is not checked") {
		t.Errorf("verify after the kill:\n%s", r.stdout)
	}
}
