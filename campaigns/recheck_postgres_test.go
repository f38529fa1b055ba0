package campaigns_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// On PostgreSQL a decision made in one round trip reads and checks before
// the write lock and takes the lock only to append (campaigns' step 7,
// docs/team.md "The lock only for the append"). What another writer
// commits between that read and the lock — the identity's owner, the
// directory of people, the campaign closed, the same item decided — must
// make it refuse to the long way, which decides as a decision made after
// that write would: the owner refused, the closed campaign refused, the
// second of two decisions on one item recorded as a conflict over the
// first. Each decision here is held between its read and the lock: the
// test holds the lock, lets the decision queue behind it (and, where the
// change is another process's own write, that write first), and only
// then makes the change or lets it through.
func TestDecisionRechecksUnderTheLock(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	open := func() *audit.Store {
		st, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	rita, sam, admin := open(), open(), open()
	people := func(ritaAliases ...string) error {
		_, err := admin.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", GitHub: "rita", Status: audit.PersonActive, Aliases: ritaAliases},
			{Email: "sam@acme.test", GitHub: "sam", Status: audit.PersonActive},
		}}, false)
		return err
	}
	if err := people(); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita", "sam"}})
	// Each store's first decision reads the campaign and the directory;
	// those after it are made in one round trip.
	for _, d := range []struct {
		st    *audit.Store
		actor string
		id    string
	}{{rita, "rita", keyID("api", "2")}, {sam, "sam", secret("web", "SENTRY_DSN").ID}} {
		if _, err := campaigns.Decide(ctx, d.st, d.actor, "q", d.id, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	var trips atomic.Int32
	defer campaigns.OneTripDecided(func() { trips.Add(1) })()

	// behindTheLock holds the write lock while it starts each step in
	// turn, each once the one before it waits for the lock, then runs
	// then (in the lock's transaction) and lets them all through, in the
	// order they queued. It returns what each step returned.
	behindTheLock := func(then func(*audit.Tx) error, steps ...func() error) []error {
		t.Helper()
		done := make([]chan error, len(steps))
		if err := f.Store.Write(ctx, func(tx *audit.Tx) error {
			for i, step := range steps {
				done[i] = make(chan error, 1)
				go func() { done[i] <- step() }()
				waitQueued(t, f.Store, i+1)
			}
			if then != nil {
				return then(tx)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, len(steps))
		for i := range done {
			errs[i] = <-done[i]
		}
		return errs
	}
	decide := func(st *audit.Store, actor, id string, out **campaigns.Outcome) func() error {
		return func() error {
			o, err := campaigns.Decide(ctx, st, actor, "q", id, campaigns.Decommission, "")
			if out != nil {
				*out = o
			}
			return err
		}
	}

	// The identity's owner: rita, after her decision read the item.
	errs := behindTheLock(func(tx *audit.Tx) error {
		_, err := tx.SetOwners(ctx, "lead", []audit.OwnerSet{{Identity: keyID("ops", "6"), Owner: "rita"}})
		return err
	}, decide(rita, "rita", keyID("ops", "6"), nil))
	if !errors.Is(errs[0], campaigns.ErrSelfReview) {
		t.Errorf("rita deciding ops/6, made its owner between her read and the lock: %v; want ErrSelfReview", errs[0])
	}

	// The directory: alice, who added web/4, becomes one of rita's names.
	errs = behindTheLock(nil, func() error { return people("alice") }, decide(rita, "rita", keyID("web", "4"), nil))
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if !errors.Is(errs[1], campaigns.ErrSelfReview) {
		t.Errorf("rita deciding web/4, named alice between her read and the lock: %v; want ErrSelfReview", errs[1])
	}

	// sam's store learns the new directory (the long way).
	if _, err := campaigns.Decide(ctx, sam, "sam", "q", keyID("web", "3"), campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if n := trips.Swap(0); n != 0 {
		t.Errorf("%d decisions made in one round trip before the same item's; want none", n)
	}

	// The same item, two reviewers at once: both read it undecided; the
	// second to take the lock decides after the first, a conflict.
	var first, second *campaigns.Outcome
	errs = behindTheLock(nil, decide(rita, "rita", keyID("ops", "5"), &first), decide(sam, "sam", keyID("ops", "5"), &second))
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if first.PreviousBy != "" || first.Conflict {
		t.Errorf("the first decision of ops/5: previous %q by %q, conflict %v; want none", first.Previous, first.PreviousBy, first.Conflict)
	}
	if second.Previous != campaigns.Decommission || second.PreviousBy != "rita" || !second.Conflict {
		t.Errorf("the second decision of ops/5: previous %q by %q, conflict %v; want rita's decommission, a conflict", second.Previous, second.PreviousBy, second.Conflict)
	}
	if it := item(t, get(t, f, "q"), keyID("ops", "5")); len(it.History) != 2 || !it.Conflict || it.DecidedBy != "sam" {
		t.Errorf("ops/5 after both: decided by %s, conflict %v, history %+v; want sam's, a conflict, two decisions", it.DecidedBy, it.Conflict, it.History)
	}

	if n := trips.Swap(0); n != 1 {
		t.Errorf("%d decisions on ops/5 made in one round trip; want 1, the first", n)
	}

	// The campaign, closed by another process, rita deciding again an
	// item she decided (one close leaves as it was).
	errs = behindTheLock(nil, func() error {
		_, err := campaigns.Close(ctx, admin, "lead", "q")
		return err
	}, func() error {
		_, err := campaigns.Decide(ctx, rita, "rita", "q", keyID("api", "2"), campaigns.Keep, "still used")
		return err
	})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if !errors.Is(errs[1], campaigns.ErrClosed) {
		t.Errorf("rita deciding in q, closed between her read and the lock: %v; want ErrClosed", errs[1])
	}
	if n := trips.Load(); n != 0 {
		t.Errorf("%d decisions made in one round trip in a closed campaign", n)
	}
	verifyOK(t, f)
}

// waitQueued returns once n transactions wait for the write lock (an
// advisory lock of the store's database not granted).
func waitQueued(t *testing.T, st *audit.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		// A decision queued for a group append waits for a holder
		// (nhi_group_wait), trying the lock rather than queueing for it.
		if err := st.QueryRow(ctx, `SELECT count(DISTINCT pid) FROM (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			UNION SELECT pid FROM nhi_decision_queue WHERE NOT done) w`).Scan(&waiting); err != nil {
			t.Error(err)
			return
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d writers wait for the lock after 20 s; want %d", waiting, n)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
