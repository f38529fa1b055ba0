package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTerminal drives the real binary in a real terminal: tmux runs
// `nhi --db X` on a file `nhi demo --no-tui` wrote, and the test types
// what an auditor would and reads the screen back.
func TestTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "nhi")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/nhi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "nhi.db")
	demo := exec.CommandContext(ctx, bin, "demo", "--no-tui", "--db", db)
	if out, err := demo.CombinedOutput(); err != nil {
		t.Fatalf("nhi demo: %v\n%s", err, out)
	}

	session := fmt.Sprintf("nhi-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, tmux, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// A private server socket: the test never touches the user's tmux.
	sock := filepath.Join(dir, "tmux.sock")
	tmuxArgs := func(args ...string) []string { return append([]string{"-S", sock}, args...) }
	cmd := fmt.Sprintf("TERM=xterm-256color NO_COLOR=1 NHI_REVIEWER=tester@example.com %s --db %s", bin, db)
	tm(tmuxArgs("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)...)
	defer exec.Command(tmux, tmuxArgs("kill-server")...).Run()

	screen := func() string {
		return tm(tmuxArgs("capture-pane", "-p", "-t", session)...)
	}
	waitFor := func(want ...string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := screen()
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s, w)
			}
			if ok {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the terminal never showed %q; it shows:\n%s", want, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	send := func(keys ...string) { tm(tmuxArgs(append([]string{"send-keys", "-t", session}, keys...)...)...) }

	// The demo holds a GitHub organisation, three AWS accounts and a
	// Kubernetes cluster.
	s := waitFor("nhi · 5 sources and accounts", "SOURCE", "Identities ", "/ filter")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 30 {
		t.Errorf("the screen has %d lines in a 30-line terminal", len(lines))
	}
	send("/")
	waitFor("e.g. owner:none")
	send("-l", "kind:deploy_key")
	waitFor("/kind:deploy_key")
	send("Enter")
	s = waitFor("filter kind:deploy_key")
	if strings.Contains(s, "actions secret") {
		t.Errorf("the filter let other kinds through:\n%s", s)
	}
	send("j")
	send("Enter")
	waitFor("Kind        deploy key (github_deploy_key)", "esc/q back")
	send("Escape")
	waitFor("filter kind:deploy_key", "/ filter")
	send("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command(tmux, tmuxArgs("has-session", "-t", session)...).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit; the terminal shows:\n%s", screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
