package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// fakeReviewer stands in for the campaigns package behind the Reviewer
// seam: decisions in memory, one fake event each.
type fakeReviewer struct {
	mu        sync.Mutex
	members   []string // the campaign's population; pending unless decided
	decisions map[string]string
	reviewers map[string]string   // identity → its reviewer, when not the test's actor
	history   map[int64][2]string // seq -> identity, previous decision
	seq       int64
	calls     []string
	extra     []Campaign // listed after the two campaigns every test has
}

func newFakeReviewer() *fakeReviewer {
	return &fakeReviewer{decisions: map[string]string{}, history: map[int64][2]string{}, seq: 100}
}

func (r *fakeReviewer) Campaigns(context.Context) ([]Campaign, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	counts := map[string]int{}
	for _, d := range r.decisions {
		counts[d]++
	}
	return append([]Campaign{
		{Name: "2025-Q2", Status: "open", Scope: "status:active", Due: testNow.Add(14 * 24 * time.Hour), Total: 40, Counts: counts,
			Reviewers: []ReviewerProgress{{Reviewer: "alice@acme.test", Assigned: 20, Decided: len(r.decisions)}, {Reviewer: "bob@acme.test", Assigned: 20}}},
		{Name: "2025-Q1", Status: "closed", Due: testNow.Add(-60 * 24 * time.Hour), Total: 38, Counts: map[string]int{"keep": 30, "decommission": 8}},
	}, r.extra...), nil
}

func (r *fakeReviewer) Items(_ context.Context, campaign, actor string) (map[string]filter.Item, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]filter.Item{}
	for _, id := range r.members {
		out[id] = filter.Item{Reviewer: r.reviewerOf(id), Mine: r.reviewerOf(id) == actor, Decision: DecisionPending}
	}
	for k, v := range r.decisions {
		out[k] = filter.Item{Reviewer: r.reviewerOf(k), Mine: r.reviewerOf(k) == actor, Decision: v}
	}
	return out, nil
}

// reviewerOf is who reviews id: reviewers[id], else the test's actor.
func (r *fakeReviewer) reviewerOf(id string) string {
	if who, ok := r.reviewers[id]; ok {
		return who
	}
	return testActor
}

func (r *fakeReviewer) Decide(_ context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if decision == DecisionKeep && reason == "" {
		return nil, errors.New("keep needs a reason")
	}
	r.calls = append(r.calls, campaign+" "+decision+" "+reason+" "+strings.Join(ids, ","))
	var evs []audit.Event
	for _, id := range ids {
		r.seq++
		r.history[r.seq] = [2]string{id, r.decisions[id]}
		r.decisions[id] = decision
		evs = append(evs, audit.Event{Seq: r.seq, Actor: actor, Type: "decision.set"})
	}
	return evs, nil
}

func (r *fakeReviewer) Export(_ context.Context, campaign, dir, signer string, at time.Time, force bool) (Exported, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	call := "export " + campaign + " " + dir + " " + signer + " " + at.Format(time.RFC3339)
	if force {
		call += " force"
	}
	r.calls = append(r.calls, call)
	if strings.Contains(dir, "full") && !force {
		return Exported{}, errors.New("export: " + dir + " is not empty")
	}
	return Exported{Dir: "/abs/" + dir, Files: 10, Head: 7, Draft: true}, nil
}

func (r *fakeReviewer) Trail(_ context.Context, id string) ([]DecisionEvent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.decisions[id]; ok {
		return []DecisionEvent{{Seq: r.seq, At: testNow, Actor: testActor, Campaign: "2025-Q2", What: d, Reason: "as decided"}}, nil
	}
	return nil, nil
}

func (r *fakeReviewer) UndoDecision(_ context.Context, actor string, seq int64) (audit.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.history[seq]
	if !ok {
		return audit.Event{}, errors.New("no such decision")
	}
	if h[1] == "" {
		delete(r.decisions, h[0])
	} else {
		r.decisions[h[0]] = h[1]
	}
	r.seq++
	return audit.Event{Seq: r.seq, Actor: actor, Type: "decision.undo"}, nil
}

