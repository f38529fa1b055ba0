package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
// hang-up stays ignored and the run finishes.
func TestHangUpStopsAsSIGTERMDoes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP")
	}
	for _, c := range []struct {
		name, script string
	}{
		{"terminal", `exec "$0" "$@"`},
		{"nohup", `trap "" HUP; exec "$0" "$@"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "nhi.db")
			cmd := exec.Command("sh", "-c", c.script, nhiBinary(t), "demo", "--repos", "2000", "--no-tui", "--history=false", "--db", db, "--as", "lead")
			cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GITHUB_TOKEN=", "GH_TOKEN=")
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var said strings.Builder
			lines := bufio.NewScanner(pipe)
			sent := false
			for lines.Scan() {
				said.WriteString(lines.Text() + "\n")
				if !sent && strings.HasPrefix(lines.Text(), "github/northwind: repositories 0/2000") {
					if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
						t.Fatal(err)
					}
					sent = true
				}
			}
			err = cmd.Wait()
			if !sent {
				t.Fatalf("the run never read a repository:\n%s", said.String())
			}
			_, walErr := os.Stat(db + "-wal")
			snaps := ok(t, "snapshots", "--db", db).stdout
			if c.name == "nohup" {
				if err != nil || !strings.Contains(snaps, "github/northwind  #") {
					t.Errorf("under nohup the hang-up stopped the run: %v\n%s\n%s", err, said.String(), snaps)
				}
				return
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailure ||
				!strings.Contains(said.String(), "interrupted; what was read is kept (snapshot 4), run the same command again to continue") {
				t.Errorf("demo on a hang-up: %v, want exit %d saying it was interrupted\n%s", err, exitFailure, said.String())
			}
			if !errors.Is(walErr, os.ErrNotExist) {
				t.Errorf("the hang-up left the write-ahead log %s-wal (%v): the file was not closed", db, walErr)
			}
			if !strings.Contains(snaps, "github/northwind  —") || !strings.Contains(snaps, "stopped before it finished") {
				t.Errorf("after the hang-up snapshots says:\n%s", snaps)
			}
		})
	}
}
