package aws_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// A live organisation changes while it is read and its permissions are
// uneven: these tests read one through the fake as it does.

const prodOIDC = "arn:aws:iam::" + awstest.SampleProd + ":oidc-provider/token.actions.githubusercontent.com"

// runAll snapshots every account of the plan and returns each account's
// snapshot and error, where snapshotAll fails the test on an error.
func runAll(t *testing.T, st *audit.Store, opts awsconn.Options) (map[string]*audit.Snapshot, map[string]error) {
	t.Helper()
	ctx := context.Background()
	plan, err := awsconn.NewPlan(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	snaps, errs := map[string]*audit.Snapshot{}, map[string]error{}
	plan.Snapshot(ctx, st, connectors.RunOptions{ToolVersion: "test", Actor: "tester"}, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
		snaps[c.Account()], errs[c.Account()] = snap, err
	})
	return snaps, errs
}

// TestDeletedWhileRead: a user, an access key, a role and an OIDC provider
// deleted between the listing that named them and the call about each
// (AWS answers NoSuchEntity) cost the account nothing else: its snapshot
// completes, the deleted ones are not recorded with facts nobody read,
// and what an earlier snapshot held of them is removed, as AWS said.
func TestDeletedWhileRead(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	var progress lockedBuffer
	opts := options(&progress)
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)

	s.Gone(awstest.SampleProd, "legacy-deployer")      // ListAccessKeys
	s.Gone(awstest.SampleProd, "AKIAPRODBACKUP000001") // GetAccessKeyLastUsed (inactive: the report cannot speak for it)
	s.Gone(awstest.SampleProd, prodOIDC)               // GetOpenIDConnectProvider
	s.Deny(awstest.SampleSandbox, "iam:GetAccountAuthorizationDetails")
	s.Gone(awstest.SampleSandbox, "lambda-cleanup") // GetRole, in the fallback
	snaps, errs := runAll(t, st, opts)
	for _, acct := range []string{awstest.SampleProd, awstest.SampleSandbox} {
		if errs[acct] != nil {
			t.Fatalf("account %s: one deletion failed the account: %v", acct, errs[acct])
		}
	}
	if p := snaps[awstest.SampleProd]; p.Status != audit.SnapshotComplete || len(p.Gaps) != 0 {
		t.Errorf("prod: %s %+v, want complete: a deletion is no gap", p.Status, p.Gaps)
	}
	wantStatuses(t, st, map[string]string{
		"aws:222222222222:aws_iam_user:legacy-deployer":                          audit.StatusRemoved,
		"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001":                   audit.StatusRemoved,
		"aws:222222222222:aws_access_key:AKIAPRODBACKUP000001":                   audit.StatusRemoved,
		"aws:222222222222:aws_oidc_provider:token.actions.githubusercontent.com": audit.StatusRemoved,
		"aws:333333333333:aws_iam_role:lambda-cleanup":                           audit.StatusRemoved,
		"aws:222222222222:aws_iam_user:metrics-shipper":                          audit.StatusActive,
		"aws:222222222222:aws_iam_role:github-deploy":                            audit.StatusActive,
		"aws:333333333333:aws_access_key:AKIASANDBOXEXP000001":                   audit.StatusActive,
	})
	if out := progress.String(); !strings.Contains(out, "aws/222222222222: user legacy-deployer was deleted while it was read") {
		t.Errorf("progress does not say what was deleted:\n%s", out)
	}
}

