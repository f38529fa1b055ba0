package campaigns_test

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// loginRole creates the login role name_<database> granted groups, as a
// DBA would for a person (docs/team.md), and returns the URL that
// connects as it: roles are the server's, databases the test's.
func loginRole(t *testing.T, f *fixture, name string, groups ...string) string {
	t.Helper()
	return pgtest.LoginRole(t, f.Path, name+"_"+pgtest.DatabaseName(f.Path), groups...)
}

// grants lists every table and column privilege the database grants nhi's
// roles, to compare two runs of InitRoles.
func grants(t *testing.T, f *fixture) string {
	t.Helper()
	c, err := pgx.Connect(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT grantee || ' ' || privilege_type || ' ' || table_name || '.' || column_name FROM information_schema.column_privileges
		WHERE grantee LIKE 'nhi\_%' UNION ALL
		SELECT grantee || ' ' || privilege_type || ' ' || table_name FROM information_schema.role_table_grants WHERE grantee LIKE 'nhi\_%'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, "\n")
}

// A reviewer connected with their own role decides an item, and cannot
// rewrite history even with a SQL client: UPDATE, DELETE and TRUNCATE of
// the log and the snapshots are refused by the server, and the evidence
// still verifies. An auditor reads and is refused every write with nhi's
// message naming the role needed. nhi db init run twice changes nothing.
func TestReviewerCannotRewriteHistory(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	// The directory knows rita's database role as one of her names: the
	// database accepts her events in either (TestReviewerCannotForge).
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", Aliases: []string{"rita", "rita_" + pgtest.DatabaseName(f.Path)}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})

	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	first := grants(t, f)
	again, err := f.Store.InitRoles(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second InitRoles created %q, %v; want nothing", again, err)
	}
	if second := grants(t, f); second != first {
		t.Errorf("second InitRoles changed the grants:\n%s\nthen\n%s", first, second)
	}
	for _, want := range []string{"nhi_reviewer UPDATE campaign_items.decision", "nhi_reviewer INSERT events", "nhi_auditor SELECT events"} {
		if !strings.Contains(first, want) {
			t.Errorf("grants lack %q:\n%s", want, first)
		}
	}
	for _, line := range strings.Split(first, "\n") {
		if f := strings.Fields(line); len(f) == 3 && (f[1] == "UPDATE" || f[1] == "DELETE" || f[1] == "TRUNCATE") &&
			(f[2] == "events" || f[2] == "observations" || f[2] == "snapshots" || f[2] == "campaign_decisions") {
			t.Errorf("a role may rewrite history: %s", line)
		}
	}

	// The reviewer decides, through nhi, as their own database role.
	rita := loginRole(t, f, "rita", audit.RoleReviewer)
	st, err := audit.Open(ctx, rita, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := campaigns.Decide(ctx, st, "rita", "q", keyID("api", "1"), campaigns.Keep, "still deploys api"); err != nil {
		t.Fatalf("the reviewer's decision: %v", err)
	}
	if _, err := st.AddNotes(ctx, "rita", []string{keyID("api", "1")}, "asked the api team"); err != nil {
		t.Fatalf("the reviewer's note: %v", err)
	}
	// An owner is the administrator's to set: the refusal asks for that
	// grant, not for the nhi_reviewer rita has.
	_, err = st.SetOwner(ctx, "rita", keyID("api", "1"), "sam@acme.test")
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "table owners") || !strings.Contains(err.Error(), "GRANT nhi_admin TO rita_") {
		t.Errorf("the reviewer setting an owner: %v; want ErrNotPermitted asking for GRANT nhi_admin TO rita_…", err)
	}

	// Then tries to rewrite history behind nhi's back.
	c, err := pgx.Connect(ctx, rita)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`UPDATE events SET actor = 'sam'`,
		`DELETE FROM events WHERE seq > 1`,
		`TRUNCATE events`,
		`UPDATE event_signatures SET signature = ''`,
		`UPDATE observations SET permissions = '{}'`,
		`DELETE FROM observations`,
		`TRUNCATE observations CASCADE`,
		`UPDATE snapshots SET status = 'failed'`,
		`DELETE FROM snapshots`,
		`UPDATE campaign_decisions SET decision = 'decommission'`,
		`DELETE FROM campaign_decisions`,
		`UPDATE campaign_items SET owner = 'rita'`, // only the decision columns
		`DELETE FROM campaign_items`,
		`UPDATE meta SET key = 'x' WHERE key = 'log_head'`,
	} {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("as the reviewer, %s: %v; want permission denied (42501)", q, err)
		}
	}
	// And with psql, the client a DBA would hand out.
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", rita, "-c", "DELETE FROM events").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "permission denied for table events") {
			t.Errorf("psql as the reviewer, DELETE FROM events: %v\n%s", err, out)
		}
	} else {
		t.Log("no psql on PATH: the refusal was checked through pgx only")
	}

	r, err := f.Store.Verify(ctx)
	if err != nil || !r.OK() {
		t.Fatalf("verify after the reviewer's attempts: %v %v", err, r.Problems)
	}
	if it := item(t, get(t, f, "q"), keyID("api", "1")); it.Decision != campaigns.Keep {
		t.Errorf("the reviewer's decision is %q, want keep", it.Decision)
	}

	// The auditor reads, and is told which role a write needs.
	auditor := loginRole(t, f, "audra", audit.RoleAuditor)
	ast, err := audit.Open(ctx, auditor, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer ast.Close()
	if c, err := campaigns.Get(ctx, ast, "q"); err != nil || len(c.Items) != len(population()) {
		t.Fatalf("the auditor reading the campaign: %v", err)
	}
	if r, err := ast.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("the auditor verifying: %v", err)
	}
	_, err = ast.AddNotes(ctx, "audra", []string{keyID("api", "1")}, "looked")
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "nhi_reviewer") || !strings.Contains(err.Error(), "GRANT nhi_reviewer TO audra_") {
		t.Errorf("the auditor's note: %v; want ErrNotPermitted naming nhi_reviewer and the grant", err)
	}
	_, err = campaigns.Decide(ctx, ast, "audra", "q", keyID("api", "2"), campaigns.Keep, "x")
	if !errors.Is(err, audit.ErrNotPermitted) {
		t.Errorf("the auditor's decision: %v; want ErrNotPermitted", err)
	}
}

