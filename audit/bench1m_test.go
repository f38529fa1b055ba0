package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// The million-identity benchmarks (issue 21). Each builds its input once
// through the store and reports, besides the time, the peak heap its
// operation held (heap-MB): what grows with the population shows there.
// Run them one at a time with -benchtime 1x: the input takes minutes.

// BenchmarkSnapshot1M writes a snapshot of 1,000,000 identities to a new
// file, from BeginSnapshot to a committed Finish, the observations made
// as they are recorded. Target: ≤ 20 s.
func BenchmarkSnapshot1M(b *testing.B) {
	const n = 1_000_000
	var (
		peak float64
		cpu  time.Duration
	)
	for b.Loop() {
		b.StopTimer()
		st, err := audit.Open(context.Background(), filepath.Join(b.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // what the fixture left behind is not the operation's
		stop := benchmem.Start()
		before := benchmem.CPUTime()
		b.StartTimer()
		audittest.Population(b, st, n)
		b.StopTimer()
		cpu += benchmem.CPUTime() - before
		peak = max(peak, stop().HeapMB())
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(peak, "heap-MB")
}

// BenchmarkVerify1M verifies a file holding one snapshot of 1,000,000
// identities: the chain, the snapshot's digest and record, and the
// identities table against the observations. Target: ≤ 15 s.
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	st, err := audit.Open(context.Background(), filepath.Join(b.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	audittest.Population(b, st, n)
	benchmem.Loop(b, func(int) {
		r, err := st.Verify(context.Background())
		if err != nil || !r.OK() || r.Snapshots != 1 {
			b.Fatalf("%+v %v", r, err)
		}
	})
}

// BenchmarkReadFile1M reads every identity of the file NHI_BENCH_1M names
// (the million-identity file the TUI's benchmarks read; skipped without
// it), as the TUI's table and `nhi identities --json` do
// (EachTableIdentity) and as `campaign create` over every
// current snapshot does (EachIdentityInSnapshots), with nothing done
// with each identity: the store's share of those commands.
func BenchmarkReadFile1M(b *testing.B) {
	path := os.Getenv("NHI_BENCH_1M")
	if path == "" {
		b.Skip("NHI_BENCH_1M names an evidence file of a million identities (tui's BenchmarkStreamOpenFile1M writes one)")
	}
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// The current snapshots as campaign create picks them: the newest
	// finished one of each source and account (a run left 'running' is
	// not one; nhi demo --repos 192000's file has such a run, the newest).
	snaps, err := st.CurrentSnapshots(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var current []int64
	for _, sn := range snaps {
		current = append(current, sn.ID)
	}
	inSnapshots := func(ctx context.Context, fn func(*audit.Identity) error) error {
		return st.EachIdentityInSnapshots(ctx, current, fn)
	}
	for _, read := range []struct {
		name string
		each func(context.Context, func(*audit.Identity) error) error
	}{{"EachTableIdentity", st.EachTableIdentity}, {"EachIdentityInSnapshots", inSnapshots}} {
		b.Run(read.name, func(b *testing.B) {
			var cpu time.Duration
			n := 0
			for b.Loop() {
				before := benchmem.CPUTime()
				n = 0
				if err := read.each(ctx, func(*audit.Identity) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				cpu += benchmem.CPUTime() - before
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(n), "identities")
		})
	}
}