func (r *fakeReviewer) ApproveException(_ context.Context, actor, campaign, id string) (audit.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decisions[id] != DecisionKeep {
		return audit.Event{}, errors.New("not an exception")
	}
	r.calls = append(r.calls, "approve "+campaign+" "+id+" by "+actor)
	r.seq++
	return audit.Event{Seq: r.seq, Actor: actor, Type: "decision.approve"}, nil
}

func TestNoReviewerNoCampaignFeatures(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 120, 40, Options{Actor: testActor})
	press(t, m, "?")
	v := m.View()
	// Whole words: the FINDINGS column may say "unrotated".
	for _, unwanted := range []string{"decommission", "keep", "rotate", "campaign"} {
		if regexp.MustCompile(`\b` + unwanted + `\b`).MatchString(v) {
			t.Errorf("help mentions %q without a Reviewer:\n%s", unwanted, v)
		}
	}
	press(t, m, "?", "D", "K", "R")
	if m.prompt != nil || len(m.undo) != 0 {
		t.Error("decision keys did something without a Reviewer")
	}
}

func TestDecisionsThroughReviewer(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	for _, id := range e.ids {
		r.members = append(r.members, id.ID)
	}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	// No campaign chosen: no decision can succeed, so the help offers none.
	press(t, m, "?")
	v := m.View()
	if strings.Contains(v, "decide:") || !strings.Contains(strings.Join(strings.Fields(v), " "), "o set owner") {
		t.Errorf("help before a campaign is chosen:\n%s", v)
	}
	press(t, m, "?", "K")
	if b := bottom(m.View()); b != "Choose a campaign first: :campaigns, then enter." {
		t.Errorf("decision without a campaign: %q", b)
	}
	press(t, m, ":campaigns", "enter")
	v = m.View()
	checkFrame(t, v, 100, 30)
	for _, want := range []string{"Campaigns 2", "2025-Q2", "open", "2025-06-15", "0/40 0%", "2025-Q1", "38/38 100%", "decommission 8 · keep 30"} {
		if !strings.Contains(v, want) {
			t.Errorf("campaign list lacks %q:\n%s", want, v)
		}
	}
	press(t, m, "enter")
	if m.st.campaign != "2025-Q2" || len(m.stack) != 1 {
		t.Fatalf("campaign not chosen: %q, %d views", m.st.campaign, len(m.stack))
	}
	if !strings.Contains(title(m.View()), "campaign 2025-Q2") {
		t.Errorf("title: %q", title(m.View()))
	}
	press(t, m, "?")
	v = m.View()
	for _, want := range []string{"D decide: decommission", "K decide: keep (reason)", "R decide: rotate", "u undo my last change", "o set owner"} {
		if !strings.Contains(strings.Join(strings.Fields(v), " "), want) {
			t.Errorf("help lacks %q:\n%s", want, v)
		}
	}
	press(t, m, "?")
	// keep: a reason is required; one identity needs no confirmation.
	press(t, m, "K", "enter")
	if b := bottom(m.View()); !strings.Contains(b, "a reason is required") {
		t.Errorf("keep without reason: %q\n%s", b, m.View())
	}
	press(t, m, "used by the release pipeline", "enter")
	if len(r.calls) != 1 || r.calls[0] != "2025-Q2 keep used by the release pipeline "+e.ids[0].ID {
		t.Fatalf("calls: %q", r.calls)
	}
	if !strings.Contains(selectedLine(t, m.View()), "keep") {
		t.Errorf("decision not in the row:\n%s", m.View())
	}
	// One rule: a single decision asks no [y/N], whatever it is; the
	// reason prompt says what enter does.
	press(t, m, "j", "D")
	if last := lastLine(m.View()); !strings.HasPrefix(last, "enter record the decision") {
		t.Errorf("reason prompt hint bar: %q", last)
	}
	press(t, m, "enter")
	if len(r.calls) != 2 || r.decisions[e.ids[1].ID] != DecisionDecommission {
		t.Fatalf("decommission not recorded: %q", r.calls)
	}
	// The filter language sees the decisions.
	press(t, m, "/", "decision:pending", "enter")
	if !strings.HasPrefix(title(m.View()), "My items 38 of 40 · campaign 2025-Q2 · filter decision:pending") {
		t.Errorf("decision:pending: %q", title(m.View()))
	}
	// Undo takes back the decommission, then the keep.
	press(t, m, "esc", "u")
	if b := bottom(m.View()); b != "Undo: decision decommission for release-bot in 2025-Q2? [y/N]" {
		t.Fatalf("undo question: %q", b)
	}
	press(t, m, "y")
	if _, ok := r.decisions[e.ids[1].ID]; ok {
		t.Error("decommission not undone")
	}
	if strings.Contains(rowOf(t, m.View(), "release-bot"), "decom") {
		t.Errorf("row still shows the decision:\n%s", m.View())
	}
	press(t, m, "u", "y")
	if len(r.decisions) != 0 {
		t.Errorf("decisions left: %v", r.decisions)
	}
}