// forgeries are what a reviewer with a SQL client might try in another
// reviewer's name: append an event as sam, decide sam's item, add a row
// to the history of sam's item, or to the history of their own item in
// sam's name. samItem is assigned to sam, ritaItem to rita.
func forgeries(samItem, ritaItem string) []string {
	return []string{
		`INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
			SELECT seq + 1, at, 'sam@acme.test', 'note.add', '{}', hash, 'forged-' || seq FROM events ORDER BY seq DESC LIMIT 1`,
		`INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
			SELECT seq + 1, at, 'SAM', 'note.add', '{}', hash, 'forged-' || seq FROM events ORDER BY seq DESC LIMIT 1`,
		`UPDATE campaign_items SET decision = 'keep', reason = 'forged' WHERE identity_id = '` + samItem + `'`,
		`INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
			SELECT campaign_id, identity_id, (SELECT max(seq) FROM events), 'keep', 'forged', 'rita@acme.test', '2026-10-01T12:00:00Z', 'single'
			FROM campaign_items WHERE identity_id = '` + samItem + `'`,
		`INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
			SELECT campaign_id, identity_id, (SELECT max(seq) FROM events), 'keep', 'forged', 'sam@acme.test', '2026-10-01T12:00:00Z', 'single'
			FROM campaign_items WHERE identity_id = '` + ritaItem + `'`,
	}
}

