package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// The real campaigns package behind the Reviewer seam: a decision taken
// in the TUI is the campaign.decide event `nhi decide` writes, and undo
// is its compensating event.
func TestDecideThroughCampaigns(t *testing.T) {
	ctx := context.Background()
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	r := campaignsReviewer{e.store}
	list, err := r.Campaigns(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "2025-Q2" || list[0].Total == 0 {
		t.Fatalf("campaigns: %+v %v", list, err)
	}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter", "enter")
	press(t, m, "/", "kind:deploy_key", "enter")
	press(t, m, "R")
	// rotate on an identity with findings asks for a reason, and says
	// so before enter, as the campaign refuses one without (it said
	// "optional", then "needs --reason").
	if b := bottom(m.View()); strings.Contains(b, "optional") {
		t.Errorf("rotate on an item with findings offers no reason: %q", b)
	}
	press(t, m, "enter")
	if b := bottom(m.View()); !strings.Contains(b, "a reason is required") {
		t.Errorf("rotate without a reason on an item with findings: %q\n%s", b, m.View())
	}
	press(t, m, "key leaked in a CI log", "enter")
	// then, for a deploy key, which key replaces it: enter alone names none
	press(t, m, "enter")
	if v := m.View(); !strings.Contains(selectedLine(t, v), "rotate") {
		t.Fatalf("decision not shown:\n%s", v)
	}
	got, err := campaigns.Decisions(ctx, e.store, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range got {
		if d == campaigns.Rotate {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("decisions in the file: %v", got)
	}
	// The detail reads the decision trail from the log: who, when, why.
	press(t, m, "enter", "G")
	if v := m.View(); !strings.Contains(v, "Decisions (from the event log)") ||
		!strings.Contains(v, testActor+" · 2025-Q2: rotate — key leaked in a CI log") {
		t.Errorf("detail lacks the decision trail:\n%s", v)
	}
	press(t, m, "esc")
	press(t, m, "u", "y")
	press(t, m, "enter", "G")
	if v := m.View(); !strings.Contains(v, " · 2025-Q2: undid #") {
		t.Errorf("detail lacks the undo in the trail:\n%s", v)
	}
	// Deciding from the detail updates its trail at once.
	press(t, m, "K", "still needed", "enter", "G")
	if v := m.View(); !strings.Contains(v, " · 2025-Q2: keep — still needed") {
		t.Errorf("the detail's trail did not follow a decision taken in it:\n%s", v)
	}
	press(t, m, "u", "y", "esc")
	got, _ = campaigns.Decisions(ctx, e.store, "2025-Q2")
	for id, d := range got {
		if d != campaigns.Pending {
			t.Errorf("after undo %s is still %s", id, d)
		}
	}
	if problems, err := campaigns.Verify(ctx, e.store); err != nil || len(problems) != 0 {
		t.Errorf("campaign verification after decide and undo: %v %v", problems, err)
	}
}

// :export writes the same bundle nhi export does, and it verifies
// against the evidence file; a read-only session may export.
func TestExportThroughCampaigns(t *testing.T) {
	ctx := context.Background()
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	dir := filepath.Join(t.TempDir(), "bundle")
	m := e.model(t, 100, 30, Options{Actor: testActor, ReadOnly: true, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":campaigns", "enter", "enter", ":export "+dir, "enter")
	// The message is long: it wraps at words above the hint bar, whole.
	// It names the command that checks the bundle against this file.
	v := m.View()
	want := "Exported an interim report (still open) of 2025-Q2: 12 files, as of event 2 · check it with nhi verify --report " + dir + " --db " + e.store.Path()
	if m.flash != want || !strings.Contains(strings.Join(strings.Fields(v), " "), want) ||
		!strings.Contains(v, "\nExported an interim report (still open) of 2025-Q2: 12 files, as of event 2 · check it with nhi\n") {
		t.Fatalf("after :export: %q\n%s", m.flash, v)
	}
	checkFrame(t, v, 100, 30)
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Fatal(err)
	}
	res, err := report.VerifyBundle(ctx, dir, e.store, report.VerifyOptions{Tool: "nhi"})
	if err != nil || !res.OK() || !res.LogChecked {
		t.Errorf("the exported bundle does not verify: %+v %v", res, err)
	}
	// A second export into the same folder is refused, and says why.
	press(t, m, ":export "+dir, "enter")
	if b := m.flash; !strings.HasPrefix(b, "Not exported: ") {
		t.Errorf("export over a bundle: %q", b)
	}
	// --force is an option, never a folder's name: it replaces the bundle.
	wd := t.TempDir()
	t.Chdir(wd)
	press(t, m, ":export "+dir+" --force", "enter")
	if b := m.flash; !strings.HasPrefix(b, "Exported an interim report") {
		t.Errorf(":export DIR --force: %q", b)
	}
	if _, err := os.Stat(filepath.Join(wd, "--force")); err == nil {
		t.Error(":export --force wrote a folder named --force")
	}
	press(t, m, ":export "+dir+" --frce", "enter")
	if b := bottom(m.View()); b != "Not exported: unknown option --frce (:export [DIR] [--force])." {
		t.Errorf("an unknown option: %q", b)
	}
}

// TestLiveUpdate: another process decides in the same evidence file; the
// next look at the log's head shows the decision and the progress in
// place, the cursor where it was.
func TestLiveUpdate(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	e.campaign(t, "scope:acme/api")
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: "2025-Q2"})
	run(t, m, m.Init(), 0)
	if !strings.HasPrefix(title(m.View()), "My items 2 · campaign 2025-Q2") {
		t.Fatalf("queue:\n%s", m.View())
	}
	press(t, m, "j")
	i, _ := m.ids.table.Selected()
	other := m.st.identity(i).ID
	send(t, m, watchTickMsg{})
	if strings.Contains(m.View(), "decom.") {
		t.Fatal("decided before anyone decided")
	}
	// Another process: the same file through its own connection.
	st2 := e.otherProcess(t)
	if _, err := campaigns.DecideEach(ctx, st2, testActor, "2025-Q2", []string{other}, campaigns.Decommission, "gone"); err != nil {
		t.Fatal(err)
	}
	send(t, m, watchTickMsg{})
	if row := selectedLine(t, m.View()); !strings.Contains(row, "decom.") {
		t.Errorf("the other process's decision is not on the row under the cursor:\n%s", m.View())
	}
}

// TestLiveUpdateOwners: another process sets an owner; the next poll that
// sees the new event shows it on the row, without ctrl+r.
func TestLiveUpdateOwners(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	m := e.model(t, 120, 30, Options{Actor: testActor})
	send(t, m, watchTickMsg{}) // the first look
	st2 := e.otherProcess(t)
	if _, err := st2.SetOwner(ctx, "cli@example.com", e.byName(t, "deploy-prod").ID, "zoe"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rowOf(t, m.View(), "deploy-prod"), "zoe") {
		t.Fatal("the owner showed before any poll")
	}
	send(t, m, watchTickMsg{})
	if row := rowOf(t, m.View(), "deploy-prod"); !strings.Contains(row, "zoe") {
		t.Errorf("the other process's owner is not on the row after a poll: %q", row)
	}
}

// The campaigns view opened while a read of the campaigns is on its way
// (the watch's, after another process wrote) shows that read's answer,
// even when it arrives before the view is on screen: :campaigns starts
// no second read while one is on its way, so a view that missed the
// answer said "reading campaigns…" for good (TestGoldenReviewerPath
// stuck there under -race).
func TestCampaignsViewOpenedDuringARead(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "scope:acme/api")
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	onItsWay := m.loadCampaigns()
	press(t, m, ":", "campaigns")
	_, open := m.Update(keyMsg("enter")) // the view comes as a message
	send(t, m, onItsWay())               // the read answers first
	run(t, m, open, 0)
	v := m.View()
	if strings.Contains(v, "reading campaigns…") || !strings.Contains(v, "Campaigns 1") || !strings.Contains(v, "0/2 0%") {
		t.Errorf("the campaigns view after the read answered:\n%s", v)
	}
}

