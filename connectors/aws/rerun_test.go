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
