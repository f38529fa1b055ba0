package campaigns_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// groupedCounts are how many batches the holders chained, how many
// times a decision waited for a holder that chains and how many times
// the write lock was held by a writer not chaining (each a sleep of
// half a millisecond), so far (campaigns' schema step 17).
func groupedCounts(b testing.TB, st interface {
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}) (batches, waits, xwaits int64) {
	b.Helper()
	if err := st.QueryRow(ctx, `SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_batches),
		(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_waits),
		(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_xwaits)`).Scan(&batches, &waits, &xwaits); err != nil {
		b.Fatal(err)
	}
	return batches, waits, xwaits
}

// groupedFailed is how many batches were refused whole because a
// statement of theirs raised.
func groupedFailed(t testing.TB, f *fixture) (n int64) {
	t.Helper()
	if err := f.Store.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_failed`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOnlyNhisDefinerFunctions: the triggers that check who a write
// names let through a write made inside a SECURITY DEFINER function of
// the tables' owner (audit.OwnersDefinerPasses), so every such function
// in the schema is trusted as the owner is. These are the ones nhi puts
// there; a new one fails this test until it is weighed (docs/team.md,
// threat model) and named here.
func TestOnlyNhisDefinerFunctions(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	rows, err := f.Store.Query(ctx, `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p
		WHERE p.prosecdef AND p.pronamespace = current_schema()::regnamespace ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Chains the queued decisions, each checked of the role that
		// queued it (nhi_queue_may).
		"nhi_group_wait(a_only_mine boolean)",
		// Deletes the session role's own request, under the write lock.
		"nhi_group_withdraw(a_pid integer, a_at text, a_actor text, a_type text, a_payloads text[])",
		// Records the owner an offboarding's transfer decided in the
		// same transaction, checked as the triggers check its decision
		// (offboarding's step 2, schema_transfer.go).
		"nhi_transfer_owner(a_campaign bigint, a_item text, a_identity text, a_owner text, ev_at text, ev_actor text, ev_payload text, ev_rest text)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SECURITY DEFINER functions in nhi's schema: %q; want %q", got, want)
	}
}

// groupedRequest is a request a reviewer writes herself into the queue
// (psql) and has chained: its stamps those of the item and the store as
// they are, so only who may write it can refuse it.
type groupedRequest struct {
	f    *fixture
	conn *pgx.Conn // the reviewer's own login role
	c    *campaigns.Campaign
}

// send queues a decommission of item in actor's name and waits for it
// to be chained: the event's number, or 0 when the holder refused it.
func (r groupedRequest) send(t *testing.T, item, actor string) int64 {
	t.Helper()
	return r.wait(t, r.conn, r.queue(t, r.conn, item, actor))
}

// wait has the request id, queued on conn, chained: the event's number,
// or 0 when the holder refused it.
func (r groupedRequest) wait(t *testing.T, conn *pgx.Conn, id int64) int64 {
	t.Helper()
	if _, err := conn.Exec(ctx, `SELECT set_config('nhi.queued', $1, false)`, fmt.Sprint(id)); err != nil {
		t.Fatal(err)
	}
	var got *int64
	err := conn.QueryRow(ctx, `SELECT o_seq FROM nhi_group_wait()`).Scan(&got)
	if _, uerr := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err == nil {
		err = uerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		return 0
	}
	return *got
}