func TestDecisionsRefusedReadOnly(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 100, 30, Options{ReadOnly: true, Reviewer: r})
	press(t, m, ":campaigns", "enter", "enter", "D")
	if b := bottom(m.View()); b != "Read-only session (--readonly): nothing can be changed." {
		t.Errorf("read-only decision: %q", b)
	}
	press(t, m, "?")
	if strings.Contains(m.View(), "decommission") {
		t.Errorf("read-only help lists decisions:\n%s", m.View())
	}
}

// TestNextUndecided: choosing a campaign lists my items in it; n and N
// walk the undecided ones in the order shown, skipping decided ones,
// wrapping around with a word, until nothing is left; a shows everyone's.
func TestNextUndecided(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	rows := m.ids.table.Rows()
	id := func(k int) *audit.Identity { return m.st.identity(rows[k]) }
	for _, k := range []int{2, 5, 7, 9} {
		r.members = append(r.members, id(k).ID)
	}
	r.reviewers = map[string]string{id(9).ID: "bob@acme.test"}
	r.decisions[id(5).ID] = DecisionKeep
	// at is the position, in the population, of the identity under the
	// cursor: the table lists only the campaign's items once it is chosen.
	at := func() int {
		i, _ := m.ids.table.Selected()
		for k, p := range rows {
			if p == i {
				return k
			}
		}
		return -1
	}

	press(t, m, "n")
	if b := bottom(m.View()); b != "Choose a campaign first: :campaigns, then enter." {
		t.Errorf("n without a campaign: %q", b)
	}
	press(t, m, ":campaigns", "enter", "enter")
	if row := rowOf(t, m.View(), id(2).Name); !strings.Contains(row, "pending") {
		t.Errorf("an undecided member does not say pending: %q", row)
	}
	if v := m.View(); !strings.HasPrefix(title(v), "My items 3 · campaign 2025-Q2") || strings.Contains(v, id(9).Name+" ") {
		t.Errorf("my queue lists bob's item or misses mine:\n%s", v)
	}
	press(t, m, "a")
	if v := m.View(); !strings.HasPrefix(title(v), "Everyone's items 4 · campaign 2025-Q2") {
		t.Errorf("a does not show everyone's items:\n%s", v)
	}
	press(t, m, "a", "g")
	if at() != 2 {
		t.Fatalf("my first item is row %d, want 2", at())
	}
	press(t, m, "n")
	if at() != 7 {
		t.Fatalf("n went to row %d, want 7 (5 is decided)", at())
	}
	press(t, m, "n")
	if b := bottom(m.View()); at() != 2 || b != "Wrapped to the first undecided identity in 2025-Q2." {
		t.Errorf("n past the last: row %d, %q", at(), b)
	}
	press(t, m, "N")
	if b := bottom(m.View()); at() != 7 || b != "Wrapped to the last undecided identity in 2025-Q2." {
		t.Errorf("N before the first: row %d, %q", at(), b)
	}
	press(t, m, "K", "not yet", "enter")
	press(t, m, "n")
	if b := bottom(m.View()); at() != 2 || b != "Wrapped to the first undecided identity in 2025-Q2." {
		t.Errorf("n after deciding row 7: row %d, %q", at(), b)
	}
	press(t, m, "n")
	if b := bottom(m.View()); at() != 2 || b != "This is the only undecided identity left in 2025-Q2." {
		t.Errorf("n on the only one: row %d, %q", at(), b)
	}
	press(t, m, "/", "decision:pending", "enter")
	if !strings.HasPrefix(title(m.View()), "My items 1 of 3 · campaign 2025-Q2 · filter decision:pending") {
		t.Errorf("decision:pending lists what is outside the campaign: %q", title(m.View()))
	}
	press(t, m, "K", "not yet", "enter", "esc", "n")
	if b := bottom(m.View()); b != "Nothing left to decide in 2025-Q2." {
		t.Errorf("n with everything decided: %q", b)
	}
}

