package tui

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

func title(v string) string { return strings.Split(v, "\n")[1] }

func TestFilterLive(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "/")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if lines[2] != "/█" || !strings.Contains(lines[3], "e.g. owner:none") {
		t.Fatalf("filter prompt:\n%s", v)
	}
	if last := lastLine(v); last != "enter keep filter • esc clear filter • ctrl+c quit" {
		t.Errorf("hint bar while filtering: %q", last)
	}
	// Typed as one message, the way Bubble Tea delivers fast typing; q
	// and ? are text here, not keys.
	press(t, m, "kind:deploy_key")
	v = m.View()
	checkFrame(t, v, 80, 24)
	if !strings.HasPrefix(title(v), "Identities 1 of 39") || !strings.Contains(selectedLine(t, v), "deploy-prod") {
		t.Fatalf("live filter:\n%s", v)
	}
	press(t, m, " or name:SECRET_1?")
	if v = m.View(); !strings.HasPrefix(title(v), "Identities 11 of 39") {
		t.Fatalf("glob filter:\n%s", v)
	}
	press(t, m, "enter")
	v = m.View()
	checkFrame(t, v, 80, 24)
	if got := title(v); !strings.HasPrefix(got, "Identities 11 of 39 · filter kind:deploy_key or name:SECRET_1?") {
		t.Errorf("kept filter not in the title: %q", got)
	}
	if strings.Contains(v, "/kind") {
		t.Errorf("prompt still open after enter:\n%s", v)
	}
	// / again edits the filter in force, a space after it: what is typed
	// is a term of its own, where "kind:webhook" ran on into the last
	// one ("name:SECRET_1?name:SECRET_10", a name nothing has).
	press(t, m, "/")
	if got := m.ids.input.Value(); got != "kind:deploy_key or name:SECRET_1? " {
		t.Errorf("editing starts from %q", got)
	}
	press(t, m, "name:SECRET_10")
	if got := title(m.View()); !strings.HasPrefix(got, "Identities 2 of 39 ") {
		t.Errorf("a term typed after / on a kept filter: %q\n%s", got, m.View())
	}
	press(t, m, "backspace", "backspace")
	if got := m.ids.input.Value(); got != "kind:deploy_key or name:SECRET_1? name:SECRET_" {
		t.Errorf("editing: %q", got)
	}
	press(t, m, "esc")
	if v = m.View(); !strings.HasPrefix(title(v), "Identities 39 ") || strings.Contains(title(v), "filter") {
		t.Errorf("esc did not clear the filter:\n%s", v)
	}
	// esc in the table clears a kept filter too, and never quits.
	press(t, m, "/", "owner:none", "enter")
	if quit := press(t, m, "esc"); quit || m.ids.filter != nil {
		t.Errorf("esc on a filtered table: quit=%v filter=%v", quit, m.ids.filterText)
	}
	if quit := press(t, m, "esc", "esc"); quit {
		t.Error("esc quit")
	}
}

