package audit

import (
	"fmt"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/benchmem"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// BenchmarkSnapshot100k writes a snapshot of 100,000 identities to a new
// file, from BeginSnapshot to a committed Finish, on each engine. Targets:
// ≤ 2 s per op on SQLite, ≤ 4 s on PostgreSQL.
func BenchmarkSnapshot100k(b *testing.B) {
	const n = 100_000
	obsv := make([]Observation, n)
	kinds := Kinds
	for i := range obsv {
		k := kinds[i%len(kinds)]
		obsv[i] = obs(fmt.Sprintf("repo-%05d/item-%d", i/5, i), k)
	}
	for _, eng := range []testEngine{{"sqlite"}, {"postgres"}} {
		b.Run(eng.name, func(b *testing.B) {
			if eng.name == "postgres" {
				pgtest.Shared(b)
			}
			// The server's CPU, on PostgreSQL: what COPY saves is mostly its.
			serverTime := func() time.Duration {
				if eng.name != "postgres" {
					return 0
				}
				d, err := pgtest.Shared(b).CPUTime()
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			b.ReportAllocs()
			var cpu, serverCPU time.Duration
			for b.Loop() {
				b.StopTimer()
				s, err := Open(ctx, eng.new(b), OpenOptions{Create: true})
				if err != nil {
					b.Fatal(err)
				}
				before, serverBefore := benchmem.CPUTime(), serverTime()
				b.StartTimer()
				snap := snapshot(b, s, nil, nil, obsv...)
				if snap.Total() != n {
					b.Fatalf("%d identities written", snap.Total())
				}
				b.StopTimer()
				cpu += benchmem.CPUTime() - before
				serverCPU += serverTime() - serverBefore
				s.Close()
				b.StartTimer()
			}
			// CPU time, what a loaded machine does not stretch much.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			if eng.name == "postgres" {
				b.ReportMetric(serverCPU.Seconds()/float64(b.N), "server-cpu-s/op")
			}
		})
	}
}

// BenchmarkIdentities100k reads the current population of 100,000.
func BenchmarkIdentities100k(b *testing.B) {
	s := openNew(b)
	obsv := make([]Observation, 100_000)
	for i := range obsv {
		obsv[i] = obs(fmt.Sprintf("item-%d", i), Kinds[i%len(Kinds)])
	}
	snapshot(b, s, nil, nil, obsv...)
	b.ReportAllocs()
	for b.Loop() {
		ids, err := s.Identities(ctx)
		if err != nil || len(ids) != len(obsv) {
			b.Fatal(len(ids), err)
		}
	}
}

// BenchmarkDBExport100k exports a store of 100,000 identities (one
// snapshot, an owner set) into a new evidence file, from each engine.
// Target: ≤ 10 s per op (issue 20).
func BenchmarkDBExport100k(b *testing.B) {
	const n = 100_000
	obsv := make([]Observation, n)
	for i := range obsv {
		obsv[i] = obs(fmt.Sprintf("repo-%05d/item-%d", i/5, i), Kinds[i%len(Kinds)])
	}
	for _, eng := range []testEngine{{"sqlite"}, {"postgres"}} {
		b.Run(eng.name, func(b *testing.B) {
			if eng.name == "postgres" {
				pgtest.Shared(b)
			}
			s, err := Open(ctx, eng.new(b), OpenOptions{Create: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			snapshot(b, s, nil, nil, obsv...)
			dir := b.TempDir()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				res, err := s.Export(ctx, fmt.Sprintf("%s/export-%d.db", dir, i))
				if err != nil {
					b.Fatal(err)
				}
				if res.Rows["identities"] != n || res.Rows["observations"] != n {
					b.Fatalf("exported %v", res.Rows)
				}
			}
		})
	}
}
