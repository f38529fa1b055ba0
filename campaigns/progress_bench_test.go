package campaigns_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkList is nhi campaign list over one campaign of 20,000 and of
// 100,000 items, two reviewers, a few decided: what List's progress
// costs an item, in CPU (cpu-ns/item) and in the Go heap it reaches
// above where it started (heap-B/item), at two sizes for the slope
// (issue 21). SQLite's GROUP BY sorted every item to find the groups,
// 1,470–1,800 cpu-ns an item and rising with the count, its sorter's
// memory SQLite's, not the heap's; the items read in key order and
// grouped as they pass take 860–930, flat, and the heap some 22 B an
// item: each row's key, garbage as soon as it is looked up.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			f := bigPopulation(b, n)
			if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1", "r2"}}); err != nil {
				b.Fatal(err)
			}
			if _, err := campaigns.DecideMatching(ctx, f.Store, "r1", "q", "scope:acme/repo-0000*", campaigns.Decommission, "gone", false); err != nil {
				b.Fatal(err)
			}
			var heap uint64
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				stop, before := benchmem.Start(), benchmem.CPUTime()
				b.StartTimer()
				list, err := campaigns.List(ctx, f.Store)
				b.StopTimer()
				cpu += benchmem.CPUTime() - before
				u := stop()
				b.StartTimer()
				if err != nil || len(list) != 1 || list[0].Progress.Total != n || list[0].Progress.Decided == 0 {
					b.Fatalf("list %+v, %v", list, err)
				}
				heap = max(heap, u.PeakHeap-u.BaseHeap)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/item")
			b.ReportMetric(float64(heap)/float64(n), "heap-B/item")
		})
	}
}