func TestFilterError(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "/", "kind:deploy_key")
	press(t, m, " ownr:bob")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if lines[2] != "/kind:deploy_key ownr:bob█" {
		t.Fatalf("typed text lost: %q", lines[2])
	}
	// The caret is under the offending word: column of "ownr" plus the "/".
	caret := strings.Index(lines[3], "^")
	if want := 1 + strings.Index("kind:deploy_key ownr:bob", "ownr"); caret != want {
		t.Errorf("caret at %d, want %d:\n%s\n%s", caret, want, lines[2], lines[3])
	}
	if !strings.Contains(lines[3], `unknown field "ownr"`) {
		t.Errorf("error message: %q", lines[3])
	}
	// The rows of the last valid filter stay.
	if !strings.HasPrefix(title(v), "Identities 1 of 39") {
		t.Errorf("rows changed on a malformed filter:\n%s", v)
	}
	// Enter does not take a malformed filter, nor lose the text.
	press(t, m, "enter")
	if !m.ids.editing || m.ids.input.Value() != "kind:deploy_key ownr:bob" {
		t.Fatalf("enter on a malformed filter closed the prompt or lost the text")
	}
	press(t, m, "left", "left", "left", "left", "backspace", "er")
	if v := m.View(); !strings.Contains(v, "/kind:deploy_key owner:bob") || strings.Contains(v, "^") {
		t.Errorf("fixing the expression:\n%s", v)
	}
	if !strings.HasPrefix(title(m.View()), "Identities 0 of 39") || !strings.Contains(title(m.View()), "no match") {
		t.Errorf("no match:\n%s", m.View())
	}
	press(t, m, "enter")
	if m.ids.editing {
		t.Error("enter on a valid filter left the prompt open")
	}
	// Unbalanced parentheses point at the parenthesis.
	press(t, m, "/", "ctrl+a", "(", "end")
	lines = strings.Split(m.View(), "\n")
	if c := strings.Index(lines[3], "^"); c != 1 {
		t.Errorf("caret for an unclosed ( at %d:\n%s\n%s", c, lines[2], lines[3])
	}
}

func TestStaleQueryResultIsDropped(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	v := m.ids
	// Two filters typed quickly: the first query's result arrives last.
	first := v.setFilter("kind:deploy_key")
	second := v.setFilter("name:SECRET_*")
	send(t, m, second())
	send(t, m, first())
	if got := v.table.Len(); got != 35 {
		t.Errorf("%d rows: the stale result replaced the latest", got)
	}
	// A query that sees it has been superseded gives up.
	var latest atomic.Uint64
	latest.Store(2)
	many := manyIdentities(10_000)
	res := query{seq: 1, latest: &latest, pop: newPopulation(many)}.run()
	if !res.stale || res.rows != nil {
		t.Errorf("superseded query ran to the end: stale=%v rows=%d", res.stale, len(res.rows))
	}
}

func TestSort(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "s")
	v := m.View()
	if !strings.Contains(title(v), "sort kind") || !strings.Contains(selectedLine(t, v), "renovate") {
		t.Errorf("sort by kind:\n%s", v)
	}
	press(t, m, "s") // name: case-insensitive, the cursor stays on its row
	v = m.View()
	if !strings.Contains(title(v), "sort name") || !strings.Contains(selectedLine(t, v), "renovate") {
		t.Errorf("sort by name keeps the cursor row:\n%s", v)
	}
	press(t, m, "g")
	if !strings.Contains(selectedLine(t, m.View()), "deploy-prod") {
		t.Errorf("first by name:\n%s", m.View())
	}
	press(t, m, "S")
	v = m.View()
	if !strings.Contains(title(v), "sort name, reversed") {
		t.Errorf("reverse:\n%s", v)
	}
	press(t, m, "g")
	if !strings.Contains(selectedLine(t, m.View()), "SECRET_39") {
		t.Errorf("first by name reversed:\n%s", m.View())
	}
	press(t, m, "s", "s") // scope, owner: unowned first
	press(t, m, "s", "g") // last used: never or unreported first
	if !strings.Contains(title(m.View()), "sort last used") {
		t.Errorf("title: %q", title(m.View()))
	}
	press(t, m, "s", "s", "g") // findings: most severe first
	if v := m.View(); !strings.Contains(title(v), "sort findings") || !strings.Contains(selectedLine(t, v), "renovate") && !strings.Contains(selectedLine(t, v), "deploy-prod") {
		t.Errorf("sort by findings:\n%s", v)
	}
	press(t, m, "s", "s") // status, then back to the given order
	if strings.Contains(title(m.View()), "sort") {
		t.Errorf("the cycle does not end at the given order: %q", title(m.View()))
	}
	// Sorting composes with the filter.
	press(t, m, "/", "name:SECRET_0*", "enter", "s", "s", "S", "g")
	if v := m.View(); !strings.HasPrefix(title(v), "Identities 5 of 39") || !strings.Contains(selectedLine(t, v), "SECRET_09") {
		t.Errorf("filtered and sorted:\n%s", v)
	}
}