// TestCredentialsExpirePartWay: a session that ends part way through an
// account's run (ExpiredToken) fails that account with one error saying
// so and to renew the credentials and run again, not a gap; the snapshot
// is failed, never complete with what the rest of the run did not read,
// and nothing an earlier snapshot held is removed. The accounts read
// before are complete.
func TestCredentialsExpirePartWay(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)

	s.ExpireAfter(awstest.SampleProd, 5) // the report read, the keys not
	snaps, errs := runAll(t, st, opts)
	err := errs[awstest.SampleProd]
	if err == nil || !strings.Contains(err.Error(), "AWS stopped accepting the credentials part way through the run of account "+awstest.SampleProd) ||
		!strings.Contains(err.Error(), "ExpiredToken") || !strings.Contains(err.Error(), "renew them") || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("prod: %v", err)
	}
	p := snaps[awstest.SampleProd]
	if p == nil || p.Status != audit.SnapshotFailed || len(p.Gaps) != 0 {
		t.Errorf("prod: %+v, want failed with no gaps", p)
	}
	if r := p.Reach; r == nil || r.Read != 0 || len(r.NotRead) != 1 || !strings.Contains(r.NotRead[0], "account 222222222222: the run stopped before the end (AWS stopped accepting the credentials") {
		t.Errorf("prod's reach %+v, want the account not read", r)
	}
	if sb := snaps[awstest.SampleSandbox]; errs[awstest.SampleSandbox] != nil || sb.Status != audit.SnapshotComplete {
		t.Errorf("sandbox: %v %v", sb, errs[awstest.SampleSandbox])
	}
	for id, i := range byID(t, st) {
		if i.Status != audit.StatusActive {
			t.Errorf("%s: %s after a run whose credentials expired; want active", id, i.Status)
		}
	}

	// The caller's own session ends after the organisation was listed:
	// no role can be assumed with it any more, and every account says so.
	s = serve(t, awstest.Sample(fixedNow))
	st, _ = openStore(t)
	s.ExpireAfter(awstest.SampleManagement, 2) // sts:GetCallerIdentity, organizations:ListAccounts
	_, errs = runAll(t, st, opts)
	for _, acct := range []string{awstest.SampleManagement, awstest.SampleProd, awstest.SampleSandbox} {
		if err := errs[acct]; err == nil || !strings.Contains(err.Error(), "AWS stopped accepting the credentials part way through the run of account "+acct) || !strings.Contains(err.Error(), "ExpiredToken") {
			t.Errorf("%s after the caller's session ended: %v", acct, err)
		}
	}
}

// TestDeniedForSomeEntities: AccessDenied on a per-entity call for some
// entities only (an SCP or a permission boundary with a resource
// condition) is a gap naming exactly those entities; the rest of the
// account is recorded. A key whose last use may not be read, a role
// GetRole may not read, a provider whose details may not be read are
// recorded for what was listed, never as unused; a user whose keys may not
// be listed lets no key or user of the account be taken as removed.
func TestDeniedForSomeEntities(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow), awstest.WithReportReady())
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)

	s.DenyEntity(awstest.SampleProd, "iam:ListAccessKeys", "metrics-shipper")
	s.DenyEntity(awstest.SampleProd, "iam:GetAccessKeyLastUsed", "AKIAPRODBACKUP000001")
	s.DenyEntity(awstest.SampleProd, "iam:GetOpenIDConnectProvider", prodOIDC)
	s.Deny(awstest.SampleSandbox, "iam:GetAccountAuthorizationDetails")
	s.DenyEntity(awstest.SampleSandbox, "iam:GetRole", "lambda-cleanup")
	snaps, errs := runAll(t, st, opts)
	for _, acct := range []string{awstest.SampleProd, awstest.SampleSandbox} {
		if errs[acct] != nil {
			t.Fatalf("account %s: %v", acct, errs[acct])
		}
	}
	gaps := map[string]string{}
	for _, acct := range []string{awstest.SampleProd, awstest.SampleSandbox} {
		if snaps[acct].Status != audit.SnapshotPartial {
			t.Errorf("%s: %s", acct, snaps[acct].Status)
		}
		for _, g := range snaps[acct].Gaps {
			gaps[acct+" "+g.Endpoint] = g.Reason
		}
	}
	for k, names := range map[string]string{
		"222222222222 iam:ListAccessKeys":           "user metrics-shipper",
		"222222222222 iam:GetAccessKeyLastUsed":     "access key AKIAPRODBACKUP000001",
		"222222222222 iam:GetOpenIDConnectProvider": prodOIDC,
		"333333333333 iam:GetRole":                  "role lambda-cleanup",
	} {
		if r, ok := gaps[k]; !ok || !strings.Contains(r, names) {
			t.Errorf("gap %s: %q, want one naming %s (gaps %v)", k, r, names, gaps)
		}
	}
	if len(gaps) != 5 {
		t.Errorf("gaps %v, want the four above and the sandbox's authorization details", gaps)
	}

	ids := wantStatuses(t, st, map[string]string{
		"aws:222222222222:aws_iam_user:metrics-shipper":                          audit.StatusNotChecked,
		"aws:222222222222:aws_access_key:AKIAPRODMETRICS00001":                   audit.StatusNotChecked,
		"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001":                   audit.StatusActive,
		"aws:222222222222:aws_access_key:AKIAPRODBACKUP000001":                   audit.StatusActive,
		"aws:222222222222:aws_oidc_provider:token.actions.githubusercontent.com": audit.StatusActive,
		"aws:333333333333:aws_iam_role:lambda-cleanup":                           audit.StatusActive,
	})
	for _, id := range []string{"aws:222222222222:aws_access_key:AKIAPRODBACKUP000001", "aws:333333333333:aws_iam_role:lambda-cleanup"} {
		i := ids[id]
		if i.LastUsedAt != nil || i.Attributes[audit.AttrLastUseUnknown] != "true" {
			t.Errorf("%s: last used %v, attributes %v; want its last use marked not known", id, i.LastUsedAt, i.Attributes)
		}
		if i.FilterTracksLastUse() {
			t.Errorf("%s: used:never would list it", id)
		}
		for _, f := range i.Findings {
			if strings.Contains(f.Message, "never used") {
				t.Errorf("%s: finding %q from a last use that was not read", id, f.Message)
			}
		}
	}
	if a := ids["aws:333333333333:aws_iam_role:lambda-cleanup"].Attributes; a["trust_services"] != "lambda.amazonaws.com" {
		t.Errorf("lambda-cleanup lost what ListRoles read: %v", a)
	}
	if a := ids["aws:222222222222:aws_oidc_provider:token.actions.githubusercontent.com"].Attributes; a["trusted_by_roles"] != "github-deploy, github-any-repo" || a["client_ids"] != "" {
		t.Errorf("OIDC provider whose details were denied: %v", a)
	}
}

