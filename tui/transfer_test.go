package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// offboardEvidence is the fixture organisation with a directory of people
// where alice left (her manager is the test's auditor), erin left too,
// bob and carol are here; and alice's offboarding campaign, reviewed by
// the auditor.
func offboardEvidence(t *testing.T) (*evidence, string) {
	t.Helper()
	return offboardEvidenceIn(t, newEvidence(t), nil)
}

// offboardEvidenceIn is offboardEvidence in e, the directory giving the
// auditor the aliases more too.
func offboardEvidenceIn(t *testing.T, e *evidence, more []string) (*evidence, string) {
	t.Helper()
	ctx := context.Background()
	left := testNow.AddDate(0, 0, -10).Format("2006-01-02")
	if _, err := e.store.SetPeople(ctx, testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", Name: "Alice", GitHub: "alice", Status: audit.PersonLeft, LeftAt: left, Manager: testActor},
		{Email: "bob@acme.test", Name: "Bob Builder", GitHub: "bob"},
		{Email: "carol@acme.test", Name: "Carol", GitHub: "carol"},
		{Email: "erin@acme.test", Name: "Erin", GitHub: "erin", Status: audit.PersonLeft, LeftAt: left},
		{Email: testActor, Name: "Auditor", Aliases: more},
		{Email: "lead@acme.test", Name: "Lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	res, err := campaigns.CreateOffboarding(ctx, e.store, "lead@acme.test", campaigns.OffboardSpec{Person: "alice", AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	return e, res.Campaign.Name
}

func hasKey(bs []key.Binding, k string) bool {
	for _, b := range bs {
		if b.Help().Key == k {
			return true
		}
	}
	return false
}

// T in an offboarding campaign: the prompt completes active people only,
// refuses the leaver and anyone who left with the reason nhi decide
// gives, then asks why and records the transfer and the new owner.
func TestTransferKey(t *testing.T) {
	e, name := offboardEvidence(t)
	ctx := context.Background()
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())
	if !strings.Contains(selectedLine(t, m.View()), "deploy-prod") {
		t.Fatalf("no deploy-prod under the cursor:\n%s", m.View())
	}
	if !hasKey(m.actionBindings(), "T") {
		t.Errorf("T is not in the help of an offboarding campaign's item: %v", m.actionBindings())
	}

	press(t, m, "T")
	p, ok := m.prompt.(*transferPrompt)
	if !ok || p.dir == nil {
		t.Fatalf("T opened %T, directory read: %v", m.prompt, ok && p.dir != nil)
	}
	// Completion: the active people, never alice (the leaver) or erin (left).
	var offered []string
	for _, c := range p.candidates("") {
		offered = append(offered, c.Email)
	}
	if got := strings.Join(offered, " "); got != "auditor@example.com bob@acme.test carol@acme.test lead@acme.test" {
		t.Errorf("completion offers %s", got)
	}
	for _, bad := range []struct{ typed, says string }{
		{"@alice", "Alice <alice@acme.test> is the person being offboarded; transfer to someone who stays"},
		{"erin", "Erin <erin@acme.test> left on " + testNow.AddDate(0, 0, -10).Format("2006-01-02") + "; transfer to someone still here"},
		{"bobb", `new owner "bobb" is not in the directory of people; did you mean`},
	} {
		p.input.SetValue(bad.typed)
		press(t, m, "enter")
		if m.prompt != p || !strings.Contains(m.View(), bad.says) {
			t.Errorf("transfer to %s: not refused with %q:\n%s", bad.typed, bad.says, m.View())
		}
	}
	p.input.SetValue("")
	press(t, m, "b", "tab")
	if p.input.Value() != "bob@acme.test" {
		t.Errorf("tab after b: %q", p.input.Value())
	}
	press(t, m, "enter")
	if _, ok := m.prompt.(*reasonPrompt); !ok || !strings.Contains(m.View(), "Why transfer deploy-prod to bob@acme.test?") {
		t.Fatalf("no reason asked:\n%s", m.View())
	}
	for _, r := range "bob runs api" {
		press(t, m, string(r))
	}
	press(t, m, "enter")
	if !strings.Contains(m.View(), "Decided transfer of deploy-prod to bob@acme.test in "+name+", owner recorded") {
		t.Errorf("no confirmation:\n%s", m.View())
	}
	if row := selectedLine(t, m.View()); !strings.Contains(row, "bob@acme.") || !strings.HasSuffix(strings.TrimRight(row, " "), " transf.") {
		t.Errorf("the row does not show the new owner and decision: %q", row)
	}
	// The same short form at 80 columns, never cut ("transf…").
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if row := selectedLine(t, m.View()); !strings.HasSuffix(strings.TrimRight(row, " "), " transf.") {
		t.Errorf("80 columns: the decision is cut: %q", row)
	}
	// The same events as nhi decide … transfer --to.
	id := e.byName(t, "deploy-prod").ID
	if o, _ := e.store.Identity(ctx, id); o.Owner != "bob@acme.test" {
		t.Errorf("owner recorded: %q", o.Owner)
	}
	c, err := campaigns.Get(ctx, e.store, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.Items {
		if it.ID == id && (it.Decision != campaigns.Transfer || it.Reason != "bob runs api" || it.DecidedBy != testActor) {
			t.Errorf("decision: %+v", it)
		}
	}
}

// In a review campaign T is not offered, and pressing it says why.
func TestTransferNotInReviewCampaigns(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: "2025-Q2"})
	run(t, m, m.Init(), 0)
	if bs := m.actionBindings(); !hasKey(bs, "D") || hasKey(bs, "T") {
		t.Errorf("review campaign keys: %v", bs)
	}
	press(t, m, "T")
	if m.prompt != nil || !strings.Contains(m.View(), "Transfer belongs to offboarding campaigns") {
		t.Errorf("T in a review campaign:\n%s", m.View())
	}
}