// TestSortKeepsTheCursorsLine: s and S keep the cursor on its identity
// and that identity on the line of the screen it was on, as k9s does,
// where it had scrolled to the top or bottom edge of the table.
func TestSortKeepsTheCursorsLine(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	// The middle of a screen whose rows are not the first: a line the
	// rows around the cursor can keep after any order of 39 rows.
	press(t, m, "G")
	for range 10 {
		press(t, m, "k")
	}
	lineOf := func(v string) (int, string) {
		t.Helper()
		sel := selectedLine(t, v)
		return slices.Index(strings.Split(v, "\n"), sel), sel
	}
	line, row := lineOf(m.View())
	for _, k := range []string{"s", "s", "S", "s", "s", "s"} {
		press(t, m, k)
		v := m.View()
		got, gotRow := lineOf(v)
		if gotRow != row {
			t.Fatalf("after %s the cursor is on\n%s\nwas on\n%s", k, gotRow, row)
		}
		if got != line {
			t.Errorf("after %s (%s) the cursor's row is on line %d of the screen, was on line %d:\n%s", k, title(v), got, line, v)
		}
	}
}

func TestSelect(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, "space", "j", "space")
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(title(v), "Identities 39 · 2 selected") {
		t.Errorf("title: %q", title(v))
	}
	if !strings.HasPrefix(rowOf(t, v, "renovate"), " *") || !strings.HasPrefix(rowOf(t, v, "deploy-prod"), " *") || !strings.HasPrefix(rowOf(t, v, "release-bot"), "  ") {
		t.Errorf("marks:\n%s", v)
	}
	if !strings.Contains(selectedLine(t, v), "NPM_TOKEN") {
		t.Errorf("space did not move down:\n%s", v)
	}
	press(t, m, "k", "space") // unselect deploy-prod
	if !strings.Contains(title(m.View()), "1 selected") {
		t.Errorf("unselect: %q", title(m.View()))
	}
	press(t, m, "/", "kind:actions_secret", "enter", "ctrl+a")
	if !strings.Contains(title(m.View()), "36 selected") {
		t.Errorf("select all shown: %q", title(m.View()))
	}
	press(t, m, "ctrl+a")
	if !strings.Contains(title(m.View()), "1 selected") {
		t.Errorf("ctrl+a again unselects the shown: %q", title(m.View()))
	}
	press(t, m, "esc") // clears the filter first
	if !strings.Contains(title(m.View()), "1 selected") || m.ids.filter != nil {
		t.Errorf("esc: %q", title(m.View()))
	}
	press(t, m, "esc") // then the selection
	if strings.Contains(title(m.View()), "selected") {
		t.Errorf("esc did not clear the selection: %q", title(m.View()))
	}
	if got := m.ids.targets(); len(got) != 1 {
		t.Errorf("without a selection the target is the cursor row: %v", got)
	}
}

func TestCommandMode(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	press(t, m, ":")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if lines[21] != ":█" || !strings.Contains(lines[22], ":identities  :overview  :help  :quit") {
		t.Fatalf("command prompt:\n%s", v)
	}
	press(t, m, "ov", "tab")
	if got := m.prompt.(*commandPrompt).input.Value(); got != "overview" {
		t.Errorf("tab completed to %q", got)
	}
	press(t, m, "enter")
	if _, ok := m.top().(*overviewView); !ok {
		t.Fatalf("top is %T after :overview", m.top())
	}
	press(t, m, ":identities", "enter")
	if len(m.stack) != 1 {
		t.Fatalf(":identities left %d views", len(m.stack))
	}
	press(t, m, ":nope", "enter")
	if b := bottom(m.View()); b != "Unknown command :nope — try :identities, :overview, :help, :quit" {
		t.Errorf("unknown command: %q", b)
	}
	press(t, m, ":campaigns", "enter") // no Reviewer: no campaigns
	if !strings.HasPrefix(bottom(m.View()), "Unknown command :campaigns") {
		t.Errorf(":campaigns without a reviewer: %q", bottom(m.View()))
	}
	press(t, m, ":", "esc")
	if m.prompt != nil {
		t.Error("esc did not close the command prompt")
	}
	press(t, m, "enter") // q quits from any view with :q
	if quit := press(t, m, ":q", "enter"); !quit {
		t.Error(":q did not quit")
	}
}