// A read of the campaigns that began before another process decided
// answers with the progress before that decision; the poll that saw the
// decision came while it was on its way, so another read follows it and
// the view shows the decision (it stayed at the old progress until the
// next write, and TestGoldenReviewerPath waited for it).
func TestCampaignsReadAgainAfterAStaleRead(t *testing.T) {
	ctx := context.Background()
	e := newEvidence(t)
	e.campaign(t, "scope:acme/api")
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":", "campaigns", "enter")
	send(t, m, watchTickMsg{}) // the first look at the log's head
	if v := m.View(); !strings.Contains(v, "0/2 0%") {
		t.Fatalf("campaigns view:\n%s", v)
	}
	stale := m.loadCampaigns()() // read before the decision, answered after

	st2 := e.otherProcess(t)
	c, err := campaigns.Get(ctx, st2, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.DecideEach(ctx, st2, testActor, "2025-Q2", []string{c.Items[0].ID}, campaigns.Keep, "still used"); err != nil {
		t.Fatal(err)
	}
	send(t, m, watchTickMsg{}) // sees the decision while the read is on its way
	send(t, m, stale)
	if v := m.View(); !strings.Contains(v, "1/2 50%") {
		t.Errorf("the campaigns view after the poll that saw the decision:\n%s", v)
	}
}