// TestTruncatedWithoutMarker: a page that says the listing goes on
// (IsTruncated) but gives no Marker ends the account's run with an error
// saying the listing was not read in full, where the SDK's paginator,
// which follows only the Marker, took the first page for the whole list
// and the identities on the pages after it were removed.
func TestTruncatedWithoutMarker(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow), awstest.WithPageSize(2))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	snapshotAll(t, st, opts)
	s.TruncateWithoutMarker()
	_, errs := runAll(t, st, opts)
	if err := errs[awstest.SampleManagement]; err == nil || !strings.Contains(err.Error(), "iam:GetAccountAuthorizationDetails: AWS said the listing goes on (IsTruncated) but gave no Marker") {
		t.Errorf("a truncated page without a marker: %v", err)
	}
	for id, i := range byID(t, st) {
		if i.Status != audit.StatusActive {
			t.Errorf("%s: %s after a listing that stopped part way; want active", id, i.Status)
		}
	}
}

// TestUnreadablePolicyDocuments: a policy document that is empty or does
// not parse grants what nobody read, never nothing: the identity says its
// policies are not known and names the documents, a role whose trust
// policy cannot be read says so, and the run says how many there were.
func TestUnreadablePolicyDocuments(t *testing.T) {
	org := awstest.Sample(fixedNow)
	prod := org.Account(awstest.SampleProd)
	prod.Roles = append(prod.Roles,
		&awstest.Role{Name: "cut-short", Path: "/", ID: "AROAPRODCUT", Created: fixedNow.AddDate(0, 0, -10), Trust: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			Inline: map[string]string{"everything": `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}`}},
		&awstest.Role{Name: "no-trust", Path: "/", ID: "AROAPRODNOTRUST", Created: fixedNow.AddDate(0, 0, -10), Trust: "not json"})
	prod.Users = append(prod.Users, &awstest.User{Name: "blank-policy", Path: "/", ID: "AIDAPRODBLANK", Created: fixedNow.AddDate(0, 0, -10),
		Inline: map[string]string{"blank": ""}, Keys: []*awstest.AccessKey{{ID: "AKIAPRODBLANK0000001", Status: "Active", Created: fixedNow.AddDate(0, 0, -10)}}})
	serve(t, org)
	st, _ := openStore(t)
	var progress lockedBuffer
	opts := options(&progress)
	opts.OrgRole = "OrganizationAccountAccessRole"
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	ids := byID(t, st)
	for id, unreadable := range map[string]string{
		"aws:222222222222:aws_iam_role:cut-short":              "everything (inline)",
		"aws:222222222222:aws_iam_user:blank-policy":           "blank (inline)",
		"aws:222222222222:aws_access_key:AKIAPRODBLANK0000001": "blank (inline)",
	} {
		if a := ids[id].Attributes; a[awsconn.AttrPolicyUnknown] != "true" || a["policies_unreadable"] != unreadable {
			t.Errorf("%s: %v; want its policies marked not known, naming %s", id, a, unreadable)
		}
	}
	if a := ids["aws:222222222222:aws_iam_role:batch-jobs"].Attributes; a[awsconn.AttrPolicyUnknown] != "" || a["grants"] != "*:*" {
		t.Errorf("a role whose policies were read: %v", a)
	}
	if a := ids["aws:222222222222:aws_iam_role:no-trust"].Attributes; a["trust_unknown"] != "true" {
		t.Errorf("a role whose trust policy does not parse: %v", a)
	}
	if !strings.Contains(progress.String(), "aws/222222222222: 3 users and roles have a policy document that is empty, does not parse or was not listed") {
		t.Errorf("progress does not say so:\n%s", progress.String())
	}
}

