package campaigns_test

import (
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// decisionColumns are the columns of campaign_items a decision changes.
var decisionColumns = regexp.MustCompile(`\b(decision|reason|decided_by|decided_at|decision_seq|conflict)\b`)

// itemsLayout is what campaigns' step 11 on PostgreSQL makes of
// campaign_items: the definition of each of its indexes, and its storage
// options.
func itemsLayout(t *testing.T, st *audit.Store) (indexes []string, options string) {
	t.Helper()
	rows, err := st.Query(ctx, `SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'campaign_items'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.QueryRow(ctx, `SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'campaign_items'::regclass`).Scan(&options); err != nil {
		t.Fatal(err)
	}
	return indexes, options
}

// checkHOTLayout fails unless no index of campaign_items names a column a
// decision changes (its key, expression or predicate: any of them makes
// the update write into every index) and its pages keep room for the new
// versions of their rows.
func checkHOTLayout(t *testing.T, st *audit.Store) {
	t.Helper()
	indexes, options := itemsLayout(t, st)
	for _, def := range indexes {
		if decisionColumns.MatchString(def) {
			t.Errorf("an index of the items names a decision column, so no decision's update is HOT: %s", def)
		}
	}
	if options != "fillfactor=90" {
		t.Errorf("campaign_items' options %q, want fillfactor=90", options)
	}
}

// On PostgreSQL a decision updates its item in place (a HOT update: no
// new entry in the items' indexes, under the write lock): no index of
// the items names a column a decision changes, and the server counts
// every update of the items as HOT.
func TestDecisionUpdatesItemHOT(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	checkHOTLayout(t, f.Store)
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	// A store of its own, closed once it has decided: a backend that
	// ends reports its counts to the server's statistics.
	st, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{keyID("api", "1"), keyID("api", "2"), keyID("web", "3"), keyID("web", "4")}
	for i, id := range ids {
		d := campaigns.Decommission
		if i%2 == 0 {
			d = campaigns.Keep
		}
		if _, err := campaigns.Decide(ctx, st, "rita", "q", id, d, "reviewed"); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	var updated, hot int64
	for range 600 { // the counts arrive once the backends have ended
		if err := f.Store.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'campaign_items'::regclass`).Scan(&updated, &hot); err != nil {
			t.Fatal(err)
		}
		if updated >= int64(len(ids)) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if updated < int64(len(ids)) || hot != updated {
		t.Errorf("campaign_items: %d updates, %d of them HOT; want every one of the %d decisions' HOT", updated, hot, len(ids))
	}
}

// A database the step before left (the kept items indexed by their
// decision, the items' pages full) is upgraded by its owner to the
// layout above, and the exceptions read afterwards are those read
// before.
func TestHOTStepUpgrades(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	f := newFixtureOn(t, campaignstest.Postgres)
	st := f.Store
	people(t, st)
	f.Snapshot(t, nil, population()...)
	if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q1", Scope: "id:*", Due: "2026-10-31",
		Reviewers: []string{"carol@acme.com", "dave@acme.com"}}); err != nil {
		t.Fatal(err)
	}
	api1, web3, web4 := keyID("api", "1"), keyID("web", "3"), keyID("web", "4")
	for _, id := range []string{api1, web3, web4} {
		if _, err := campaigns.Decide(ctx, st, "dave@acme.com", "Q1", id, campaigns.Keep, "reviewed"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Decide(ctx, st, "dave@acme.com", "Q1", web4, campaigns.Decommission, "gone"); err != nil {
		t.Fatal(err)
	}
	standing, err := campaigns.StandingExceptions(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := campaigns.ExceptionIDs(ctx, st, "Q1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{api1, web3}; !slices.Equal(ids, want) {
		t.Fatalf("ExceptionIDs: %v, want %v", ids, want)
	}
	// The campaigns' tables as step 10 left them.
	if err := pgtest.Shared(t).Exec(ctx, pgtest.DatabaseName(f.Path), `DROP INDEX campaign_decisions_kept;
		CREATE INDEX campaign_items_kept ON campaign_items (campaign_id, identity_id) WHERE decision = 'keep' AND findings <> '[]';
		ALTER TABLE campaign_items RESET (fillfactor);
		UPDATE meta SET value = '10' WHERE key = 'schema.campaigns'`); err != nil {
		t.Fatal(err)
	}
	if _, options := itemsLayout(t, st); options != "" {
		t.Fatalf("step 10's items have options %q", options)
	}
	up, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatalf("the owner upgrading: %v", err)
	}
	defer up.Close()
	checkHOTLayout(t, up)
	after, err := campaigns.StandingExceptions(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(after, standing, func(a, b audit.Exception) bool { return a.Until.Equal(b.Until) && a.Lapsed == b.Lapsed }) || len(after) != 2 {
		t.Errorf("standing exceptions after the upgrade:\n%v\nbefore:\n%v", after, standing)
	}
	if got, err := campaigns.ExceptionIDs(ctx, up, "Q1", 0); err != nil || !slices.Equal(got, ids) {
		t.Errorf("ExceptionIDs after the upgrade: %v %v, want %v", got, err, ids)
	}
}
