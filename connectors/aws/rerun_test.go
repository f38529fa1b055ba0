package aws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// TestResumedRunSaysSo: a run that continues the snapshot an earlier run
// of the account left unfinished (killed part way) says so, as GitHub's
// does, and records into that snapshot.
func TestResumedRunSaysSo(t *testing.T) {
	serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	ctx := context.Background()
	var progress lockedBuffer
	plan, err := awsconn.NewPlan(ctx, options(&progress))
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Connectors[0]
	cred, err := c.Credential(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// What a run killed part way leaves: its snapshot unfinished.
	w, err := st.StartSnapshot(ctx, audit.SnapshotInfo{Source: c.Source(), Account: c.Account(), APIURL: c.APIURL(),
		Credential: cred, ToolVersion: "test", Actor: "tester", StartedAt: st.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.Leave()
	snap, err := connectors.Run(ctx, st, c, connectors.RunOptions{ToolVersion: "test", Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID != w.ID() || snap.Status != audit.SnapshotComplete {
		t.Errorf("snapshot %d %s, want %d continued to complete", snap.ID, snap.Status, w.ID())
	}
	want := "aws/" + awstest.SampleManagement + ": resuming snapshot 1, which an earlier run left unfinished"
	if !strings.Contains(progress.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, progress.String())
	}
}

// TestLastingThrottlingSaysRunAgainLater: throttling that outlasts every
// retry of the SDK fails the account's snapshot saying it is AWS's rate
// limit and to run the same command again later; the other accounts are
// read.
func TestLastingThrottlingSaysRunAgainLater(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	s.Throttle(awstest.SampleProd, "iam:GetAccountAuthorizationDetails", 1000)
	st, _ := openStore(t)
	ctx := context.Background()
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	plan, err := awsconn.NewPlan(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	statuses := map[string]string{}
	plan.Snapshot(ctx, st, connectors.RunOptions{ToolVersion: "test", Actor: "tester"}, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
		errs[c.Account()] = err
		if snap != nil {
			statuses[c.Account()] = string(snap.Status)
		}
	})
	err = errs[awstest.SampleProd]
	if err == nil || !strings.Contains(err.Error(), "AWS kept throttling iam:GetAccountAuthorizationDetails in account "+awstest.SampleProd) ||
		!strings.Contains(err.Error(), "run the same command again later") {
		t.Errorf("prod: %v", err)
	}
	if statuses[awstest.SampleProd] != audit.SnapshotFailed {
		t.Errorf("prod: %s, want failed", statuses[awstest.SampleProd])
	}
	if errs[awstest.SampleSandbox] != nil || statuses[awstest.SampleSandbox] != audit.SnapshotComplete {
		t.Errorf("sandbox: %s %v", statuses[awstest.SampleSandbox], errs[awstest.SampleSandbox])
	}
}
