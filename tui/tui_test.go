package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/nhi-audit/nhi/audit"
)

// updating reports whether the test run was asked to rewrite the golden
// screens (-update, a flag that teatest's golden package defines).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func TestHeader(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 120, 24)
	header := strings.Split(m.View(), "\n")[0]
	// One of the 40 (the webhook) is removed: the list shows the others.
	want := "nhi · github/acme · snapshot partial 2025-06-01 10:00 UTC · 39 active of 40 identities · 2 endpoints not read"
	if header != want {
		t.Errorf("header:\n got %q\nwant %q", header, want)
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	header = strings.Split(m.View(), "\n")[0]
	// Shorter, the endpoints not read are the overview's coverage gaps:
	// "2 not read" read as two identities not read.
	want = "nhi · github/acme · partial 2025-06-01 · 39 active of 40 identities · 2 gaps"
	if header != want {
		t.Errorf("80-column header:\n got %q\nwant %q", header, want)
	}
	if !strings.Contains(m.View(), "Identities 39 ") {
		t.Errorf("no table title with the count:\n%s", m.View())
	}
}

// TestHeaderReadOnlyNarrow: at 80 columns, read-only, the header says less
// of when and how many before it cuts a word: "read-only" stays whole
// (it was cut to "r…"), and so does the count of endpoints not read.
func TestHeaderReadOnlyNarrow(t *testing.T) {
	m := New(testSnapshot(), testIdentities(), Options{Now: clock, ReadOnly: true})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	header := strings.Split(m.View(), "\n")[0]
	if want := "nhi · github/acme · partial · 39 of 40 active · 2 gaps · read-only"; header != want {
		t.Errorf("80-column read-only header:\n got %q\nwant %q", header, want)
	}
	// With room, the full form.
	m.Update(tea.WindowSizeMsg{Width: 130, Height: 24})
	header = strings.Split(m.View(), "\n")[0]
	if want := "nhi · github/acme · snapshot partial 2025-06-01 10:00 UTC · 39 active of 40 identities · 2 endpoints not read · read-only"; header != want {
		t.Errorf("130-column read-only header:\n got %q\nwant %q", header, want)
	}
}

func TestHeaderNoSnapshotReadOnly(t *testing.T) {
	m := New(nil, testIdentities()[:1], Options{Now: clock, ReadOnly: true})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	header := strings.Split(m.View(), "\n")[0]
	if want := "nhi · no snapshot yet · 1 identity · read-only"; header != want {
		t.Errorf("header: got %q, want %q", header, want)
	}
}

func TestTableRows(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	v := m.View()
	checkFrame(t, v, 80, 24)
	for _, want := range []string{
		"KIND", "NAME", "SCOPE", "OWNER", "LAST USED", "FINDINGS", "STATUS",
		"app install", "renovate", "octocat", "14d ago", // fine-grained PAT used 14 days ago
		"never", // a deploy key never used
		"SECRET_10",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("table lacks %q:\n%s", want, v)
		}
	}
	// AGE says a span as LAST USED does (audit.Span): the deploy key
	// created 800 days ago is "2y70d" old, not "2y"; at 80 columns that
	// width makes AGE give way, the first column to.
	if strings.Contains(v, " AGE ") {
		t.Errorf("at 80 columns AGE 2y70d should give way:\n%s", v)
	}
	wide := newTestModel(t, testSnapshot(), testIdentities(), 100, 24).View()
	for _, want := range []string{" AGE ", " 400d ", " 2y70d "} {
		if !strings.Contains(wide, want) {
			t.Errorf("at 100 columns the table lacks %q:\n%s", want, wide)
		}
	}
	// The removed webhook shows when the filter asks for it.
	if strings.Contains(v, "removed") {
		t.Errorf("a removed identity in the default list:\n%s", v)
	}
	press(t, m, "/", "status:any", "enter")
	if v := m.View(); !strings.Contains(v, "removed") || !strings.HasPrefix(title(v), "Identities 40 of 40") {
		t.Errorf("status:any does not list the removed webhook:\n%s", v)
	}
	press(t, m, "esc")
	if !strings.Contains(selectedLine(t, v), "renovate") {
		t.Errorf("first row not selected:\n%s", v)
	}
	if strings.Contains(v, "SECRET_39") {
		t.Errorf("rows below the screen were drawn:\n%s", v)
	}
	// An actions secret's last use is not reported: a dash, not "never".
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "SECRET_05") && strings.Contains(l, "never") {
			t.Errorf("secret without last-use data shown as never used: %q", l)
		}
	}
}