// TestOverviewCampaigns: the overview shows every campaign with a progress
// bar and its due date, the open one's reviewers, and enter on a campaign
// makes it the one decisions go to.
func TestOverviewCampaigns(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	r.decisions[e.ids[0].ID] = DecisionKeep
	r.decisions[e.ids[1].ID] = DecisionDecommission
	m := e.model(t, 100, 60, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":overview", "enter")
	v := m.View()
	checkFrame(t, v, 100, 60)
	for _, want := range []string{
		"Campaigns",
		"  2025-Q2           █░░░░░░░░░░░░░░░░░░░  2/40   5%  due 2025-06-15 (in 14 days)",
		"    alice@acme.test ██░░░░░░░░░░░░░░░░░░  2/20  10%",
		"    bob@acme.test   ░░░░░░░░░░░░░░░░░░░░  0/20   0%",
		"  2025-Q1           ████████████████████ 38/38 100%  closed",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("overview lacks %q:\n%s", want, v)
		}
	}
	for range 40 {
		if strings.Contains(selectedLine(t, m.View()), "2025-Q2") {
			break
		}
		press(t, m, "j")
	}
	press(t, m, "enter")
	if m.st.campaign != "2025-Q2" || len(m.stack) != 1 {
		t.Fatalf("enter on the campaign: campaign %q, %d views", m.st.campaign, len(m.stack))
	}
	press(t, m, ":campaigns", "enter")
	if b := strings.Split(m.View(), "\n"); !strings.Contains(b[len(b)-2], "Reviewers: alice@acme.test 2/20 · bob@acme.test 0/20") {
		t.Errorf("campaigns view lacks the reviewers line:\n%s", m.View())
	}
}

func TestDueText(t *testing.T) {
	now := time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 11, 30+d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		due  time.Time
		want string
	}{
		{day(15), "due 2026-12-15 (in 15 days)"},
		{day(1), "due 2026-12-01 (in 1 day)"},
		{day(0), "due 2026-11-30 (today)"},
		{day(-3), "due 2026-11-27, OVERDUE by 3 days"},
		{time.Time{}, "no due date"},
	} {
		if got := dueText(c.due, now); got != c.want {
			t.Errorf("due %v: %q, want %q", c.due, got, c.want)
		}
	}
}

// TestExportCommand: :export needs a campaign, defaults its folder to
// evidence-CAMPAIGN, signs as the actor at the session's clock, and says
// what went wrong when it fails.
func TestExportCommand(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 200, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":export", "enter")
	if b := bottom(m.View()); b != "Choose a campaign first: :campaigns, then enter; then :export [DIR]." {
		t.Errorf(":export without a campaign: %q", b)
	}
	press(t, m, ":campaigns", "enter", "enter", ":export", "enter")
	want := "export 2025-Q2 evidence-2025-Q2 " + testActor + " " + clock().Format(time.RFC3339)
	if len(r.calls) != 1 || r.calls[0] != want {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
	// The command it names checks this bundle against this file as typed:
	// the folder and --db, each one word for the shell.
	wantCmd := "nhi verify --report /abs/evidence-2025-Q2 --db " + e.store.Path()
	if strings.ContainsAny(e.store.Path(), " '") {
		t.Fatalf("the fixture's path %q needs quoting", e.store.Path())
	}
	if b := bottom(m.View()); b != "Exported an interim report (still open) of 2025-Q2: 10 files, as of event 7 · check it with "+wantCmd {
		t.Errorf("after :export: %q", b)
	}
	press(t, m, ":x full/dir", "enter")
	if b := bottom(m.View()); b != "Not exported: export: full/dir is not empty" {
		t.Errorf("failed export: %q", b)
	}
}

