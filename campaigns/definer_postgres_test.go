package campaigns_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// definerCalls call each SECURITY DEFINER function of nhi's schema
// (TestOnlyNhisDefinerFunctions) with arguments that ask nothing of it.
var definerCalls = []string{
	`SELECT nhi_group_withdraw(0, '', '', '', ARRAY['{}'])`,
	`SELECT * FROM nhi_group_wait()`,
	`SELECT * FROM nhi_transfer_owner(0, '', '', '', '', '', '{}', '')`,
}

// TestDefinerFunctionsOnlyForNhisRoles: the owner's definer functions
// write past the triggers that check who a write names, so no role but
// those that decide may call them: a login role granted no role of
// nhi's, an auditor and a connector are refused by the server
// (permission denied for the function), where PostgreSQL's default grant
// to PUBLIC let any role call them. A reviewer calls them, and each
// checks what it is asked itself.
func TestDefinerFunctionsOnlyForNhisRoles(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		name   string
		groups []string
	}{{"nobody", nil}, {"audra", []string{audit.RoleAuditor}}, {"conn", []string{audit.RoleConnector}}} {
		c := pgtest.Connect(t, loginRole(t, f, r.name, r.groups...))
		for _, q := range definerCalls {
			_, err := c.Exec(ctx, q)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || !strings.HasPrefix(pe.Message, "permission denied for function") {
				t.Errorf("role %s (%v): %s: %v; want permission denied for the function", r.name, r.groups, q, err)
			}
		}
	}
	rita := pgtest.Connect(t, loginRole(t, f, "rita", audit.RoleReviewer))
	if _, err := rita.Exec(ctx, definerCalls[0]); err != nil {
		t.Errorf("the reviewer withdrawing nothing: %v", err)
	}
	_, err := rita.Exec(ctx, definerCalls[2])
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "it is no offboarding campaign") {
		t.Errorf("the reviewer asking nhi_transfer_owner for nothing: %v; want its own refusal", err)
	}
}

// TestQueueShowsOnlyOwnRequests: the group append's queue holds each
// decision, its reason and its reviewer for a few milliseconds before it
// is chained. A reviewer reads only her own requests there — through
// pgx and psql, as her own role — an auditor none, while the owner's
// holder sees and chains them all; before, any role read every pending
// decision. Queuing her own still returns its id (nhi_enqueue's
// RETURNING), and her decisions are made as before.
func TestQueueShowsOnlyOwnRequests(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", Aliases: []string{"rita", "rita_" + db}}, {Email: "sam@acme.test", Aliases: []string{"sam", "sam_" + db}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	c := get(t, f, "q")
	var hers, his string
	for _, it := range c.Items {
		switch it.Reviewer {
		case "rita@acme.test":
			hers = it.ID
		case "sam@acme.test":
			his = it.ID
		}
	}
	ritaURL := loginRole(t, f, "rita", audit.RoleReviewer)
	ritaConn, samConn := pgtest.Connect(t, ritaURL), pgtest.Connect(t, loginRole(t, f, "sam", audit.RoleReviewer))
	audra := pgtest.Connect(t, loginRole(t, f, "audra", audit.RoleAuditor))
	r := groupedRequest{f: f, c: c}
	samID := r.queue(t, samConn, his, "sam@acme.test") // committed, not chained: no holder runs
	count := func(who string, conn *pgx.Conn, want int) {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM nhi_decision_queue`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s reads %d requests in the queue; want %d", who, n, want)
		}
	}
	count("rita", ritaConn, 0)
	count("the auditor", audra, 0)
	ritaID := r.queue(t, ritaConn, hers, "rita@acme.test")
	var seen []int64
	rows, err := ritaConn.Query(ctx, `SELECT id FROM nhi_decision_queue ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if seen, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != ritaID {
		t.Errorf("rita reads the requests %v; want her own, %d, not sam's %d", seen, ritaID, samID)
	}
	var all int
	if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM nhi_decision_queue`).Scan(&all); err != nil || all != 2 {
		t.Errorf("the owner reads %d requests (%v); want both", all, err)
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", ritaURL, "-c",
			fmt.Sprintf("SELECT count(*) FILTER (WHERE id = %d), count(*) FROM nhi_decision_queue", samID)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "0|1" {
			t.Errorf("psql as rita, sam's request and all she reads: %v %q; want 0|1", err, out)
		}
	} else {
		t.Log("no psql on PATH: the queue was read through pgx only")
	}
	// Her queued requests cleared, she decides as before, in one round
	// trip after the first.
	pgtest.Exec(t, f.Path, `DELETE FROM nhi_decision_queue`)
	st, err := audit.Open(ctx, ritaURL, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batches, _, _ := groupedCounts(t, f.Store)
	n := 0
	for _, it := range c.Items {
		if it.Reviewer == "rita@acme.test" {
			if _, err := campaigns.Decide(ctx, st, "rita", "q", it.ID, campaigns.Decommission, ""); err != nil {
				t.Fatalf("rita deciding %s: %v", it.ID, err)
			}
			n++
		}
	}
	if n < 2 {
		t.Fatalf("rita decided %d items; the test wants two, the second queued", n)
	}
	if after, _, _ := groupedCounts(t, f.Store); after == batches {
		t.Errorf("none of rita's decisions was chained by the group append")
	}
	if rep, err := f.Store.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", rep.Problems, err)
	}
}