func TestOverview(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, ":overview", "enter")
	o := m.top().(*overviewView)
	var all []string
	for _, l := range o.lines {
		all = append(all, l.text)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"Snapshot #1 of github/acme",
		"status     partial (1 endpoint not read)",
		"read by    token of octocat (read:org)",
		"API        https://api.github.com",
		"Coverage gaps (1): not read, so not reviewed",
		"GET /orgs/acme/personal-access-tokens [403] — needs a GitHub App token",
		"Identities: 40 active",
		"       1  app install",
		"      35  actions secret",
		"      40  without owner",
		"Findings by rule (identities)",
		"Since the previous snapshot",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, "orphaned") || !strings.Contains(text, "NHI1") || !strings.Contains(text, "high") {
		t.Errorf("findings per rule lack rule, severity or OWASP ID:\n%s", text)
	}
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(selectedLine(t, v), "app install") {
		t.Errorf("cursor not on the first count:\n%s", v)
	}
	// Enter on a count shows the identities it counts.
	for range 20 {
		if strings.Contains(selectedLine(t, m.View()), "without owner") {
			break
		}
		press(t, m, "j")
	}
	press(t, m, "enter")
	v = m.View()
	if len(m.stack) != 1 || !strings.HasPrefix(title(v), "Identities 40 of 40 · filter owner:none status:active") {
		t.Errorf("enter on without owner:\n%s", v)
	}
	// It follows owner changes.
	press(t, m, "o", "bob", "enter", ":ov", "enter")
	o = m.top().(*overviewView)
	found := false
	for _, l := range o.lines {
		found = found || strings.Contains(l.text, "      39  without owner")
	}
	if !found {
		t.Errorf("overview did not count the new owner")
	}
	if quit := press(t, m, "esc"); quit || len(m.stack) != 1 {
		t.Error("esc did not step back from the overview")
	}
}

func TestEscNeverQuits(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	for _, keys := range [][]string{
		{"esc"}, {"enter", "esc"}, {":overview", "enter", "esc"}, {"/", "esc"}, {":", "esc"}, {"o", "esc"},
		{" ", "o", "x", "enter", "esc"}, {"?", "esc"},
	} {
		if quit := press(t, m, keys...); quit {
			t.Errorf("%q quit", keys)
		}
		press(t, m, "esc", "esc", "esc")
		if m.prompt != nil {
			press(t, m, "esc")
		}
	}
	if quit := press(t, m, ":identities", "enter", "q"); !quit {
		t.Error("q on the first view did not quit")
	}
}

func TestResizeWithPrompts(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	for _, keys := range [][]string{{"/", "kind:webhook"}, {"esc", "o", "ali"}, {"esc", ":"}, {"esc", ":overview", "enter"}} {
		press(t, m, keys...)
		for _, size := range [][2]int{{120, 40}, {80, 24}, {60, 15}, {40, 10}, {20, 5}, {1, 1}, {80, 24}} {
			m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			checkFrame(t, m.View(), size[0], size[1])
		}
	}
}

