package aws_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkOrganisation100 snapshots 100 accounts of 200 users, 300 keys
// and 500 roles each over loopback into a real evidence file, through
// the organisation role. Run with -benchtime 1x. The memory figures are
// the whole process, the fake AWS and its organisation included.
// calls/min compares the requests an account cost with the least the
// authorization details and the credential report allow.
func BenchmarkOrganisation100(b *testing.B) { benchmarkOrganisation(b, 100) }

// BenchmarkOrganisation10 is the same with 10 accounts.
func BenchmarkOrganisation10(b *testing.B) { benchmarkOrganisation(b, 10) }

func benchmarkOrganisation(b *testing.B, accounts int) {
	const users, keys, roles = 200, 300, 500
	org := awstest.Generate(fixedNow, accounts, users, keys, roles)
	runtime.GC()
	for b.Loop() {
		s := serve(b, org)
		st, _ := openStore(b)
		stop := benchmem.Start()
		cpu0 := benchmem.CPUTime()
		start := time.Now()
		ctx := context.Background()
		opts := awsconn.Options{OrgRole: org.RoleName, ReportPoll: time.Millisecond}
		plan, err := awsconn.NewPlan(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		total := 0
		plan.Snapshot(ctx, st, connectors.RunOptions{ToolVersion: "bench"}, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
			if err != nil || snap.Status != audit.SnapshotComplete {
				b.Fatalf("%s: %v %v", c.Account(), snap, err)
			}
			total += snap.Total()
		})
		took := time.Since(start)
		cpu := benchmem.CPUTime() - cpu0
		u := stop()
		heap, sys := u.HeapMB(), u.SysMB()

		// The least an account can cost: the authorization details in
		// pages of 1,000 (users, groups, roles, one policy), ListRoles in
		// pages of 1,000, the report (generate, generate again once it is
		// complete, get), one ListAccessKeys per user (the report cannot
		// show inactive keys; the generated keys are all active, so none
		// costs a GetAccessKeyLastUsed), the OIDC providers (list, get one).
		items := users + 1 + roles + 1 + 1
		least := (items+999)/1000 + (roles+1+999)/1000 + 3 + users + 2
		worst := 0.0
		for _, a := range org.Accounts {
			n := 0
			for action, c := range s.Calls(a.ID) {
				if action != "sts:AssumeRole" && action != "organizations:ListAccounts" && action != "sts:GetCallerIdentity" {
					n += c
				}
			}
			worst = max(worst, float64(n)/float64(least))
		}
		b.ReportMetric(took.Seconds(), "s/snapshot")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.ReportMetric(float64(total), "identities")
		b.ReportMetric(float64(least), "min-calls/account")
		b.ReportMetric(worst, "calls/min")
		b.ReportMetric(heap, "peak-heap-MB")
		b.ReportMetric(sys, "peak-sys-MB")
		st.Close()
		s.Close()
	}
}