func TestNavigation(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	steps := []struct {
		key, want string
	}{
		{"j", "release-bot"},
		{"down", "deploy-prod"},
		{"k", "release-bot"},
		{"up", "renovate"},
		{"k", "renovate"}, // stops at the top
		{"G", "SECRET_39"},
		{"j", "SECRET_39"}, // stops at the bottom
		{"g", "renovate"},
		{"end", "SECRET_39"},
		{"home", "renovate"},
		{"jj", "deploy-prod"}, // keys typed faster than a frame arrive as one message
		{"jjk", "NPM_TOKEN"},
	}
	for _, s := range steps {
		press(t, m, s.key)
		v := m.View()
		checkFrame(t, v, 80, 24)
		if got := selectedLine(t, v); !strings.Contains(got, s.want) {
			t.Fatalf("after %q the selected row is %q, want %s", s.key, got, s.want)
		}
	}
}

func TestPaging(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	// 24 lines: header, title, column header, 20 rows, hint bar.
	page := m.stack[0].(*identitiesView).table.PageSize()
	if page != 20 {
		t.Fatalf("page size %d, want 20", page)
	}
	cursor := func() int { return m.stack[0].(*identitiesView).table.Cursor() }
	for _, s := range []struct {
		key  string
		want int
	}{
		{"ctrl+d", 10}, {"ctrl+d", 20}, {"ctrl+u", 10}, {"pgdown", 30}, {"pgdown", 38}, {"pgup", 18}, {"pgup", 0},
	} {
		press(t, m, s.key)
		if cursor() != s.want {
			t.Fatalf("after %s the cursor is at %d, want %d", s.key, cursor(), s.want)
		}
		checkFrame(t, m.View(), 80, 24)
	}
	press(t, m, "G")
	if v := m.View(); !strings.Contains(v, "39/39") || !strings.Contains(selectedLine(t, v), "SECRET_39") {
		t.Errorf("bottom: want position 39/39 and SECRET_39 selected:\n%s", v)
	}
}

func TestDetail(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "j", "j", "enter") // deploy-prod
	v := m.View()
	checkFrame(t, v, 80, 24)
	all := detailText(t, m)
	if !strings.HasPrefix(strings.Split(v, "\n")[1], "Identity deploy-prod") {
		t.Errorf("detail title:\n%s", v)
	}
	for _, want := range []string{
		"github:acme:github_deploy_key:acme/api/deploy-prod",
		"deploy key (github_deploy_key)",
		"acme/api",
		"platform-team",
		"2023-03-24T12:00:00Z (2y70d ago)", // created 800 days ago
		"never",                            // a deploy key reports last use
		"2025-06-01T10:00:00Z (2h ago)",    // last seen
		"Findings (1)",
		"stale · high · OWASP NHI1",
		"never used, created 800 days ago (threshold 30)",
		"Permissions (0)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("detail lacks %q:\n%s", want, all)
		}
	}
	press(t, m, "G")
	v = m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "added_by: alice") || !strings.Contains(v, "read_only: false") ||
		strings.Index(v, "added_by") > strings.Index(v, "read_only") {
		t.Errorf("attributes not sorted:\n%s", v)
	}
	if strings.Contains(v, "KIND") {
		t.Errorf("the table shows through the detail:\n%s", v)
	}

	press(t, m, "esc")
	v = m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(selectedLine(t, v), "deploy-prod") {
		t.Errorf("esc did not return to the table on the same row:\n%s", v)
	}
	if quit := press(t, m, "esc", "esc"); quit {
		t.Error("esc quit")
	}
	if len(m.stack) != 1 {
		t.Errorf("esc on the table changed the view stack: %d views", len(m.stack))
	}
}