// The transfer prompt as the reviewer sees it: the people it offers, a
// refusal, and T in the full help of an offboarding campaign's item.
func TestGoldenTransfer(t *testing.T) {
	e, name := offboardEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())
	press(t, m, "T")
	checkFrame(t, m.View(), 80, 24)
	checkGolden(t, "transfer_1_prompt_80x24.txt", m.View())
	m.prompt.(*transferPrompt).input.SetValue("alice")
	press(t, m, "enter")
	checkGolden(t, "transfer_2_refused_80x24.txt", m.View())
	press(t, m, "esc", "?")
	checkGolden(t, "transfer_3_help_80x24.txt", m.View())
}

// :offboard, enter: the leaver's identities grouped by relationship, each
// once under its strongest, tagged with all; the action keys work there
// (T with her offboarding campaign chosen); t shows them in the table.
// :offboard's count and the person view's each say what they count:
// "1 identity" there beside "37 identities" here read as a mistake.
func TestGoldenPersonView(t *testing.T) {
	e, name := offboardEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	press(t, m, ":", "offboard", "enter")
	if v := m.View(); !strings.Contains(v, "Offboarding — 1 leaver owns, created or holds 1 identity") {
		t.Fatalf("offboard view:\n%s", v)
	}
	press(t, m, "enter")
	v := m.View()
	checkFrame(t, v, 80, 24)
	// alice owned the organisation: she could read its 35 Actions secrets
	// and its Dependabot secret; the key she added is hers first.
	// At 80 columns the counts go on a line of their own, whole: the
	// title ended "created 1 …".
	if title(v) != "Alice <alice@acme.test>, left on 2025-05-22" || strings.Split(v, "\n")[2] != "37 related identities: created 1 · could read 36" || !strings.Contains(v, "created (1)") || !strings.Contains(v, "could read (36)") {
		t.Errorf("groups:\n%s", v)
	}
	if row := selectedLine(t, v); !strings.Contains(row, "created,could-read") || !strings.Contains(row, "deploy-prod") || strings.Count(v, "deploy-prod") != 1 {
		t.Errorf("deploy-prod: once, under created, tagged with both:\n%s", v)
	}
	if strings.Index(v, "created (1)") > strings.Index(v, "could read (36)") {
		t.Errorf("could read before created:\n%s", v)
	}
	if !strings.Contains(v, " dependabot secret ") {
		t.Errorf("the person view cuts a kind (KIND as wide as its widest, TestKindWhole):\n%s", v)
	}
	checkGolden(t, "person_1_grouped_80x24.txt", v)
	press(t, m, "j")
	if row := selectedLine(t, m.View()); !strings.Contains(row, "could-read") || !strings.Contains(row, "NPM_TOKEN") {
		t.Errorf("j: the first could-read identity, over the heading: %q", row)
	}
	press(t, m, "k", "T")
	if _, ok := m.prompt.(*transferPrompt); !ok || !strings.Contains(m.View(), "Transfer deploy-prod to:") {
		t.Errorf("T in the person view:\n%s", m.View())
	}
	press(t, m, "esc", "t")
	if v := m.View(); !strings.Contains(title(v), "My items 37 of 37 · campaign "+name+" · filter person:alice@ac") {
		t.Errorf("t: the table with the person filter:\n%s", v)
	}
	checkGolden(t, "person_2_table_80x24.txt", m.View())
}