func TestLoadsIdentitiesAfterFirstFrame(t *testing.T) {
	e := newEvidence(t)
	m := New(e.snap, nil, Options{Now: clock, Store: e.store})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "reading identities…") || !strings.Contains(v, "Reading 40 identities from the evidence file…") {
		t.Errorf("first frame:\n%s", v)
	}
	cmd := m.Init()
	if cmd == nil {
		t.Fatal("Init does not load")
	}
	run(t, m, cmd, 0)
	if v := m.View(); !strings.Contains(v, "40 identities") || !strings.Contains(v, "Identities 40") {
		t.Errorf("after loading:\n%s", v)
	}
	if quit := press(t, m, "q"); !quit {
		t.Error("q does not quit after loading")
	}
}

// TestEscRetracesThePath: the view stack is the user's path. From the
// overview, enter on a count shows the table; enter opens a detail; esc
// returns to the table, esc again to the overview with its cursor where
// it was, and the table gets back the filter it had before; esc once more
// leaves the overview. A : command starts a new path.
func TestEscRetracesThePath(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 100, 24, Options{Actor: testActor})
	press(t, m, "/", "kind:webhook", "enter", ":overview", "enter")
	for range 20 {
		if strings.Contains(selectedLine(t, m.View()), "without owner") {
			break
		}
		press(t, m, "j")
	}
	press(t, m, "enter")
	if v := m.View(); !strings.HasPrefix(title(v), "Identities 40 of 40 · filter owner:none status:active") {
		t.Fatalf("enter on without owner:\n%s", v)
	}
	if v := m.View(); !strings.Contains(lastLine(v), "esc back to overview") {
		t.Errorf("the hint bar does not say where esc goes: %q", lastLine(v))
	}
	// What the user did on the table since is esc's to clear first, as
	// the table does: a filter of their own, then the selection.
	press(t, m, " ", "/", "kind:deploy_key", "enter", "esc")
	if m.top() != view(m.ids) || strings.Contains(title(m.View()), "filter") {
		t.Fatalf("esc with a filter of the user's own should clear it:\n%s", m.View())
	}
	press(t, m, "esc")
	if m.top() != view(m.ids) || len(m.ids.selected) != 0 {
		t.Fatalf("esc with a selection: top %T, %d selected", m.top(), len(m.ids.selected))
	}
	press(t, m, "/", "owner:none status:active", "enter", "enter")
	if _, ok := m.top().(*detailView); !ok {
		t.Fatalf("enter on the table: top is %T", m.top())
	}
	press(t, m, "esc")
	if m.top() != view(m.ids) || !strings.Contains(title(m.View()), "filter owner:none status:active") {
		t.Fatalf("esc from the detail:\n%s", m.View())
	}
	press(t, m, "esc")
	if _, ok := m.top().(*overviewView); !ok {
		t.Fatalf("esc on the table after the overview: top is %T\n%s", m.top(), m.View())
	}
	if !strings.Contains(selectedLine(t, m.View()), "without owner") {
		t.Errorf("the overview's cursor moved:\n%s", m.View())
	}
	press(t, m, "esc")
	if v := m.View(); m.top() != view(m.ids) || !strings.Contains(title(v), "filter kind:webhook") {
		t.Errorf("esc from the overview: the table should have its filter from before:\n%s", v)
	}
	if strings.Contains(lastLine(m.View()), "back to") {
		t.Errorf("no way back is left, yet the hint bar offers one: %q", lastLine(m.View()))
	}
	// esc on the table is its own again: it clears the filter.
	press(t, m, "esc")
	if strings.Contains(title(m.View()), "filter") {
		t.Errorf("esc did not clear the filter: %q", title(m.View()))
	}
	// A : command is a new path: esc after it does not go back.
	press(t, m, ":overview", "enter", "enter", ":identities", "enter", "esc")
	if m.top() != view(m.ids) {
		t.Errorf("esc after :identities went to %T", m.top())
	}
}

