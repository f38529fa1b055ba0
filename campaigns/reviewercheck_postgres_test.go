package campaigns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// The database's checks of a reviewer's writes (campaigns' schema step 3)
// let a reviewer's role change an item's decision exactly when the
// directory says the item's reviewer is the role's person, and add a row
// to an item's history exactly when both the row's actor and the item's
// reviewer are (Directory.Same: the role, or another name of its person,
// as --as compares names: role vsam_… is not sam_…), and neither when
// the role's person has left (Directory.RefuseLeaver: lee, a reviewer
// of the campaign marked left since); an nhi_admin's role decides any
// item in any name. Each write is made as the role, through SET SESSION
// AUTHORIZATION, and rolled back.
func TestReviewerCheckMatchesDirectory(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	rita, sam, stranger, ada := "rita_"+db, "sam_"+db, "stranger_"+db, "ada_"+db
	rex := "rex_" + db // a reviewer and an nhi_admin, who decides any item in any name
	vsam := "v" + sam  // a role named v and another's name is not them (step 8 of audit's schema)
	lee := "lee_" + db // a reviewer who left once the campaign was made
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", GitHub: "Rita-K", Aliases: []string{" RKim ", strings.ToUpper(rita)}},
		{Email: "sam@acme.test", Aliases: []string{"sam", "@" + sam}},
		{Email: "lee@acme.test", Aliases: []string{lee}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test", "lee@acme.test"}})
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "lee@acme.test", Aliases: []string{lee}, Status: audit.PersonLeft, LeftAt: "2026-09-30"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	items := map[string]string{} // reviewer -> an item assigned to them
	for _, it := range get(t, f, "q").Items {
		items[it.Reviewer] = it.ID
	}
	if len(items) != 3 {
		t.Fatalf("the campaign's reviewers: %v", items)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rita", "sam", "stranger", "vsam", "lee"} {
		loginRole(t, f, name, audit.RoleReviewer)
	}
	loginRole(t, f, "ada", audit.RoleAdmin)
	loginRole(t, f, "rex", audit.RoleReviewer, audit.RoleAdmin)
	dir, err := f.Store.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := pgtest.Connect(t, f.Path)
	leaverRefusals := 0
	// as runs q as role in a transaction it rolls back, and reports
	// whether the database accepted it, failing on any error but its
	// checks' refusal.
	as := func(role, q string, args ...any) bool {
		t.Helper()
		tx := pgtest.BeginAs(t, c, role)
		defer tx.Rollback(ctx)
		tag, err := tx.Exec(ctx, q, args...)
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "42501" && strings.Contains(pe.Message, "database role "+role+" may not") {
			return false
		}
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "42501" && pe.ConstraintName == audit.LeaverRefusal &&
			strings.Contains(pe.Message, "database role "+role+" is lee@acme.test, who left on 2026-09-30 according to the directory of people, so nothing was recorded") {
			leaverRefusals++
			return false
		}
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("as %s, %s %v: %v (%s)", role, q, args, err, tag)
		}
		return true
	}
	actors := []string{rita, "rita@acme.test", "RITA-K", "@rita-k", "rkim", "sam", sam, "sam@acme.test", stranger, "nobody", "", " ",
		vsam, "v" + rita, "\v" + sam + "\u00a0", "vsam@acme.test", lee, "lee@acme.test"}
	accepted := 0
	for _, role := range []string{rita, sam, stranger, ada, rex, vsam, lee} {
		stays := dir.RefuseLeaver(role, "decide") == nil
		for reviewer, id := range items {
			got := as(role, `UPDATE campaign_items SET decision = 'keep', reason = 'checked' WHERE identity_id = $1`, id)
			if want := role == ada || role == rex || stays && dir.Same(reviewer, role); got != want {
				t.Errorf("as %s, deciding %s's item: accepted %v; want %v", role, reviewer, got, want)
			}
			for _, actor := range actors {
				got := as(role, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
					SELECT campaign_id, identity_id, (SELECT max(seq) FROM events), 'keep', 'checked', $2, '2026-10-01T12:00:00Z', 'single'
					FROM campaign_items WHERE identity_id = $1`, id, actor)
				if want := role == ada || role == rex || stays && dir.Same(actor, role) && dir.Same(reviewer, role); got != want {
					t.Errorf("as %s, a history row of %s's item in the name of %q: accepted %v; want %v", role, reviewer, actor, got, want)
				}
				if got {
					accepted++
				}
			}
		}
	}
	if as(vsam, `UPDATE campaign_items SET decision = 'keep', reason = 'checked' WHERE identity_id = $1`, items["sam@acme.test"]) {
		t.Errorf("as %s, sam's item was decided", vsam)
	}
	if accepted == 0 {
		t.Fatal("no history row was accepted: the check refused everything")
	}
	if want := 3 * (1 + 18); leaverRefusals != want {
		t.Errorf("%d of lee's writes were refused saying she left; want all %d", leaverRefusals, want)
	}
}