// TestGroupedChainsOnlyWhatTheRoleMayWrite: the owner's function that
// chains the queued decisions writes past the triggers that check who a
// write names, so it checks each request itself, of the role that queued
// it, under the write lock (nhi_queue_may). A reviewer who writes a
// request herself, with its stamps right, has it refused — for another
// reviewer's item, in another's name, for an item whose owner recorded
// at creation, owner now or holder is her, and once the directory says
// she left — and nothing is appended; the same request for an item of
// hers is chained.
func TestGroupedChainsOnlyWhatTheRoleMayWrite(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, append(population(), key("ops", "7", "erin"), key("ops", "8", "erin"))...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole, samRole := "rita_"+db, "sam_"+db
	rita := audit.Person{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}
	sam := audit.Person{Email: "sam@acme.test", Aliases: []string{"sam", samRole}}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita, sam}}, false); err != nil {
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
	if len(hers) < 5 || len(his) == 0 {
		t.Fatalf("rita has %d items and sam %d; the test wants five and one", len(hers), len(his))
	}
	owned, ownedNow, held, plain, later := hers[0], hers[1], hers[2], hers[3], hers[4]
	// Her items as a campaign created while she owned one would have
	// them, as she holds another and as she owns a third now.
	pgtest.Exec(t, f.Path, fmt.Sprintf(`UPDATE campaign_items SET owner = 'rita' WHERE campaign_id = %d AND identity_id = '%s';
		UPDATE campaign_items SET natural_owner = 'rita' WHERE campaign_id = %d AND identity_id = '%s'`, c.ID, owned, c.ID, held))
	if _, err := f.Store.SetOwner(ctx, "admin", ownedNow, "rita"); err != nil {
		t.Fatal(err)
	}
	r := groupedRequest{f: f, conn: pgtest.Connect(t, pgtest.LoginRole(t, f.Path, ritaRole, audit.RoleReviewer)), c: c}
	head := func() int64 {
		t.Helper()
		h, err := f.Store.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h.Seq
	}
	refused := func(what, item, actor string) {
		t.Helper()
		before := head()
		if seq := r.send(t, item, actor); seq != 0 {
			t.Errorf("rita's own request %s: chained as event %d; want it refused", what, seq)
		}
		if after := head(); after != before {
			t.Errorf("rita's own request %s: the log went from %d to %d", what, before, after)
		}
	}
	refused("for sam's item", his[0], ritaRole)
	refused("in sam's name", plain, "sam@acme.test")
	refused("for an item whose owner recorded at creation is her", owned, ritaRole)
	refused("for an item whose owner now is her", ownedNow, ritaRole)
	refused("for an item she holds", held, ritaRole)
	before := head()
	if seq := r.send(t, plain, "rita@acme.test"); seq != before+1 {
		t.Fatalf("rita's own request for her item: event %d; want %d", seq, before+1)
	}
	rita.Status, rita.LeftAt = audit.PersonLeft, "2026-09-30"
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatal(err)
	}
	refused("once she left", later, ritaRole)
}

// TestGroupedChainsOnlyWhatItChecked: the holder chains exactly the
// requests it checked, read once. A request queued while the holder is
// between its checks and its append (here the test pauses it there,
// with a trigger on the queue that waits for a lock the test holds) is
// not chained in that batch unchecked: a reviewer who queues one for
// another reviewer's item at that moment has it refused when its own
// turn comes, and nothing is written for it.
func TestGroupedChainsOnlyWhatItChecked(t *testing.T) {
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
	if len(hers) == 0 || len(his) < 2 {
		t.Fatalf("rita has %d items and sam %d; the test wants one and two", len(hers), len(his))
	}
	const pause = 4242 // the test's lock, which the holder waits for after refusing
	pgtest.Exec(t, f.Path, fmt.Sprintf(`CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
		PERFORM pg_advisory_lock(%[1]d); PERFORM pg_advisory_unlock(%[1]d); RETURN NULL; END $$;
		CREATE TRIGGER test_pause AFTER UPDATE ON nhi_decision_queue FOR EACH STATEMENT EXECUTE FUNCTION test_pause();`, pause))
	held := pgtest.Connect(t, f.Path)
	if _, err := held.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(pause)); err != nil {
		t.Fatal(err)
	}
	u := pgtest.LoginRole(t, f.Path, ritaRole, audit.RoleReviewer)
	r := groupedRequest{f: f, conn: pgtest.Connect(t, u), c: c}
	before, err := f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A request the holder refuses, so it updates the queue and pauses.
	r.queue(t, pgtest.Connect(t, u), his[0], "rita@acme.test")
	mine := r.queue(t, r.conn, hers[0], "rita@acme.test")
	if _, err := r.conn.Exec(ctx, `SELECT set_config('nhi.queued', $1, false)`, fmt.Sprint(mine)); err != nil {
		t.Fatal(err)
	}
	var (
		chained *int64
		werr    error
		wg      sync.WaitGroup
	)
	wg.Go(func() { werr = r.conn.QueryRow(ctx, `SELECT o_seq FROM nhi_group_wait()`).Scan(&chained) })
	waitFor(t, f, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND NOT granted)`, int64(pause))
	late := pgtest.Connect(t, u)
	id := r.queue(t, late, his[1], "rita@acme.test")
	if _, err := held.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(pause)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := r.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); werr == nil {
		werr = err
	}
	if werr != nil || chained == nil || *chained != before.Seq+1 {
		t.Fatalf("rita's request for her item: event %v (%v); want %d", chained, werr, before.Seq+1)
	}
	if seq := r.wait(t, late, id); seq != 0 {
		t.Errorf("rita's request for sam's item, queued while the holder was past its checks: chained as event %d; want it refused", seq)
	}
	if n := historyOf(t, f, his[1:2])[his[1]]; n != 0 {
		t.Errorf("sam's item has %d rows of history; want none", n)
	}
	if h, err := f.Store.LogHead(ctx); err != nil || h.Seq != before.Seq+1 {
		t.Errorf("the log's head %d (%v); want %d", h.Seq, err, before.Seq+1)
	}
}

// holdWriteLock takes the write lock on a connection of the test's own
// and returns the function that releases it.
func holdWriteLock(t *testing.T, f *fixture) (conn *pgx.Conn, release func()) {
	t.Helper()
	conn = pgtest.Connect(t, f.Path)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(audit.ApplicationID)); err != nil {
		t.Fatal(err)
	}
	return conn, func() {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond (a query of one boolean, as the owner) until it
// holds.
func waitFor(t *testing.T, f *fixture, cond string, args ...any) {
	t.Helper()
	for {
		var ok bool
		if err := f.Store.QueryRow(ctx, cond, args...).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// historyOf is how many rows of an item's history each item has.
func historyOf(t *testing.T, f *fixture, ids []string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, id := range ids {
		var k int
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM campaign_decisions WHERE identity_id = ?`, id).Scan(&k); err != nil {
			t.Fatal(err)
		}
		n[id] = k
	}
	return n
}