// R on a deploy key asks, after the reason, which key replaces it: the
// decision event names it, as nhi decide … rotate --replacement does;
// enter alone names none.
func TestRotateNamesReplacement(t *testing.T) {
	e, name := offboardEvidence(t)
	ctx := context.Background()
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())
	press(t, m, "R")
	for _, r := range "she had it" {
		press(t, m, string(r))
	}
	press(t, m, "enter")
	if !strings.Contains(m.View(), "Replacement key of deploy-prod (its ID or SHA256 fingerprint)?") || !strings.Contains(m.View(), "enter alone names none") {
		t.Fatalf("no replacement asked:\n%s", m.View())
	}
	for _, r := range "SHA256:newkey" {
		press(t, m, string(r))
	}
	press(t, m, "enter")
	if !strings.Contains(m.View(), "Decided rotate for deploy-prod, replacement SHA256:newkey, in "+name) {
		t.Errorf("no confirmation:\n%s", m.View())
	}
	trail, err := campaigns.Trail(ctx, e.store, e.byName(t, "deploy-prod").ID)
	if err != nil || len(trail) == 0 {
		t.Fatal(trail, err)
	}
	ev, err := e.store.EventAt(ctx, trail[len(trail)-1].Seq)
	if err != nil || !strings.Contains(string(ev.Payload), `"replacement":"SHA256:newkey"`) || !strings.Contains(string(ev.Payload), `"reason":"she had it"`) {
		t.Errorf("decision event: %s %v", ev.Payload, err)
	}
	// A secret is rotated in place: no replacement is asked.
	send(t, m, m.ids.setFilter("name:NPM_TOKEN")())
	press(t, m, "R", "she could read it", "enter")
	if m.prompt != nil || !strings.Contains(m.View(), "Decided rotate for NPM_TOKEN") {
		t.Errorf("rotate of a secret:\n%s", m.View())
	}
}

// Tab and shift-tab step forward and back through the same candidates in
// the owner and transfer prompts, wrapping at both ends, over what was
// typed before the first tab; typing starts again from what is typed.
func TestCompletionCyclesBothWays(t *testing.T) {
	e, name := offboardEvidence(t)
	m := e.model(t, 120, 30, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())

	press(t, m, "o")
	owner := m.prompt.(*ownerPrompt)
	var got []string
	for _, k := range []string{"tab", "tab", "shift+tab", "shift+tab", "tab"} {
		press(t, m, k)
		got = append(got, owner.input.Value())
	}
	// octocat, a known owner, is the last candidate: shift-tab wraps to it.
	if want := "alice @acme/platform alice octocat alice"; strings.Join(got, " ") != want {
		t.Errorf("owner prompt: tab, tab, shift-tab, shift-tab, tab gave %s, want %s", strings.Join(got, " "), want)
	}
	if b := bottom(m.View()); !strings.Contains(b, "tab: alice (added the key) · @acme/platform (admin team of acme/api) · ") {
		t.Errorf("while cycling the owner prompt offers what matched before the first tab: %q", b)
	}
	press(t, m, "esc", "T")
	transfer := m.prompt.(*transferPrompt)
	got = got[:0]
	// Typing ends the cycle: tab then completes what is typed, and no
	// one's address starts with auditor@example.comx.
	for _, k := range []string{"tab", "tab", "shift+tab", "shift+tab", "tab", "x", "tab"} {
		press(t, m, k)
		got = append(got, transfer.input.Value())
	}
	if want := "auditor@example.com bob@acme.test auditor@example.com lead@acme.test auditor@example.com auditor@example.comx auditor@example.comx"; strings.Join(got, " ") != want {
		t.Errorf("transfer prompt gave\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

// Every word the STATUS cell shows fits the column whole, at any width:
// the long ones have a short form ("transf."), never a cut "transf…".
func TestStatusWordsFit(t *testing.T) {
	for _, d := range []string{DecisionDecommission, DecisionKeep, DecisionRotate, DecisionPending, DecisionTransfer, DecisionNoResponse} {
		if w := statusCell(audit.StatusActive, "", d); len(w) > identityColumns[colStatus].Min {
			t.Errorf("decision %s shows as %q, wider than STATUS (%d)", d, w, identityColumns[colStatus].Min)
		}
	}
	for _, st := range []string{audit.StatusActive, audit.StatusRemoved, audit.StatusNotChecked} {
		for _, change := range []string{"", audit.ChangeNew, audit.ChangeChanged} {
			if w := statusCell(st, change, ""); len(w) > identityColumns[colStatus].Min {
				t.Errorf("status %s %s shows as %q, wider than STATUS (%d)", st, change, w, identityColumns[colStatus].Min)
			}
		}
	}
}
