package awstest_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// client reads the fake with the real SDK, configured the standard way.
func client(t *testing.T, s *awstest.Server) *iam.Client {
	t.Helper()
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	return iam.NewFromConfig(cfg)
}

func TestCredentialReportStates(t *testing.T) {
	s := awstest.New(awstest.Sample(time.Now()), awstest.WithReportSteps(1))
	defer s.Close()
	c := client(t, s)
	ctx := context.Background()
	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var notPresent *types.CredentialReportNotPresentException
	if !errors.As(err, &notPresent) {
		t.Fatalf("report before generation: %v, want ReportNotPresent", err)
	}
	var states []string
	for range 3 {
		out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, string(out.State))
		if len(states) == 2 {
			_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			var notReady *types.CredentialReportNotReadyException
			if !errors.As(err, &notReady) {
				t.Errorf("report in progress: %v, want ReportInProgress", err)
			}
		}
	}
	if strings.Join(states, ",") != "STARTED,INPROGRESS,COMPLETE" {
		t.Errorf("states %v", states)
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out.Content)), "\n")
	if out.ReportFormat != types.ReportFormatTypeTextCsv || !strings.HasPrefix(lines[0], "user,arn,user_creation_time,password_enabled") ||
		!strings.HasPrefix(lines[1], "<root_account>,") || len(lines) != 1+1+3 {
		t.Errorf("report (base64-decoded by the SDK): %q", out.Content)
	}
}

func TestPaginationAndListRolesShape(t *testing.T) {
	s := awstest.New(awstest.Sample(time.Now()), awstest.WithPageSize(2))
	defer s.Close()
	c := client(t, s)
	ctx := context.Background()
	var roles []types.Role
	pages := 0
	pg := iam.NewListRolesPaginator(c, &iam.ListRolesInput{})
	for pg.HasMorePages() {
		p, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		roles = append(roles, p.Roles...)
	}
	if len(roles) != 3 || pages != 2 {
		t.Fatalf("%d roles in %d pages, want 3 in 2 (pages of 2)", len(roles), pages)
	}
	for _, r := range roles {
		if r.RoleLastUsed != nil {
			t.Errorf("ListRoles returned RoleLastUsed for %s; AWS leaves it out", aws.ToString(r.RoleName))
		}
		doc := aws.ToString(r.AssumeRolePolicyDocument)
		if !strings.HasPrefix(doc, "%7B%22Version%22") {
			t.Errorf("trust policy is not URL-encoded as IAM serves it: %q", doc)
		}
		if d, err := url.QueryUnescape(doc); err != nil || !strings.HasPrefix(d, `{"Version":"2012-10-17"`) {
			t.Errorf("trust policy does not decode: %q %v", d, err)
		}
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: roles[2].RoleName})
	if err != nil || got.Role.RoleLastUsed == nil || got.Role.RoleLastUsed.LastUsedDate == nil {
		t.Errorf("GetRole: %+v %v, want RoleLastUsed", got, err)
	}
}

func TestAccessDeniedAndThrottling(t *testing.T) {
	s := awstest.New(awstest.Sample(time.Now()))
	defer s.Close()
	c := client(t, s)
	s.Deny(awstest.SampleManagement, "iam:ListUsers")
	s.Throttle(awstest.SampleManagement, "iam:ListRoles", 1)
	_, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "iam:ListUsers") {
		t.Errorf("denied: %v", err)
	}
	_, err = c.ListRoles(context.Background(), &iam.ListRolesInput{})
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Errorf("throttled (one attempt): %v", err)
	}
	if _, err = c.ListRoles(context.Background(), &iam.ListRolesInput{}); err != nil {
		t.Errorf("after the throttled answer: %v", err)
	}
}
