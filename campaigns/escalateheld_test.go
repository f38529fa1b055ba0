package campaigns_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// escalationFixture is a campaign "q" of n deploy keys with the escalate
// rule, reviewed by alice (whose manager is mia), of which the first
// decided are kept, the clock set past the escalation day.
func escalationFixture(t testing.TB, n, decided int) *fixture {
	t.Helper()
	f := newFixture(t)
	in, err := audit.ReadPeopleCSV(strings.NewReader(`email,name,github,status,left_at,manager,aliases,signing_key
mia@acme.com,Mia,mia,active,,,,
alice@acme.com,Alice,alice,active,,mia@acme.com,alice-smith,
dave@acme.com,Dave,dave,active,,,,
admin@acme.com,Admin,admin,active,,,,
`), "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.SetPeople(ctx, "admin@acme.com", *in, false); err != nil {
		t.Fatal(err)
	}
	obs := make([]audit.Observation, n)
	for i := range obs {
		repo := "open"
		if i < decided {
			repo = "done"
		}
		obs[i] = key(fmt.Sprintf("%s-%04d", repo, i/5), fmt.Sprint(i), "")
	}
	f.Snapshot(t, nil, obs...)
	spec := campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"alice-smith"},
		OnNoResponse: campaigns.OnNoResponseEscalate, FallbackReviewer: "dave"}
	if _, err := campaigns.Create(ctx, f.Store, "admin@acme.com", spec); err != nil {
		t.Fatal(err)
	}
	if decided > 0 {
		if _, err := campaigns.DecideMatching(ctx, f.Store, "alice@acme.com", "q", "scope:acme/done-*", campaigns.Keep, "in use", false); err != nil {
			t.Fatal(err)
		}
	}
	f.Clock.Add(8 * 24 * time.Hour)
	return f
}

// Escalate holds the IDs of the items it moves, not the campaign (issue
// 21: a million identities on a laptop; it read every item's row and
// every owner of the file under the write lock and held them all):
// every so often while it reads, the items it read and still holds are
// counted after a collection. Of 3,000 items 2,500 are decided; the 500
// pending move to alice's manager.
func TestEscalateHoldsTheItemsItMovesAtOnce(t *testing.T) {
	const n, decided = 3000, 2500
	f := escalationFixture(t, n, decided)
	var held benchmem.Held[byte] // each item's ID, as read
	restore := campaigns.EscalateHeld(func(id string) { benchmem.AddString(&held, id) })
	res, err := campaigns.Escalate(ctx, f.Store, "admin@acme.com", "q")
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Moved["mia@acme.com"]) != n-decided || len(res.Stuck) != 0 || held.Given() < n-decided {
		t.Fatalf("moved %d to mia, %d stuck, %d items read; want %d, 0, %d", len(res.Moved["mia@acme.com"]), len(res.Stuck), held.Given(), n-decided, n-decided)
	}
	t.Logf("%d of %d held at most", held.Most(), held.Given())
	if limit := n - decided + 100; held.Most() > limit {
		t.Errorf("held %d of the %d items it read at once; want %d at most (the items it moves)", held.Most(), held.Given(), limit)
	}
}

// BenchmarkEscalate20k is nhi campaign escalate of a campaign of 20,000
// items, every one pending, each moved to its reviewer's manager.
// heap-B/item is how far the heap in use rose above where it stood, per
// item (sampled: benchmem); live-B/item what was still reachable when it
// returned, its result held. The campaign is outside the timer.
func BenchmarkEscalate20k(b *testing.B) {
	const n = 20_000
	var heap, live uint64
	for b.Loop() {
		b.StopTimer()
		f := escalationFixture(b, n, 0)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		base := m.HeapAlloc
		stop := benchmem.Start()
		b.StartTimer()
		res, err := campaigns.Escalate(ctx, f.Store, "admin@acme.com", "q")
		b.StopTimer()
		u := stop()
		if err != nil || len(res.Moved["mia@acme.com"]) != n {
			b.Fatalf("moved %d, %v", len(res.Moved["mia@acme.com"]), err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m)
		runtime.KeepAlive(res)
		heap = max(heap, u.PeakHeap-u.BaseHeap)
		live = max(live, m.HeapAlloc-min(base, m.HeapAlloc))
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/n, "heap-B/item")
	b.ReportMetric(float64(live)/n, "live-B/item")
}