// TestGroupedBatchWithAFailingRequest: a request that passes every check
// but makes a statement of its batch fail (here a trigger the test adds
// on the items' history) does not fail the batch's other decisions, nor
// the holder, nor the holders after it: the batch is refused whole,
// each of its decisions is made the long way, and there only the one
// that fails fails. Every other is recorded once, the chain valid.
func TestGroupedBatchWithAFailingRequest(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	c := get(t, f, "q")
	ids := make([]string, len(c.Items))
	for i, it := range c.Items {
		ids[i] = it.ID
	}
	// The process's first decision reads the campaign and the directory;
	// the others are queued.
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", ids[0], campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	poisoned := ids[3]
	pgtest.Exec(t, f.Path, `CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
		RAISE EXCEPTION 'the test refuses %', NEW.identity_id; END $$;
		CREATE TRIGGER test_refuse BEFORE INSERT ON campaign_decisions FOR EACH ROW
			WHEN (NEW.identity_id = '`+poisoned+`') EXECUTE FUNCTION test_refuse();`)
	failed := groupedFailed(t, f)
	_, release := holdWriteLock(t, f)
	rest := ids[1:]
	errs := make([]error, len(rest))
	var wg sync.WaitGroup
	for i, id := range rest {
		wg.Go(func() { _, errs[i] = campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Decommission, "") })
	}
	// Every one queued before the lock is free: one batch.
	waitFor(t, f, `SELECT count(*) = ? FROM nhi_decision_queue WHERE NOT done`, len(rest))
	release()
	wg.Wait()
	for i, id := range rest {
		if id == poisoned {
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "the test refuses") {
				t.Errorf("the decision the test's trigger refuses: %v; want the trigger's refusal", errs[i])
			}
		} else if errs[i] != nil {
			t.Errorf("%s, in a batch with one that fails: %v", id, errs[i])
		}
	}
	if n := groupedFailed(t, f); n <= failed {
		t.Errorf("no batch failed: the test did not make one fail")
	}
	for id, n := range historyOf(t, f, ids) {
		if want := map[bool]int{true: 0, false: 1}[id == poisoned]; n != want {
			t.Errorf("%s has %d rows of history; want %d", id, n, want)
		}
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}

