package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A decision made in one round trip commits without waiting for the
// disk, so the write lock is not held through a flush, and is returned
// only once it is on disk (docs/team.md, "Acknowledged means on disk"):
// on a server that flushes to disk and writes nothing of its own, the
// log is flushed as far as it is written whenever a decision returns,
// and the server flushed once a decision, not twice. nhi_decide makes
// its own commit asynchronous (campaigns' step 14), where the pipeline
// did in a statement of its own: without it each decision's commit
// would flush too.
func TestDecisionInOneRoundTripFlushedOnce(t *testing.T) {
	srv := pgtest.StartDurable(t, "autovacuum=off", "wal_level=minimal", "max_wal_senders=0", "wal_writer_delay=10s")
	where, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock := campaignstest.NewClock("2026-10-01T12:00:00Z")
	fixtureStore, err := audit.Open(ctx, where, audit.OpenOptions{Create: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer fixtureStore.Close()
	f := &fixture{Store: fixtureStore, Path: where, Clock: clock,
		Source: audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"}}
	const n = 12
	obs := make([]audit.Observation, n+1)
	for i := range obs {
		obs[i] = key("api", fmt.Sprint(i), "alice")
	}
	f.Snapshot(t, nil, obs...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	got, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		t.Fatal(err)
	}
	fixtureStore.Close()
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	pgtest.WaitNoSessions(t, admin, pgtest.DatabaseName(where))
	if _, err := admin.Exec(ctx, `SELECT pg_stat_reset_shared('wal')`); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, where, audit.OpenOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trips := 0
	defer campaigns.OneTripDecided(func() { trips++ })()
	// The process's first decision reads the campaign and the directory
	// (an append flushed once too); the ones after it are made in one
	// round trip.
	if _, err := campaigns.Decide(ctx, st, "rita", "q", got.Items[0].ID, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	trips = 0
	for _, it := range got.Items[1 : n+1] {
		out, err := campaigns.Decide(ctx, st, "rita", "q", it.ID, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		var flushed, written string
		if err := admin.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn()::text, pg_current_wal_insert_lsn()::text`).Scan(&flushed, &written); err != nil {
			t.Fatal(err)
		}
		if flushed != written {
			t.Fatalf("decision %d acknowledged with the log flushed to %s but written to %s: it could be lost in a crash", out.Event.Seq, flushed, written)
		}
	}
	if trips != n {
		t.Fatalf("%d of %d decisions made in one round trip", trips, n)
	}
	// The server counts a session's flushes when it ends.
	st.Close()
	pgtest.WaitNoSessions(t, admin, pgtest.DatabaseName(where))
	var syncs int64
	if err := admin.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&syncs); err != nil {
		t.Fatal(err)
	}
	// One flush a decision (the one nhi waits for), the first's
	// included, and perhaps the WAL writer's; two a decision if the
	// decision's own commit flushed.
	if syncs < n+1 || syncs >= n+1+n/2 {
		t.Errorf("%d decisions flushed the log %d times; want one flush a decision: the decision's own commit asynchronous, the acknowledgement after a flush", n+1, syncs)
	}
}
