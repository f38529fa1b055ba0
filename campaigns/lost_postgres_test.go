package campaigns_test

import (
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A decision made in one round trip whose connection is lost after it
// was sent is recorded exactly once and reported as made: cut after the
// server committed it and answered, nhi connects again, finds the event
// and reads back what the answer would have said (the item's reviewer,
// the decision it replaced and whose); cut before the server saw it,
// nhi finds nothing and decides again.
func TestDecisionInOneRoundTripConnectionLost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	p, through := pgtest.NewProxy(t, pgtest.Shared(t).TCPURL(pgtest.DatabaseName(f.Path)))
	st, err := audit.Open(ctx, through, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trips := 0
	defer campaigns.OneTripDecided(func() { trips++ })()
	got, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		t.Fatal(err)
	}
	a, b := got.Items[0].ID, got.Items[1].ID
	// The process's first decision reads the campaign and the directory.
	if _, err := campaigns.Decide(ctx, st, "rita", "q", a, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	decided := func(id string) (seqs []int64) {
		t.Helper()
		rows, err := f.Store.Query(ctx, `SELECT seq FROM campaign_decisions WHERE identity_id = ? ORDER BY seq`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, seq)
		}
		return seqs
	}
	for _, c := range []struct {
		id   string
		when pgtest.When
		d    campaigns.Decision
		prev campaigns.Decision
	}{
		{a, pgtest.AfterAnswer, campaigns.Keep, campaigns.Decommission},
		{b, pgtest.BeforeSending, campaigns.Decommission, campaigns.Pending},
		{b, pgtest.AfterAnswer, campaigns.Keep, campaigns.Decommission},
	} {
		before := decided(c.id)
		cut := p.CutNext(c.id, c.when)
		n := trips
		out, err := campaigns.Decide(ctx, st, "rita", "q", c.id, c.d, "still needed by the deploy job")
		select {
		case <-cut.Done:
		default:
			t.Fatalf("%s %s: the connection was not cut", c.id, c.d)
		}
		if err != nil {
			t.Fatalf("%s %s, cut: %v; want it recorded once and reported", c.id, c.d, err)
		}
		if trips != n+1 {
			t.Errorf("%s %s: not decided in one round trip", c.id, c.d)
		}
		after := decided(c.id)
		if len(after) != len(before)+1 || after[len(after)-1] != out.Event.Seq {
			t.Errorf("%s %s: reported as event %d; the item's history went from %v to %v; want the one event added", c.id, c.d, out.Event.Seq, before, after)
		}
		if out.Decision != c.d || out.Reviewer != "rita" || !out.Assigned || out.Previous != c.prev || out.Conflict {
			t.Errorf("%s %s: reported %+v; want %s, reviewer rita, assigned, replacing %q, no conflict", c.id, c.d, out, c.d, c.prev)
		}
		if c.prev != campaigns.Pending && out.PreviousBy != "rita" {
			t.Errorf("%s %s: replaced a decision by %q; want rita's", c.id, c.d, out.PreviousBy)
		}
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}
