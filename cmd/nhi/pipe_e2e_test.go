package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// runReaderGone runs the nhi binary with args, its standard output a pipe
// whose reader is gone (as after `| head` has its lines, `| true`, or a
// pager quit), and returns how it ended and what it said on stderr.
func runReaderGone(t *testing.T, args ...string) (*exec.ExitError, string) {
	t.Helper()
	return runReaderLeaves(t, nil, args...)
}

// runReaderLeaves is runReaderGone with the reader leaving once started
// returns, the process running.
func runReaderLeaves(t *testing.T, started func(), args ...string) (*exec.ExitError, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nhiBinary(t), args...)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GITHUB_TOKEN=", "GH_TOKEN=")
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if started != nil {
		started()
	}
	r.Close()
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee, stderr.String()
}

// diedOfSIGPIPE reports whether ee is the end of a process killed by
// SIGPIPE, as a writer to a closed pipe ends (exit status 141 in a shell).
func diedOfSIGPIPE(ee *exec.ExitError) bool {
	if ee == nil {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGPIPE
}

// TestRecordingWhoseReaderLeft: a command that records, its output piped
// into a reader that left (nhi demo | head -1), records everything it
// was asked to, where Go's default for a write to a closed pipe killed it
// at its next line of output: nhi demo stopped inside the second AWS
// account, which stayed "running", and read neither GitHub nor the
// cluster. A read whose reader left stops quietly, as a writer to a
// closed pipe does (killed by SIGPIPE), where "broken pipe" was an error.
func TestRecordingWhoseReaderLeft(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGPIPE")
	}
	db := filepath.Join(t.TempDir(), "nhi.db")
	ee, stderr := runReaderGone(t, "demo", "--no-tui", "--history=false", "--db", db, "--as", "lead")
	if ee != nil || strings.Contains(stderr, "broken pipe") {
		t.Errorf("demo with its reader gone: %v\n%s", ee, stderr)
	}
	snaps := ok(t, "snapshots", "--db", db).stdout
	for _, account := range []string{"aws/111111111111", "aws/222222222222", "aws/333333333333", "github/northwind", "k8s/demo-cluster"} {
		if !strings.Contains(snaps, account) {
			t.Errorf("demo with its reader gone did not read %s:\n%s", account, snaps)
		}
	}
	if strings.Contains(snaps, "running") || strings.Contains(snaps, "stopped") {
		t.Errorf("demo with its reader gone left a run unfinished:\n%s", snaps)
	}
	// More than the 64 KB nhi buffers, so a write finds the pipe closed.
	for _, format := range []string{"id", "csv", "json", "table"} {
		ee, stderr := runReaderGone(t, "identities", "-o", format, "--db", db)
		if !diedOfSIGPIPE(ee) || stderr != "" {
			t.Errorf("identities -o %s with its reader gone: %v, want killed by SIGPIPE, saying nothing\n%s", format, ee, stderr)
		}
	}
}

// TestReadStopsWhenItsReaderLeaves: a read whose output's reader leaves
// stops then, not once it has read everything: here its read waits on a
// lock another session holds, and ends only because the reader left.
// Quietly, as a writer to a closed pipe ends (killed by SIGPIPE).
func TestReadStopsWhenItsReaderLeaves(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("elsewhere a read stops at its next write (outputgone_other.go)")
	}
	db := pgtest.URL(t)
	ok(t, "--db", db, "demo", "--no-tui", "--history=false")
	ctx := context.Background()
	holder := pgtest.Connect(t, db)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// The reader leaves once the read waits on the lock.
	waiting := func() {
		c := pgtest.Connect(t, db)
		defer c.Close(ctx)
		for n := 0; n == 0; {
			if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, args := range [][]string{{"identities"}, {"snapshots"}, {"diff"}} {
		ee, stderr := runReaderLeaves(t, waiting, append(args, "--db", db)...)
		if !diedOfSIGPIPE(ee) || stderr != "" {
			t.Errorf("%s with its reader gone: %v, want killed by SIGPIPE, saying nothing\n%s", args[0], ee, stderr)
		}
	}
}