// TestExportHintSaysTheFolder: :export, typed, says the whole path of the
// folder the report goes to, where the prompt named the command alone and
// the default folder (evidence-CAMPAIGN) left the reader to guess where
// it lands; the flash while it writes says the whole path too.
func TestExportHintSaysTheFolder(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 200, 30, Options{Actor: testActor, Reviewer: r})
	wd := t.TempDir()
	t.Chdir(wd)
	press(t, m, ":export")
	if v := m.View(); !strings.Contains(v, ":export writes a campaign's evidence report: choose one first") {
		t.Errorf(":export typed without a campaign:\n%s", v)
	}
	press(t, m, "esc", ":campaigns", "enter", "enter", ":export")
	want := ":export writes " + filepath.Join(wd, "evidence-2025-Q2") + ": the evidence report of 2025-Q2 · :export [DIR] [--force]"
	if v := m.View(); !strings.Contains(v, want) {
		t.Errorf(":export typed, want %q:\n%s", want, v)
	}
	press(t, m, " out/q2 --force")
	if v := m.View(); !strings.Contains(v, "replaces "+filepath.Join(wd, "out", "q2")+": the evidence report of 2025-Q2") {
		t.Errorf(":export out/q2 --force typed:\n%s", v)
	}
	press(t, m, "ctrl+u", "export")
	_, cmd := m.Update(keyMsg("enter"))
	if cmd == nil {
		t.Fatal(":export started nothing")
	}
	if b := m.flash; b != "Exporting the evidence report of 2025-Q2 to "+filepath.Join(wd, "evidence-2025-Q2")+"…" {
		t.Errorf("while exporting: %q", b)
	}
}

// TestCampaignKeepsTheFilterAndSaysSo: a campaign chosen under a filter
// keeps it (a slice picked first, then the campaign to decide it in), and
// says so when it is chosen and beside the count, "My items 0 of 40", as
// "Identities 3 of 295" does, where "My items 0" read as nothing to decide.
func TestCampaignKeepsTheFilterAndSaysSo(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	for _, id := range e.ids {
		r.members = append(r.members, id.ID)
	}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, "/", "name:nothing-is-called-so", "enter", ":campaigns", "enter")
	press(t, m, "enter")
	if b := m.flash; !strings.Contains(b, "Campaign 2025-Q2: ") || !strings.Contains(b, "the filter name:nothing-is-called-so still applies (/ then esc clears it)") {
		t.Errorf("choosing a campaign under a filter says: %q", b)
	}
	n := len(e.ids)
	if got := title(m.View()); !strings.HasPrefix(got, fmt.Sprintf("My items 0 of %d · campaign 2025-Q2", n)) {
		t.Errorf("title under a filter: %q", got)
	}
	press(t, m, "a") // everyone's items
	if got := title(m.View()); !strings.HasPrefix(got, fmt.Sprintf("Everyone's items 0 of %d · campaign 2025-Q2", n)) {
		t.Errorf("everyone's items under a filter: %q", got)
	}
	press(t, m, "a", "/", "esc")
	if got := title(m.View()); !strings.HasPrefix(got, fmt.Sprintf("My items %d · campaign 2025-Q2", n)) {
		t.Errorf("title once the filter is cleared: %q", got)
	}
}

// TestUndoShowsThePreviousDecisionAtOnce: the row shows the decision
// before the undone one as soon as the undo returns, before the campaign's
// decisions are read again (the screen never says "Undone" beside the old
// decision).
func TestUndoShowsThePreviousDecisionAtOnce(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	for _, id := range e.ids {
		r.members = append(r.members, id.ID)
	}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter", "enter", "R", "enter")
	press(t, m, "K", "needed", "enter")
	if row := selectedLine(t, m.View()); !strings.Contains(row, "keep") {
		t.Fatalf("after keep: %q", row)
	}
	press(t, m, "u")
	_, cmd := m.Update(keyMsg("y"))
	msg := cmd()  // the undo itself, through the Reviewer
	m.Update(msg) // and nothing that follows from it
	if row := selectedLine(t, m.View()); !strings.Contains(row, "rotate") || !strings.Contains(bottom(m.View()), "Undone: decision keep") {
		t.Errorf("right after the undo: %q / %q", row, bottom(m.View()))
	}
}

