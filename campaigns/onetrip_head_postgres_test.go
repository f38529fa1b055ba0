package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A decision made in one round trip keeps the log's head in meta, as
// every append does (what nhi verify compares the chain with), and puts
// the two rows back when they are missing, as nhi_append_event does
// (TestServerAppendKeepsTheHead), so a change to how nhi_decide
// appends (docs/team.md weighs doing it in fewer statements) cannot drop
// the head.
func TestDecisionInOneRoundTripKeepsTheHead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	c := create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	st, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trips := 0
	defer campaigns.OneTripDecided(func() { trips++ })()
	recorded := func() (head, length string) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT COALESCE((SELECT value FROM meta WHERE key = 'log_head'), ''),
			COALESCE((SELECT value FROM meta WHERE key = 'log_length'), '')`).Scan(&head, &length); err != nil {
			t.Fatal(err)
		}
		return head, length
	}
	ids := c.Campaign.Count
	if ids < 4 {
		t.Fatalf("%d items; want 4 or more", ids)
	}
	got, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range got.Items[:4] {
		if i == 2 {
			pgtest.Exec(t, f.Path, `DELETE FROM meta WHERE key IN ('log_head', 'log_length')`)
		}
		out, err := campaigns.Decide(ctx, st, "rita", "q", it.ID, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if h, n := recorded(); h != out.Event.Hash || n != fmt.Sprint(out.Event.Seq) {
			t.Errorf("decision %d: event %d, hash %s; meta records head %s, length %s; want the event's", i, out.Event.Seq, out.Event.Hash, h, n)
		}
	}
	// The first reads the campaign and the directory; the rest are made
	// in one round trip, the one after the rows were removed included.
	if trips != 3 {
		t.Errorf("%d decisions made in one round trip; want 3", trips)
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify after the decisions: %v %v", r.Problems, err)
	}
}