func TestDetailPermissionsAndScroll(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "enter") // renovate: two findings, permissions, attributes
	d := m.top().(*detailView)
	n := len(d.lines)
	at := func(first int) string {
		return fmt.Sprintf("lines %d–%d of %d", first, first+20, n)
	}
	v := m.View()
	checkFrame(t, v, 80, 24)
	for _, want := range []string{"third-party · medium · OWASP NHI3", "broad-scope · high · OWASP NHI5", "granted access to all repositories", at(1)} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "repository_selection") {
		t.Fatalf("want the detail to overflow 24 lines for this test:\n%s", v)
	}
	press(t, m, "G")
	v = m.View()
	checkFrame(t, v, 80, 24)
	for _, want := range []string{"contents: write", "metadata: read", "pull_requests: write", "app_owner: mend", "repository_selection: all", at(n - 20)} {
		if !strings.Contains(v, want) {
			t.Errorf("scrolled detail lacks %q:\n%s", want, v)
		}
	}
	if !(strings.Index(v, "contents: write") < strings.Index(v, "metadata: read") &&
		strings.Index(v, "metadata: read") < strings.Index(v, "pull_requests: write")) {
		t.Errorf("permissions not sorted:\n%s", v)
	}
	press(t, m, "k", "k")
	if v := m.View(); !strings.Contains(v, at(n-22)) || strings.Contains(v, "repository_selection") {
		t.Errorf("k did not scroll up:\n%s", v)
	}
	press(t, m, "j")
	if v := m.View(); !strings.Contains(v, at(n-21)) {
		t.Errorf("j did not scroll down:\n%s", v)
	}
	press(t, m, "ctrl+u")
	if v := m.View(); !strings.Contains(v, at(n-31)) {
		t.Errorf("ctrl+u did not scroll half a page up:\n%s", v)
	}
	press(t, m, "pgdown", "g")
	if v := m.View(); !strings.Contains(v, "ID ") || !strings.Contains(v, at(1)) {
		t.Errorf("g did not scroll to the top:\n%s", v)
	}
}

// detailText is every line of the detail view on top, on screen or not.
func detailText(t testing.TB, m *Model) string {
	t.Helper()
	d, ok := m.top().(*detailView)
	if !ok {
		t.Fatalf("the view on top is %T, not the detail", m.top())
	}
	return strings.Join(d.lines, "\n")
}

func TestDetailNoFindings(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "j", "enter") // release-bot
	v := m.View()
	for _, want := range []string{"no findings", "Owner       octocat", "Expires     2025-07-01T12:00:00Z (in 30d)", "Last used   2025-05-18T12:00:00Z (14d ago)"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
}

func TestHelp(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	bar := lastLine(m.View())
	for _, want := range []string{"/ filter", "enter details", "space select", ": command", "? help", "q quit"} {
		if !strings.Contains(bar, want) {
			t.Errorf("hint bar %q lacks %q", bar, want)
		}
	}
	press(t, m, "?")
	v := m.View()
	checkFrame(t, v, 80, 24)
	for _, want := range []string{"↑/k", "up", "↓/j", "down", "go to top", "go to bottom", "half page down", "half page up", "page down", "page up",
		"enter", "details", "/", "filter", "space", "select", "select all shown", "sort by next column", "reverse the sort", "quit", "close help", "command"} {
		if !strings.Contains(v, want) {
			t.Errorf("full help lacks %q:\n%s", want, v)
		}
	}
	// The help covers the table; its keys scroll the help, and the table
	// behind it is as it was when the help closes.
	press(t, m, "?")
	table := m.View()
	press(t, m, "?", "j", "G", "ctrl+d")
	if !strings.Contains(m.View(), "Keys of this screen") {
		t.Fatalf("the help closed on a scroll key:\n%s", m.View())
	}
	press(t, m, "?")
	if v := m.View(); v != table || strings.Contains(v, "go to bottom") {
		t.Errorf("? did not close the full help, or the table moved behind it:\n%s\nwas:\n%s", v, table)
	}
	press(t, m, "?", "esc")
	if v := m.View(); v != table {
		t.Errorf("esc did not close the full help:\n%s", v)
	}

	// The detail view has its own keys.
	press(t, m, "enter", "?")
	v = m.View()
	checkFrame(t, v, 80, 24)
	for _, want := range []string{"esc/q back", "scroll down", "scroll up", "go to top", "ctrl+c quit"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail full help lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "select all shown") {
		t.Errorf("detail help shows the table's keys:\n%s", v)
	}
}

