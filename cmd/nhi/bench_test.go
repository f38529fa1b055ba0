package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
)

// BenchmarkIdentitiesJSON100k runs `nhi identities --json` over 100,000
// identities, as a user would, and reports the process's peak resident
// memory (issue 15: 634 MB; target ≤ 150 MB). The output goes to a pipe
// that is read and dropped.
func BenchmarkIdentitiesJSON100k(b *testing.B) { benchIdentitiesJSON(b, 100_000) }

// BenchmarkIdentitiesJSON1M is the same over 1,000,000 identities (issue
// 21: streams, ≤ 150 MB).
func BenchmarkIdentitiesJSON1M(b *testing.B) { benchIdentitiesJSON(b, 1_000_000) }

func benchIdentitiesJSON(b *testing.B, n int) {
	db := filepath.Join(b.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), db, audit.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	audittest.Population(b, st, n)
	st.Close()
	bin := nhiBinary(b)
	var peak int64
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(bin, "identities", "--json", "--db", db)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		for {
			if _, err := out.Read(buf); err != nil {
				break
			}
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)) // KiB on Linux; int32 on 32-bit platforms
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