// TestGroupedAndAloneInterleave: decisions queued for a group append and
// decisions made by nhi_decide, each a turn of the write lock of its own
// (as an older nhi makes them), all waiting for the lock at once, make
// one chain: every decision recorded once, the chain valid.
func TestGroupedAndAloneInterleave(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	c := get(t, f, "q")
	ids := make([]string, len(c.Items))
	for i, it := range c.Items {
		ids[i] = it.ID
	}
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", ids[0], campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	alone := campaigns.DecideAlone(ctx)
	_, release := holdWriteLock(t, f)
	rest := ids[1:]
	errs := make([]error, len(rest))
	var wg sync.WaitGroup
	for i, id := range rest {
		dctx := ctx
		if i%2 == 1 {
			dctx = alone
		}
		wg.Go(func() { _, errs[i] = campaigns.Decide(dctx, f.Store, "rita", "q", id, campaigns.Decommission, "") })
	}
	// The group's requests queued, nhi_decide's callers waiting for the
	// lock itself.
	grouped := (len(rest) + 1) / 2
	waitFor(t, f, `SELECT (SELECT count(*) FROM nhi_decision_queue WHERE NOT done) = ?
		AND (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ? AND objsubid = 1) >= ?`,
		grouped, int64(audit.ApplicationID), len(rest)-grouped)
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", rest[i], err)
		}
	}
	for id, n := range historyOf(t, f, ids) {
		if n != 1 {
			t.Errorf("%s has %d rows of history; want 1", id, n)
		}
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}

