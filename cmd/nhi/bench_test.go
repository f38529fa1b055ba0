package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
	"github.com/nhi-audit/nhi/campaigns"
)

// BenchmarkIdentitiesJSON100k runs `nhi identities --json` over 100,000
// identities, as a user would, and reports the process's peak resident
// memory (issue 15: 634 MB; target ≤ 150 MB). The output goes to a pipe
// that is read and dropped.
func BenchmarkIdentitiesJSON100k(b *testing.B) { benchIdentitiesJSON(b, 100_000) }

// BenchmarkIdentitiesJSON1M is the same over 1,000,000 identities (issue
// 21: streams, ≤ 150 MB).
func BenchmarkIdentitiesJSON1M(b *testing.B) { benchIdentitiesJSON(b, 1_000_000) }

// populatedFile is a new evidence file in b's directory holding the
// audittest population of n identities.
func populatedFile(b testing.TB, n int) string {
	b.Helper()
	db := filepath.Join(b.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), db, audit.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	audittest.Population(b, st, n)
	st.Close()
	return db
}

func benchIdentitiesJSON(b *testing.B, n int) {
	db := populatedFile(b, n)
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

// BenchmarkPrintRemediation100k prints what campaign verify found of a
// campaign nobody reviewed, 100,000 items its no-response rule
// decommissioned, half removed and half still present: each item's
// state is told beside it, and was found by a search of both lists, a
// third of the command's CPU on such a campaign (2026-12-06).
func BenchmarkPrintRemediation100k(b *testing.B) {
	const n = 100_000
	r := &campaigns.Remediation{Campaign: "q", Due: "2026-12-31"}
	for i := range n {
		id := fmt.Sprintf("github:acme:github_deploy_key:repo-%06d/1", i)
		r.ByRule = append(r.ByRule, id)
		if i < n/2 {
			r.Removed = append(r.Removed, id)
		} else {
			r.StillPresent = append(r.StillPresent, id)
		}
	}
	for b.Loop() {
		printRemediation(io.Discard, r)
	}
}
