package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A PostgreSQL role that has nhi_reviewer alone may not set owners (they
// are nhi_admin's): the UI does not offer o, and o says why at once, where
// the prompt opened and the database refused the owner only at enter.
func TestOwnerNotOfferedToAReviewerRole(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	e := newEvidenceIn(t, url)
	if _, err := e.store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	role := "rita_" + pgtest.DatabaseName(url)
	st, err := audit.Open(ctx, pgtest.LoginRole(t, url, role, audit.RoleReviewer), audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := e.model(t, 100, 30, Options{Actor: testActor, Store: st})
	run(t, m, m.Init(), 0)
	v := m.View()
	if b := lastLine(v); strings.Contains(b, "o owner") {
		t.Errorf("the hint bar offers o to a reviewer's role: %q", b)
	}
	if b := lastLine(v); !strings.Contains(b, "c add a note") {
		t.Errorf("the hint bar does not offer a note, which a reviewer's role may add: %q", b)
	}
	press(t, m, "?")
	if v := m.View(); strings.Contains(v, "set owner") {
		t.Errorf("the help offers to set owners:\n%s", v)
	}
	press(t, m, "esc", "o")
	if m.prompt != nil {
		t.Errorf("o opened the owner prompt:\n%s", m.View())
	}
	want := "Owners cannot be set in this session: database role " + role + " may not set owners in "
	if !strings.HasPrefix(m.flash, want) || !strings.Contains(m.flash, "GRANT nhi_admin TO "+role) {
		t.Errorf("o says %q, want %q… and the grant to ask for", m.flash, want)
	}
	checkFrame(t, m.View(), 100, 30)
	// The administrator's role is offered o.
	admin, err := audit.Open(ctx, pgtest.LoginRole(t, url, "ada_"+pgtest.DatabaseName(url), audit.RoleAdmin), audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	m = e.model(t, 100, 30, Options{Actor: testActor, Store: admin})
	run(t, m, m.Init(), 0)
	if b := lastLine(m.View()); !strings.Contains(b, "o owner") {
		t.Errorf("the hint bar does not offer o to an administrator: %q", b)
	}
}

// On PostgreSQL a reviewer's role, which may not set owners (o is not
// offered), transfers an offboarding item assigned to it with T: the
// transfer records the new owner through the owner's function that
// checks it (campaigns' nhi_transfer_owner). Before, T was not offered
// to such a role, and an offboarding's reviewer needed nhi_admin.
func TestTransferOfferedToAReviewerRole(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	role := "rev_" + pgtest.DatabaseName(url)
	e, name := offboardEvidenceIn(t, newEvidenceIn(t, url), []string{role})
	if _, err := e.store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, pgtest.LoginRole(t, url, role, audit.RoleReviewer), audit.OpenOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := e.model(t, 120, 30, Options{Actor: testActor, Store: st, Reviewer: campaignsReviewer{st}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())
	if !strings.Contains(selectedLine(t, m.View()), "deploy-prod") {
		t.Fatalf("no deploy-prod under the cursor:\n%s", m.View())
	}
	if bs := m.actionBindings(); !hasKey(bs, "T") || hasKey(bs, "o") {
		t.Errorf("the actions offered to a reviewer's role in an offboarding: %v; want T, not o", bs)
	}
	press(t, m, "T")
	p, ok := m.prompt.(*transferPrompt)
	if !ok {
		t.Fatalf("T opened %T, flash %q", m.prompt, m.flash)
	}
	p.input.SetValue("bob@acme.test")
	press(t, m, "enter")
	for _, r := range "bob runs api" {
		press(t, m, string(r))
	}
	press(t, m, "enter")
	if !strings.Contains(m.View(), "Decided transfer of deploy-prod to bob@acme.test in "+name+", owner recorded") {
		t.Errorf("no confirmation:\n%s", m.View())
	}
	if o, err := e.store.Identity(ctx, e.byName(t, "deploy-prod").ID); err != nil || o.Owner != "bob@acme.test" {
		t.Errorf("owner recorded: %q %v", o.Owner, err)
	}
	if r, err := e.store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}