// A reviewer connected as their own role cannot append an event in
// another person's name, nor decide an item assigned to someone else,
// even with psql and a temporary table posing as the directory of
// people; through nhi, deciding another reviewer's item is refused with
// nhi's message. With the database's checks disabled (as the owner, in a
// transaction rolled back) the same statements go through: the checks
// are what refuse them.
func TestReviewerCannotForge(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole, samRole := "rita_"+db, "sam_"+db
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}},
		{Email: "sam@acme.test", Aliases: []string{"sam", samRole}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	var ritaItem, samItem string
	for _, it := range get(t, f, "q").Items {
		switch it.Reviewer {
		case "rita@acme.test":
			ritaItem = it.ID
		case "sam@acme.test":
			samItem = it.ID
		}
	}
	if ritaItem == "" || samItem == "" {
		t.Fatalf("the campaign did not assign both reviewers: rita %q, sam %q", ritaItem, samItem)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	rita := loginRole(t, f, "rita", audit.RoleReviewer)
	loginRole(t, f, "sam", audit.RoleReviewer)

	// Through nhi: her own item, yes; sam's, refused in nhi's words.
	st, err := audit.Open(ctx, rita, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := campaigns.Decide(ctx, st, "rita@acme.test", "q", ritaItem, campaigns.Decommission, ""); err != nil {
		t.Fatalf("rita deciding her own item: %v", err)
	}
	_, err = campaigns.Decide(ctx, st, "rita@acme.test", "q", samItem, campaigns.Decommission, "")
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "it is assigned to sam@acme.test") {
		t.Errorf("rita deciding sam's item: %v; want ErrNotPermitted saying it is sam's", err)
	}
	_, err = campaigns.Decide(ctx, st, "sam@acme.test", "q", ritaItem, campaigns.Keep, "as sam")
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "in the name of sam@acme.test") {
		t.Errorf("rita deciding as sam: %v; want ErrNotPermitted naming sam", err)
	}

	// Through a SQL client, with a fake directory of her own in pg_temp,
	// which comes first in her search path for tables.
	c, err := pgx.Connect(ctx, rita)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE TEMP TABLE people (email text, record text, event_seq bigint);
		INSERT INTO people VALUES ('sam@acme.test', '{"email":"sam@acme.test","aliases":["`+ritaRole+`"]}', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, q := range forgeries(samItem, ritaItem) {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, ritaRole) {
			t.Errorf("as rita, %s: %v; want refused (42501) naming her role", q, err)
		}
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", rita, "-c", forgeries(samItem, ritaItem)[0]).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "may not record an event in the name of sam@acme.test") {
			t.Errorf("psql as rita, an event as sam: %v\n%s", err, out)
		}
	} else {
		t.Log("no psql on PATH: the refusal was checked through pgx only")
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify after rita's attempts: %v %v", err, r.Problems)
	}

	// The control: without the checks, the same statements go through.
	owner, err := pgx.Connect(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	tx, err := owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		`ALTER TABLE events DISABLE TRIGGER events_actor`,
		`ALTER TABLE campaign_items DISABLE TRIGGER campaign_items_reviewer`,
		`ALTER TABLE campaign_decisions DISABLE TRIGGER campaign_decisions_reviewer`,
		`SET SESSION AUTHORIZATION ` + ritaRole,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i, q := range forgeries(samItem, ritaItem) {
		if i == 1 {
			continue // the second event would take the first's seq
		}
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Errorf("as rita without the checks, %s: %v; want it to go through", q, err)
		}
	}
}