// A decision the separation rules refuse says, at 80×24, why (the rule
// and its detail) and what to do (another reviewer decides), naming the
// identity as the table does: the refusal's full wording, the actor and
// the identity's ID again, cut what to do off the message's three lines.
func TestRefusalFitsEightyColumns(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	e.campaign(t, "kind:deploy_key")
	// Owned by the reviewer since the campaign began: rule owner.
	if _, err := e.store.SetOwner(ctx, "cli@example.com", e.byName(t, "deploy-prod").ID, testActor); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":campaigns", "enter", "enter")
	press(t, m, "/", "name:deploy-prod", "enter")
	press(t, m, "D", "gone", "enter")
	v := m.View()
	checkFrame(t, v, 80, 24)
	checkGolden(t, "decide_refused_80x24.txt", v)
	lines := strings.Split(v, "\n")
	message := strings.Join(strings.Fields(strings.Join(lines[len(lines)-4:len(lines)-1], " ")), " ")
	for _, want := range []string{
		"Not decided: you may not decide deploy-prod",
		"(rule owner: " + testActor + " is the recorded owner)",
		"another reviewer of campaign 2025-Q2 must decide it",
		"attempt recorded (event 4)",
	} {
		if !strings.Contains(message, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(message, "…") {
		t.Errorf("the refusal is cut:\n%s", v)
	}
}

// A keep on an identity with findings is an exception that lapses: the
// message after K says until when, as nhi decide does, where it said
// only "Decided keep …" and the reviewer learnt of the expiry from the
// report.
func TestKeepSaysItIsAnException(t *testing.T) {
	ctx := context.Background()
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":campaigns", "enter", "enter")
	press(t, m, "/", "kind:deploy_key", "enter")
	press(t, m, "K", "still deploys", "enter")
	xs, err := campaigns.Exceptions(ctx, e.store, "2025-Q2", 0)
	if err != nil || len(xs) != 1 {
		t.Fatalf("exceptions in the file: %v %v", xs, err)
	}
	var x *campaigns.Exception
	for _, v := range xs {
		x = v
	}
	want := "it has findings, so this keep is an exception until " + x.Expires
	if !strings.Contains(m.flash, want) {
		t.Errorf("after K the message does not say %q: %q\n%s", want, m.flash, m.View())
	}
	checkFrame(t, m.View(), 100, 30)
}

// TestKeysTypedAheadGoToTheViewOpened: a key typed right behind the one
// that opens a view, before anything that key started has run, is the
// new view's, as at a terminal where keys queue faster than commands
// run: ":campaigns", enter, enter opened the detail of the table's row
// under the campaigns (the second enter went to the table), and enter, j
// moved the table's cursor under the detail.
func TestKeysTypedAheadGoToTheViewOpened(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	ahead := func(keys ...string) {
		t.Helper()
		var cmds []tea.Cmd
		for _, k := range keys {
			_, cmd := m.Update(keyMsg(k))
			cmds = append(cmds, cmd)
		}
		for _, c := range cmds {
			run(t, m, c, 0)
		}
	}
	press(t, m, ":campaigns")
	ahead("enter", "enter")
	if v := m.View(); strings.Contains(v, "Identity ") || !strings.Contains(v, "Campaigns 1") && !strings.Contains(v, "My items") {
		t.Fatalf(":campaigns, enter, enter typed ahead:\n%s", v)
	}
	press(t, m, ":identities", "enter")
	first := selectedLine(t, m.View())
	ahead("enter", "j")
	if v := m.View(); !strings.Contains(strings.Split(v, "\n")[1], "Identity ") {
		t.Fatalf("enter, j typed ahead: no detail on top:\n%s", v)
	}
	press(t, m, "esc")
	if got := selectedLine(t, m.View()); got != first {
		t.Errorf("the j typed after enter moved the table under the detail:\n got %q\nwant %q", got, first)
	}
}
