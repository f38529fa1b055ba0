package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// BenchmarkIdentitiesJSON100k runs `nhi identities --json` over 100,000
// identities, as a user would, and reports the process's peak resident
// memory (issue 15: 634 MB; target ≤ 150 MB). The output goes to a pipe
// that is read and dropped.
func BenchmarkIdentitiesJSON100k(b *testing.B) {
	const n = 100_000
	db := filepath.Join(b.TempDir(), "nhi.db")
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		if err := w.Record(audit.Observation{
			ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, fmt.Sprintf("repo-%05d/%d", i/5, i)), Kind: audit.KindGitHubDeployKey,
			Name: fmt.Sprintf("deploy-key-%d", i), Scope: fmt.Sprintf("acme/repo-%05d", i/5), CreatedAt: &created, RotatedAt: &created,
			Permissions: map[string]string{"contents": "write"}, Attributes: map[string]string{"added_by": fmt.Sprintf("user%d", i%97), "read_only": "false"},
		}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		b.Fatal(err)
	}
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
		peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
