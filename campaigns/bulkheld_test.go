package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// A bulk decision over a large campaign holds a batch of its identities
// and items at a time, and the items it decides, not the campaign
// (issue 21: a million identities on a laptop; it held every identity
// of the campaign's snapshots and every item decoded, 5 KB an
// identity): every so often while it reads, the identities and items it
// read and still holds are counted after a collection, for a filter
// that reads only the frozen identity and for one that reads the
// decisions too, with and without its preview.
func TestBulkDecisionHoldsABatchAtOnce(t *testing.T) {
	const n = 3000
	f := newFixture(t)
	obs := keys(n, "")
	f.Snapshot(t, nil, obs...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}})
	for _, tc := range []struct {
		filter  string
		preview bool
		want    int
	}{
		{"scope:acme/repo-001*", true, 50},
		{"scope:acme/repo-001*", false, 50},
		{"decision:pending reviewer:me scope:acme/repo-002*", false, 50},
	} {
		o, held := decideCounting(t, f, campaigns.MineOnly(ctx), tc.filter, tc.preview)
		if len(o.Items) != tc.want || held.Given() < 2*n {
			t.Fatalf("%s: %d items decided, %d identities and items read; want %d, %d", tc.filter, len(o.Items), held.Given(), tc.want, 2*n)
		}
		// A batch of observations (512) and its items, and the items
		// decided; the campaign read whole is 3,000 of each.
		t.Logf("%s (preview %v): %d of %d held at most", tc.filter, tc.preview, held.Most(), held.Given())
		if limit := 2*512 + tc.want + 100; held.Most() > limit {
			t.Errorf("%s (preview %v) held %d of the %d identities and items it read at once; want %d at most", tc.filter, tc.preview, held.Most(), held.Given(), limit)
		}
	}
}

// A bulk decision's selection is on disk, not in memory (issue 21: at a
// million items it was a map of every ID selected, their masks and
// texts, 518 MB of heap): over a campaign whose every item is decided
// already, 'id:*' selects all of them and decides none, and the IDs of
// the items it judged are held a batch at a time, where the selection
// held each of them until the end.
func TestBulkDecisionHoldsNotItsSelection(t *testing.T) {
	const n = 3000
	f := newFixture(t)
	f.Snapshot(t, nil, keys(n, "")...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}})
	if o, err := campaigns.DecideMatching(ctx, f.Store, "rita", "q", "id:*", campaigns.Keep, "in use", false); err != nil || len(o.Items) != n {
		t.Fatalf("deciding every item first: %v", err)
	}
	for _, filter := range []string{"id:*", "id:* decision:keep"} {
		var held benchmem.Held[byte] // each identity's and item's ID, as read
		restore := campaigns.BulkHeld(func(id string) { benchmem.AddString(&held, id) })
		_, err := campaigns.DecideMatching(campaigns.Preview(ctx), f.Store, "rita", "q", filter, campaigns.Keep, "in use", false)
		restore()
		if !errors.Is(err, campaigns.ErrNothingMatched) {
			t.Fatalf("%s: %v; want nothing matched (every item decided)", filter, err)
		}
		t.Logf("%s: %d of %d held at most", filter, held.Most(), held.Given())
		// A batch of observations and of their items; the selection
		// held whole is the 3,000 items.
		if limit := 2*512 + 100; held.Most() > limit || held.Given() < 2*n {
			t.Errorf("%s held %d of the %d identities and items it read at once; want %d at most", filter, held.Most(), held.Given(), limit)
		}
	}
}

// A bulk decision writes its event and its rows from the items it
// picked, on disk, not from a list of them (issue 21: at a million
// items its write held their IDs, a list of 100 MB, beside the event's
// payload and three copies of it, a Go heap of 591 MB at its peak):
// 'id:*' over 3,000 pending items, listing the first ten as the CLI
// asks (ListFirst), holds a batch of the IDs it read at once, in its
// preview and in the decision, where it held every item it picked.
func TestBulkDecisionHoldsNotTheItemsItWrites(t *testing.T) {
	const n = 3000
	f := newFixture(t)
	f.Snapshot(t, nil, keys(n, "")...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}})
	for _, preview := range []bool{true, false} {
		o, held := decideCounting(t, f, campaigns.ListFirst(ctx, 10), "id:*", preview)
		if o.Decided != n || len(o.Items) != 10 || held.Given() < 3*n {
			t.Fatalf("preview %v: %d items decided, %d listed, %d identities and items read; want %d, 10, %d", preview, o.Decided, len(o.Items), held.Given(), n, 3*n)
		}
		t.Logf("preview %v: %d of %d held at most", preview, held.Most(), held.Given())
		// A batch of observations (512) and its items; the items
		// picked, held whole, are 3,000.
		if limit := 2*512 + 100; held.Most() > limit {
			t.Errorf("preview %v held %d of the %d identities and items it read at once; want %d at most", preview, held.Most(), held.Given(), limit)
		}
	}
	// Every item decided, each once, by one event listing them all.
	ds, err := campaigns.Decisions(ctx, f.Store, "q")
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range ds {
		if d != campaigns.Keep {
			t.Fatalf("%s: %s after the decision; want keep", id, d)
		}
	}
}