// queue writes on conn the request send sends, and commits it: its id.
func (r groupedRequest) queue(t *testing.T, conn *pgx.Conn, item, actor string) int64 {
	t.Helper()
	var (
		decision, reason, by, cur string
		seq                       *int64
		conflict, pseq            int64
	)
	if err := r.f.Store.QueryRow(ctx, `SELECT i.decision, i.reason, i.decided_by, i.decision_seq, i.conflict,
			COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = i.identity_id), ''),
			COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = 'person.set'), 0)
		FROM campaign_items i WHERE i.campaign_id = ? AND i.identity_id = ?`, r.c.ID, item).Scan(&decision, &reason, &by, &seq, &conflict, &cur, &pseq); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := conn.QueryRow(ctx, `INSERT INTO nhi_decision_queue (requester, pid, campaign_id, identity_id, actor, create_seq, decision, reason, decided_at, via,
			ev_at, ev_type, payload, rest, variant, n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
		VALUES ('x', 0, $1, $2, $3, $4, 'decommission', '', '2026-10-01T12:00:00Z', 'single', '2026-10-01T12:00:01Z', 'campaign.decide', '{"lost":true}', '"x"]', 0, 0,
			$5, $6, $7, $8, $9, $10, $11, '') RETURNING id`, r.c.ID, item, actor, r.c.CreateSeq, decision, reason, by, seq, conflict, cur, pseq).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestGroupedLostRequestsNotChained: a request is committed before it is
// chained, so a write whose connection was lost may have left one. Its
// backend gone, the next holder deletes it rather than chain it; its
// backend still running, the write's settling withdraws it
// (nhi_group_withdraw, before it looks in the log) and no holder chains
// it after. Either way only the requests of running backends, not
// withdrawn, are chained.
func TestGroupedLostRequestsNotChained(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole := "rita_" + db
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test"}})
	c := get(t, f, "q")
	u := pgtest.LoginRole(t, f.Path, ritaRole, audit.RoleReviewer)
	r := groupedRequest{f: f, conn: pgtest.Connect(t, u), c: c}
	ids := make([]string, len(c.Items))
	for i, it := range c.Items {
		ids[i] = it.ID
	}
	queued := func() (n int) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM nhi_decision_queue`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A backend that queued and ended (its connection lost): not chained.
	gone := pgtest.Connect(t, u)
	r.queue(t, gone, ids[0], "rita@acme.test")
	var ended bool
	if err := f.Store.QueryRow(ctx, `SELECT pg_terminate_backend(?, 5000)`, int64(gone.PgConn().PID())).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending the backend: %v %v", ended, err)
	}
	h, err := f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq := r.send(t, ids[1], "rita@acme.test"); seq != h.Seq+1 {
		t.Fatalf("the request after: event %d; want %d", seq, h.Seq+1)
	}
	if n := historyOf(t, f, ids[:1])[ids[0]]; n != 0 || queued() != 0 {
		t.Errorf("the request of a backend that ended: chained %d times, %d requests left queued; want neither", n, queued())
	}
	// A backend that still runs, its request withdrawn by the settling
	// of its write: not chained.
	lost := pgtest.Connect(t, u)
	r.queue(t, lost, ids[2], "rita@acme.test")
	var withdrawn int64
	if err := r.conn.QueryRow(ctx, `SELECT nhi_group_withdraw($1, '2026-10-01T12:00:01Z', 'rita@acme.test', 'campaign.decide', ARRAY['{"lost":true}'])`,
		int32(lost.PgConn().PID())).Scan(&withdrawn); err != nil || withdrawn != 1 {
		t.Fatalf("withdrawing the request: %d (%v); want 1", withdrawn, err)
	}
	h, err = f.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq := r.send(t, ids[3], "rita@acme.test"); seq != h.Seq+1 {
		t.Fatalf("the request after: event %d; want %d", seq, h.Seq+1)
	}
	if n := historyOf(t, f, ids[2:3])[ids[2]]; n != 0 || queued() != 0 {
		t.Errorf("a withdrawn request: chained %d times, %d requests left queued; want neither", n, queued())
	}
	// Not withdrawn, its backend running: chained by the next holder.
	r.queue(t, lost, ids[4], "rita@acme.test")
	r.send(t, ids[5], "rita@acme.test")
	if n := historyOf(t, f, ids[4:5])[ids[4]]; n != 1 {
		t.Errorf("a request of a running backend, not withdrawn: chained %d times; want once", n)
	}
}

// TestGroupedDecisionTerminatedWhileWaiting: a decision whose request
// was queued and committed, its backend then ended
// (pg_terminate_backend) while it waited for a holder, is recorded
// exactly once, and the command says so: the settling of the lost write
// withdraws the request before it looks in the log, finds it not
// recorded and decides again.
func TestGroupedDecisionTerminatedWhileWaiting(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	c := get(t, f, "q")
	st, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := campaigns.Decide(ctx, st, "rita", "q", c.Items[0].ID, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	id := c.Items[1].ID
	conn, release := holdWriteLock(t, f)
	// The holder's sign too, so the decision waits on it.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, 1)`, int32(audit.ApplicationID)); err != nil {
		t.Fatal(err)
	}
	var (
		out  *campaigns.Outcome
		derr error
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		out, derr = campaigns.Decide(ctx, st, "rita", "q", id, campaigns.Keep, "still needed by the deploy job")
	})
	waitFor(t, f, `SELECT EXISTS (SELECT 1 FROM nhi_decision_queue q JOIN pg_locks l ON l.pid = q.pid
		WHERE q.identity_id = ? AND l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 2)`, id)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM nhi_decision_queue WHERE identity_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, 1)`, int32(audit.ApplicationID)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if derr != nil {
		t.Fatalf("the decision whose backend was ended: %v; want it recorded once and reported", derr)
	}
	if n := historyOf(t, f, []string{id})[id]; n != 1 || out.Decision != campaigns.Keep {
		t.Errorf("reported %+v; the item has %d rows of history; want the keep recorded once", out, n)
	}
	var left int
	if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM nhi_decision_queue`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d requests left queued (%v)", left, err)
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}

// TestGroupedRoleNamedInCapitals: the holder finds the role that queued
// a request by its name as the server keeps it (quoted), so a reviewer
// whose login role has capitals has her decisions chained by the group
// append, not refused there and made the long way.
func TestGroupedRoleNamedInCapitals(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	role := "Rita_" + pgtest.DatabaseName(f.Path)
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{{Email: "rita@acme.test", Aliases: []string{"rita", role}}}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test"}})
	c := get(t, f, "q")
	st, err := audit.Open(ctx, pgtest.LoginRole(t, f.Path, role, audit.RoleReviewer), audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trips := 0
	defer campaigns.OneTripDecided(func() { trips++ })()
	for _, it := range c.Items[:3] {
		if _, err := campaigns.Decide(ctx, st, role, "q", it.ID, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	if trips != 2 {
		t.Errorf("%d of the two decisions after the first chained by the group append; want both", trips)
	}
}