// A login role granted only nhi_connector takes a snapshot in its own
// name, and the check of decommission decisions against it that follows
// (VerifyAfterSnapshot) is recorded; it may not decide.
func TestConnectorSnapshots(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	gone := keyID("api", "1")
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", gone, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "next", Scope: "id:*", Reviewers: []string{"rita"}})
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	ci := loginRole(t, f, "ci", audit.RoleConnector)
	ciRole := "ci_" + pgtest.DatabaseName(f.Path)
	st, err := audit.Open(ctx, ci, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	f.Clock.Add(time.Hour)
	info := f.Source
	info.StartedAt, info.Actor = f.Clock.Now(), ciRole
	w, err := st.BeginSnapshot(ctx, info)
	if err != nil {
		t.Fatalf("the connector beginning a snapshot: %v", err)
	}
	for _, o := range population() {
		if o.ID != gone {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatalf("the connector finishing its snapshot: %v", err)
	}
	res, err := campaigns.VerifyAfterSnapshot(ctx, st, ciRole, snap.ID)
	if err != nil || len(res) != 1 || !slices.Equal(res[0].Removed, []string{gone}) {
		t.Fatalf("the connector checking decommissions against its snapshot: %+v %v; want %s removed", res, err, gone)
	}
	if it := item(t, get(t, f, "q"), gone); it.Verification == "" {
		t.Errorf("the item's remediation was not recorded: %+v", it)
	}

	_, err = campaigns.Decide(ctx, st, ciRole, "next", keyID("api", "2"), campaigns.Keep, "x")
	if !errors.Is(err, audit.ErrNotPermitted) {
		t.Errorf("the connector deciding: %v; want ErrNotPermitted", err)
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
}

// nhi db import needs the tables' owner: a reviewer and an administrator
// are refused in nhi's words, naming the owner, and nothing is written;
// the owner imports an auditor's file, events in other people's names
// included, and the database's chain verifies.
func TestOwnerImports(t *testing.T) {
	src := newFixtureOn(t, campaignstest.SQLite)
	src.Snapshot(t, nil, population()...)
	create(t, src, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	if _, err := campaigns.Decide(ctx, src.Store, "rita", "q", keyID("api", "1"), campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	file, err := audit.Open(ctx, src.Path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	f := newFixtureOn(t, campaignstest.Postgres)
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct{ name, role string }{{"rita", audit.RoleReviewer}, {"ada", audit.RoleAdmin}} {
		st, err := audit.Open(ctx, loginRole(t, f, who.name, who.role), audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, err = st.Import(ctx, file)
		if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "nhi db import needs the tables' owner") {
			t.Fatalf("%s importing: %v; want ErrNotPermitted naming the owner", who.role, err)
		}
		if evs, err := f.Store.Events(ctx); err != nil || len(evs) != 0 {
			t.Fatalf("after %s's refused import the database holds %d events (%v); want none", who.role, len(evs), err)
		}
	}
	if res, err := f.Store.Import(ctx, file); err != nil || res.Events == 0 {
		t.Fatalf("the owner importing: %+v %v", res, err)
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify after the import: %v %v", err, r.Problems)
	}
	if it := item(t, get(t, f, "q"), keyID("api", "1")); it.Decision != campaigns.Decommission || it.DecidedBy != "rita" {
		t.Errorf("the imported decision: %q by %q", it.Decision, it.DecidedBy)
	}
}

// A database whose tables are older than this nhi is upgraded only by
// their owner: an administrator opening it is told so, and nothing is
// changed; once the owner has opened it, the administrator works.
func TestMigrationNeedsTheOwner(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	ada := loginRole(t, f, "ada", audit.RoleAdmin)
	// The campaigns' tables as an nhi of one step earlier left them.
	pgtest.Exec(t, f.Path, `DROP TRIGGER campaign_items_reviewer ON campaign_items;
		DROP TRIGGER campaign_decisions_reviewer ON campaign_decisions; DROP FUNCTION nhi_check_reviewer(); DROP INDEX campaign_decisions_kept; ALTER TABLE campaign_items RESET (fillfactor);
		DROP FUNCTION nhi_decide; DROP FUNCTION nhi_ascii_key(text);
		UPDATE meta SET value = '1' WHERE key = 'schema.campaigns'`)
	_, err := audit.Open(ctx, ada, audit.OpenOptions{})
	if !errors.Is(err, audit.ErrNotPermitted) || !strings.Contains(err.Error(), "only their owner may do") {
		t.Fatalf("the administrator opening an older database: %v; want ErrNotPermitted naming the owner", err)
	}
	owner, err := audit.Open(ctx, f.Path, audit.OpenOptions{})
	if err != nil {
		t.Fatalf("the owner upgrading: %v", err)
	}
	owner.Close()
	st, err := audit.Open(ctx, ada, audit.OpenOptions{})
	if err != nil {
		t.Fatalf("the administrator after the upgrade: %v", err)
	}
	st.Close()
}
