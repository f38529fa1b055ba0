package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// writeRows writes n identities in format to w: ten columns, four of
// them timestamps (one an Excel serial date in CSV), permissions, and an
// attribute, as an export from a vendor portal would have.
func writeRows(w io.Writer, n int, format string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if format == FormatJSON {
		bw.WriteString("[\n")
	} else {
		bw.WriteString("key,kind,name,scope,owner,created_at,last_used_at,expires_at,permissions,team\n")
	}
	for i := range n {
		if format == FormatJSON {
			sep := ",\n"
			if i == n-1 {
				sep = "\n]\n"
			}
			fmt.Fprintf(bw, `{"key":"K%07d","kind":"api_key","name":"service-%d","scope":"prod/team-%d","owner":"owner%d@acme.com","created_at":"2024-%02d-%02d","last_used_at":"2026-11-30 14:05","expires_at":"2026-%02d-%02d","permissions":["read:org","write:repo"],"team":"team-%d"}%s`,
				i, i, i%500, i%300, i%12+1, i%28+1, i%12+1, i%28+1, i%40, sep)
			continue
		}
		fmt.Fprintf(bw, "K%07d,api_key,service-%d,prod/team-%d,owner%d@acme.com,2024-%02d-%02d,2026-11-30 14:05,%d,\"read:org write:repo\",team-%d\n",
			i, i, i%500, i%300, i%12+1, i%28+1, 46000+i%1000, i%40)
	}
	return bw.Flush()
}

// benchImport reads a file of n identities in format and records it as a
// snapshot in a new evidence file, as `nhi import` does: the file is
// checked as it is read, and read again as it is recorded. It reports the
// CPU time (user and system, all threads: what a loaded machine does not
// inflate as it does the wall clock) and the peak heap.
func benchImport(b *testing.B, n int, format string) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "export."+format)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeRows(f, n, format); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	var (
		cpu  time.Duration
		peak float64
	)
	for b.Loop() {
		b.StopTimer()
		st, err := audit.Open(ctx, filepath.Join(b.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // what the last run left behind is not this one's
		stop := benchmem.Start()
		cpu0 := benchmem.CPUTime()
		b.StartTimer()
		p, err := ParseFrom(func() (io.ReadCloser, error) { return os.Open(path) }, Options{Source: "vendor", Format: format, File: filepath.Base(path)})
		if err != nil {
			b.Fatal(err)
		}
		snap, err := connectors.Snapshot(ctx, st, NewConnector(p, path), "bench")
		if err != nil || snap.Total() != n {
			b.Fatalf("%v, %v", snap, err)
		}
		b.StopTimer()
		cpu += benchmem.CPUTime() - cpu0
		peak = max(peak, stop().HeapMB())
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(peak, "heap-MB")
}

// BenchmarkImport100k imports a CSV of 100,000 identities. Target: ≤ 3 s.
func BenchmarkImport100k(b *testing.B) { benchImport(b, 100_000, FormatCSV) }

// BenchmarkImport1M imports 1,000,000 identities from CSV and from JSON
// (issue 21: a snapshot of a million ≤ 20 s, nothing built whole in
// memory first). Run it with -benchtime 1x: the files take a while.
func BenchmarkImport1M(b *testing.B) {
	for _, format := range []string{FormatCSV, FormatJSON} {
		b.Run(format, func(b *testing.B) { benchImport(b, 1_000_000, format) })
	}
}
