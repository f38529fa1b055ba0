package campaigns_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// TestQueueSlotsOnlyOwn: a reviewer may update her backend's slot in the
// queue (each request she queues overwrites it), so what she may write
// there with her own SQL is checked: another reviewer's slot she cannot
// see, let alone change; a row she inserts in his name and with his
// backend's pid is hers, of her backend; the holder's marks (done, the
// event) and who queued it (role, backend) she may not set, even in her
// own slot; and a change she makes to her request is a new request, with
// a new id, checked again by the holder. His request is chained as he
// queued it.
func TestQueueSlotsOnlyOwn(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole, samRole := "rita_"+db, "sam_"+db
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}, {Email: "sam@acme.test", Aliases: []string{"sam", samRole}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	c := get(t, f, "q")
	var hers, his []string
	for _, it := range c.Items {
		if it.Reviewer == "rita@acme.test" {
			hers = append(hers, it.ID)
		} else {
			his = append(his, it.ID)
		}
	}
	if len(hers) == 0 || len(his) == 0 {
		t.Fatalf("rita has %d items and sam %d; the test wants one each", len(hers), len(his))
	}
	rita := pgtest.Connect(t, pgtest.LoginRole(t, f.Path, ritaRole, audit.RoleReviewer))
	sam := pgtest.Connect(t, pgtest.LoginRole(t, f.Path, samRole, audit.RoleReviewer))
	r := groupedRequest{f: f, c: c}
	samID := r.queue(t, sam, his[0], "sam@acme.test") // committed, not chained: no holder runs
	samPID := sam.PgConn().PID()
	slot := func(id int64) (requester string, pid uint32, reason string) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT requester, pid, reason FROM nhi_decision_queue WHERE id = ?`, id).Scan(&requester, &pid, &reason); err != nil {
			t.Fatalf("request %d: %v", id, err)
		}
		return requester, pid, reason
	}
	// His slot: not hers to see, so not hers to change.
	for _, q := range []string{
		`UPDATE nhi_decision_queue SET reason = 'rita was here', actor = 'rita@acme.test'`,
		fmt.Sprintf(`UPDATE nhi_decision_queue SET reason = 'rita was here' WHERE pid = %d`, samPID),
		`DELETE FROM nhi_decision_queue`,
	} {
		tag, err := rita.Exec(ctx, q)
		if err == nil && tag.RowsAffected() != 0 {
			t.Errorf("rita: %s: %d rows changed; want none", q, tag.RowsAffected())
		}
	}
	if who, pid, reason := slot(samID); who != samRole || pid != samPID || reason != "" {
		t.Errorf("sam's request after rita's updates: %s, pid %d, reason %q; want his, pid %d, unchanged", who, pid, reason, samPID)
	}
	// A row she inserts in his name, with his backend's pid: hers.
	var forged int64
	if err := rita.QueryRow(ctx, fmt.Sprintf(`INSERT INTO nhi_decision_queue (requester, pid, backend_start, campaign_id, identity_id, actor, create_seq, decision, reason,
			decided_at, via, ev_at, ev_type, payload, rest, variant, n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
		SELECT '%s', %d, now() - interval '1 day', campaign_id, identity_id, actor, create_seq, decision, 'forged', decided_at, via, ev_at, ev_type, payload, rest, variant,
			n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer FROM (VALUES (%d::bigint, '%s', 'sam@acme.test', %d::bigint, 'decommission',
			'2026-10-01T12:00:00Z', 'single', '2026-10-01T12:00:01Z', 'campaign.decide', '{}', '"x"]', 0, 0::bigint, 'pending', '', '', NULL::bigint, 0::bigint, '', 0::bigint, ''))
			AS v(campaign_id, identity_id, actor, create_seq, decision, decided_at, via, ev_at, ev_type, payload, rest, variant, n_conflict, s_decision, s_reason, s_by,
				s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
		RETURNING id`, samRole, samPID, c.ID, his[0], c.CreateSeq)).Scan(&forged); err != nil {
		t.Fatalf("rita inserting a request in sam's name: %v", err)
	}
	if who, pid, _ := slot(forged); who != ritaRole || pid != rita.PgConn().PID() {
		t.Errorf("the request rita inserted naming sam and his pid: %s, pid %d; want hers, pid %d", who, pid, rita.PgConn().PID())
	}
	// The holder's marks and who queued it: not hers to set, even in her
	// own slot.
	for _, q := range []string{
		`UPDATE nhi_decision_queue SET done = true`,
		`UPDATE nhi_decision_queue SET o_seq = 1, o_hash = 'x'`,
		`UPDATE nhi_decision_queue SET refused = true`,
		fmt.Sprintf(`UPDATE nhi_decision_queue SET requester = '%s'`, samRole),
		fmt.Sprintf(`UPDATE nhi_decision_queue SET pid = %d`, samPID),
		`UPDATE nhi_decision_queue SET backend_start = now()`,
	} {
		_, err := rita.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("rita: %s: %v; want permission denied", q, err)
		}
	}
	// Her request changed is a new one, checked anew: in sam's name, for
	// his item, refused.
	var changed int64
	if err := rita.QueryRow(ctx, `UPDATE nhi_decision_queue SET reason = '' RETURNING id`).Scan(&changed); err != nil || changed == forged {
		t.Fatalf("rita changing her request: id %d (%v); want a new id, not %d", changed, err, forged)
	}
	h, err := f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq := r.wait(t, rita, changed); seq != 0 {
		t.Errorf("rita's request in sam's name: chained as event %d; want it refused", seq)
	}
	if seq := r.wait(t, sam, samID); seq != h.Seq+1 {
		t.Errorf("sam's request: event %d; want %d", seq, h.Seq+1)
	}
	var decision, reason, by string
	if err := f.Store.QueryRow(ctx, `SELECT decision, reason, decided_by FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, c.ID, his[0]).Scan(&decision, &reason, &by); err != nil ||
		decision != "decommission" || reason != "" || by != "sam@acme.test" {
		t.Errorf("sam's item: %s %q by %s (%v); want his decommission", decision, reason, by, err)
	}
	if n := historyOf(t, f, his[:1])[his[0]]; n != 1 {
		t.Errorf("sam's item has %d rows of history; want 1", n)
	}
}

// TestHolderMarksOnlyTheRequestItChained: a holder chains the requests
// it checked, as it read them, and marks each by its id. A backend whose
// request a holder checked and is chaining may queue its next request in
// its slot meanwhile (here while the holder is paused, by a trigger on
// the queue that waits for a lock the test holds); the holder still
// chains the request it checked, and does not mark the slot's new
// request with that one's event: the new one is chained by the next
// holder, for its own item.
func TestHolderMarksOnlyTheRequestItChained(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole := "rita_" + db
	people := []audit.Person{{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}, {Email: "sam@acme.test", Aliases: []string{"sam"}}}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: people}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	c := get(t, f, "q")
	var hers, his []string
	for _, it := range c.Items {
		if it.Reviewer == "rita@acme.test" {
			hers = append(hers, it.ID)
		} else {
			his = append(his, it.ID)
		}
	}
	if len(hers) < 2 || len(his) == 0 {
		t.Fatalf("rita has %d items and sam %d; the test wants two and one", len(hers), len(his))
	}
	const pause = 4243 // the test's lock, which the holder waits for after refusing
	pgtest.Exec(t, f.Path, fmt.Sprintf(`CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
		PERFORM pg_advisory_lock(%[1]d); PERFORM pg_advisory_unlock(%[1]d); RETURN NULL; END $$;
		CREATE TRIGGER test_pause AFTER UPDATE ON nhi_decision_queue FOR EACH ROW WHEN (NEW.refused) EXECUTE FUNCTION test_pause();`, pause))
	held := pgtest.Connect(t, f.Path)
	if _, err := held.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(pause)); err != nil {
		t.Fatal(err)
	}
	u := pgtest.LoginRole(t, f.Path, ritaRole, audit.RoleReviewer)
	r := groupedRequest{f: f, c: c}
	holder, other := pgtest.Connect(t, u), pgtest.Connect(t, u)
	before, err := f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := r.queue(t, other, hers[0], "rita@acme.test")
	// The holder's own request refused, so it marks it and pauses, past
	// its check of both.
	refused := r.queue(t, holder, his[0], "rita@acme.test")
	if _, err := holder.Exec(ctx, `SELECT set_config('nhi.queued', $1, false)`, fmt.Sprint(refused)); err != nil {
		t.Fatal(err)
	}
	var (
		got  *int64
		herr error
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		herr = holder.QueryRow(ctx, `SELECT o_seq FROM nhi_group_wait()`).Scan(&got)
		if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock_all()`); herr == nil {
			herr = err
		}
	})
	waitFor(t, f, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND NOT granted)`, int64(pause))
	// The slot's next request, queued while the holder chains the first.
	next := r.queue(t, other, hers[1], "rita@acme.test")
	if _, err := held.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(pause)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if herr != nil || got != nil {
		t.Fatalf("the holder's own request for sam's item: event %v (%v); want it refused", got, herr)
	}
	if seq := r.wait(t, other, next); seq != before.Seq+2 {
		t.Errorf("the slot's next request: event %d; want %d, after the first's (request %d)", seq, before.Seq+2, first)
	}
	for id, n := range historyOf(t, f, []string{hers[0], hers[1], his[0]}) {
		if want := map[bool]int{true: 0, false: 1}[id == his[0]]; n != want {
			t.Errorf("%s has %d rows of history; want %d", id, n, want)
		}
	}
	var seqOf [2]int64
	for i, id := range hers[:2] {
		if err := f.Store.QueryRow(ctx, `SELECT decision_seq FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, c.ID, id).Scan(&seqOf[i]); err != nil {
			t.Fatal(err)
		}
	}
	if seqOf != [2]int64{before.Seq + 1, before.Seq + 2} {
		t.Errorf("rita's two items decided by events %v; want %d and %d", seqOf, before.Seq+1, before.Seq+2)
	}
}