// Not checked is neither active nor removed (docs/filter.md; issue 11:
// never claim what was not seen): the header, the table and the overview
// count the same active identities, each shows the not-checked ones
// apart, and the overview's line leads to them.
func TestNotCheckedCountedApart(t *testing.T) {
	ids := testIdentities() // 40: 39 active, the webhook removed
	for i := 10; i < 15; i++ {
		ids[i].Status, ids[i].StatusReason = audit.StatusNotChecked, "GET /repos/acme/repo-3/actions/secrets: 403"
	}
	m := newTestModel(t, testSnapshot(), ids, 120, 40)
	v := m.View()
	if h := strings.Split(v, "\n")[0]; !strings.Contains(h, "· 34 active of 40 identities · 5 not checked ·") {
		t.Errorf("header: %q", h)
	}
	if !strings.HasPrefix(title(v), "Identities 34 ") {
		t.Errorf("table title: %q", title(v))
	}
	text := overviewText(t, m)
	for _, want := range []string{
		"Identities: 34 active, 5 not checked, 1 removed",
		"      30  actions secret", // 35, less the 5 not checked
		"       5  not checked: a later snapshot could not read where they live",
		"       1  removed since an earlier snapshot",
		"      32  without owner",
		"       2  with an owner",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	for range 40 {
		if strings.Contains(selectedLine(t, m.View()), "not checked") {
			break
		}
		press(t, m, "j")
	}
	press(t, m, "enter")
	if v := m.View(); !strings.HasPrefix(title(v), "Identities 5 of 40 · filter status:not-checked") {
		t.Errorf("enter on not checked:\n%s", v)
	}
}

// TestNarrowKeepsTheDecision: at 60 columns the table hides STATUS, but
// with a campaign picked STATUS holds the decision a reviewer is there
// to make, so the other columns that can go go first.
func TestNarrowKeepsTheDecision(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	for _, c := range []struct {
		campaign string
		status   bool
	}{{"", false}, {"2025-Q2", true}} {
		m := e.model(t, 60, 20, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: c.campaign})
		run(t, m, m.Init(), 0)
		v := m.View()
		checkFrame(t, v, 60, 20)
		header := strings.Split(v, "\n")[2]
		if strings.Contains(header, "STATUS") != c.status || (c.status && !strings.Contains(v, "pending")) {
			t.Errorf("campaign %q at 60 columns: STATUS shown %v, want %v:\n%s", c.campaign, !c.status, c.status, v)
		}
	}
	// Picked in the UI, the campaign brings STATUS back at once.
	m := e.model(t, 60, 20, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	run(t, m, m.Init(), 0)
	press(t, m, ":campaigns", "enter", "enter")
	if v := m.View(); !strings.Contains(strings.Split(v, "\n")[2], "STATUS") {
		t.Errorf("a campaign picked at 60 columns, no STATUS:\n%s", v)
	}
}

// TestOverviewRulesLineUp: the overview's findings per rule keep their
// severity and OWASP ID in one column under a Kubernetes rule's long name
// (the demo's "default-sa-with-permissions"), where a name over 17
// characters pushed its own line's out of it.
func TestOverviewRulesLineUp(t *testing.T) {
	ids := testIdentities()
	ids[5].Findings = append(ids[5].Findings, audit.Finding{Rule: "default-sa-with-permissions", Severity: "high", OWASP: "NHI5", Message: "the default service account holds permissions"})
	m := newTestModel(t, testSnapshot(), ids, 100, 40)
	press(t, m, ":overview", "enter")
	col := map[string]int{}
	for _, l := range m.top().(*overviewView).lines {
		text := ansi.Strip(l.text)
		for _, rule := range []string{"default-sa-with-permissions", "stale", "third-party"} {
			if strings.Contains(text, " "+rule+" ") {
				col[rule] = strings.Index(text, " high ") + strings.Index(text, " medium ") + 1 // one of them is -1
			}
		}
	}
	if len(col) != 3 || col["stale"] != col["default-sa-with-permissions"] || col["stale"] != col["third-party"] {
		t.Errorf("severities by rule start at columns %v, not one:\n%s", col, m.View())
	}
}
