package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestHangUpStopsAsSIGTERMDoes: SIGHUP (the terminal closed, ssh
// dropped) in the middle of a snapshot stops it as ctrl-c and SIGTERM
// do: what was read is kept for the next run to continue, it says so, and
// the evidence file is closed (no write-ahead log left beside it), where
// the hang-up killed nhi where it stood. Under nohup (SIGHUP ignored) the
// hang-up stays ignored and the run finishes. The run is an nhi snapshot
// github that the fake holds at its repositories (startHeldIn) until the
// hang-up has been sent: it is in the middle whatever the machine's load.
func TestHangUpStopsAsSIGTERMDoes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP")
	}
	// The snapshot's row in nhi snapshots: finished (partial: the fake
	// has endpoints a token cannot read), or stopped with nothing counted.
	finished := regexp.MustCompile(`(?m)^1 +github/northwind +\S+ \S+ +partial +\d+ `)
	stopped := regexp.MustCompile(`(?m)^1 +github/northwind +\S+ \S+ +running +— +— `)
	for _, c := range []struct {
		name, script string
	}{
		{"terminal", `exec "$0" "$@"`},
		{"nohup", `trap "" HUP; exec "$0" "$@"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "nhi.db")
			run := startHeldIn(t, db, c.script)
			if err := run.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if c.name == "nohup" {
				run.release() // the hang-up was ignored: the run goes on
			}
			err := run.cmd.Wait()
			said := run.stderr.String()
			_, walErr := os.Stat(db + "-wal")
			snaps := ok(t, "snapshots", "--db", db).stdout
			if c.name == "nohup" {
				if err != nil || !finished.MatchString(snaps) {
					t.Errorf("under nohup the hang-up stopped the run: %v\n%s\n%s", err, said, snaps)
				}
				return
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailure ||
				!strings.Contains(said, "interrupted; what was read is kept (snapshot 1), run the same command again to continue") {
				t.Errorf("snapshot on a hang-up: %v, want exit %d saying it was interrupted\n%s", err, exitFailure, said)
			}
			if !errors.Is(walErr, os.ErrNotExist) {
				t.Errorf("the hang-up left the write-ahead log %s-wal (%v): the file was not closed", db, walErr)
			}
			if !stopped.MatchString(snaps) || !strings.Contains(snaps, "stopped before it finished") {
				t.Errorf("after the hang-up snapshots says:\n%s", snaps)
			}
		})
	}
}