// TestHonestProgress: a campaign closed with 70 of its 75 items unanswered
// says so in :campaigns and :overview, and its bar has a no-response
// segment; it is never "75/75 100%".
func TestHonestProgress(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	r.extra = []Campaign{{Name: "2024-Q4", Status: "closed", Due: testNow.Add(-150 * 24 * time.Hour), Total: 75,
		Counts: map[string]int{"keep": 3, "rotate": 2, "no-response": 70}}}
	m := e.model(t, 120, 40, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter")
	row := rowOf(t, m.View(), "2024-Q4")
	if !strings.Contains(row, "5 decided · 70 no-response") || strings.Contains(row, "100%") {
		t.Errorf(":campaigns row: %q", row)
	}
	press(t, m, "esc", ":overview", "enter")
	row = rowOf(t, m.View(), "2024-Q4")
	if !strings.Contains(row, "5 decided · 70 no-response") || strings.Contains(row, "100%") {
		t.Errorf(":overview row: %q", row)
	}
	// 20 cells: 5/75 decided is one cell, the 70 no-response the rest.
	if want := "█" + strings.Repeat("╳", 19) + " 5 decided"; !strings.Contains(row, want) {
		t.Errorf("progress bar without its no-response segment: %q, want %q", row, want)
	}
	if got := progressBar(0, 1, 1000, 20); got != "╳"+strings.Repeat("░", 19) {
		t.Errorf("one no-response of 1,000 vanished: %q", got)
	}
}

// TestDecisionsOnlyWhereTheyCanSucceed: D, K and R are hidden and refused,
// saying why, on another reviewer's item (until :others, which the title
// flags), in a closed campaign and outside the campaign; a mixed selection
// says how many of it will be decided before the [y/N].
func TestDecisionsOnlyWhereTheyCanSucceed(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 120, 40, Options{Actor: testActor, Reviewer: r})
	rows := m.ids.table.Rows()
	id := func(k int) *audit.Identity { return m.st.identity(rows[k]) }
	r.members = []string{id(0).ID, id(1).ID, id(2).ID}
	r.reviewers = map[string]string{id(2).ID: "bob@acme.test"}

	// Marked before the campaign is chosen: a member and an outsider.
	press(t, m, " ", "j", "j", "j", "j", "j", " ")
	press(t, m, ":campaigns", "enter", "enter", "a", "G")
	if i, _ := m.ids.table.Selected(); m.st.identity(i).ID != id(2).ID {
		t.Fatalf("cursor not on bob's item:\n%s", m.View())
	}
	m.ids.actionDone() // the marks apart, for the single-item case first
	press(t, m, "?")
	if v := m.View(); strings.Contains(v, "decide: keep") {
		t.Errorf("the help offers K on bob's item:\n%s", v)
	}
	press(t, m, "?", "K")
	want := id(2).Name + " is assigned to bob@acme.test, not to you; :others decides for other reviewers (flagged)."
	if b := bottom(m.View()); m.prompt != nil || b != want {
		t.Errorf("K on bob's item: prompt %v, %q, want %q", m.prompt != nil, b, want)
	}
	press(t, m, ":others", "enter")
	if !strings.Contains(title(m.View()), "deciding for others") {
		t.Errorf("title does not flag :others: %q", title(m.View()))
	}
	press(t, m, "R", "enter")
	if r.decisions[id(2).ID] != DecisionRotate {
		t.Errorf("R with :others on bob's item: %q", r.calls)
	}
	press(t, m, ":others", "enter")

	// A mixed selection: one member of mine, one outside the campaign.
	m.ids.selected[id(0).ID] = struct{}{}
	m.ids.selected[id(5).ID] = struct{}{}
	press(t, m, "D", "enter")
	if b := bottom(m.View()); b != "Decide decommission for 1 of the 2 selected in 2025-Q2 (1 not in the campaign)? [y/N]" {
		t.Errorf("mixed selection: %q", b)
	}
	press(t, m, "y")
	if got := r.calls[len(r.calls)-1]; got != "2025-Q2 decommission  "+id(0).ID {
		t.Errorf("decided %q, want only the member", got)
	}

	// A closed campaign: nothing to decide, and it says so.
	press(t, m, ":campaigns", "enter", "j", "enter")
	press(t, m, "K")
	if b := bottom(m.View()); m.prompt != nil || b != "Campaign 2025-Q1 is closed: its decisions can no longer change (nhi campaign show 2025-Q1)." {
		t.Errorf("K in a closed campaign: %q", b)
	}
}