func TestQuit(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "enter")
	if quit := press(t, m, "q"); quit || len(m.stack) != 1 {
		t.Fatalf("q in the detail view: quit=%v views=%d, want back to the table", quit, len(m.stack))
	}
	if quit := press(t, m, "q"); !quit {
		t.Error("q on the table did not quit")
	}

	m = newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "enter")
	if quit := press(t, m, "ctrl+c"); !quit {
		t.Error("ctrl+c in the detail view did not quit")
	}
	_, cmd := m.Update(keyMsg("ctrl+c"))
	if cmd == nil {
		t.Fatal("ctrl+c returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("ctrl+c did not return tea.Quit")
	}
}

func TestResize(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "G")
	for _, size := range [][2]int{{120, 40}, {80, 24}, {60, 15}, {40, 10}, {200, 50}, {20, 5}, {1, 1}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := m.View()
		checkFrame(t, v, size[0], size[1])
		if size[1] >= 5 && size[0] >= 40 && !strings.Contains(selectedLine(t, v), "SECRET_39") {
			t.Errorf("%dx%d: the selected row left the screen:\n%s", size[0], size[1], v)
		}
	}
	press(t, m, "enter")
	for _, size := range [][2]int{{80, 24}, {50, 12}, {30, 6}, {120, 40}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkFrame(t, m.View(), size[0], size[1])
	}
	press(t, m, "?")
	for _, size := range [][2]int{{80, 24}, {50, 12}, {30, 6}, {120, 40}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkFrame(t, m.View(), size[0], size[1])
	}
}

func TestNarrowHidesColumns(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 60, 24)
	v := m.View()
	checkFrame(t, v, 60, 24)
	if strings.Contains(v, " AGE ") || !strings.Contains(v, "FINDINGS") || !strings.Contains(v, "NAME") {
		t.Errorf("at 60 columns want AGE hidden, NAME and FINDINGS shown:\n%s", v)
	}
}

func TestTruncation(t *testing.T) {
	ids := testIdentities()
	ids[0].Name = strings.Repeat("very-long-app-name-", 10)
	m := newTestModel(t, testSnapshot(), ids, 80, 24)
	v := m.View()
	checkFrame(t, v, 80, 24)
	// cut in the middle: its start and its end
	if !strings.Contains(selectedLine(t, v), "very-…name- ") {
		t.Errorf("a long name is not cut in the middle with an ellipsis:\n%s", v)
	}
	// The detail wraps it instead: every character is there.
	press(t, m, "enter")
	v = m.View()
	checkFrame(t, v, 80, 24)
	var name string
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "Name ") || (name != "" && strings.HasPrefix(l, strings.Repeat(" ", labelWidth)) && !strings.Contains(l, ":")) {
			name += strings.TrimSpace(strings.TrimPrefix(l, "Name"))
		} else if name != "" {
			break
		}
	}
	if name != ids[0].Name {
		t.Errorf("the detail does not show the whole name: got %q\n%s", name, v)
	}
}

