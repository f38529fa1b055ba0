package aws_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// AWS reports a role's last use over the trailing 400 days only, and an
// access key's since 22 April 2015: a role older than 400 days, or a key
// older than that date, with no last use may have been used before, so
// it is never called "never used". The review UI, `nhi identities` and
// the filters read its last use as not known, and stale says since when
// no use was recorded. A younger role with no last use was never used.
func TestLastUseOutsideWhatAWSRecordsIsNotNever(t *testing.T) {
	org := awstest.Sample(fixedNow)
	prod := org.Account(awstest.SampleProd)
	prod.Roles = append(prod.Roles, &awstest.Role{Name: "fresh-unused", Path: "/", ID: "AROAPRODFRESH", Created: fixedNow.AddDate(0, 0, -100).Truncate(time.Second),
		Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, MaxSession: 3600})
	prod.Users = append(prod.Users, &awstest.User{Name: "ancient", Path: "/", ID: "AIDAPRODANCIENT", Created: time.Date(2014, 5, 1, 0, 0, 0, 0, time.UTC),
		Keys: []*awstest.AccessKey{{ID: "AKIAPRODANCIENT00001", Secret: "canary-secret-ancient", Status: "Active", Created: time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC), Service: "N/A", Region: "N/A"}}})
	// Through the bulk reads (the account's details, the credential
	// report), and through the per-entity calls when those are denied
	// (GetRole, GetAccessKeyLastUsed).
	for _, bulk := range []bool{true, false} {
		s := serve(t, org, awstest.WithReportReady())
		if !bulk {
			s.Deny(awstest.SampleProd, "iam:GenerateCredentialReport")
			s.Deny(awstest.SampleProd, "iam:GetAccountAuthorizationDetails")
		}
		st, _ := openStore(t)
		o := options(&lockedBuffer{})
		o.OrgRole = "OrganizationAccountAccessRole"
		o.Now = func() time.Time { return fixedNow }
		snapshotAll(t, st, o)
		ids := byID(t, st)
		for _, c := range []struct {
			id, stale string
			never     bool
		}{
			{"aws:222222222222:aws_iam_role:public-reader", "no use recorded since 2025-10-26, 400 days ago (AWS reports a role's use over the trailing 400 days; the role is older and may have been used before)", false},
			{"aws:222222222222:aws_iam_role:fresh-unused", "never used since it was created", true},
			{"aws:222222222222:aws_access_key:AKIAPRODANCIENT00001", "no use recorded since 2015-04-22", false},
		} {
			id, ok := ids[c.id]
			if !ok {
				t.Fatalf("%s not recorded", c.id)
			}
			if never := audit.ReportsLastUse(id.Kind, id.Attributes[audit.AttrLastUseUnknown]) && id.LastUsedAt == nil; never != c.never {
				t.Errorf("bulk %v: %s reads as never used: %v, want %v (attributes %v)", bulk, c.id, never, c.never, id.Attributes)
			}
			stale := ""
			for _, f := range id.Findings {
				if f.Rule == audit.RuleStale {
					stale = f.Message
				}
			}
			if !strings.Contains(stale, c.stale) {
				t.Errorf("bulk %v: %s is found stale %q; want %q", bulk, c.id, stale, c.stale)
			}
		}
	}
}