// A approves the exception under the cursor after a [y/N], through the
// Reviewer; No is the default, an identity that is not kept has nothing to
// approve, and a selection is refused: one judgement at a time.
func TestApproveExceptionAsksFirst(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	for _, id := range e.ids {
		r.members = append(r.members, id.ID)
	}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter", "enter")
	press(t, m, "A")
	if b := m.flash; !strings.Contains(b, "Nothing to approve") {
		t.Errorf("approve a pending identity: %q", b)
	}
	press(t, m, "K", "used by the release pipeline", "enter")
	press(t, m, "A")
	if b := bottom(m.View()); !strings.HasPrefix(b, "Approve the exception on ") || !strings.HasSuffix(b, " in 2025-Q2 as the second person? [y/N]") {
		t.Fatalf("approval question: %q", b)
	}
	press(t, m, "enter")
	if len(r.calls) != 1 {
		t.Fatalf("declined approval was recorded: %q", r.calls)
	}
	press(t, m, "A", "y")
	if len(r.calls) != 2 || r.calls[1] != "approve 2025-Q2 "+e.ids[0].ID+" by "+testActor {
		t.Fatalf("calls: %q", r.calls)
	}
	if b := bottom(m.View()); !strings.HasPrefix(b, "Approved the exception on ") {
		t.Errorf("after approval: %q", b)
	}
	press(t, m, " ", "j", " ", "A")
	if b := bottom(m.View()); !strings.HasPrefix(b, "Approve one exception at a time") {
		t.Errorf("approve a selection: %q", b)
	}
	press(t, m, "esc", "?")
	if !strings.Contains(strings.Join(strings.Fields(m.View()), " "), "A approve exception") {
		t.Errorf("help lacks A:\n%s", m.View())
	}
}

// A campaign with no item assigned to the user says so when picked, and
// how to see the others': "My items 0" and an empty table said nothing.
func TestNoItemOfMineSaysSo(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 160, 30, Options{Actor: testActor, Reviewer: r})
	rows := m.ids.table.Rows()
	a, b := m.st.identity(rows[0]).ID, m.st.identity(rows[1]).ID
	r.members = []string{a, b}
	r.reviewers = map[string]string{a: "bob@acme.test", b: "bob@acme.test"}

	press(t, m, ":campaigns", "enter", "enter")
	want := "No item of 2025-Q2 is assigned to you (" + testActor + "): a lists everyone's items; :others decides for other reviewers (flagged)"
	if got := bottom(m.View()); got != want {
		t.Errorf("picking a campaign with none of my items: %q\nwant %q", got, want)
	}
	press(t, m, "a")
	if !strings.HasPrefix(title(m.View()), "Everyone's items 2") {
		t.Errorf("a: %q", title(m.View()))
	}

	// With an item of mine, the campaign's keys, as before.
	r.reviewers = map[string]string{a: "bob@acme.test"}
	press(t, m, "esc", ":campaigns", "enter", "enter")
	if got := bottom(m.View()); strings.HasPrefix(got, "No item of") {
		t.Errorf("with an item of mine: %q", got)
	}
}