func TestEmptyState(t *testing.T) {
	for _, snap := range []*audit.Snapshot{nil, testSnapshot()} {
		m := newTestModel(t, snap, nil, 80, 24)
		v := m.View()
		checkFrame(t, v, 80, 24)
		flat := strings.Join(strings.Fields(v), " ")
		if !strings.Contains(flat, emptyMessage) {
			t.Errorf("empty state lacks the message:\n%s", v)
		}
		if !strings.Contains(lastLine(v), "q quit") {
			t.Errorf("empty state has no hint bar:\n%s", v)
		}
		// Centered: the message is neither at the top nor at the left edge.
		for i, l := range strings.Split(v, "\n") {
			if strings.Contains(l, "No identities yet") && (i < 5 || !strings.HasPrefix(l, "    ")) {
				t.Errorf("message not centered (line %d: %q)", i+1, l)
			}
		}
		for _, k := range []string{"j", "k", "G", "g", "enter", "esc", "ctrl+d", "?"} {
			press(t, m, k)
			checkFrame(t, m.View(), 80, 24)
		}
		if quit := press(t, m, "q"); !quit {
			t.Error("q did not quit the empty state")
		}
	}
	failed := testSnapshot()
	failed.Status, failed.Error = audit.SnapshotFailed, "401 Bad credentials\x1b[2J"
	m := newTestModel(t, failed, nil, 80, 24)
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "The last snapshot failed: 401 Bad credentials") || !strings.Contains(v, "snapshot failed") {
		t.Errorf("failed snapshot not explained:\n%s", v)
	}
}

func TestBeforeWindowSize(t *testing.T) {
	m := New(testSnapshot(), testIdentities(), Options{})
	if v := m.View(); v != "" {
		t.Errorf("view before the first WindowSizeMsg: %q", v)
	}
	press(t, m, "j", "enter", "esc") // must not panic
	if m.Init() != nil {
		t.Error("Init returned a command")
	}
}

func TestHostileText(t *testing.T) {
	hostile := "evil\x1b]0;pwned\x07\x1b[31mred"
	ids := testIdentities()
	ids[0].Name = hostile
	ids[0].Scope = "acme\x1b[2J\x1b[H/\u009b31mrepo\x9b"
	ids[0].Owner = "bob\r\nroot\ttab"
	ids[0].Permissions["\x1b[1mcontents"] = "write\x1b[0m"
	ids[0].Attributes["note"] = "line1\nline2\x1bPq#0;2;0;0;0\x1b\\"
	ids[0].Findings[0].Message = "see \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"
	snap := testSnapshot()
	snap.Account = "acme\x1b[5m"

	for _, profile := range []termenv.Profile{termenv.Ascii, termenv.TrueColor} {
		lipgloss.SetColorProfile(profile)
		m := newTestModel(t, snap, ids, 80, 24)
		table := m.View()
		press(t, m, "enter")
		detail := m.View()
		press(t, m, "G")
		detail += m.View()
		for name, v := range map[string]string{"table": table, "detail": detail} {
			if profile == termenv.Ascii && strings.ContainsRune(v, 0x1b) {
				t.Errorf("%s: ESC byte reached the screen:\n%q", name, v)
			}
			// In colour, every escape must be our own SGR styling.
			for _, bad := range []string{"\a", "\x9b", "\x1b]", "\x1b[2J", "\x1b[H", "\x1b[5m", "\x1bP", "pwned", "evil.example", "\r", "\t"} {
				if strings.Contains(v, bad) {
					t.Errorf("%s (%v): %q reached the screen:\n%q", name, profile, bad, v)
				}
			}
			plain := ansi.Strip(v)
			for _, want := range []string{"evilred", "acme/repo"} {
				if !strings.Contains(plain, want) {
					t.Errorf("%s: sanitized text %q missing:\n%s", name, want, plain)
				}
			}
		}
		for _, want := range []string{"acme/repo\ufffd", "bob  root tab", "contents: write", "note: line1 line2", "see here"} {
			if !strings.Contains(ansi.Strip(detail), want) {
				t.Errorf("detail: sanitized text %q missing:\n%s", want, ansi.Strip(detail))
			}
		}
	}
	lipgloss.SetColorProfile(termenv.Ascii)
}

func lastLine(s string) string { return s[strings.LastIndexByte(s, '\n')+1:] }

