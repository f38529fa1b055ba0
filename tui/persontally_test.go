package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// gapEvidence is the fixture organisation read again an hour later by a
// snapshot whose fine-grained tokens answered 403: release-bot (owner
// octocat) is not checked, and octocat has left the directory. As nhi
// offboard --pending counts it (docs/offboarding.md), he still holds it.
func gapEvidence(t *testing.T) *evidence {
	t.Helper()
	e := newEvidence(t)
	ctx := context.Background()
	if _, err := e.store.SetPeople(ctx, testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "otto@acme.test", Name: "Otto", GitHub: "octocat", Status: audit.PersonLeft, LeftAt: testNow.AddDate(0, 0, -10).Format("2006-01-02")},
		{Email: testActor, Name: "Auditor"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	w, err := e.store.BeginSnapshot(ctx, audit.SnapshotInfo{
		Source: "github", Account: "acme", APIURL: "https://api.github.com", Credential: "token of octocat (read:org)",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []audit.Principal{
		{Type: audit.PrincipalMember, Scope: "acme", Login: "alice", Role: "admin"},
		{Type: audit.PrincipalMember, Scope: "acme", Login: "bob", Role: "member"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range fixtureObservations() {
		if o.Kind == audit.KindGitHubFineGrainedPAT {
			continue
		}
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Gap(audit.Gap{Endpoint: "GET /orgs/acme/personal-access-tokens", Kind: audit.KindGitHubFineGrainedPAT, Scope: "acme", Status: 403, Reason: "needs a GitHub App token"}); err != nil {
		t.Fatal(err)
	}
	return e.finish(t, w)
}

// enter on a leaver whose only identity sits behind a 403: the person
// view shows it, not checked, never "nothing left to offboard"; t shows
// it in the table.
func TestPersonViewLeaverBehindAGap(t *testing.T) {
	e := gapEvidence(t)
	m := e.model(t, 80, 24, Options{})
	run(t, m, m.Init(), 0)
	press(t, m, ":", "offboard", "enter")
	if v := m.View(); !strings.Contains(v, "Otto") {
		t.Fatalf("offboard view:\n%s", v)
	}
	press(t, m, "enter")
	v := m.View()
	checkFrame(t, v, 80, 24)
	// At 80 columns the counts go under the person, whole.
	if !strings.HasPrefix(title(v), "Otto <otto@acme.test>, left on") || strings.Split(v, "\n")[2] != "1 related identity (1 not checked): holds 1" || strings.Contains(v, "nothing is left") {
		t.Errorf("the person view of a leaver behind a gap:\n%s", v)
	}
	if row := selectedLine(t, v); !strings.Contains(row, "release-bot") || !strings.Contains(row, "not-chk") {
		t.Errorf("release-bot, not checked: %q\n%s", row, v)
	}
	press(t, m, "t")
	if v := m.View(); !strings.HasPrefix(title(v), "Identities 1 of 40 · filter person:otto@acme.test (status:active or status:not-") || !strings.Contains(v, "release-bot") {
		t.Errorf("t: the table with the person filter:\n%s", v)
	}
	// The hint bar names where esc goes back to, as it does for the
	// overview and the campaigns, where it said "previous view".
	if hint := lastLine(m.View()); !strings.HasPrefix(hint, "esc back to Otto •") {
		t.Errorf("hint bar after t: %q", hint)
	}
	press(t, m, "esc")
	if _, ok := m.top().(*personView); !ok {
		t.Errorf("esc after t:\n%s", m.View())
	}
}

// The overview's leaver section counts the leaver's not-checked identity
// and says so, and its line leads to it: the leaver's view, as enter on
// them in :offboard opens.
func TestOverviewLeaverBehindAGap(t *testing.T) {
	e := gapEvidence(t)
	m := e.model(t, 120, 60, Options{})
	run(t, m, m.Init(), 0)
	text := overviewText(t, m)
	for _, want := range []string{
		"Offboarding: 1 leaver owns, created or holds 1 identity, 1 not checked",
		"       1  Otto <otto@acme.test> (1 not checked)", // as :offboard names him, where the tally said his login
	} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	for range strings.Count(text, "\n") + 1 {
		if strings.Contains(selectedLine(t, m.View()), "Otto") {
			break
		}
		press(t, m, "j")
	}
	// The line leads to what it counts, octocat's one identity, in the
	// view enter on them in :offboard opens; it led to the table of every
	// orphaned identity (39 here), whoever they were left by.
	press(t, m, "enter")
	v := m.View()
	if !strings.Contains(title(v), "Otto <otto@acme.test>, left on") || !strings.Contains(title(v), "— 1 related identity (1 not checked)") || !strings.Contains(v, "release-bot") {
		t.Errorf("enter on the leaver:\n%s", v)
	}
	press(t, m, "esc")
	if _, ok := m.top().(*overviewView); !ok || !strings.Contains(selectedLine(t, m.View()), "Otto") {
		t.Errorf("esc from the leaver's view:\n%s", m.View())
	}
}

// TestOverviewLeaversAreOffboards: after a transfer (a leaver's token now
// answered for by bob, still held by the leaver as the source says) the
// overview counts and names the leaver as :offboard and nhi offboard
// --pending do (audit.Leavers), where it counted only the identities
// with an orphaned finding (2 where :offboard said 3) and named the
// leaver by login (octocat) where :offboard said "Otto <otto@acme.test>".
func TestOverviewLeaversAreOffboards(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	if _, err := e.store.SetPeople(ctx, testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "otto@acme.test", Name: "Otto", GitHub: "octocat", Status: audit.PersonLeft, LeftAt: testNow.AddDate(0, 0, -10).Format("2006-01-02")},
		{Email: "bob@acme.test", Name: "Bob", GitHub: "bob"},
		{Email: testActor, Name: "Auditor"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 120, 60, Options{Actor: testActor})
	run(t, m, m.Init(), 0)
	// Otto owns two identities by record, and holds release-bot (the
	// source says he holds it); then release-bot goes to bob.
	for _, name := range []string{"renovate", "deploy-prod"} {
		press(t, m, "/", "ctrl+u", "name:"+name, "enter", "o", "otto@acme.test", "enter")
	}
	press(t, m, "/", "ctrl+u", "name:release-bot", "enter", "o", "bob@acme.test", "enter")
	if got := e.owner(t, "release-bot"); got != "bob@acme.test" {
		t.Fatalf("setup: release-bot's owner is %q", got)
	}
	dir, err := e.store.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := e.store.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending := audit.Leavers(dir, ids) // what nhi offboard --pending lists
	if len(pending) != 1 || pending[0].Count != 3 || pending[0].ByKind[audit.RelHolds] == 0 {
		t.Fatalf("setup: nhi offboard --pending would list %+v", pending)
	}
	press(t, m, "esc")
	overview := overviewText(t, m)
	for _, want := range []string{"Offboarding: 1 leaver owns, created or holds 3 identities", "       3  Otto <otto@acme.test>"} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q, as :offboard and nhi offboard --pending count and name him:\n%s", want, overview)
		}
	}
	press(t, m, ":offboard", "enter")
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Offboarding — 1 leaver owns, created or holds 3 identities") || !strings.Contains(v, "Otto <otto@acme.test>") {
		t.Errorf(":offboard:\n%s", v)
	}
}

// TestLeaversCountEachIdentityOnce: release-bot is held by Otto (the
// source says so) and answered for by Lena, and both have left. The
// overview and :offboard say how many identities the leavers leave in
// all, release-bot once, and what that counts; they said "2 leavers with
// 2 identities", the sum of each leaver's count, and "1 leaver with 3
// identities" left a reader to guess whether 3 was the leaver's own.
func TestLeaversCountEachIdentityOnce(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	left := testNow.AddDate(0, 0, -10).Format("2006-01-02")
	if _, err := e.store.SetPeople(ctx, testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "otto@acme.test", Name: "Otto", GitHub: "octocat", Status: audit.PersonLeft, LeftAt: left},
		{Email: "lena@acme.test", Name: "Lena", Status: audit.PersonLeft, LeftAt: left},
		{Email: testActor, Name: "Auditor"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 80, 40, Options{Actor: testActor})
	run(t, m, m.Init(), 0)
	press(t, m, "/", "ctrl+u", "name:release-bot", "enter", "o", "lena@acme.test", "enter")
	if got := e.owner(t, "release-bot"); got != "lena@acme.test" {
		t.Fatalf("setup: release-bot's owner is %q", got)
	}
	press(t, m, "esc")
	overview := overviewText(t, m)
	for _, want := range []string{
		"Offboarding: 2 leavers own, created or hold 1 identity in all",
		"       1  Lena <lena@acme.test>",
		"       1  Otto <otto@acme.test>",
	} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q:\n%s", want, overview)
		}
	}
	press(t, m, ":offboard", "enter")
	if v := title(ansi.Strip(m.View())); v != "Offboarding — 2 leavers own, created or hold 1 identity in all" {
		t.Errorf(":offboard's title: %q", v)
	}
}

// The person view's title at 80 and 120 columns, for the demo's
// alice-smith: every count whole, the person first, the counts wrapped
// between their " · " where one line does not hold them, and the list
// under them a line shorter for each line they take. At 80 columns it
// ended "(5 no…", at 120 "could r…".
func TestPersonTitleWrapsWhole(t *testing.T) {
	v := &personView{
		person: audit.Person{Email: "alice@acme.com", Name: "Alice Smith", Status: audit.PersonLeft, LeftAt: "2026-10-31"},
		loaded: true, total: 192, unread: 5,
		counts: map[string]int{audit.RelOwns: 2, audit.RelCreated: 1, audit.RelCouldRead: 160, audit.RelSuggested: 29},
	}
	for _, c := range []struct {
		width int
		want  []string
	}{
		{80, []string{
			"Alice Smith <alice@acme.com>, left on 2026-10-31",
			"192 related identities (5 not checked): owns 2 · created 1 · could read 160 ·",
			"  suggested owner 29",
		}},
		{120, []string{
			"Alice Smith <alice@acme.com>, left on 2026-10-31",
			"192 related identities (5 not checked): owns 2 · created 1 · could read 160 · suggested owner 29",
		}},
		{200, []string{
			"Alice Smith <alice@acme.com>, left on 2026-10-31 — 192 related identities (5 not checked): owns 2 · created 1 · could read 160 · suggested owner 29",
		}},
	} {
		v.SetSize(c.width, 24)
		if got := v.titleLines(); !slices.Equal(got, c.want) {
			t.Errorf("at %d columns the title is\n%s\nwant\n%s", c.width, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
		if got, want := v.listHeight(), 22-(len(c.want)-1); got != want {
			t.Errorf("at %d columns the list has %d lines, want %d", c.width, got, want)
		}
		for _, l := range strings.Split(ansi.Strip(v.View()), "\n")[:len(c.want)] {
			if strings.Contains(l, "…") {
				t.Errorf("at %d columns a title line is cut: %q", c.width, l)
			}
		}
	}
}