// editColumns removes the column named drop from a CSV, and adds one
// named add, with x on every row, after the last.
func editColumns(drop, add string) func([]byte) []byte {
	return func(b []byte) []byte {
		var out []string
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			f := strings.Split(line, ",")
			if drop != "" {
				for i, name := range strings.Split(strings.SplitN(string(b), "\n", 2)[0], ",") {
					if name == drop {
						f = append(f[:i:i], f[i+1:]...)
					}
				}
			}
			if add != "" {
				if len(out) == 0 {
					f = append(f, add)
				} else {
					f = append(f, "x")
				}
			}
			out = append(out, strings.Join(f, ","))
		}
		return []byte(strings.Join(out, "\n") + "\n")
	}
}

// TestCredentialReportColumns: a credential report with a column nhi takes
// facts from missing (AWS changed its format) is a gap saying so, and key
// use comes from GetAccessKeyLastUsed, where every key the report spoke
// for looked never used; the account is read. A column added changes
// nothing.
func TestCredentialReportColumns(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow), awstest.WithReportReady())
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	s.EditReport(editColumns("", "access_key_3_active"))
	_, snaps := snapshotAll(t, st, opts)
	if m := snaps[awstest.SampleManagement]; m.Status != audit.SnapshotComplete {
		t.Errorf("a report with a column added: %s %+v", m.Status, m.Gaps)
	}

	s.EditReport(editColumns("access_key_1_last_used_date", ""))
	_, snaps = snapshotAll(t, st, opts)
	m := snaps[awstest.SampleManagement]
	if m.Status != audit.SnapshotPartial || len(m.Gaps) != 1 || m.Gaps[0].Endpoint != "iam:GetCredentialReport" || !strings.Contains(m.Gaps[0].Reason, "no access_key_1_last_used_date column") {
		t.Fatalf("a report without a column: %s %+v", m.Status, m.Gaps)
	}
	ids := byID(t, st)
	if k := ids["aws:111111111111:aws_access_key:AKIAMGMTDANA00000001"]; k.LastUsedAt == nil {
		t.Error("key use read as never, from a report that does not say it")
	}
	if u := ids["aws:111111111111:aws_iam_user:dana"]; u.Attributes["password_enabled"] != "" {
		t.Errorf("console password %q claimed from a report that does not parse", u.Attributes["password_enabled"])
	}

	// Dates in a format nhi does not know are not "never".
	s.EditReport(func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "+00:00", " UTC")) })
	_, snaps = snapshotAll(t, st, opts)
	m = snaps[awstest.SampleManagement]
	if m.Status != audit.SnapshotPartial || len(m.Gaps) != 1 || !strings.Contains(m.Gaps[0].Reason, "not a date") {
		t.Fatalf("a report with dates nhi does not know: %s %+v", m.Status, m.Gaps)
	}
	if k := byID(t, st)["aws:111111111111:aws_access_key:AKIAMGMTDANA00000001"]; k.LastUsedAt == nil {
		t.Error("key use read as never, from a report whose dates do not parse")
	}
}

