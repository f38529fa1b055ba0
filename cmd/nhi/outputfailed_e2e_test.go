package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// nhiRedirected runs the nhi binary with args under sh, its standard
// output redirected as redirect says (">&-", "> /dev/full"), and returns
// its exit code and what it said on stderr.
func nhiRedirected(t *testing.T, redirect string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", `exec "$0" "$@" ` + redirect, nhiBinary(t)}, args...)...)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GITHUB_TOKEN=", "GH_TOKEN=")
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestClosedOutputFails: a command run with its standard output closed
// (nhi version >&-) fails, saying its output went nowhere, as coreutils'
// commands do, where it exited 0 with everything it printed lost (Go
// gives a closed standard descriptor /dev/null). Standard output sent to
// /dev/null on purpose is no failure.
func TestClosedOutputFails(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no sh")
	}
	db := campaignDB(t, 3)
	for _, args := range [][]string{
		{"version"},
		{"--help"},
		{"snapshots", "--db", db},
		{"identities", "-o", "json", "--db", db},
		{"verify", "--db", db},
		{"log", "head", "--db", db},
	} {
		code, stderr := nhiRedirected(t, ">&-", args...)
		if code != exitFailure || !strings.Contains(stderr, "write /dev/stdout: bad file descriptor") ||
			!strings.Contains(stderr, "Standard output is closed (>&-)") {
			t.Errorf("nhi %s >&-: exit %d, want %d saying standard output is closed\n%s", strings.Join(args, " "), code, exitFailure, stderr)
		}
		if code, stderr := nhiRedirected(t, "> /dev/null", args...); code != exitOK {
			t.Errorf("nhi %s > /dev/null: exit %d, want 0\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	// All three closed: the runtime opens /dev/null on each, anew.
	if code, _ := nhiRedirected(t, "<&- >&- 2>&-", "version"); code != exitFailure {
		t.Errorf("nhi version <&- >&- 2>&-: exit %d, want %d", code, exitFailure)
	}
	// A daemon's one /dev/null, read-write, on all three: output dropped on purpose.
	if code, stderr := nhiRedirected(t, "<>/dev/null >&0 2>&0", "version"); code != exitOK {
		t.Errorf("nhi version <>/dev/null >&0 2>&0: exit %d, want 0\n%s", code, stderr)
	}
}

// TestOutputOnAFullDisk: a command whose output finds no room (a full
// disk: /dev/full) fails saying its output is cut short, where the
// commands that print without looking (version, verify, note add)
// exited 0.
func TestOutputOnAFullDisk(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no /dev/full")
	}
	db := campaignDB(t, 3)
	for _, args := range [][]string{{"version"}, {"verify", "--db", db}, {"snapshots", "--db", db}} {
		code, stderr := nhiRedirected(t, "> /dev/full", args...)
		if code != exitFailure || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "The output is cut short") {
			t.Errorf("nhi %s > /dev/full: exit %d, want %d saying the output is cut short\n%s", strings.Join(args, " "), code, exitFailure, stderr)
		}
	}
}

// TestRecordingWithOutputClosed: a command that records, its standard
// output closed, records all it was asked to and then fails, saying only
// its output is lost and that running it again would record again.
func TestRecordingWithOutputClosed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no sh")
	}
	db := campaignDB(t, 3)
	id := strings.Fields(ok(t, "identities", "-o", "id", "--db", db).stdout)[0]
	code, stderr := nhiRedirected(t, ">&-", "note", "add", id, "asked the platform team", "--as", "lead@example.com", "--db", db)
	if code != exitFailure || !strings.Contains(stderr, "The command did what it was asked; only what it printed is lost") ||
		!strings.Contains(stderr, "running it again would record it again") {
		t.Errorf("note add >&-: exit %d, want %d saying what it recorded is recorded\n%s", code, exitFailure, stderr)
	}
	if notes := ok(t, "note", "list", id, "--db", db).stdout; !strings.Contains(notes, "asked the platform team") {
		t.Errorf("note add >&- recorded no note:\n%s", notes)
	}
	ok(t, "verify", "--db", db)
}
