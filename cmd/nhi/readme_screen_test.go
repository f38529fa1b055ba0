package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReadmeScreenIsTheDemos: the screen the README shows ("The UI at
// 80x24, on the demo") is the one a user sees after nhi demo: the real
// binary in tmux at 80x24, read back and compared line by line. The README
// showed NAME cut at its end and public-reader's LAST USED as "never"
// long after the table cut NAME in the middle and said "not read" there.
// The demo's newest uses are its own run's: the UI opens seconds later,
// well within the minute that reads "just now".
func TestReadmeScreenIsTheDemos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo and the UI in tmux")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, found := strings.Cut(string(raw), "The UI at 80x24, on the demo:\n\n```\n")
	want, _, closed := strings.Cut(rest, "```\n")
	if !found || !closed {
		t.Fatal(`the README has no screen after "The UI at 80x24, on the demo:"`)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := nhiBinary(t)
	db := filepath.Join(dir, "nhi.db")
	cache := filepath.Join(dir, "cache")
	demo := exec.CommandContext(ctx, bin, "demo", "--no-tui", "--db", db)
	demo.Env = append(os.Environ(), "NHI_CACHE_DIR="+cache)
	if out, err := demo.CombinedOutput(); err != nil {
		t.Fatalf("nhi demo: %v\n%s", err, out)
	}
	// A private server socket: the test never touches the user's tmux.
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("TERM=xterm-256color LANG=C.UTF-8 NO_COLOR=1 NHI_CACHE_DIR=%s NHI_REVIEWER=tester@example.com %s --db %s", cache, bin, db)
	tm("new-session", "-d", "-s", "readme", "-x", "80", "-y", "24", cmd)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()

	// The header counts what is not read once the whole table is in:
	// the screen is read until it is the README's, or the time is up.
	trim := func(s string) []string {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		return lines
	}
	var got string
	for deadline := time.Now().Add(60 * time.Second); ; {
		got = tm("capture-pane", "-p", "-t", "readme")
		if slices.Equal(sinceDemo(trim(got), trim(want)), trim(want)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	g, w := sinceDemo(trim(got), trim(want)), trim(want)
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\nREADME: %q\nscreen: %q", i+1, wl, gl)
		}
	}
}

// sinceDemo reads the screen's last uses the demo's own run made as the
// README does: "just now" where the README has it and the screen says a
// few minutes ago. Those uses are the demo's clock when it served them,
// and on a loaded machine the demo and the UI's start took over a
// minute (87 s), so the screen said "1m ago"; every other last use is a
// fixed span before the demo's run and is compared as it is.
func sinceDemo(screen, readme []string) []string {
	out := slices.Clone(screen)
	for i := range min(len(out), len(readme)) {
		if out[i] == readme[i] || !strings.Contains(readme[i], "just now") {
			continue
		}
		line := out[i]
		for _, m := range []string{"1m ago  ", "2m ago  ", "3m ago  "} {
			line = strings.ReplaceAll(line, m, "just now")
		}
		if line == readme[i] {
			out[i] = line
		}
	}
	return out
}

// TestSinceDemoOnlyReadsTheDemosOwnUses: the screen's "1m ago" passes
// only where the README says "just now"; any other difference, and a use
// an hour old, still fails the comparison.
func TestSinceDemoOnlyReadsTheDemosOwnUses(t *testing.T) {
	readme := []string{"  key  just now   orphaned", "  role 24h ago    —"}
	cases := []struct {
		screen []string
		same   bool
	}{
		{[]string{"  key  1m ago     orphaned", "  role 24h ago    —"}, true},
		{[]string{"  key  1h ago     orphaned", "  role 24h ago    —"}, false},
		{[]string{"  key  1m ago     orphaned", "  role 1m ago     —"}, false},
		{[]string{"  key  1m ago     active", "  role 24h ago    —"}, false},
	}
	for _, c := range cases {
		if got := slices.Equal(sinceDemo(c.screen, readme), readme); got != c.same {
			t.Errorf("%q against the README: same %v, want %v", c.screen, got, c.same)
		}
	}
}