// TestKeyRotatedSinceTheReport: AWS serves a credential report for four
// hours, so it can predate a key: one rotated since (the old key deleted,
// a new one made) takes no fact from the old key's slot; its use comes
// from GetAccessKeyLastUsed.
func TestKeyRotatedSinceTheReport(t *testing.T) {
	org := awstest.Sample(fixedNow)
	s := serve(t, org, awstest.WithReportReady())
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	for _, u := range org.Account(awstest.SampleProd).Users {
		if u.Name == "metrics-shipper" {
			// Rotated: its key (used today) deleted, a new one made, not yet used.
			u.Keys = []*awstest.AccessKey{{ID: "AKIAPRODMETRICSNEW01", Status: "Active", Created: fixedNow.Add(-time.Hour)}}
		}
	}
	snapshotAll(t, st, opts)
	k := byID(t, st)["aws:222222222222:aws_access_key:AKIAPRODMETRICSNEW01"]
	if k.LastUsedAt != nil || k.Attributes["last_used_service"] != "" {
		t.Errorf("a key made after the report: last used %v with %q, the deleted key's use", k.LastUsedAt, k.Attributes["last_used_service"])
	}
	if n := s.Calls(awstest.SampleProd)["iam:GetAccessKeyLastUsed"]; n != 3 {
		t.Errorf("GetAccessKeyLastUsed asked %d times, want the inactive key twice and the new key once", n)
	}
}

// TestRoleRefusedPartWay: the organisation role can no longer be assumed
// part way through an account's run (its trust policy changed): the SDK
// renews the session for the next call and AWS refuses. That fails the
// account with one error saying so, not a gap per call blaming the IAM
// permission of each, and nothing is removed.
func TestRoleRefusedPartWay(t *testing.T) {
	// The fake's sessions end before the SDK's clock (fixedNow is past),
	// so the SDK assumes the role again for every call.
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	s.DenyAfter(awstest.SampleManagement, "sts:AssumeRole", 4)
	snaps, errs := runAll(t, st, opts)
	err := errs[awstest.SampleProd]
	if err == nil || !strings.Contains(err.Error(), "could no longer assume arn:aws:iam::222222222222:role/OrganizationAccountAccessRole part way through the run of account 222222222222 (AccessDenied") ||
		!strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("prod: %v; gaps %+v", err, snaps[awstest.SampleProd].Gaps)
	}
	if p := snaps[awstest.SampleProd]; p == nil || p.Status != audit.SnapshotFailed || len(p.Gaps) != 0 {
		t.Errorf("prod: %+v, want failed with no gaps", p)
	}
	for id, i := range byID(t, st) {
		if i.Status != audit.StatusActive {
			t.Errorf("%s: %s after a run whose role was refused; want active", id, i.Status)
		}
	}
}

// TestReportExpiresBetweenCalls: a credential report that expires between
// GenerateCredentialReport saying COMPLETE and GetCredentialReport (410
// ReportExpired: it was nearly four hours old) is generated again and
// read, where it failed the account.
func TestReportExpiresBetweenCalls(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow), awstest.WithReportReady())
	s.ExpireReport(awstest.SampleManagement)
	st, _ := openStore(t)
	_, snaps := snapshotAll(t, st, options(&lockedBuffer{}))
	if m := snaps[awstest.SampleManagement]; m.Status != audit.SnapshotComplete {
		t.Errorf("management: %s %+v", m.Status, m.Gaps)
	}
	if u := byID(t, st)["aws:111111111111:aws_iam_user:dana"]; u.Attributes["password_enabled"] != "true" {
		t.Errorf("dana: %v; want the report read", u.Attributes)
	}
	if n := s.Calls(awstest.SampleManagement)["iam:GetCredentialReport"]; n != 2 {
		t.Errorf("GetCredentialReport asked %d times, want the expired one and the new one", n)
	}
}

// TestReportNotGenerated: GenerateCredentialReport answering LimitExceeded
// (409, as its model lists) is a gap saying so, and key use comes from
// GetAccessKeyLastUsed, where it failed the account.
func TestReportNotGenerated(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	s.Fail(awstest.SampleManagement, "iam:GenerateCredentialReport", 409, "LimitExceeded", "Cannot exceed quota for ReportGeneration: 1")
	st, _ := openStore(t)
	_, snaps := snapshotAll(t, st, options(&lockedBuffer{}))
	m := snaps[awstest.SampleManagement]
	if m.Status != audit.SnapshotPartial || len(m.Gaps) != 1 || m.Gaps[0].Endpoint != "iam:GenerateCredentialReport" || !strings.Contains(m.Gaps[0].Reason, "could not be generated (LimitExceeded") {
		t.Fatalf("management: %s %+v", m.Status, m.Gaps)
	}
	if k := byID(t, st)["aws:111111111111:aws_access_key:AKIAMGMTDANA00000001"]; k.LastUsedAt == nil {
		t.Error("key use not read without the report")
	}
}