// TestCampaignListsItemsWhateverTheirStatus: a campaign's items are its
// frozen population, each to be decided whatever a later snapshot found
// of its identity, as nhi campaign show lists them; the queue listed
// active identities only, so an item removed or not checked since was
// missing from "My items" while show counted it pending.
func TestCampaignListsItemsWhateverTheirStatus(t *testing.T) {
	ids := testIdentities()
	var hook audit.Identity
	for _, id := range ids {
		if id.Status == audit.StatusRemoved {
			hook = id
		}
	}
	r := newFakeReviewer()
	r.members = []string{ids[2].ID, hook.ID}
	m := New(testSnapshot(), ids, Options{Now: clock, Actor: testActor, Reviewer: r})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	press(t, m, ":campaigns", "enter", "enter")
	v := m.View()
	shown := hook.Name[:7] // the NAME column is narrower: it keeps the start and the end
	if !strings.HasPrefix(title(v), "My items 2 · campaign 2025-Q2") || !strings.Contains(v, shown) || !strings.Contains(v, hook.Name[len(hook.Name)-7:]) {
		t.Fatalf("the queue misses the item whose identity was removed since:\n%s", v)
	}

}

// TestClosedCampaignOffersNoDecision: on a closed campaign the hint bar
// and the title do not offer deciding, nor does the note of a campaign
// with none of the user's items point to :others: enter shows its items,
// which is what it does. They said "enter decide in this campaign",
// "deciding in 2025-Q1" and ":others decides for other reviewers", all
// of which the keys then refused.
func TestClosedCampaignOffersNoDecision(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: r})
	rows := m.ids.table.Rows()
	a := m.st.identity(rows[0]).ID
	r.members = []string{a}
	r.reviewers = map[string]string{a: "bob@acme.test"}
	footer := func() string { lines := strings.Split(m.View(), "\n"); return lines[len(lines)-1] }

	press(t, m, ":campaigns", "enter")
	if f := footer(); !strings.Contains(f, "enter decide in this campaign") {
		t.Errorf("on the open 2025-Q2: %q", f)
	}
	press(t, m, "j")
	if f := footer(); strings.Contains(f, "decide") || !strings.Contains(f, "enter show its items (closed: no more decisions)") {
		t.Errorf("on the closed 2025-Q1, the hint: %q", f)
	}
	press(t, m, "enter")
	if v := strings.Join(strings.Fields(m.View()), " "); strings.Contains(v, ":others") || !strings.Contains(v, "a lists everyone's items; it is closed: nothing in it can be decided") {
		t.Errorf("picking the closed 2025-Q1 with none of my items:\n%s", m.View())
	}
	press(t, m, ":campaigns", "enter")
	if tl := title(m.View()); strings.Contains(tl, "deciding") || !strings.Contains(tl, "showing 2025-Q1 (closed)") {
		t.Errorf("the campaigns' title with the closed 2025-Q1 chosen: %q", tl)
	}
}

// TestShellWord: the command :export names reads back, in a shell, as the
// folder and file it names, whatever their names hold.
func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"/abs/evidence-2025-Q2": "/abs/evidence-2025-Q2",
		"/tmp/my evidence":      "'/tmp/my evidence'",
		"it's.db":               `'it'\''s.db'`,
		"$HOME/x":               "'$HOME/x'",
		"":                      "''",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestOverviewCampaignsFitEightyColumns: with a campaign's name at its
// widest the bars give way, so each campaign's due date is whole at 80
// columns, and every bar is as wide as the others; the line ended "due
// 2025-06-15 (in 14 …".
func TestOverviewCampaignsFitEightyColumns(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	r.extra = []Campaign{{Name: "2025-Q2-platform-deploy-keys-and-tokens", Status: "open", Due: testNow.Add(41 * 24 * time.Hour), Total: 1200,
		Reviewers: []ReviewerProgress{{Reviewer: "carol@acme.test", Assigned: 1200}}}}
	m := e.model(t, 80, 60, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":overview", "enter")
	v := m.View()
	checkFrame(t, v, 80, 60)
	bars := map[int]bool{}
	for _, want := range []string{"due 2025-06-15 (in 14 days)", "due 2025-07-12 (in 41 days)", "closed", "carol@acme.test"} {
		if !strings.Contains(v, want) {
			t.Errorf("overview at 80 columns lacks %q:\n%s", want, v)
		}
	}
	for _, l := range strings.Split(v, "\n") {
		if n := strings.Count(l, "█") + strings.Count(l, "░"); n > 0 {
			bars[n] = true
		}
	}
	if len(bars) != 1 {
		t.Errorf("the bars are %v cells wide, want one width:\n%s", bars, v)
	}
}
