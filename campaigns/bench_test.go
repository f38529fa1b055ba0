package campaigns_test

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/benchmem"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

func bigPopulation(b *testing.B, n int) *fixture {
	f := newFixture(b)
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
	}
	f.Snapshot(b, nil, obs...)
	return f
}

// BenchmarkCreate100k freezes a campaign over 100,000 identities: scope
// evaluation, findings, assignment, digest and the insert, in one op.
func BenchmarkCreate100k(b *testing.B) {
	f := bigPopulation(b, 100_000)
	reviewers := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"}
	n := 0
	b.ReportAllocs()
	before := benchmem.CPUTime()
	for b.Loop() {
		n++
		res, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: fmt.Sprintf("c%d", n), Scope: "kind:deploy_key", Due: "2026-12-31", Reviewers: reviewers})
		if err != nil || res.Campaign.Count != 100_000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric((benchmem.CPUTime()-before).Seconds()/float64(n), "cpu-s/op")
}

// BenchmarkDecide1000 records 1,000 single decisions (one transaction and
// one event each) in a campaign of 100,000 items; ns/op is per 1,000.
func BenchmarkDecide1000(b *testing.B) {
	f := bigPopulation(b, 100_000)
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1", "r2"}}); err != nil {
		b.Fatal(err)
	}
	c, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		b.Fatal(err)
	}
	next := 0
	b.ReportAllocs()
	for b.Loop() {
		for range 1000 {
			id := c.Items[next%len(c.Items)].ID
			next++
			if _, err := campaigns.Decide(ctx, f.Store, "rev", "q", id, campaigns.Decommission, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBulkDecide100k decides every item of a 100,000-item campaign
// with one bulk decision (one event).
func BenchmarkBulkDecide100k(b *testing.B) {
	f := bigPopulation(b, 100_000)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		n++
		name := fmt.Sprintf("c%d", n)
		if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		o, err := campaigns.DecideMatching(ctx, f.Store, "rev", name, "kind:deploy_key", campaigns.Decommission, "bulk", false)
		if err != nil || len(o.Items) != 100_000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkClose100k is what nhi campaign close does to a campaign of
// 100,000 undecided items: the preview it shows before asking (counts and
// the first ten), then the close, which makes all of them no-response.
// Creating the campaign is outside the timer.
func BenchmarkClose100k(b *testing.B) {
	f := bigPopulation(b, 100_000)
	n := 0
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		n++
		name := fmt.Sprintf("c%d", n)
		if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}}); err != nil {
			b.Fatal(err)
		}
		before := benchmem.CPUTime()
		b.StartTimer()
		p, err := campaigns.PreviewClose(ctx, f.Store, name, 10)
		if err != nil || p.Undecided != 100_000 || len(p.First) != 10 {
			b.Fatal(err)
		}
		res, err := campaigns.Close(ctx, f.Store, "closer", name)
		if err != nil || res.NoResponse != 100_000 {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += benchmem.CPUTime() - before
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
}

// BenchmarkIdentitiesWithExceptions20k reads every identity live (the
// TUI's load) when a closed campaign kept all 20,000 of them with
// findings: 20,000 standing exceptions, read for the exception-expired
// rule. "none" is the same read with no campaign, for comparison.
func BenchmarkIdentitiesWithExceptions20k(b *testing.B) {
	const n = 20_000
	for _, withCampaign := range []bool{false, true} {
		name := "none"
		if withCampaign {
			name = "20k-exceptions"
		}
		b.Run(name, func(b *testing.B) {
			f := bigPopulation(b, n)
			if withCampaign {
				if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}}); err != nil {
					b.Fatal(err)
				}
				if _, err := campaigns.DecideMatching(ctx, f.Store, "rev", "q", "id:*", campaigns.Keep, "accepted", false); err != nil {
					b.Fatal(err)
				}
				if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				ids, err := f.Store.Identities(ctx)
				if err != nil || len(ids) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreate1M freezes a campaign over every one of 1,000,000
// identities (issue 21; target ≤ 20 s) and reports the peak heap it held
// (heap-MB): the population goes from the store's cursor to the table in
// batches, so that figure stays flat as the population grows.
func BenchmarkCreate1M(b *testing.B) {
	const n = 1_000_000
	f := newFixture(b)
	audittest.Population(b, f.Store, n)
	reviewers := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"}
	benchmem.Loop(b, func(turn int) {
		res, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: fmt.Sprintf("c%d", turn), Scope: "id:*", Due: "2026-12-31", Reviewers: reviewers})
		if err != nil || res.Campaign.Count != n {
			b.Fatal(err)
		}
	})
}

// BenchmarkConcurrentDecisions is 40 reviewers deciding at once, 250
// decisions each, every reviewer with a store (a connection pool) of its
// own as a process would have, on each engine. Each reviewer first opens
// the campaign, which readies their store as the TUI does then
// (PrepareToDecide; not timed). One op is all 10,000
// decisions; it reports the 95th percentile of one decision's latency,
// and the CPU time of one decision in this process (cpu-µs/decision)
// and, on PostgreSQL, in the server's (server-cpu-µs/decision) — the fair
// figures on a loaded machine — and fails on any error surfaced, any
// decision lost or a chain that does not verify. postgres-reviewers
// connects each writer as its own reviewer role, as a team does
// (docs/team.md), and postgres-reviewers-paced200 paces them at 200
// decisions a second between them, an open loop (each writer's decisions
// come when due, not when the last returned): about a third of the most
// this 2-core machine sustains, and fifty times what 40 people deciding an
// item every ten seconds would ask; postgres-reviewers-paced500 at 500,
// where the latency a reviewer sees begins to rise towards the closed
// loop's (docs/performance-team.md, "Issue 20"). postgres-locked makes
// every decision the long way, everything read under the write lock, as
// before decisions were prepared outside it. postgres-reviewers-people5000
// is postgres-reviewers in a directory of 5,000 people, just imported;
// postgres-reviewers-listening is postgres-reviewers with each reviewer's
// TUI open, listening for the others' decisions (docs/team.md, "Live").
// Every PostgreSQL run decides by the group append (docs/team.md, "One
// turn of the lock for many decisions") and reports the decisions a
// batch and how often a decision waited, and its queue at the end
// (queue-pages, queue-dead-rows, queue-updates-not-HOT), but
// postgres-reviewers-decide, whose decisions each call nhi_decide, a turn of the write lock of its
// own, as an older nhi does (campaigns.DecideAlone): the path as it was.
func BenchmarkConcurrentDecisions(b *testing.B) {
	const writers, each = 40, 250
	for _, run := range []struct {
		name   string
		eng    campaignstest.Engine
		locked bool
		// roles connects each writer as its own login role, granted
		// nhi_reviewer, and named in the directory: the server checks
		// every event's actor and every item a reviewer changes
		// (docs/team.md), as it does for 40 people on 40 laptops.
		roles bool
		// pace, when set, is how often each writer decides: its k-th
		// decision is due at start + k·pace (writers staggered over one
		// pace) and its latency runs from when it was due, so a writer
		// that falls behind counts its wait (no coordinated omission).
		// Unpaced, each writer decides as soon as its last decision
		// returns: a closed loop, whose latency is 40 ÷ throughput.
		pace time.Duration
		// others is how many people the directory holds besides the
		// reviewers.
		others int
		// niced runs the writers at nice 10 while they decide, so the
		// server's backends have the cores first, as when the 40 are
		// on laptops of their own and only the server is here.
		niced bool
		// listening has each writer's store watch the log as its TUI
		// does (Store.WatchEvents), taking a notice at most every
		// audit.WatchGap, while the writers decide.
		listening bool
		// rereading has each listening TUI read again, after each
		// notice, what the TUI reads when the log's head moves
		// (tui/watch.go, headSeen): the campaign's items as the
		// reviewer sees them, the campaigns' progress, and which rows
		// the events since may have changed.
		rereading bool
		// alone makes each decision call nhi_decide
		// (campaigns.DecideAlone), where it is queued for a group append.
		alone bool
	}{{"sqlite", campaignstest.SQLite, false, false, 0, 0, false, false, false, false}, {"postgres", campaignstest.Postgres, false, false, 0, 0, false, false, false, false},
		{"postgres-reviewers", campaignstest.Postgres, false, true, 0, 0, false, false, false, false},
		{"postgres-reviewers-decide", campaignstest.Postgres, false, true, 0, 0, false, false, false, true},
		{"postgres-reviewers-listening", campaignstest.Postgres, false, true, 0, 0, false, true, false, false},
		{"postgres-reviewers-tuis", campaignstest.Postgres, false, true, 0, 0, false, true, true, false},
		{"postgres-reviewers-niced", campaignstest.Postgres, false, true, 0, 0, true, false, false, false},
		{"postgres-reviewers-paced200", campaignstest.Postgres, false, true, 200 * time.Millisecond, 0, false, false, false, false},
		{"postgres-reviewers-paced500", campaignstest.Postgres, false, true, 80 * time.Millisecond, 0, false, false, false, false},
		{"postgres-locked", campaignstest.Postgres, true, false, 0, 0, false, false, false, false},
		{"postgres-reviewers-people5000", campaignstest.Postgres, false, true, 0, 5000 - writers, false, false, false, false}} {
		eng := run.eng
		b.Run(run.name, func(b *testing.B) {
			if eng == campaignstest.Postgres && testing.Short() {
				b.Skip("-short: runs against a real PostgreSQL server")
			}
			if run.locked {
				defer campaigns.DecideLocked()()
			}
			f := campaignstest.NewOn(b, eng, "2026-10-01T12:00:00Z")
			obs := make([]audit.Observation, writers*each)
			for i := range obs {
				obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
			}
			f.Snapshot(b, nil, obs...)
			reviewers := make([]string, writers)
			for w := range reviewers {
				reviewers[w] = fmt.Sprint("r", w)
			}
			urls := make([]string, writers)
			for w := range urls {
				urls[w] = f.Path
			}
			if run.roles {
				urls = reviewerRoles(b, f, reviewers)
			}
			addPeople(b, f, run.others)
			ctx := ctx
			if run.alone {
				ctx = campaigns.DecideAlone(ctx)
			}
			grouped := eng == campaignstest.Postgres && !run.alone && !run.locked
			stores := make([]*audit.Store, writers)
			for w := range stores {
				st, err := audit.Open(ctx, urls[w], audit.OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				stores[w] = st
			}
			var open atomic.Pointer[string] // the campaign the TUIs have open
			var rereads atomic.Int64
			if run.listening {
				var reread func(w int, since int64) (int64, error)
				if run.rereading {
					tuis := make([]*tuiReads, writers)
					reread = func(w int, since int64) (int64, error) {
						name := open.Load()
						if name == nil {
							return 0, nil
						}
						if tuis[w] == nil || tuis[w].campaign != *name {
							tuis[w] = &tuiReads{st: stores[w], campaign: *name, reviewer: reviewers[w]}
						}
						rereads.Add(1)
						return tuis[w].read(since)
					}
				}
				defer watchLikeTUIs(b, stores, reread)()
			}
			var p95, cpu, serverCPU, wall time.Duration
			var batches, waits, xwaits int64
			serverTime := func() time.Duration {
				if eng != campaignstest.Postgres {
					return 0
				}
				d, err := pgtest.Shared(b).CPUTime()
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			round := 0
			for b.Loop() {
				round++
				name := fmt.Sprint("q", round)
				b.StopTimer()
				if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: reviewers}); err != nil {
					b.Fatal(err)
				}
				created, err := campaigns.Get(ctx, f.Store, name)
				if err != nil {
					b.Fatal(err)
				}
				// Each writer decides the items assigned to it, as a
				// reviewer can (the server refuses the others').
				byReviewer := map[string][]string{}
				for _, it := range created.Items {
					byReviewer[it.Reviewer] = append(byReviewer[it.Reviewer], it.ID)
				}
				if len(byReviewer) != writers {
					b.Fatalf("items assigned to %d reviewers, want %d", len(byReviewer), writers)
				}
				// Writer w is reviewer w: named as given, or as the
				// person the directory resolves the name to.
				assigned := make([][]string, writers)
				for w, r := range reviewers {
					assigned[w] = byReviewer[r]
					if assigned[w] == nil {
						assigned[w] = byReviewer[r+"@acme.test"]
					}
					if len(assigned[w]) == 0 {
						b.Fatalf("no items assigned to %s", r)
					}
				}
				// Each reviewer opens the campaign first, as in the TUI,
				// which readies their store then (PrepareToDecide).
				for w := range writers {
					if err := campaigns.PrepareToDecide(ctx, stores[w], reviewers[w], name, assigned[w][0]); err != nil {
						b.Fatal(err)
					}
				}
				var restore func() bool
				if run.niced {
					var ok bool
					if restore, ok = yieldCPU(10); !ok {
						b.Skip("cannot lower this process's priority here")
					}
				}
				open.Store(&name)
				var batches0, waits0, xwaits0 int64
				if grouped {
					batches0, waits0, xwaits0 = groupedCounts(b, f.Store)
				}
				b.StartTimer()
				cpuBefore, serverBefore := benchmem.CPUTime(), serverTime()
				latencies := make([]time.Duration, 0, len(created.Items))
				var latMu sync.Mutex
				var wg sync.WaitGroup
				var errs atomic.Int64
				var first atomic.Value
				begin := time.Now()
				for w := range writers {
					wg.Go(func() {
						mine := make([]time.Duration, 0, len(assigned[w]))
						for k, id := range assigned[w] {
							start := time.Now()
							if run.pace > 0 {
								start = begin.Add(time.Duration(k)*run.pace + time.Duration(w)*run.pace/writers)
								time.Sleep(time.Until(start))
							}
							if _, err := campaigns.Decide(ctx, stores[w], reviewers[w], name, id, campaigns.Decommission, ""); err != nil {
								errs.Add(1)
								first.CompareAndSwap(nil, err)
							}
							mine = append(mine, time.Since(start))
						}
						latMu.Lock()
						latencies = append(latencies, mine...)
						latMu.Unlock()
					})
				}
				wg.Wait()
				wall += time.Since(begin)
				b.StopTimer()
				if grouped {
					n, w, x := groupedCounts(b, f.Store)
					batches, waits, xwaits = batches+n-batches0, waits+w-waits0, xwaits+x-xwaits0
				}
				// Only a privileged process may raise its priority again.
				if restore != nil && !restore() {
					b.Fatal("left at nice 10: raising a priority needs CAP_SYS_NICE")
				}
				cpu += benchmem.CPUTime() - cpuBefore
				serverCPU += serverTime() - serverBefore
				if n := errs.Load(); n > 0 {
					b.Fatalf("%d decisions failed; the first: %v", n, first.Load())
				}
				c, err := campaigns.Get(ctx, f.Store, name)
				if err != nil {
					b.Fatal(err)
				}
				if c.Progress.Decided != writers*each {
					b.Fatalf("%d of %d decisions recorded", c.Progress.Decided, writers*each)
				}
				if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
					b.Fatalf("the chain after concurrent decisions: %v %v", r.Problems, err)
				}
				open.Store(nil)
				slices.Sort(latencies)
				p95 = max(p95, latencies[len(latencies)*95/100])
				b.StartTimer()
			}
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms/decision")
			decisions := float64(round * writers * each)
			if grouped {
				b.ReportMetric(decisions/float64(batches), "decisions/batch")
				b.ReportMetric(float64(waits)/decisions, "waits/decision")
				b.ReportMetric(float64(xwaits)/decisions, "lock-waits/decision")
			}
			b.ReportMetric(decisions/wall.Seconds(), "decisions/s")
			b.ReportMetric(float64(cpu.Microseconds())/decisions, "cpu-µs/decision")
			if eng == campaignstest.Postgres {
				b.ReportMetric(float64(serverCPU.Microseconds())/decisions, "server-cpu-µs/decision")
			}
			if run.rereading {
				b.ReportMetric(float64(rereads.Load())/float64(round), "rereads/op")
			}
			if grouped {
				// The group append's queue as the run left it: its pages,
				// its dead row versions and its updates that were not HOT
				// (a new version on another page), as the statistics last
				// counted them (a second behind at most).
				var pages, dead int64
				if err := f.Store.QueryRow(ctx, `SELECT pg_relation_size('nhi_decision_queue') / current_setting('block_size')::int,
					pg_stat_get_dead_tuples('nhi_decision_queue'::regclass)`).Scan(&pages, &dead); err != nil {
					b.Fatal(err)
				}
				var upd, hot int64
				if err := f.Store.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'nhi_decision_queue'`).Scan(&upd, &hot); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(pages), "queue-pages")
				b.ReportMetric(float64(dead), "queue-dead-rows")
				b.ReportMetric(float64(upd-hot), "queue-updates-not-HOT")
			}
		})
	}
}

// watchLikeTUIs has each store watch the log as a TUI open on it does:
// it takes a notice, then waits audit.WatchGap (the TUI's liveGap)
// before it takes the next. When reread is not nil, a notice of a head
// that moved starts reread(w, head seen before) for store w, off the
// watch, as the TUI's headSeen starts its reads: one at a time, and one
// more, from the first head not read, if the head moved while it ran
// (tui/watch.go, watchState.reading); reread returns the head it read
// to, and a notice of a head up to it is news already read. Otherwise
// what is measured is what listening costs. It returns once every watch
// listens; what it returns ends them, and fails the benchmark if a
// reread did.
func watchLikeTUIs(b *testing.B, stores []*audit.Store, reread func(w int, since int64) (int64, error)) (stop func()) {
	b.Helper()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w, st := range stores {
		ch, err := st.WatchEvents(wctx)
		if err != nil {
			b.Fatal(err)
		}
		if n := <-ch; n != (audit.LogNotice{}) {
			b.Fatalf("the first notice is %+v, want listening", n)
		}
		head, err := st.LogHead(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// seen is the newest head noticed; readTo, the head the reads
		// went up to (the TUI's head is the later of the two).
		var seen, readTo atomic.Int64
		seen.Store(head.Seq)
		// from carries the first head not yet read again to the
		// reader, which reads one at a time.
		from := make(chan int64, 1)
		wg.Go(func() {
			for since := range from {
				if r := readTo.Load(); since < r {
					if seen.Load() <= r {
						continue // read already, by the read before
					}
					since = r
				}
				to, err := reread(w, since)
				if err != nil && wctx.Err() == nil {
					failed.CompareAndSwap(nil, err)
				}
				if to > readTo.Load() {
					readTo.Store(to)
				}
			}
		})
		wg.Go(func() {
			defer close(from)
			for n := range ch {
				if now := max(seen.Load(), readTo.Load()); reread != nil && n.Head > now {
					select {
					case from <- now:
					default: // a read is waiting: it reads from its own, earlier head
					}
					seen.Store(n.Head)
				}
				select {
				case <-time.After(audit.WatchGap):
				case <-wctx.Done():
				}
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
		if err := failed.Load(); err != nil {
			b.Fatalf("a TUI's read after a notice: %v", err)
		}
	}
}

// tuiReads is what one TUI open on a campaign as a reviewer, its table
// on top, reads when the log's head moves (tui/watch.go, readAgain;
// cmd/nhi's campaignReviewer): what kinds of event came, up to which
// head (audit.Store.EventTypesTo); up to that head, the campaign's items
// as the reviewer sees them, brought up to date by the decisions since
// it read them (campaigns.DecisionsSince) or read whole; and which rows
// the events since may have changed (tui/tablepatch.go, rowsSince). The
// campaigns' progress is not read while no view shows it, and the rows
// the TUI would then derive again are not derived.
type tuiReads struct {
	st                 *audit.Store
	campaign, reviewer string
	items              map[string]campaigns.Assignment
	asOf               int64
}

// read reads what came after event since, and returns the head it read
// to.
func (t *tuiReads) read(since int64) (int64, error) {
	types, head, err := t.st.EventTypesTo(ctx, since)
	if err != nil || head == since {
		return head, err
	}
	var changed map[string]campaigns.Decision
	ok := false
	if t.asOf > 0 && t.asOf < head {
		var known []string // the kinds of event up to head, if read from asOf
		if t.asOf == since {
			known = types
		}
		if changed, ok, err = campaigns.DecisionsSince(ctx, t.st, t.campaign, t.asOf, head, known); err != nil {
			return 0, err
		}
	}
	switch {
	case t.asOf >= head:
	case ok && t.items != nil:
		items := maps.Clone(t.items)
		for id, d := range changed {
			a := items[id]
			a.Decision = d
			items[id] = a
		}
		t.items = items
	default:
		if t.items, err = campaigns.Assignments(ctx, t.st, t.campaign, t.reviewer); err != nil {
			return 0, err
		}
	}
	t.asOf = max(t.asOf, head)
	naming := []string{campaigns.EventDecide} // with the owners set, when types has them
	if slices.Contains(types, audit.EventOwnerSet) {
		naming = append(naming, audit.EventOwnerSet)
	}
	return head, t.st.EventsSince(ctx, since, head, naming, func(audit.Event) error { return nil })
}

// reviewerRoles makes each reviewer a person in the directory, known by
// their name and their database role, and a login role granted
// nhi_reviewer (nhi db init's roles), and returns the URLs that connect
// as them.
func reviewerRoles(b *testing.B, f *fixture, reviewers []string) []string {
	b.Helper()
	if _, err := f.Store.InitRoles(ctx); err != nil {
		b.Fatal(err)
	}
	db := pgtest.DatabaseName(f.Path)
	people := make([]audit.Person, len(reviewers))
	urls := make([]string, len(reviewers))
	for w, r := range reviewers {
		role := r + "_" + db // roles are the server's; databases are the test's
		people[w] = audit.Person{Email: r + "@acme.test", Aliases: []string{r, role}}
		urls[w] = pgtest.LoginRole(b, f.Path, role, audit.RoleReviewer)
	}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: people}, false); err != nil {
		b.Fatal(err)
	}
	return urls
}

// addPeople adds n people to the directory, none of them a reviewer: an
// organisation's directory, just imported.
func addPeople(b *testing.B, f *fixture, n int) {
	b.Helper()
	if n == 0 {
		return
	}
	people := make([]audit.Person, n)
	for i := range people {
		people[i] = audit.Person{Email: fmt.Sprintf("p%05d@acme.test", i), GitHub: fmt.Sprintf("p%05d-gh", i), Aliases: []string{fmt.Sprintf("p%05d", i)}}
	}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: people}, false); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStandingExceptions100k reads the standing exceptions, as
// every Store.Refresh and Store.Identity does, from two campaigns of
// 100,000 items, on each engine: the first closed with 500 keeps, 500
// decommissions and the rest no-response, the second open with 50 of
// those keeps decided again. "indexed" is the read (the kept items'
// index, campaigns' step 3); "scan" is the query before it, which grouped
// every decided item by identity.
func BenchmarkStandingExceptions100k(b *testing.B) {
	const n = 100_000
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		b.Run(string(eng), func(b *testing.B) {
			if eng == campaignstest.Postgres && testing.Short() {
				b.Skip("-short: runs against a real PostgreSQL server")
			}
			f := newFixtureOn(b, eng)
			obs := make([]audit.Observation, n)
			for i := range obs {
				obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
			}
			f.Snapshot(b, nil, obs...)
			create := func(name string) {
				if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}}); err != nil {
					b.Fatal(err)
				}
			}
			decide := func(campaign, expr string, d campaigns.Decision) {
				if _, err := campaigns.DecideMatching(ctx, f.Store, "rev", campaign, expr, d, "bench", false); err != nil {
					b.Fatal(err)
				}
			}
			create("c1")
			decide("c1", "scope:acme/repo-000*", campaigns.Keep)
			decide("c1", "scope:acme/repo-001*", campaigns.Decommission)
			if _, err := campaigns.Close(ctx, f.Store, "lead", "c1"); err != nil {
				b.Fatal(err)
			}
			create("c2")
			decide("c2", "scope:acme/repo-0002*", campaigns.Keep)
			for _, run := range []struct {
				name string
				read func(context.Context, *audit.Store) (map[string]audit.Exception, error)
			}{{"indexed", campaigns.StandingExceptions}, {"scan", campaigns.StandingExceptionsByScan}} {
				b.Run(run.name, func(b *testing.B) {
					b.ReportAllocs()
					before := benchmem.CPUTime()
					for b.Loop() {
						xs, err := run.read(ctx, f.Store)
						if err != nil || len(xs) != 500 {
							b.Fatalf("%d exceptions, want 500: %v", len(xs), err)
						}
					}
					b.ReportMetric((benchmem.CPUTime()-before).Seconds()*1000/float64(b.N), "cpu-ms/op")
				})
			}
		})
	}
}

// BenchmarkTUIReread is, one at a time, the reads a TUI open on a
// campaign of 10,000 items (1,000 decided) may make when the log's head
// moves (tuiReads): its items read whole (assignments) or the 200
// decisions since (decisions-since, the kinds of event since known), the
// campaigns' progress (list), and the look at what kinds of event came
// with the rows they may have changed (since); and all of what a TUI
// reads after a notice of those 200, its items known as of the head it
// looks from (tui); in the process's and the server's CPU.
func BenchmarkTUIReread(b *testing.B) {
	const reviewers, items = 40, 10000
	f := campaignstest.NewOn(b, campaignstest.Postgres, "2026-10-01T12:00:00Z")
	obs := make([]audit.Observation, items)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
	}
	f.Snapshot(b, nil, obs...)
	names := make([]string, reviewers)
	for w := range names {
		names[w] = fmt.Sprint("r", w)
	}
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: names}); err != nil {
		b.Fatal(err)
	}
	c, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		b.Fatal(err)
	}
	for i, it := range c.Items {
		if i%10 == 0 {
			if _, err := campaigns.Decide(ctx, f.Store, it.Reviewer, "q", it.ID, campaigns.Decommission, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	head, err := f.Store.LogHead(ctx)
	if err != nil {
		b.Fatal(err)
	}
	since := head.Seq - 200
	st := f.Store
	known, err := campaigns.Assignments(ctx, st, "q", "r1")
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		read func() error
	}{
		{"assignments", func() error { _, err := campaigns.Assignments(ctx, st, "q", "r1"); return err }},
		{"decisions-since", func() error {
			_, _, err := campaigns.DecisionsSince(ctx, st, "q", since, head.Seq, []string{campaigns.EventDecide})
			return err
		}},
		{"list", func() error { _, err := campaigns.List(ctx, st); return err }},
		{"since", func() error {
			if _, _, err := st.EventTypesTo(ctx, since); err != nil {
				return err
			}
			return st.EventsSince(ctx, since, head.Seq, []string{campaigns.EventDecide}, func(audit.Event) error { return nil })
		}},
		{"tui", func() error {
			t := tuiReads{st: st, campaign: "q", reviewer: "r1", items: known, asOf: since}
			_, err := t.read(since)
			return err
		}},
	} {
		b.Run(r.name, func(b *testing.B) {
			before, serverBefore := benchmem.CPUTime(), pgCPU(b)
			for b.Loop() {
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((benchmem.CPUTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64((pgCPU(b)-serverBefore).Microseconds())/float64(b.N), "server-cpu-µs/op")
		})
	}
}

func pgCPU(b *testing.B) time.Duration {
	d, err := pgtest.Shared(b).CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkVerifyDirectory5k is the campaigns' part of nhi verify
// (campaigns.Verify) on a file whose directory of people holds 5,000
// people, 100 of them marked left by a later import: a campaign of 10,000
// deploy keys, 400 of them decided one by one after the directory was
// imported and 200 of those exceptions approved (exception_approval:
// required), then 400 notes and owner changes. Each of verify's passes
// over who acted reads the directory as it stood at each event: the
// leavers' acts, the deciders and the approvers. It reports the CPU time
// of a verify.
func BenchmarkVerifyDirectory5k(b *testing.B) {
	f := bigPopulation(b, 10_000)
	p, err := audit.ParsePolicy([]byte("version: 1\nexception_approval: required\n"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Store.SetPolicy(ctx, "admin", p); err != nil {
		b.Fatal(err)
	}
	addPeople(b, f, 5_000)
	staff := []audit.Person{{Email: "lead@acme.test", Aliases: []string{"lead"}}, {Email: "r1@acme.test", Aliases: []string{"r1"}},
		{Email: "r2@acme.test", Aliases: []string{"r2"}}}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: staff}, false); err != nil {
		b.Fatal(err)
	}
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}}); err != nil {
		b.Fatal(err)
	}
	c, err := campaigns.Get(ctx, f.Store, "q")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 400 {
		id := c.Items[i*7].ID
		if _, err := campaigns.Decide(ctx, f.Store, "r1", "q", id, campaigns.Keep, "still deploys"); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := campaigns.ApproveException(ctx, f.Store, "r2", "q", id); err != nil {
				b.Fatal(err)
			}
		}
	}
	left := make([]audit.Person, 100)
	for i := range left {
		left[i] = audit.Person{Email: fmt.Sprintf("p%05d@acme.test", i*50), GitHub: fmt.Sprintf("p%05d-gh", i*50), Aliases: []string{fmt.Sprintf("p%05d", i*50)},
			Status: audit.PersonLeft, LeftAt: "2026-09-30"}
	}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: left}, false); err != nil {
		b.Fatal(err)
	}
	for i := range 400 {
		id := c.Items[i*7+1].ID
		if _, err := f.Store.AddNotes(ctx, "r2", []string{id}, "asked"); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Store.SetOwner(ctx, "r2", id, "r1@acme.test"); err != nil {
			b.Fatal(err)
		}
	}
	before := benchmem.CPUTime()
	for b.Loop() {
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil || len(problems) > 0 {
			b.Fatalf("%q %v", problems, err)
		}
	}
	b.ReportMetric((benchmem.CPUTime()-before).Seconds()*1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkVerifyRemediation20k is nhi campaign verify of a closed
// campaign of 20,000 items over four accounts, every item decommissioned
// by its no-response rule, against a later snapshot of each account that
// still holds half of them. heap-B/item is how far the heap in use rose
// above where it stood, per item (sampled: benchmem); live-B/item what
// was still reachable after the last account's check, collected first.
// The campaign, its close and the later snapshots are outside the timer.
// With NHI_BENCH_HEAPPROFILE set, a heap profile of that moment is
// written there.
func BenchmarkVerifyRemediation20k(b *testing.B) {
	const accounts, perAccount = 4, 5_000
	f := newFixture(b)
	obs := map[string][]audit.Observation{}
	var names []string
	for a := range accounts {
		account := fmt.Sprintf("acct%d", a)
		names = append(names, account)
		for i := range perAccount {
			o := key(fmt.Sprintf("repo-%04d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
			o.ID = audit.IdentityID("github", account, o.Kind, fmt.Sprintf("repo-%04d/%d", i/5, i))
			obs[account] = append(obs[account], o)
		}
	}
	snapshotAll := func(part int) {
		for _, account := range names {
			f.Source.Account = account
			f.Snapshot(b, nil, obs[account][:len(obs[account])/part]...)
		}
	}
	var live uint64
	defer campaigns.VerifiedAccount(func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		live = max(live, m.HeapAlloc)
		benchmem.WriteHeapProfile(b)
	})()
	var heap, base uint64
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		name := fmt.Sprintf("c%d", n)
		snapshotAll(1)
		spec := campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}, OnNoResponse: campaigns.OnNoResponseDecommission}
		if _, err := campaigns.Create(ctx, f.Store, "lead", spec); err != nil {
			b.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", name); err != nil {
			b.Fatal(err)
		}
		snapshotAll(2)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		base = m.HeapAlloc
		stop := benchmem.Start()
		b.StartTimer()
		rs, err := campaigns.VerifyRemediation(ctx, f.Store, "lead", name)
		b.StopTimer()
		u := stop()
		if err != nil || len(rs) != accounts || len(rs[0].Removed) != perAccount/2 || !rs[0].Recorded {
			b.Fatalf("verified %d accounts, %v", len(rs), err)
		}
		heap = max(heap, u.PeakHeap-u.BaseHeap)
		b.StartTimer()
	}
	const items = accounts * perAccount
	b.ReportMetric(float64(heap)/items, "heap-B/item")
	b.ReportMetric(float64(live-base)/items, "live-B/item")
}

// BenchmarkEachAssignment100k reads the items of a campaign of 100,000
// as the review UI does when it opens the campaign
// (campaigns.EachAssignment), keeping nothing, and reports the CPU time
// of a read.
func BenchmarkEachAssignment100k(b *testing.B) {
	const n = 100_000
	f := bigPopulation(b, n)
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1", "r2"}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := benchmem.CPUTime()
	for b.Loop() {
		got, mine := 0, 0
		err := campaigns.EachAssignment(ctx, f.Store, "q", "r1", func(int) {}, func(id string, a campaigns.Assignment) {
			got++
			if a.Mine {
				mine++
			}
		})
		if err != nil || got != n || mine != n/2 {
			b.Fatal(got, mine, err)
		}
	}
	b.ReportMetric(float64((benchmem.CPUTime()-before).Milliseconds())/float64(b.N), "cpu-ms/op")
}
