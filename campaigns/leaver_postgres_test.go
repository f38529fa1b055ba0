package campaigns_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A reviewer whose person the directory marks left, while the DBA has not
// yet dropped their login role, cannot write in their own name with a SQL
// client either: an event in their role's name or their e-mail's, their
// own item's decision columns, a row of its history, nhi_decide called
// with psql — each refused by the database, saying the directory says
// they left and nothing was recorded, and nothing is. A write through nhi
// that reaches the database's check is ErrActorLeft in nhi's words. The
// administrator who recorded it is not checked: they offboard the
// leaver and decide the leaver's item. Re-hired (the directory says
// active again), the same writes go through. A role with no directory
// record is checked as before: its own name only, no item of a person's.
func TestDatabaseRefusesALeaver(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole, adaRole, strangerRole := "rita_"+db, "ada_"+db, "stranger_"+db
	rita := audit.Person{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}
	people := []audit.Person{rita,
		{Email: "sam@acme.test", Aliases: []string{"sam"}},
		{Email: "ada@acme.test", Aliases: []string{"ada", adaRole}}}
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: people}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	var ritaItems []string
	for _, it := range get(t, f, "q").Items {
		if it.Reviewer == "rita@acme.test" {
			ritaItems = append(ritaItems, it.ID)
		}
	}
	if len(ritaItems) < 3 {
		t.Fatalf("rita was assigned %d items; the test needs 3", len(ritaItems))
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	ritaURL := loginRole(t, f, "rita", audit.RoleReviewer)
	adaURL := loginRole(t, f, "ada", audit.RoleAdmin)
	loginRole(t, f, "stranger", audit.RoleReviewer)
	admin, err := audit.Open(ctx, adaURL, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	// The directory says she left, as HR's export says it, imported by
	// the administrator; her role is still there.
	rita.Status, rita.LeftAt = audit.PersonLeft, "2026-09-30"
	if _, err := admin.SetPeople(ctx, "import hr.csv", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatalf("the administrator recording that rita left: %v", err)
	}

	var campaignID, createSeq int64
	if err := f.Store.QueryRow(ctx, `SELECT id, create_seq FROM campaigns WHERE name = 'q'`).Scan(&campaignID, &createSeq); err != nil {
		t.Fatal(err)
	}
	event := func(actor string) string {
		return `INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
			SELECT seq + 1, at, '` + actor + `', 'note.add', '{}', hash, 'by-a-leaver-' || seq FROM events ORDER BY seq DESC LIMIT 1`
	}
	// nhi_decide as nhi calls it (onetrip.go), written out as psql would.
	decide := func(id string) string {
		return fmt.Sprintf(`SELECT * FROM nhi_decide(%d, %d, '%s', 'keep', 'still needed', 0, 'rita@acme.test', ARRAY['rita@acme.test', 'rita', '%s'], ARRAY[]::text[],
			(SELECT COALESCE(max(seq), 0) FROM events WHERE type = 'person.set'), '2026-10-01T12:00:00Z', 'single',
			'2026-10-01T12:00:00Z', 'rita@acme.test', 'campaign.decide', '{}', '"x"]', '{}', '"x"]')`, campaignID, createSeq, id, strings.ToLower(ritaRole))
	}
	writes := map[string]string{
		"an event in her role's name":   event(ritaRole),
		"an event in her e-mail's name": event("rita@acme.test"),
		"her item's decision":           `UPDATE campaign_items SET decision = 'keep', reason = 'still needed' WHERE identity_id = '` + ritaItems[0] + `'`,
		"a row of her item's history": `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
			SELECT campaign_id, identity_id, (SELECT max(seq) FROM events), 'keep', 'still needed', 'rita@acme.test', '2026-10-01T12:00:00Z', 'single'
			FROM campaign_items WHERE identity_id = '` + ritaItems[0] + `'`,
		"nhi_decide of her item": decide(ritaItems[0]),
	}
	c := pgtest.Connect(t, f.Path)
	// as runs q as role in a transaction it rolls back.
	as := func(role, q string) error {
		t.Helper()
		tx := pgtest.BeginAs(t, c, role)
		defer tx.Rollback(ctx)
		_, err := tx.Exec(ctx, q)
		return err
	}
	saysLeft := func(err error) bool {
		pe, ok := errors.AsType[*pgconn.PgError](err)
		return ok && pe.Code == "42501" && strings.Contains(pe.Message, "rita@acme.test, who left on 2026-09-30 according to the directory of people") &&
			strings.Contains(pe.Message, "nothing was recorded")
	}
	count := func() (n int) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for what, q := range writes {
		if err := as(ritaRole, q); !saysLeft(err) {
			t.Errorf("as rita, who left, %s: %v; want refused, saying the directory says she left and nothing was recorded", what, err)
		}
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", ritaURL, "-c", decide(ritaItems[0])).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "who left on 2026-09-30 according to the directory of people, so nothing was recorded") {
			t.Errorf("psql as rita, who left, calling nhi_decide: %v\n%s", err, out)
		}
	} else {
		t.Log("no psql on PATH: the refusal was checked through pgx only")
	}

	// Through nhi, a write that reaches the database's check (nhi's own
	// check of a decision, a note or an owner change refuses first).
	st, err := audit.Open(ctx, ritaURL, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Write(ctx, func(tx *audit.Tx) error {
		_, err := tx.Append(ctx, "rita@acme.test", audit.EventNoteAdd, map[string]string{"id": ritaItems[0], "text": "still mine"})
		return err
	})
	if !errors.Is(err, audit.ErrActorLeft) || !strings.Contains(err.Error(), "left on 2026-09-30 according to the directory of people, so nothing was recorded") {
		t.Errorf("through nhi, an event by rita, who left: %v; want ErrActorLeft saying she left and nothing was recorded", err)
	}
	if n := count(); n != before {
		t.Errorf("a leaver's refused writes recorded %d events", n-before)
	}

	// A role the directory does not know records in its own name only,
	// as before, and decides no item of a person's.
	if err := as(strangerRole, event(strangerRole)); err != nil {
		t.Errorf("as a role with no directory record, an event in its own name: %v", err)
	}
	if err := as(strangerRole, writes["her item's decision"]); err == nil || saysLeft(err) {
		t.Errorf("as a role with no directory record, deciding rita's item: %v; want refused as not assigned to it", err)
	}

	// The administrator offboards her and decides her item.
	if _, err := campaigns.CreateOffboarding(ctx, admin, "ada@acme.test", campaigns.OffboardSpec{Name: "off-rita", Person: "rita", Reviewers: []string{"sam@acme.test"}}); err != nil {
		t.Errorf("the administrator offboarding rita: %v", err)
	}
	if _, err := campaigns.Decide(ctx, admin, "ada@acme.test", "q", ritaItems[1], campaigns.Decommission, ""); err != nil {
		t.Errorf("the administrator deciding the leaver's item: %v", err)
	}

	// Re-hired: the same writes go through, and so does a decision
	// through nhi.
	rita.Status, rita.LeftAt = audit.PersonActive, ""
	if _, err := admin.SetPeople(ctx, "import hr.csv", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatal(err)
	}
	for what, q := range writes {
		if err := as(ritaRole, q); err != nil {
			t.Errorf("as rita, re-hired, %s: %v", what, err)
		}
	}
	if _, err := campaigns.Decide(ctx, st, "rita@acme.test", "q", ritaItems[2], campaigns.Keep, "still needed"); err != nil {
		t.Errorf("rita, re-hired, deciding her item through nhi: %v", err)
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
}
