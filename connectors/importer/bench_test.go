package importer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkImport100k reads a CSV of 100,000 identities and records it as
// a snapshot in a new evidence file, as `nhi import` does. Target: ≤ 3 s.
func BenchmarkImport100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("key,kind,name,scope,owner,created_at,last_used_at,expires_at,permissions,team\n")
	for i := range 100_000 {
		fmt.Fprintf(&sb, "K%06d,api_key,service-%d,prod/team-%d,owner%d@acme.com,2024-%02d-%02d,2026-11-30 14:05,%d,\"read:org write:repo\",team-%d\n",
			i, i, i%500, i%300, i%12+1, i%28+1, 46000+i%1000, i%40)
	}
	data := []byte(sb.String())
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := audit.Open(ctx, filepath.Join(b.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0 := benchmem.CPUTime()
		p, err := Parse(data, Options{Source: "vendor", Format: FormatCSV, File: "export.csv"})
		if err != nil {
			b.Fatal(err)
		}
		snap, err := connectors.Snapshot(ctx, st, NewConnector(p, "export.csv"), "bench")
		if err != nil || snap.Total() != 100_000 {
			b.Fatalf("%v, %v", snap, err)
		}
		cpu += benchmem.CPUTime() - cpu0
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	// CPU time (user and system, all threads) is what a loaded machine
	// does not inflate as it does the wall clock.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
