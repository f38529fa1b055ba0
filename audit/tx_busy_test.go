package audit

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isBusy goes by SQLite's result code, not by the message: a write that
// finds another connection holding the lock is busy, however it is
// wrapped; other errors, including ones that merely say so, are not.
func TestIsBusyReadsTheSQLiteCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE TABLE t (x)", "BEGIN IMMEDIATE"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.ExecContext(ctx, "ROLLBACK")

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, busy := other.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if busy == nil {
		t.Fatal("a second writer got in while the first held the lock")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{busy, true},
		{fmt.Errorf("recording: %w", busy), true},
		{nil, false},
		{errors.New("database is locked (SQLITE_BUSY)"), false},
		{sql.ErrNoRows, false},
	} {
		if got := isBusy(tc.err); got != tc.want {
			t.Errorf("isBusy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	_, syntax := other.ExecContext(ctx, "SELEKT 1")
	if syntax == nil || isBusy(syntax) {
		t.Errorf("a syntax error (%v) is not busy", syntax)
	}
}

// A writer that waits out the busy timeout while another store holds the
// file's write lock says what the user can do, and names the snapshot
// running now (its lock row in meta); once the lock is released the same
// write goes through.
func TestWriteBusySaysWhatToDo(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 20 * time.Millisecond // five tries: a tenth of a second, not 50 s
	path := filepath.Join(t.TempDir(), "nhi.db")
	holder, waiter := openAt(t, path), openAt(t, path)
	key := obs("deploy", KindGitHubDeployKey)
	snapshot(t, holder, nil, nil, key)

	// hold takes the write lock in holder and keeps it until release.
	hold := func() (release func()) {
		held, done, stop := make(chan struct{}), make(chan error, 1), make(chan struct{})
		go func() {
			done <- holder.Write(ctx, func(*Tx) error {
				close(held)
				<-stop
				return nil
			})
		}()
		<-held
		return func() {
			close(stop)
			if err := <-done; err != nil {
				t.Errorf("the holder's write: %v", err)
			}
		}
	}
	note := func(text string) error {
		_, err := waiter.AddNotes(ctx, "auditor@acme.test", []string{key.ID}, text)
		return err
	}
	const advice = ". A campaign create or a snapshot of a large population holds it for minutes: wait for it to finish, then run this command again: "

	release := hold()
	err := note("first")
	release()
	if err == nil || !isBusy(err) {
		t.Fatalf("a write while another store holds the lock = %v, want a busy error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, path+" stayed busy with other writers for ") ||
		!strings.Contains(msg, fmt.Sprintf("another connection of this process (pid %d) held its write lock all that time", os.Getpid())+advice) ||
		strings.Contains(msg, "running now") {
		t.Errorf("with no snapshot running the error says:\n%s", msg)
	}

	w, err := holder.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	release = hold()
	err = note("second")
	release()
	t.Logf("the error: %v", err)
	want := fmt.Sprintf("; running now: a snapshot of github/acme (pid %d on host %s, started ", os.Getpid(), Printable(hostname()))
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), advice) {
		t.Errorf("with a snapshot running the error should name it (%q) and say what to do; it says:\n%v", want, err)
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}

	if err := note("third"); err != nil {
		t.Fatalf("once the lock is released the write should go through: %v", err)
	}
	notes, err := waiter.Notes(ctx, key.ID)
	if err != nil || len(notes) != 1 || notes[0].Text != "third" {
		t.Errorf("the log should hold the one note that went through; it holds %+v (%v)", notes, err)
	}
}