// TestGolden keeps the 80x24 screens in testdata/tui; run with -update to
// rewrite them after an intended change.
func TestGolden(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	checkGolden(t, "identities_80x24.txt", m.View())
	press(t, m, "j", "j", "enter")
	checkGolden(t, "detail_80x24.txt", m.View())
	press(t, m, "esc", "?")
	checkGolden(t, "help_80x24.txt", m.View())
	checkGolden(t, "empty_80x24.txt", newTestModel(t, nil, nil, 80, 24).View())
	press(t, m, "?", "/", "kind:deploy_key ownr:bob")
	checkGolden(t, "filter_error_80x24.txt", m.View())

	e := newEvidence(t)
	m = e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, ":overview", "enter")
	checkGolden(t, "overview_80x24.txt", m.View())
	press(t, m, "esc", "j", "j", "o", "alice", "enter", "enter")
	checkGolden(t, "detail_owner_80x24.txt", m.View())
	press(t, m, "G")
	checkGolden(t, "detail_history_80x24.txt", m.View())

	// 40x12 stays usable: KIND, NAME and a finding. With a "dependabot
	// secret" (17) among the rows, KIND whole leaves FINDINGS its 8
	// cells: a list of findings shows its first one's first 7 letters.
	m = e.model(t, 40, 12, Options{Actor: testActor})
	v := m.View()
	checkFrame(t, v, 40, 12)
	if l := strings.Split(v, "\n")[2]; !strings.Contains(l, "KIND") || !strings.Contains(l, "NAME") || !strings.Contains(l, "FINDINGS") {
		t.Errorf("40x12 header: %q", l)
	}
	if !strings.Contains(selectedLine(t, v), "orphane") || !strings.Contains(v, "dependabot secret ") {
		t.Errorf("40x12: no finding on the row:\n%s", v)
	}
	checkGolden(t, "identities_40x12.txt", v)
}

// checkGolden compares a screen with its golden file in testdata/tui, or
// rewrites the file under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "tui", name)
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run TestGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden screen:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestColourFrame checks the frame with styling on: still 80x24, and the
// selected row both highlighted and marked.
func TestColourFrame(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	check := func(name string) {
		t.Helper()
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != 24 {
			t.Errorf("%s: %d lines", name, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("%s: line %d is %d wide", name, i+1, w)
			}
		}
		if !strings.Contains(v, "\x1b[") {
			t.Errorf("%s: no styling in the TrueColor profile", name)
		}
	}
	check("table")
	sel := selectedLine(t, ansi.Strip(m.View()))
	for _, l := range strings.Split(m.View(), "\n") {
		if ansi.Strip(l) == sel && !strings.HasPrefix(l, "\x1b[") {
			t.Errorf("selected row is not highlighted: %q", l)
		}
	}
	press(t, m, "?")
	check("help")
	press(t, m, "?", "enter")
	check("detail")
}

// An identity older than its source's record of use (an AWS role: AWS
// reports 400 days of use), with none recorded, reads neither "never"
// in the table nor in its detail, which says since when none was
// recorded.
func TestDetailLastUseOlderThanItsRecord(t *testing.T) {
	role := identity(audit.KindAWSIAMRole, "public-reader", "222222222222")
	role.CreatedAt = daysAgo(700)
	since := daysAgo(400).UTC()
	sinceText, day := since.Format("2006-01-02T15:04:05Z07:00"), since.Format("2006-01-02")
	role.Attributes = map[string]string{audit.AttrLastUseUnknown: "true", audit.AttrUseTrackedSince: sinceText}
	m := newTestModel(t, testSnapshot(), []audit.Identity{role}, 100, 24)
	if v := m.View(); strings.Contains(v, "never") {
		t.Errorf("the table says never:\n%s", v)
	}
	press(t, m, "enter")
	d := detailText(t, m)
	want := "Last used   — (none recorded since " + day + "; older use is not recorded)"
	if !strings.Contains(d, want) || strings.Contains(d, "never") {
		t.Errorf("detail lacks %q, or says never:\n%s", want, d)
	}
}
