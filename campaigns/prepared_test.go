package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A reviewer's store keeps the campaign and the directory of people
// between decisions (on PostgreSQL, where a decision is prepared before
// the lock), but what another process changes in between is seen by the
// next decision: a new alias that makes the reviewer an identity's
// holder, a campaign closed, another campaign decided in.
func TestDecisionSeesWhatChangedSinceTheLast(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
		other, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()

		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("api", "1"), campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
		// Another process records that rita also goes by alice, who
		// added the deploy key web/4: rita holds it now.
		if _, err := other.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", GitHub: "alice", Aliases: []string{"rita"}},
			{Email: "sam@acme.test", GitHub: "sam"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "4"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("rita deciding a key alice added, once the directory says she is alice: %v; want ErrSelfReview", err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "3"), campaigns.Keep, "still used"); err != nil {
			t.Fatal(err)
		}

		// Another process creates a second campaign and closes the first.
		if _, err := campaigns.Create(ctx, other, "lead", campaigns.Spec{Name: "q2", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"sam"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, other, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("ops", "5"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrClosed) {
			t.Errorf("deciding in a campaign another process closed: %v; want ErrClosed", err)
		}
		o, err := campaigns.Decide(ctx, f.Store, "sam", "q2", keyID("ops", "5"), campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if !o.Assigned || o.Reviewer != "sam@acme.test" {
			t.Errorf("sam's decision in q2: reviewer %q, assigned %v; want sam's own item", o.Reviewer, o.Assigned)
		}
		if it := item(t, get(t, f, "q2"), keyID("ops", "5")); it.Decision != campaigns.Decommission {
			t.Errorf("q2's item after sam's decision: %q", it.Decision)
		}
		verifyOK(t, f)
	})
}

// Decisions at once through one store (a TUI deciding off its event
// loop) share what the store keeps between them, and through stores of
// their own (processes) they queue for the chain: every decision is
// recorded, the item all of them decided shows the conflict, the chain
// verifies.
func TestConcurrentDecisionsShareOneStore(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		var obs []audit.Observation
		for i := range 40 {
			obs = append(obs, key(fmt.Sprintf("r%d", i%7), fmt.Sprint(i), "nobody"))
		}
		f.Snapshot(t, nil, obs...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
		c := get(t, f, "q")
		other, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		const writers = 4
		var wg sync.WaitGroup
		errs := make(chan error, len(c.Items)+writers)
		for w := range writers {
			st := f.Store
			if w%2 == 1 {
				st = other
			}
			wg.Go(func() {
				for i := w; i < len(c.Items); i += writers {
					if _, err := campaigns.Decide(ctx, st, fmt.Sprintf("rev%d", w), "q", c.Items[i].ID, campaigns.Decommission, ""); err != nil {
						errs <- err
					}
				}
				if w != 0 { // rev0 decided item 0 above
					if _, err := campaigns.Decide(ctx, st, fmt.Sprintf("rev%d", w), "q", c.Items[0].ID, campaigns.Decommission, ""); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		c = get(t, f, "q")
		if first := item(t, c, c.Items[0].ID); c.Progress.Decided != len(c.Items) || len(first.History) != writers || !first.Conflict {
			t.Errorf("after concurrent decisions: %+v; the first item decided %d times, conflict %v; want all decided, %d times, a conflict",
				c.Progress, len(first.History), first.Conflict, writers)
		}
		verifyOK(t, f)
	})
}

// The stamp a decision is prepared with is read twice a decision, once
// under the write lock, so it must stay a few index lookups however long
// the log grows. PostgreSQL soon runs a prepared statement with one plan
// for every argument (a generic plan); on a log whose statistics say it
// is thousands of events of a few types, a plan that did not know which
// type it looked for read the log backwards from its newest event until
// it met the last person.set — every event, when there is none. The plan
// PostgreSQL keeps must find each number through an index, for the stamp
// alone and within the read before the lock (pg_stat_statements shows
// each planned six times a connection, five custom plans and the generic
// one it then keeps: NHI_PGTEST_STATEMENTS, internal/pgtest).
func TestDecisionCheckUsesIndexes(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	// A long log of other events, and its statistics, as autovacuum
	// would gather them.
	if err := f.Store.Write(ctx, func(tx *audit.Tx) error {
		for i := range 3000 {
			if _, err := tx.Append(ctx, "lead", "test.filler", map[string]int{"n": i}); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "ANALYZE events")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The stamp alone (under the lock), and within the read before it.
	for _, stmt := range []struct {
		name string
		audit.Stmt
	}{{"the stamp", campaigns.DecisionCheck("q", keyID("api", "1"))}, {"the read before the lock", campaigns.DecisionRead("q", keyID("api", "1"))}} {
		var plan []string
		errExplained := errors.New("explained")
		err := f.Store.Write(ctx, func(tx *audit.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "PREPARE stamp AS "+stmt.Query); err != nil {
				return err
			}
			defer tx.Exec(ctx, "DEALLOCATE stamp")
			args := make([]string, len(stmt.Args))
			for i, a := range stmt.Args {
				args[i] = "'" + strings.ReplaceAll(fmt.Sprint(a), "'", "''") + "'"
			}
			rows, err := tx.Query(ctx, "EXPLAIN EXECUTE stamp("+strings.Join(args, ", ")+")")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return errExplained // nothing to keep
		})
		if !errors.Is(err, errExplained) {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "events_pkey") || strings.Contains(text, "Seq Scan on events") {
			t.Errorf("%s: its generic plan reads the log in order of its events, not through an index on type:\n%s", stmt.name, text)
		}
		if !strings.Contains(text, "events_type") || !strings.Contains(text, "events_identity") {
			t.Errorf("%s: its generic plan does not find the last person.set and owner.set through their indexes:\n%s", stmt.name, text)
		}
	}
}
