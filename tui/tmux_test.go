package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	bin := nhiBinary(t, ctx)
	db := filepath.Join(dir, "nhi.db")
	// The demo prepares the table (a cache), in the test's own folder:
	// the UI below opens on it.
	demo := exec.CommandContext(ctx, bin, "demo", "--no-tui", "--db", db)
	demo.Env = append(os.Environ(), "NHI_CACHE_DIR="+filepath.Join(dir, "cache"))
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
	// The table cache in the test's own directory, never the user's.
	cmd := fmt.Sprintf("TERM=xterm-256color NO_COLOR=1 NHI_CACHE_DIR=%s NHI_REVIEWER=tester@example.com %s --db %s", filepath.Join(dir, "cache"), bin, db)
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
	// NO_COLOR (no-color.org): the frames, escapes and all, set no colour.
	if c := colourEscapes(tm(tmuxArgs("capture-pane", "-e", "-p", "-t", session)...)); len(c) > 0 {
		t.Errorf("under NO_COLOR the detail view sets colours: %q", c)
	}
	send("Escape")
	waitFor("filter kind:deploy_key", "/ filter")
	if c := colourEscapes(tm(tmuxArgs("capture-pane", "-e", "-p", "-t", session)...)); len(c) > 0 {
		t.Errorf("under NO_COLOR the table sets colours: %q", c)
	}
	send("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command(tmux, tmuxArgs("has-session", "-t", session)...).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit; the terminal shows:\n%s", screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTerminalLiveRefresh: the real binary in a real terminal (tmux) shows
// a reviewer's queue; a second process (nhi decide) decides one of its
// items in the same file; the pane shows the decision by itself, without
// a key, once the TUI's watch has seen the new event. The screen is read
// up to a bounded number of times: no assertion on how long it took.
func TestTerminalLiveRefresh(t *testing.T) {
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
	bin := nhiBinary(t, ctx)
	db := filepath.Join(dir, "nhi.db")
	nhi := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append(args, "--db", db)...)
		cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "NHI_CACHE_DIR="+filepath.Join(dir, "cache"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nhi %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	nhi("demo", "--no-tui")
	const reviewer = "tester@example.com"
	nhi("campaign", "create", "live", "--snapshot", "4", "--scope", "kind:deploy_key scope:*api-gateway*", "--due", "2099-12-31",
		"--reviewer", reviewer, "--as", "lead@example.com")
	ids := strings.Fields(nhi("campaign", "show", "live", "-o", "id"))
	if len(ids) != 2 {
		t.Fatalf("the campaign has %d items, want the 2 api-gateway keys: %q", len(ids), ids)
	}

	sock := filepath.Join(dir, "tmux.sock") // a private server: never the user's tmux
	session := fmt.Sprintf("nhi-live-%d", os.Getpid())
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("TERM=xterm-256color NO_COLOR=1 NHI_CACHE_DIR=%s NHI_REVIEWER=%s %s --db %s --campaign live", filepath.Join(dir, "cache"), reviewer, bin, db)
	tm("new-session", "-d", "-s", session, "-x", "120", "-y", "20", cmd)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()

	// waitFor reads the pane up to polls times, 100 ms apart.
	waitFor := func(polls int, want ...string) string {
		t.Helper()
		var s string
		for range polls {
			s = tm("capture-pane", "-p", "-t", session)
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s, w)
			}
			if ok {
				return s
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("after %d reads the pane never showed %q; it shows:\n%s", polls, want, s)
		return ""
	}
	s := waitFor(200, "My items 2", "campaign live", "pending")
	if strings.Contains(s, "decom") {
		t.Fatalf("decided before anyone decided:\n%s", s)
	}
	// A second process decides, as the same reviewer, in the same file.
	nhi("decide", "live", ids[0], "decommission", "--as", reviewer)
	// The watch polls once a second: 100 reads leave it many turns.
	waitFor(100, "decom")
	tm("send-keys", "-t", session, "q")
}

// colourEscapes are the SGR sequences in s that set a colour (30-38,
// 40-48, 90-97, 100-107: foreground, background, 256 and true colour);
// bold, reverse and resets are not colour.
func colourEscapes(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		params := strings.Split(m[1], ";")
		for i := 0; i < len(params); i++ {
			n, err := strconv.Atoi(params[i])
			if err != nil {
				continue
			}
			if n == 38 || n == 48 || n == 58 {
				out = append(out, m[0])
				break
			}
			if (n >= 30 && n <= 37) || (n >= 40 && n <= 47) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				out = append(out, m[0])
				break
			}
		}
	}
	return out
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;]*)m`)

// TestColourEscapes: the check TestTerminal makes under NO_COLOR finds
// the colours nhi sets without it (captured from tmux: the title, the
// selected row) and passes what is not colour.
func TestColourEscapes(t *testing.T) {
	with := "\x1b[1m\x1b[38;5;75mIdentities 295\x1b[0m\x1b[39m\x1b[49m\n\x1b[38;5;16m\x1b[48;5;75m> access key\x1b[0m \x1b[31mred\x1b[m"
	if got := colourEscapes(with); len(got) != 4 {
		t.Errorf("colours found: %q, want 38;5;75, 38;5;16, 48;5;75 and 31", got)
	}
	if got := colourEscapes("\x1b[1mbold\x1b[0m \x1b[7mreverse\x1b[27m \x1b[39m\x1b[49mdefault"); len(got) != 0 {
		t.Errorf("colours found in what sets none: %q", got)
	}
}