// wantStatuses checks that no identity was recorded without a name and
// that each identity named has the status wanted, and returns them all.
func wantStatuses(t *testing.T, st *audit.Store, want map[string]string) map[string]audit.Identity {
	t.Helper()
	ids := byID(t, st)
	for id := range ids {
		if strings.HasSuffix(id, ":") {
			t.Errorf("%s recorded with no name", id)
		}
	}
	for id, w := range want {
		if got := ids[id].Status; got != w {
			t.Errorf("%s: %q, want %s", id, got, w)
		}
	}
	return ids
}

// TestTagsReadInTheFallback: without iam:GetAccountAuthorizationDetails,
// users come from iam:ListUsers, which leaves their tags out (as AWS
// documents), so their tags are read with iam:ListUserTags and still
// suggest owners, for the users and their keys. A user whose tags are
// denied, and a role read only from iam:ListRoles, is marked
// tags_unknown, with one gap naming it; a user deleted meanwhile is
// dropped. Before, every user of the fallback was recorded with no tags,
// so none suggested an owner, and the detail said the source suggested
// none.
func TestTagsReadInTheFallback(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	var progress lockedBuffer
	opts := options(&progress)
	opts.OrgRole = "OrganizationAccountAccessRole"
	s.Deny(awstest.SampleProd, "iam:GetAccountAuthorizationDetails")
	s.DenyEntity(awstest.SampleProd, "iam:ListUserTags", "legacy-deployer")
	s.Gone(awstest.SampleProd, "backup-old")
	s.Deny(awstest.SampleSandbox, "iam:GetAccountAuthorizationDetails")
	s.DenyEntity(awstest.SampleSandbox, "iam:GetRole", "lambda-cleanup")
	snaps, errs := runAll(t, st, opts)
	for _, acct := range []string{awstest.SampleProd, awstest.SampleSandbox} {
		if errs[acct] != nil {
			t.Fatalf("account %s: %v", acct, errs[acct])
		}
	}
	var tagGap string
	for _, g := range snaps[awstest.SampleProd].Gaps {
		if g.Endpoint == "iam:ListUserTags" {
			tagGap = g.Reason
		}
	}
	if !strings.Contains(tagGap, "user legacy-deployer") || !strings.Contains(tagGap, audit.AttrTagsUnknown) || strings.Contains(tagGap, "metrics-shipper") {
		t.Errorf("prod's iam:ListUserTags gap: %q, want one naming legacy-deployer alone (gaps %+v)", tagGap, snaps[awstest.SampleProd].Gaps)
	}

	ids := wantStatuses(t, st, map[string]string{
		"aws:222222222222:aws_iam_user:metrics-shipper": audit.StatusActive,
		"aws:222222222222:aws_iam_user:legacy-deployer": audit.StatusActive,
		"aws:333333333333:aws_iam_role:lambda-cleanup":  audit.StatusActive,
	})
	if _, ok := ids["aws:222222222222:aws_iam_user:backup-old"]; ok {
		t.Error("backup-old, deleted while its tags were read, was recorded")
	}
	suggested := func(id string) []string {
		var owners []string
		for _, s := range ids[id].Suggestions {
			owners = append(owners, s.Owner)
		}
		return owners
	}
	for _, id := range []string{"aws:222222222222:aws_iam_user:metrics-shipper", "aws:222222222222:aws_access_key:AKIAPRODMETRICS00001"} {
		if got := suggested(id); !slices.Contains(got, "sre@northwind.example") {
			t.Errorf("%s: suggestions %v, want its (user's) Owner tag sre@northwind.example", id, got)
		}
		if ids[id].Attributes[audit.AttrTagsUnknown] != "" {
			t.Errorf("%s: marked %s, its tags were read", id, audit.AttrTagsUnknown)
		}
	}
	for _, id := range []string{"aws:222222222222:aws_iam_user:legacy-deployer", "aws:222222222222:aws_access_key:AKIAPRODLEGACY000001", "aws:333333333333:aws_iam_role:lambda-cleanup"} {
		if a := ids[id].Attributes; a[audit.AttrTagsUnknown] != "true" {
			t.Errorf("%s: attributes %v, want %s: its tags were not read", id, a, audit.AttrTagsUnknown)
		}
	}
}