// BenchmarkBulkSelect20k is the preview of a bulk decision 'id:*' over a
// campaign of 20,000 items (nhi decide --filter 'id:*' --dry-run): every
// item pending, which it lists (pending), and every item decided
// already, which it selects and decides none of (decided): the
// selection alone. heap-B/item is how far the heap in use rose above
// where it stood, per item (sampled: benchmem). The campaign is outside
// the timer.
func BenchmarkBulkSelect20k(b *testing.B) {
	const n = 20_000
	f := bigPopulation(b, n)
	create(b, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}})
	create(b, f, campaigns.Spec{Name: "done", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}})
	if _, err := campaigns.DecideMatching(ctx, f.Store, "r1", "done", "id:*", campaigns.Keep, "in use", false); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, campaign string
		want           int
	}{{"pending", "q", n}, {"decided", "done", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var heap uint64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				stop := benchmem.Start()
				b.StartTimer()
				o, err := campaigns.DecideMatching(campaigns.Preview(ctx), f.Store, "r1", tc.campaign, "id:*", campaigns.Keep, "in use", false)
				b.StopTimer()
				u := stop()
				if tc.want == 0 && !errors.Is(err, campaigns.ErrNothingMatched) || tc.want > 0 && (err != nil || len(o.Items) != tc.want) {
					b.Fatalf("%v", err)
				}
				heap = max(heap, u.PeakHeap-u.BaseHeap)
				b.StartTimer()
			}
			b.ReportMetric(float64(heap)/n, "heap-B/item")
		})
	}
}

// BenchmarkBulkDecideWrite20k is the decision of a bulk decision 'id:*'
// over a campaign of 20,000 pending items, as the CLI makes it (nhi
// decide --filter 'id:*' --yes, after its preview): listing the first
// ten items (ListFirst), its event listing all of them. heap-B/item is
// how far the heap in use rose above where it stood, per item (sampled:
// benchmem). Each campaign is created outside the timer.
func BenchmarkBulkDecideWrite20k(b *testing.B) {
	const n = 20_000
	f := bigPopulation(b, n)
	var heap uint64
	runs := 0
	for b.Loop() {
		b.StopTimer()
		runs++
		name := fmt.Sprintf("q%d", runs)
		create(b, f, campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1"}})
		runtime.GC()
		stop := benchmem.Start()
		b.StartTimer()
		o, err := campaigns.DecideMatching(campaigns.ListFirst(ctx, 10), f.Store, "r1", name, "id:*", campaigns.Keep, "in use", false)
		b.StopTimer()
		u := stop()
		if err != nil || o.Decided != n {
			b.Fatalf("%v", err)
		}
		heap = max(heap, u.PeakHeap-u.BaseHeap)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/n, "heap-B/item")
}

// A bulk decision whose filter names the kinds it matches
// (filter.RequiredKinds) judges and reads again the items of those kinds
// alone, in its preview and in the decision (issue 21: at a million
// items, kind:github_credential_authorization read every item of every
// kind twice to decide 4% of them): of 3,000 deploy keys and 100
// secrets, the IDs judged and read are the secrets', and it decides
// what judging every item decided. A filter that cannot tell (a not)
// still reads every item. On both engines: the kinds are narrowed in
// SQL.
func TestBulkDecisionByKindReadsThatKindAlone(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		const n, m = 3000, 100
		f := newFixtureOn(t, eng)
		obs := keys(n, "")
		for i := range m {
			obs = append(obs, secret(fmt.Sprintf("repo-%04d", i), "TOKEN"))
		}
		f.Snapshot(t, nil, obs...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}})
		for _, tc := range []struct {
			filter  string
			preview bool
			want    int // items decided
			read    int // IDs judged (an identity's and its item's) and read under the lock
		}{
			{"kind:github_actions_secret", true, m, 3 * m},
			{"kind:actions_secret scope:acme/repo-000*", true, 10, 3 * m},
			{"kind:actions_secret or kind:github_runner", true, m, 3 * m},
			{"-kind:deploy_key", true, m, 3 * (n + m)},
			{"kind:github_actions_secret decision:pending", false, m, 3 * m},
		} {
			o, held := decideCounting(t, f, ctx, tc.filter, tc.preview)
			if len(o.Items) != tc.want || held.Given() != tc.read {
				t.Errorf("%s (preview %v): %d items decided, %d identities and items read; want %d, %d",
					tc.filter, tc.preview, len(o.Items), held.Given(), tc.want, tc.read)
			}
		}
	})
}

// decideCounting decides keep, as rita, on the items of campaign q that
// filter matches (a preview where preview is set), giving the bulkHeld
// hook's count of each identity's and item's ID, as read.
func decideCounting(t *testing.T, f *fixture, c context.Context, filter string, preview bool) (*campaigns.BulkOutcome, *benchmem.Held[byte]) {
	t.Helper()
	held := &benchmem.Held[byte]{}
	restore := campaigns.BulkHeld(func(id string) { benchmem.AddString(held, id) })
	defer restore()
	if preview {
		c = campaigns.Preview(c)
	}
	o, err := campaigns.DecideMatching(c, f.Store, "rita", "q", filter, campaigns.Keep, "in use", false)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	return o, held
}
