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

// ownersNotMine is a store whose session may not set owners, as a
// PostgreSQL role with nhi_reviewer alone (audit.Store.MaySetOwners).
type ownersNotMine struct{ *audit.Store }

func (ownersNotMine) MaySetOwners(context.Context) (string, error) {
	return "database role rita may not set owners in the database: ask for nhi_admin", nil
}

// A transfer records the new owner (campaigns.TransferItems writes it in
// the reviewer's transaction), which such a role may not: T is not
// offered either, and says why at once, where the database refused it
// at the end of the prompt.
func TestTransferNotOfferedWhereOwnersAreNot(t *testing.T) {
	e, name := offboardEvidence(t)
	m := e.model(t, 120, 30, Options{Actor: testActor, Store: ownersNotMine{e.store}, Reviewer: campaignsReviewer{e.store}, Campaign: name})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("name:deploy-prod")())
	if !strings.Contains(selectedLine(t, m.View()), "deploy-prod") {
		t.Fatalf("no deploy-prod under the cursor:\n%s", m.View())
	}
	if bs := m.actionBindings(); hasKey(bs, "T") || hasKey(bs, "o") || !hasKey(bs, "D") {
		t.Errorf("the actions offered where owners are not the session's: %v", bs)
	}
	press(t, m, "T")
	if m.prompt != nil || !strings.HasPrefix(m.flash, "Transfers cannot be made in this session, as each records the new owner: database role rita may not set owners") {
		t.Errorf("T where owners are not the session's: prompt %T, %q", m.prompt, m.flash)
	}
}
