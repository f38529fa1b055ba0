package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// lockedRun is an `nhi snapshot` held in the middle of the repositories by
// the fake GitHub until release is called.
type lockedRun struct {
	cmd     *exec.Cmd
	stderr  *bytes.Buffer
	stdout  *bytes.Buffer
	release func()
	srv     *githubtest.Server
	args    []string
}

// startHeld starts `nhi snapshot github` against a fake that stalls every
// repository request until release, and returns once the run is stalled:
// it then holds the organisation's snapshot lock.
func startHeld(t *testing.T, db string) *lockedRun {
	t.Helper()
	return startHeldWith(t, db)
}

// startHeldWith is startHeld with env added to the run's environment.
func startHeldWith(t *testing.T, db string, env ...string) *lockedRun {
	t.Helper()
	return startHeldIn(t, db, "", env...)
}

// startHeldIn is startHeldWith run by sh -c script, whose $0 is the nhi
// binary and $@ its arguments (script "" runs nhi itself).
func startHeldIn(t *testing.T, db, script string, env ...string) *lockedRun {
	t.Helper()
	var (
		stalled = make(chan struct{})
		gate    = make(chan struct{})
		once    sync.Once
		relOnce sync.Once
	)
	srv := githubtest.NewServer(githubtest.SampleOrg(6), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if strings.HasPrefix(r.URL.Path, "/repos/") {
			once.Do(func() { close(stalled) })
			<-gate
		}
		return 0, "", false
	}))
	release := func() { relOnce.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); srv.Close() })
	args := []string{"snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db}
	cmd := exec.Command(nhiBinary(t), args...)
	if script != "" {
		cmd = exec.Command("sh", append([]string{"-c", script, nhiBinary(t)}, args...)...)
	}
	cmd.Env = append(append(os.Environ(), "NHI_DB=", "GH_TOKEN=", "GITHUB_TOKEN="+srv.Token()), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-stalled:
	case <-time.After(60 * time.Second):
		t.Fatalf("the first run never reached the repositories:\n%s", errb.String())
	}
	return &lockedRun{cmd: cmd, stderr: &errb, stdout: &out, release: release, srv: srv, args: args}
}

// TestSnapshotConcurrentRunsRefused: a second `nhi snapshot` of the same
// organisation while the first is running says who runs it and exits 1,
// touching nothing; the first finishes and the file verifies. Before the
// lock, the second run resumed the first one's snapshot as it was written,
// and the file failed verify for good.
func TestSnapshotConcurrentRunsRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	first := startHeld(t, db)

	r := nhi(t, []string{"GITHUB_TOKEN=" + first.srv.Token()}, first.args...)
	want := fmt.Sprintf("nhi: a snapshot of github/northwind is already running (pid %d on host ", first.cmd.Process.Pid)
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--wait") {
		t.Errorf("second run: exit %d, want 1 and %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "Snapshot ") {
		t.Errorf("the second run says it took a snapshot:\n%s", r.stdout)
	}

	first.release()
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, first.stderr)
	}
	if !strings.Contains(first.stdout.String(), "Snapshot 1 of github/northwind: partial") {
		t.Errorf("first run:\n%s", first.stdout)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify: %s%s", r.stdout, r.stderr)
	}
}

// TestSnapshotConcurrentRunsWait: with --wait the second run waits for
// the first to finish, then takes a snapshot of its own.
func TestSnapshotConcurrentRunsWait(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	first := startHeld(t, db)

	second := exec.Command(nhiBinary(t), append(first.args, "--wait")...)
	second.Env = append(os.Environ(), "NHI_DB=", "GH_TOKEN=", "GITHUB_TOKEN="+first.srv.Token())
	var out, errb syncBuffer
	second.Stdout, second.Stderr = &out, &errb
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Process.Kill(); _ = second.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(errb.String(), "Waiting for it to finish"); {
		if time.Now().After(deadline) {
			t.Fatalf("the second run does not say it waits:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the child's output
	}
	first.release()
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, first.stderr)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("second run: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "Snapshot 2 of github/northwind: partial") {
		t.Errorf("second run:\n%s", out.String())
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify: %s%s", r.stdout, r.stderr)
	}
}

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSnapshotResumesOnlyTheSameRun: a run killed (SIGKILL) against one
// server is not continued by a run against another: that one says why and
// takes a snapshot of its own, holding only what it read. Before, the
// second run resumed the first one's snapshot, labelled with the first
// server, holding both servers' identities.
func TestSnapshotResumesOnlyTheSameRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	a := startHeld(t, db)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()

	b := githubtest.NewServer(githubtest.SampleOrg(3))
	defer b.Close()
	env := []string{"GITHUB_TOKEN=" + b.Token()}
	r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", b.URL(), "--db", db)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "Note: not resuming snapshot 1: it was read from " + a.srv.URL(); !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "this run reads "+b.URL()) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stdout, "Snapshot 2 of github/northwind: partial") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	fresh := filepath.Join(dir, "fresh.db")
	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", b.URL(), "--db", fresh); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got, want := ids(t, db), ids(t, fresh); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the file holds %d identities; server B alone has %d", len(got), len(want))
	}
	r = nhi(t, nil, "snapshots", "--db", db)
	if !strings.Contains(r.stdout, "failed") {
		t.Errorf("the abandoned snapshot is not shown failed:\n%s", r.stdout)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify: %s%s", r.stdout, r.stderr)
	}
}
