package aws_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// TestFindingsOnSample reads the sample organisation and checks, identity
// by identity, the findings an auditor would expect, with their OWASP ID
// and the numbers in the explanation.
func TestFindingsOnSample(t *testing.T) {
	serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)
	ids := byID(t, st)

	want := map[string][]string{
		"aws:111111111111:aws_iam_user:terraform-ci":                             {"orphaned", "overprivileged"},
		"aws:111111111111:aws_access_key:AKIAMGMTTERRAFORM001":                   {"orphaned", "overprivileged", "unrotated", "no-expiry"},
		"aws:111111111111:aws_iam_user:dana":                                     {"orphaned", "overprivileged", "human-credential"},
		"aws:111111111111:aws_access_key:AKIAMGMTDANA00000001":                   {"orphaned", "overprivileged", "unrotated", "no-expiry", "human-credential"},
		"aws:111111111111:aws_iam_role:billing-export":                           {"orphaned", "stale"},
		"aws:111111111111:aws_iam_role:AWSServiceRoleForSSO":                     nil,
		"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001":                   {"orphaned", "overprivileged", "stale", "unrotated", "no-expiry"},
		"aws:222222222222:aws_access_key:AKIAPRODLEGACY000002":                   {"orphaned", "overprivileged", "no-expiry"},
		"aws:222222222222:aws_access_key:AKIAPRODMETRICS00001":                   {"orphaned", "no-expiry"},
		"aws:222222222222:aws_access_key:AKIAPRODBACKUP000001":                   {"orphaned", "stale", "no-expiry"},
		"aws:222222222222:aws_iam_role:OrganizationAccountAccessRole":            {"orphaned", "overprivileged"},
		"aws:222222222222:aws_iam_role:AWSServiceRoleForECS":                     nil,
		"aws:222222222222:aws_iam_role:github-deploy":                            {"orphaned", "overprivileged"},
		"aws:222222222222:aws_iam_role:github-any-repo":                          {"orphaned", "overprivileged", "broad-trust"},
		"aws:222222222222:aws_iam_role:vendor-monitoring":                        {"orphaned", "third-party"},
		"aws:222222222222:aws_iam_role:public-reader":                            {"orphaned", "stale", "broad-trust"},
		"aws:222222222222:aws_iam_role:batch-jobs":                               {"orphaned", "overprivileged", "stale"},
		"aws:222222222222:aws_oidc_provider:token.actions.githubusercontent.com": {"orphaned"},
		"aws:333333333333:aws_access_key:AKIASANDBOXEXP000001":                   {"orphaned", "overprivileged", "stale", "unrotated", "no-expiry", "human-credential"},
	}
	for id, rules := range want {
		got := ids[id]
		if got.ID == "" {
			t.Errorf("%s was not recorded", id)
			continue
		}
		var names []string
		for _, f := range got.Findings {
			names = append(names, f.Rule)
			if f.OWASP == "" || f.Message == "" || f.Severity == "" {
				t.Errorf("%s: finding %+v lacks its OWASP ID, severity or explanation", id, f)
			}
		}
		slices.Sort(names)
		slices.Sort(rules)
		if !slices.Equal(names, rules) {
			t.Errorf("%s: findings %v, want %v", id, names, rules)
		}
	}

	message := func(id, rule string) audit.Finding {
		for _, f := range ids[id].Findings {
			if f.Rule == rule {
				return f
			}
		}
		return audit.Finding{}
	}
	checks := []struct{ id, rule, owasp, text string }{
		{"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001", "stale", "NHI1", "days ago; policy: 90"},
		{"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001", "unrotated", "NHI7", "1,300 days ago, never rotated; policy: 90"},
		{"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001", "no-expiry", "NHI7", "never expire"},
		{"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001", "overprivileged", "NHI5", "iam:PassRole on *"},
		{"aws:222222222222:aws_iam_role:github-any-repo", "broad-trust", "NHI5, NHI9", "without a condition on token.actions.githubusercontent.com:sub"},
		{"aws:222222222222:aws_iam_role:public-reader", "broad-trust", "NHI5, NHI9", `Principal "*" without a condition`},
		{"aws:222222222222:aws_iam_role:vendor-monitoring", "third-party", "NHI3", "account 999988887777, outside the organisation"},
		{"aws:111111111111:aws_access_key:AKIAMGMTDANA00000001", "human-credential", "NHI10", "dana"},
		{"aws:333333333333:aws_access_key:AKIASANDBOXEXP000001", "overprivileged", "NHI5", "PowerUserAccess (all actions except iam:*"},
	}
	for _, c := range checks {
		f := message(c.id, c.rule)
		if f.OWASP != c.owasp || !strings.Contains(f.Message, c.text) {
			t.Errorf("%s %s: %+v, want OWASP %s and %q", c.id, c.rule, f, c.owasp, c.text)
		}
	}

	suggested := func(id string) []string {
		var out []string
		for _, s := range ids[id].Suggestions {
			out = append(out, s.Owner+" ("+s.Source+")")
		}
		return out
	}
	for id, want := range map[string]string{
		"aws:111111111111:aws_iam_user:terraform-ci":           "platform (tag team)",
		"aws:111111111111:aws_access_key:AKIAMGMTTERRAFORM001": "platform (tag team of user terraform-ci)",
		"aws:111111111111:aws_iam_role:billing-export":         "finops@northwind.example (tag CreatedBy)",
		"aws:222222222222:aws_iam_role:vendor-monitoring":      "secops@northwind.example (tag owner)",
		"aws:222222222222:aws_access_key:AKIAPRODMETRICS00001": "sre@northwind.example (tag Owner of user metrics-shipper)",
	} {
		if got := suggested(id); !slices.Contains(got, want) {
			t.Errorf("%s: suggestions %v, want %q", id, got, want)
		}
	}
}
