package campaigns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A reviewer whose session is open — a TUI kept open — when their role
// loses nhi_reviewer, or when the directory marks them left, is refused
// their next decision, saying why and what to do, and nothing is
// recorded in their name: not in one round trip (the process has
// decided before, so it knows the campaign and the directory), not the
// long way, not in bulk.
func TestReviewerLosesTheRightMidSession(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	role := "rita_" + pgtest.DatabaseName(f.Path)
	rita := audit.Person{Email: "rita@acme.test", Aliases: []string{"rita", role}}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test"}})
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, loginRole(t, f, "rita", audit.RoleReviewer), audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items := get(t, f, "q").Items
	for _, it := range items[:2] {
		if _, err := campaigns.Decide(ctx, st, "rita@acme.test", "q", it.ID, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	events := func() (n int) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := events()
	pgtest.Exec(t, f.Path, `REVOKE nhi_reviewer FROM `+role)
	_, err = campaigns.Decide(ctx, st, "rita@acme.test", "q", items[2].ID, campaigns.Decommission, "")
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "GRANT nhi_reviewer TO "+role) {
		t.Errorf("deciding after nhi_reviewer was revoked: %v; want ErrNotPermitted asking for the grant", err)
	}
	pgtest.Exec(t, f.Path, `GRANT nhi_reviewer TO `+role)
	if n := events(); n != before {
		t.Errorf("the refused decision wrote %d events", n-before)
	}

	rita.Status, rita.LeftAt = audit.PersonLeft, "2026-09-30"
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatal(err)
	}
	before = events()
	_, err = campaigns.Decide(ctx, st, "rita@acme.test", "q", items[3].ID, campaigns.Decommission, "")
	if !errors.Is(err, campaigns.ErrActorLeft) || !strings.Contains(err.Error(), "left on 2026-09-30") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("deciding after the directory marked her left: %v; want ErrActorLeft saying when, and that nothing was written", err)
	}
	if _, err := campaigns.DecideMatching(ctx, st, "rita@acme.test", "q", "id:*", campaigns.Keep, "all of them", true); !errors.Is(err, campaigns.ErrActorLeft) {
		t.Errorf("deciding in bulk after the directory marked her left: %v; want ErrActorLeft", err)
	}
	if n := events(); n != before {
		t.Errorf("the refused decisions of a leaver wrote %d events", n-before)
	}
}
