package audit

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// holdLockEnv, set to "write PATH" or "exclusive PATH", makes the test
// binary hold that lock on the SQLite file at PATH instead of running
// tests (TestMain): what the sqlite3 shell does after BEGIN IMMEDIATE,
// or after PRAGMA locking_mode=EXCLUSIVE and a read. "commit PATH"
// commits a row to meta and ends as if killed, its commit left in the
// write-ahead log.
const holdLockEnv = "NHI_TEST_HOLD_LOCK"

// holdLockHere is the re-executed binary's work: take the lock, say
// "held" on stdout, keep it until stdin closes, then let it go.
func holdLockHere() int {
	mode, path, _ := strings.Cut(os.Getenv(holdLockEnv), " ")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	steps := []string{"BEGIN IMMEDIATE"}
	switch mode {
	case "exclusive":
		steps = []string{"PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE", "SELECT count(*) FROM sqlite_master"}
	case "commit":
		// A writer killed after its commit: the commit stays in the
		// write-ahead log, which no close moved into the file.
		steps = []string{"PRAGMA wal_autocheckpoint = 0", "INSERT INTO meta (key, value) VALUES ('test.killed', 'committed')"}
	}
	for _, q := range steps {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintln(os.Stderr, q+":", err)
			return 2
		}
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if mode == "commit" {
		os.Exit(0) // as killed: no close
	}
	if _, err := db.Exec("ROLLBACK"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// holdLockElsewhere starts another process, named name (the test binary
// run through a link of that name, so the system calls it so), that
// holds the lock mode says on the file at path, and returns once it
// holds it: its pid, and release, which lets it go and waits for the
// process to end.
func holdLockElsewhere(t *testing.T, name, mode, path string) (pid int, release func()) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link)
	cmd.Env = append(os.Environ(), holdLockEnv+"="+mode+" "+path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the %s holding the lock: %v %s", name, err, stderr.String())
		}
	}
	t.Cleanup(release)
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "held\n" {
		release()
		t.Fatalf("the %s did not take the lock: %q %s", name, line, stderr.String())
	}
	return cmd.Process.Pid, release
}

// A write that waits out a lock another program holds names that
// program, as the system knows it, and says what ends its hold: the
// sqlite3 shell's transaction, not an nhi's work, which it said before
// ("wait for the other nhi process"). An nhi of the same name is called
// nhi, and told to be waited for. A program that locks even readers out
// is named by the open that fails on it. Where the system does not say
// (platforms other than Linux) the holder is "another process".
func TestBusyNamesTheProgramThatHoldsIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux says who holds a lock (/proc/locks)")
	}
	shortBusy(t)
	path := filepath.Join(t.TempDir(), "nhi.db")
	st := openAt(t, path)
	key := obs("deploy", KindGitHubDeployKey)
	snapshot(t, st, nil, nil, key)
	note := func(text string) error {
		_, err := st.AddNotes(ctx, "auditor@acme.test", []string{key.ID}, text)
		return err
	}

	pid, release := holdLockElsewhere(t, "sqlite3", "write", path)
	err := note("while sqlite3 holds the file")
	release()
	who := fmt.Sprintf("sqlite3 (pid %d)", pid)
	var be *busyErr
	if !errors.Is(err, ErrBusy) || !errors.As(err, &be) {
		t.Fatalf("a note while sqlite3 holds the write lock = %v, want ErrBusy", err)
	}
	t.Logf("the error: %v", err)
	msg := err.Error()
	for _, want := range []string{
		path + " stayed busy with other writers for ",
		": " + who + " held its write lock all that time. ",
		"sqlite3 holds it until its transaction ends: end it (in the sqlite3 shell, COMMIT or ROLLBACK) or close sqlite3, or wait for it to finish, then run this command again",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the busy error should say %q; it says:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "nhi process") || strings.Contains(msg, "If it is nhi") {
		t.Errorf("the busy error speaks of nhi where sqlite3 holds the file:\n%s", msg)
	}
	if b := be.Brief(nil); !strings.Contains(b, "stayed busy for ") || !strings.Contains(b, " with a write of "+who+", so nothing was recorded") {
		t.Errorf("the UI's words should name sqlite3: %s", b)
	}
	if err := note("once sqlite3 let go"); err != nil {
		t.Errorf("once the lock is free the note is added: %v", err)
	}

	// An nhi of this one's name (the test binary's) holding the file.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, release = holdLockElsewhere(t, filepath.Base(self), "write", path)
	err = note("while another nhi holds the file")
	release()
	want := fmt.Sprintf(": another %s process (pid %d) held its write lock all that time. A campaign create or a snapshot of a large population holds it for minutes: wait for it to finish, then run this command again", selfName(), pid)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with another nhi holding the file the error should say %q; it says:\n%v", want, err)
	}

	st.Close() // an exclusive lock is taken only on a file nobody else has open
	pid, release = holdLockElsewhere(t, "sqlite3", "exclusive", path)
	for _, readOnly := range []bool{false, true} {
		s, err := Open(ctx, path, OpenOptions{ReadOnly: readOnly, BusyTimeout: 50 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Errorf("read-only %v: opened a file sqlite3 holds locked", readOnly)
			continue
		}
		want := fmt.Sprintf("%s is locked by sqlite3 (pid %d), which kept even readers out; nothing was read or changed. Close sqlite3, or wait for it to finish, then run this command again", path, pid)
		if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), want) {
			t.Errorf("read-only %v: the open should say %q; it says:\n%v", readOnly, want, err)
		}
	}
	release()
}
