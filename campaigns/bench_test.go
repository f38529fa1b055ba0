package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
	"github.com/nhi-audit/nhi/campaigns"
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
	for b.Loop() {
		n++
		res, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: fmt.Sprintf("c%d", n), Scope: "kind:deploy_key", Due: "2026-12-31", Reviewers: reviewers})
		if err != nil || res.Campaign.Count != 100_000 {
			b.Fatal(err)
		}
	}
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
	var peak float64
	i := 0
	before := audittest.CPUTime()
	for b.Loop() {
		i++
		stop := audittest.HeapPeak()
		res, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: fmt.Sprintf("c%d", i), Scope: "id:*", Due: "2026-12-31", Reviewers: reviewers})
		peak = max(peak, stop())
		if err != nil || res.Campaign.Count != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric((audittest.CPUTime()-before).Seconds()/float64(i), "cpu-s/op")
	b.ReportMetric(peak, "heap-MB")
}
