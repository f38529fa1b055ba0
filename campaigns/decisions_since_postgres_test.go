package campaigns_test

import (
	"maps"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// TestDecisionsSinceKeepsToTheIndex: the decisions since an event are
// read through the history's index by event and each item's key, on the
// plan PostgreSQL keeps for the statement after its fifth run (a generic
// plan, made without the arguments), and never by reading every item of
// the campaign: an open TUI makes that read after each notice while
// reviewers decide, and with "seq > $2" alone the kept plan guessed a
// third of the history and read all the items (4 ms at 10,000 items,
// where the plan for the arguments took 0.5 ms). What the read answers
// is the decisions of that range, and not those after it.
func TestDecisionsSinceKeepsToTheIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	const n = 3000
	f := newFixtureOn(t, campaignstest.Postgres)
	obs := keys(n, "alice")
	f.Snapshot(t, nil, obs...)
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	// A thousand decided in bulk, then three one by one after event
	// since, and one after event upTo.
	if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "q", "scope:acme/repo-00*", campaigns.Decommission, "gone", false); err != nil {
		t.Fatal(err)
	}
	head, err := f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	since := head.Seq
	want := map[string]campaigns.Decision{}
	for i, d := range []campaigns.Decision{campaigns.Keep, campaigns.Decommission, campaigns.Rotate, campaigns.Keep} {
		id := obs[n-1-i].ID
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, d, "reviewed"); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			want[id] = d
		}
	}
	upTo := since + 3
	pgtest.Exec(t, f.Path, "ANALYZE") // as autovacuum leaves the tables
	scans := func() (seq, idx int64) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_user_tables WHERE relid = 'campaign_items'::regclass`).Scan(&seq, &idx); err != nil {
			t.Fatal(err)
		}
		return seq, idx
	}
	seqBefore, idxBefore := scans()

	// A store whose every statement runs on a generic plan, as a TUI's
	// connection does from a statement's sixth run.
	st, err := audit.Open(ctx, f.Path+"&plan_cache_mode=force_generic_plan", audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		got, ok, err := campaigns.DecisionsSince(ctx, st, "q", since, upTo, []string{campaigns.EventDecide})
		if err != nil || !ok || !maps.Equal(got, want) {
			st.Close()
			t.Fatalf("the decisions after event %d up to %d: %v (ok %v) %v, want %v", since, upTo, got, ok, err, want)
		}
	}
	st.Close()
	// The counts arrive once the store's backends have ended.
	seqAfter, idxAfter := scans()
	for i := 0; i < 600 && idxAfter == idxBefore && seqAfter == seqBefore; i++ {
		time.Sleep(50 * time.Millisecond)
		seqAfter, idxAfter = scans()
	}
	if seqAfter != seqBefore {
		t.Errorf("reading the decisions since scanned every item of the campaigns %d times in 6 reads, want none", seqAfter-seqBefore)
	}
	if idxAfter == idxBefore {
		t.Error("the items were not read through their key")
	}
}
