package aws_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

var fixedNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// lockedBuffer collects progress lines from the connector's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts the fake on org and points the SDK's default chain at it
// through the environment, as a user would.
func serve(t testing.TB, org *awstest.Org, opts ...awstest.Option) *awstest.Server {
	t.Helper()
	s := awstest.New(org, opts...)
	s.Clock = func() time.Time { return fixedNow }
	t.Cleanup(s.Close)
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	return s
}

type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return time.Millisecond, nil }

func options(progress *lockedBuffer) awsconn.Options {
	return awsconn.Options{ReportPoll: time.Millisecond, Backoff: noDelay{}, Progress: progress}
}

func openStore(t testing.TB) (*audit.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: true, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// snapshotAll runs every connector of the plan into st, one snapshot per
// account, accounts four at a time, as `nhi snapshot aws` does.
func snapshotAll(t testing.TB, st *audit.Store, opts awsconn.Options) (*awsconn.Plan, map[string]*audit.Snapshot) {
	t.Helper()
	ctx := context.Background()
	plan, err := awsconn.NewPlan(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	snaps := map[string]*audit.Snapshot{}
	var order []string
	plan.Snapshot(ctx, st, connectors.RunOptions{ToolVersion: "test", Actor: "tester"}, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
		if err != nil {
			t.Fatalf("account %s: %v", c.Account(), err)
		}
		snaps[c.Account()] = snap
		order = append(order, c.Account())
	})
	for i, c := range plan.Connectors {
		if order[i] != c.Account() {
			t.Fatalf("results in order %v, not the plan's", order)
		}
	}
	return plan, snaps
}

func byID(t testing.TB, st *audit.Store) map[string]audit.Identity {
	t.Helper()
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]audit.Identity{}
	for _, id := range ids {
		m[id.ID] = id
	}
	return m
}

func TestOrganisationOneSnapshotPerAccount(t *testing.T) {
	org := awstest.Sample(fixedNow)
	org.Accounts = append(org.Accounts, &awstest.Account{ID: "444444444444", Name: "closed", Status: "SUSPENDED"})
	s := serve(t, org, awstest.WithPageSize(2), awstest.WithReportSteps(2))
	st, _ := openStore(t)
	var progress lockedBuffer
	opts := options(&progress)
	opts.OrgRole = "OrganizationAccountAccessRole"
	plan, snaps := snapshotAll(t, st, opts)

	if plan.Caller != "arn:aws:iam::111111111111:user/nhi-auditor" {
		t.Errorf("caller = %q", plan.Caller)
	}
	if len(snaps) != 4 {
		t.Fatalf("snapshots = %d, want one per account (4)", len(snaps))
	}
	for _, acct := range []string{awstest.SampleManagement, awstest.SampleProd, awstest.SampleSandbox} {
		snap := snaps[acct]
		if snap.Source != "aws" || snap.Account != acct || snap.Status != audit.SnapshotComplete {
			t.Errorf("snapshot of %s: %s/%s %s, gaps %v", acct, snap.Source, snap.Account, snap.Status, snap.Gaps)
		}
		if snap.APIURL != s.URL {
			t.Errorf("snapshot of %s read from %q, want the endpoint from AWS_ENDPOINT_URL %q", acct, snap.APIURL, s.URL)
		}
	}
	if c := snaps[awstest.SampleProd].Credential; !strings.Contains(c, "role/OrganizationAccountAccessRole") || !strings.Contains(c, "nhi-auditor") {
		t.Errorf("prod credential = %q, want the assumed role and the caller", c)
	}
	closed := snaps["444444444444"]
	if closed.Status != audit.SnapshotPartial || len(closed.Gaps) != 1 || !strings.Contains(closed.Gaps[0].Reason, "SUSPENDED") {
		t.Errorf("suspended account: %s %+v, want partial with a gap saying it was skipped", closed.Status, closed.Gaps)
	}
	if got := s.Calls("444444444444"); len(got) != 0 {
		t.Errorf("the suspended account was called: %v", got)
	}
	if r := closed.Reach; r == nil || r.Read != 0 || r.Requests != 0 || len(r.NotRead) != 1 || !strings.Contains(r.NotRead[0], "444444444444: SUSPENDED") {
		t.Errorf("suspended account's reach: %+v", r)
	}
	if !strings.Contains(progress.String(), "waiting for the credential report") {
		t.Errorf("progress does not say it waits for the report:\n%s", progress.String())
	}

	ids := byID(t, st)
	want := map[audit.Kind]int{audit.KindAWSIAMUser: 6, audit.KindAWSAccessKey: 7, audit.KindAWSIAMRole: 12, audit.KindAWSOIDCProvider: 1}
	got := map[audit.Kind]int{}
	for _, id := range ids {
		got[id.Kind]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d identities, want %d (alice has no key and is a person, not recorded)", k, got[k], n)
		}
	}

	legacy := ids["aws:222222222222:aws_iam_user:legacy-deployer"]
	if legacy.Attributes["active_access_keys"] != "2" || legacy.Attributes["grants"] != "iam:PassRole on *" {
		t.Errorf("legacy-deployer: %v", legacy.Attributes)
	}
	dana := ids["aws:111111111111:aws_iam_user:dana"]
	if dana.Attributes["password_enabled"] != "true" || dana.Attributes["mfa_active"] != "true" || dana.Attributes["groups"] != "admins" ||
		!strings.Contains(dana.Attributes["grants"], "AdministratorAccess") || dana.Permissions["AdministratorAccess"] != "group admins" {
		t.Errorf("dana: attrs %v perms %v", dana.Attributes, dana.Permissions)
	}
	oldKey := ids["aws:222222222222:aws_access_key:AKIAPRODLEGACY000001"]
	if oldKey.Name != "AKIAPRODLEGACY000001" || oldKey.Attributes["user"] != "legacy-deployer" || oldKey.Attributes["status"] != "Active" ||
		oldKey.LastUsedAt == nil || !oldKey.LastUsedAt.Equal(fixedNow.AddDate(0, 0, -200).Truncate(time.Second)) ||
		oldKey.Attributes["last_used_service"] != "ecs" || oldKey.CreatedAt == nil || !oldKey.CreatedAt.Equal(fixedNow.AddDate(0, 0, -1300).Truncate(time.Second)) {
		t.Errorf("legacy key 1: created %v last used %v attrs %v", oldKey.CreatedAt, oldKey.LastUsedAt, oldKey.Attributes)
	}
	if k := ids["aws:222222222222:aws_access_key:AKIAPRODBACKUP000001"]; k.Attributes["status"] != "Inactive" {
		t.Errorf("inactive key: %v", k.Attributes)
	}
	if k := ids["aws:333333333333:aws_access_key:AKIASANDBOXEXP000001"]; k.LastUsedAt != nil {
		t.Errorf("never-used key has last use %v", k.LastUsedAt)
	}

	slr := ids["aws:222222222222:aws_iam_role:AWSServiceRoleForECS"]
	if slr.Attributes["managed_by"] != "aws" || slr.Attributes["trust_services"] != "ecs.amazonaws.com" {
		t.Errorf("service-linked role: %v", slr.Attributes)
	}
	gh := ids["aws:222222222222:aws_iam_role:github-any-repo"]
	if gh.Attributes["max_session_duration"] != "12h0m0s" {
		t.Errorf("github-any-repo max session %q, want 12h0m0s (from ListRoles)", gh.Attributes["max_session_duration"])
	}
	if gh.Attributes["trust_oidc_without_sub"] != "token.actions.githubusercontent.com" || gh.LastUsedAt == nil || gh.Attributes["last_used_region"] != "eu-west-1" {
		t.Errorf("github-any-repo: last used %v attrs %v", gh.LastUsedAt, gh.Attributes)
	}
	if a := ids["aws:222222222222:aws_iam_role:github-deploy"].Attributes; a["trust_oidc_without_sub"] != "" || a["tag.Owner"] != "platform@northwind.example" ||
		a["trust_conditions"] != "StringEquals token.actions.githubusercontent.com:aud=sts.amazonaws.com; StringLike token.actions.githubusercontent.com:sub=repo:northwind/api:ref:refs/heads/main" ||
		a["trust_federated"] != "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com" {
		t.Errorf("github-deploy: %v", a)
	}
	if a := ids["aws:222222222222:aws_iam_role:vendor-monitoring"].Attributes; a["trust_external_accounts"] != awstest.SampleVendor || a["trust_accounts"] != awstest.SampleVendor {
		t.Errorf("vendor-monitoring: %v", a)
	}
	if a := ids["aws:222222222222:aws_iam_role:OrganizationAccountAccessRole"].Attributes; a["trust_external_accounts"] != "" || a["trust_accounts"] != awstest.SampleManagement {
		t.Errorf("the organisation role trusts an account of the organisation: %v", a)
	}
	if a := ids["aws:222222222222:aws_iam_role:public-reader"].Attributes; a["trust_any_principal"] != "unconditioned" {
		t.Errorf("public-reader: %v", a)
	}
	if a := ids["aws:222222222222:aws_iam_role:batch-jobs"].Attributes; a["grants"] != "*:*" {
		t.Errorf("batch-jobs (inline Allow * on *): %v", a)
	}
	if a := ids["aws:222222222222:aws_oidc_provider:token.actions.githubusercontent.com"].Attributes; a["trusted_by_roles"] != "github-deploy, github-any-repo" {
		t.Errorf("OIDC provider: %v", a)
	}
}

// TestSecretsNeverStored plants canary secrets (keys' secret access keys,
// the caller's secret, the assumed sessions' secret and token) and looks
// for them in every byte of the evidence file.
func TestSecretsNeverStored(t *testing.T) {
	org := awstest.Sample(fixedNow)
	serve(t, org)
	st, path := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	canaries := []string{awstest.BaseSecret, awstest.SessionSecret, awstest.SessionToken}
	for _, a := range org.Accounts {
		for _, u := range a.Users {
			for _, k := range u.Keys {
				canaries = append(canaries, k.Secret)
			}
		}
	}
	var files []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if err == nil {
			files = append(files, b...)
		}
	}
	if !bytes.Contains(files, []byte("AKIAPRODLEGACY000001")) {
		t.Fatal("the file does not hold a key ID: the search below would prove nothing")
	}
	for _, c := range canaries {
		if bytes.Contains(files, []byte(c)) {
			t.Errorf("canary %q is in the evidence file", c)
		}
	}
}

func TestSingleAccountWithoutOrgRole(t *testing.T) {
	org := awstest.Sample(fixedNow)
	s := serve(t, org)
	st, _ := openStore(t)
	plan, snaps := snapshotAll(t, st, options(&lockedBuffer{}))
	if len(snaps) != 1 || snaps[awstest.SampleManagement] == nil {
		t.Fatalf("snapshots %v, want only the caller's account", snaps)
	}
	if plan.Org == nil {
		t.Error("the management account may list the organisation; it was not used to tell third parties")
	}
	if n := s.Calls(awstest.SampleProd)["sts:AssumeRole"]; n != 0 {
		t.Errorf("assumed a role without --org-role")
	}
	if _, err := awsconn.NewPlan(context.Background(), awsconn.Options{Accounts: []string{awstest.SampleProd}}); err == nil || !strings.Contains(err.Error(), "--org-role") {
		t.Errorf("--accounts without --org-role: %v", err)
	}
}

// TestAccessDeniedIsAGap: a denied API of one account is a gap naming the
// account, the action and the permission; the other accounts stay
// complete, and the denied account's identities are still read through
// the fallbacks.
func TestAccessDeniedIsAGap(t *testing.T) {
	org := awstest.Sample(fixedNow)
	s := serve(t, org, awstest.WithPageSize(3))
	s.Deny(awstest.SampleProd, "iam:GenerateCredentialReport")
	s.Deny(awstest.SampleProd, "iam:GetAccountAuthorizationDetails")
	s.Deny(awstest.SampleSandbox, "iam:ListOpenIDConnectProviders")
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	_, snaps := snapshotAll(t, st, opts)

	if snaps[awstest.SampleManagement].Status != audit.SnapshotComplete {
		t.Errorf("management: %s %v", snaps[awstest.SampleManagement].Status, snaps[awstest.SampleManagement].Gaps)
	}
	prod := snaps[awstest.SampleProd]
	var endpoints []string
	for _, g := range prod.Gaps {
		endpoints = append(endpoints, g.Endpoint)
		if !strings.Contains(g.Reason, awstest.SampleProd) || !strings.Contains(g.Reason, g.Endpoint) {
			t.Errorf("gap %+v does not name the account and the permission", g)
		}
	}
	slices.Sort(endpoints)
	if prod.Status != audit.SnapshotPartial || !slices.Equal(endpoints, []string{"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails"}) {
		t.Errorf("prod: %s, gaps %v", prod.Status, endpoints)
	}
	if sb := snaps[awstest.SampleSandbox]; sb.Status != audit.SnapshotPartial || len(sb.Gaps) != 1 || sb.Gaps[0].Endpoint != "iam:ListOpenIDConnectProviders" {
		t.Errorf("sandbox: %s %+v", sb.Status, sb.Gaps)
	}
	if prod.Total() == 0 {
		t.Fatal("a denied API read as zero identities")
	}
	ids := byID(t, st)
	role := ids["aws:222222222222:aws_iam_role:github-any-repo"]
	if role.LastUsedAt == nil {
		t.Error("role read through ListRoles has no last use: GetRole was not asked (ListRoles omits RoleLastUsed)")
	}
	if role.Attributes["policies_unknown"] != "true" {
		t.Errorf("policies were not read but the role does not say so: %v", role.Attributes)
	}
	key := ids["aws:222222222222:aws_access_key:AKIAPRODLEGACY000001"]
	if key.LastUsedAt == nil || key.Attributes["last_used_service"] != "ecs" {
		t.Errorf("key use without the report should come from GetAccessKeyLastUsed: %v %v", key.LastUsedAt, key.Attributes)
	}
	calls := s.Calls(awstest.SampleProd)
	if calls["iam:GetRole"] == 0 || calls["iam:GetAccessKeyLastUsed"] != 4 {
		t.Errorf("fallback calls: %v", calls)
	}
}

func TestThrottlingIsRetriedAndSaid(t *testing.T) {
	org := awstest.Sample(fixedNow)
	s := serve(t, org)
	s.Throttle(awstest.SampleProd, "iam:GetAccountAuthorizationDetails", 3)
	s.Throttle(awstest.SampleManagement, "organizations:ListAccounts", 1)
	st, _ := openStore(t)
	var progress lockedBuffer
	opts := options(&progress)
	opts.OrgRole = "OrganizationAccountAccessRole"
	_, snaps := snapshotAll(t, st, opts)
	if snaps[awstest.SampleProd].Status != audit.SnapshotComplete {
		t.Errorf("prod after throttling: %s %v", snaps[awstest.SampleProd].Status, snaps[awstest.SampleProd].Gaps)
	}
	if n := s.Calls(awstest.SampleProd)["iam:GetAccountAuthorizationDetails"]; n != 4 {
		t.Errorf("GetAccountAuthorizationDetails asked %d times, want 3 throttled + 1", n)
	}
	// The snapshot counts every request the account cost, retries included,
	// as the fake saw them (AssumeRole is the caller's, not the account's).
	sent := 0
	for action, n := range s.Calls(awstest.SampleProd) {
		if !strings.HasPrefix(action, "sts:") {
			sent += n
		}
	}
	if r := snaps[awstest.SampleProd].Reach; r == nil || r.Unit != "accounts" || r.Read != 1 || r.Requests != sent || len(r.CannotSee) == 0 {
		t.Errorf("prod reach %+v, want 1 account read in %d requests", r, sent)
	}
	out := progress.String()
	if strings.Count(out, "aws/222222222222: Throttling; waiting") != 3 || !strings.Contains(out, "aws: TooManyRequestsException; waiting") {
		t.Errorf("progress does not say the run waits:\n%s", out)
	}
}

func TestAssumeRoleDeniedIsAGap(t *testing.T) {
	org := awstest.Sample(fixedNow)
	serve(t, org)
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "NoSuchRole"
	opts.Accounts = []string{awstest.SampleSandbox}
	_, snaps := snapshotAll(t, st, opts)
	sb := snaps[awstest.SampleSandbox]
	if len(snaps) != 1 || sb.Status != audit.SnapshotPartial || len(sb.Gaps) != 1 || sb.Gaps[0].Endpoint != "sts:AssumeRole" || !strings.Contains(sb.Gaps[0].Reason, "NoSuchRole") {
		t.Errorf("snapshots %d; sandbox %s %+v", len(snaps), sb.Status, sb.Gaps)
	}
}

// TestCallsPerAccount: an account costs the authorization details, one
// ListRoles page, the credential report (generate until complete, get),
// ListAccessKeys per user (the report cannot show an inactive key), one
// GetAccessKeyLastUsed per inactive key, and the OIDC providers; nothing
// per role or per active key.
func TestCallsPerAccount(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)
	want := map[string]int{
		"iam:GetAccountAuthorizationDetails": 1, "iam:ListRoles": 1,
		"iam:GenerateCredentialReport": 2, "iam:GetCredentialReport": 1,
		"iam:ListAccessKeys":             3, // every user: legacy-deployer, metrics-shipper, backup-old
		"iam:GetAccessKeyLastUsed":       1, // backup-old's key is inactive: the report shows its slot as N/A
		"iam:ListOpenIDConnectProviders": 1, "iam:GetOpenIDConnectProvider": 1,
	}
	got := s.Calls(awstest.SampleProd)
	if len(got) != len(want) {
		t.Errorf("prod calls %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("prod %s: %d calls, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

// TestReportNotReady: a credential report that does not finish in time
// is a gap saying so, and key use comes from GetAccessKeyLastUsed.
func TestReportNotReady(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow), awstest.WithReportSteps(1000))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.ReportTimeout = time.Nanosecond
	_, snaps := snapshotAll(t, st, opts)
	m := snaps[awstest.SampleManagement]
	if m.Status != audit.SnapshotPartial || len(m.Gaps) != 1 || m.Gaps[0].Endpoint != "iam:GetCredentialReport" || !strings.Contains(m.Gaps[0].Reason, "not ready") {
		t.Fatalf("%s %+v", m.Status, m.Gaps)
	}
	if n := s.Calls(awstest.SampleManagement)["iam:GetAccessKeyLastUsed"]; n != 2 {
		t.Errorf("GetAccessKeyLastUsed asked %d times, want once per key (2)", n)
	}
	ids := byID(t, st)
	if k := ids["aws:111111111111:aws_access_key:AKIAMGMTDANA00000001"]; k.LastUsedAt == nil {
		t.Error("key use not read without the report")
	}
	if u := ids["aws:111111111111:aws_iam_user:dana"]; u.Attributes["password_enabled"] != "" {
		t.Errorf("console password %q claimed without the report", u.Attributes["password_enabled"])
	}
}

// TestRemovalPerAccount: a key deleted in one account is removed by that
// account's next complete snapshot; the other accounts are untouched.
func TestRemovalPerAccount(t *testing.T) {
	org := awstest.Sample(fixedNow)
	serve(t, org)
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)
	prod := org.Account(awstest.SampleProd)
	for _, u := range prod.Users {
		if u.Name == "legacy-deployer" {
			u.Keys = u.Keys[1:]
		}
	}
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	ids := byID(t, st)
	if s := ids["aws:222222222222:aws_access_key:AKIAPRODLEGACY000001"].Status; s != audit.StatusRemoved {
		t.Errorf("deleted key: %s, want removed", s)
	}
	for _, id := range []string{"aws:222222222222:aws_access_key:AKIAPRODLEGACY000002", "aws:333333333333:aws_iam_role:lambda-cleanup", "aws:111111111111:aws_iam_user:dana"} {
		if s := ids[id].Status; s != audit.StatusActive {
			t.Errorf("%s: %s, want active", id, s)
		}
	}
}

// TestDeniedListingClaimsNoRemoval: when ListAccessKeys is denied on a
// later run, the keys and users it would have listed are not-checked,
// never removed; the roles, read in full, stay active.
func TestDeniedListingClaimsNoRemoval(t *testing.T) {
	s := serve(t, awstest.Sample(fixedNow))
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	snapshotAll(t, st, opts)
	s.Deny(awstest.SampleProd, "iam:ListAccessKeys")
	_, snaps := snapshotAll(t, st, opts)
	if p := snaps[awstest.SampleProd]; p.Status != audit.SnapshotPartial || p.Total() == 0 {
		t.Fatalf("prod: %s, %d identities", p.Status, p.Total())
	}
	ids := byID(t, st)
	for id, want := range map[string]string{
		"aws:222222222222:aws_access_key:AKIAPRODLEGACY000001": audit.StatusNotChecked,
		"aws:222222222222:aws_iam_user:legacy-deployer":        audit.StatusNotChecked,
		"aws:222222222222:aws_iam_role:batch-jobs":             audit.StatusActive,
		"aws:333333333333:aws_access_key:AKIASANDBOXEXP000001": audit.StatusActive,
	} {
		if got := ids[id].Status; got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}

// The credential report shows an inactive key's last_rotated as N/A, like
// an empty slot (AWS: "If the user does not have an active access key, the
// value in this field is N/A"). A user whose only key is inactive still
// has it recorded, and an inactive key never takes the last use of the
// active key beside it: its own comes from GetAccessKeyLastUsed.
func TestInactiveKeysAreReadAndNotConfused(t *testing.T) {
	org := awstest.Sample(fixedNow)
	day := func(n int) time.Time { return fixedNow.AddDate(0, 0, -n) }
	used := func(n int) *time.Time { t := day(n); return &t }
	for _, a := range org.Accounts {
		if a.ID != awstest.SampleProd {
			continue
		}
		a.Users = append(a.Users,
			// The active key was made after the inactive one but sits in the
			// first slot (keys keep their slot when another is deleted).
			&awstest.User{Name: "ci-rotated", Path: "/", ID: "AIDAPRODCIROT", Created: day(900), Keys: []*awstest.AccessKey{
				{ID: "AKIAPRODCIROTNEW0001", Status: "Active", Created: day(30), LastUsed: used(2), Service: "ec2", Region: "eu-west-1"},
				{ID: "AKIAPRODCIROTOLD0001", Status: "Inactive", Created: day(800), LastUsed: used(400), Service: "s3", Region: "us-east-1"},
			}},
			&awstest.User{Name: "retired-bot", Path: "/", ID: "AIDAPRODRETIRED", Created: day(700), Keys: []*awstest.AccessKey{
				{ID: "AKIAPRODRETIRED00001", Status: "Inactive", Created: day(650), LastUsed: used(500), Service: "sqs", Region: "us-east-1"},
			}})
	}
	s := serve(t, org, awstest.WithReportReady())
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	ids := byID(t, st)
	for id, want := range map[string]struct {
		status, service string
		daysAgo         int
	}{
		"AKIAPRODCIROTNEW0001": {"Active", "ec2", 2},
		"AKIAPRODCIROTOLD0001": {"Inactive", "s3", 400},
		"AKIAPRODRETIRED00001": {"Inactive", "sqs", 500},
	} {
		k, ok := ids["aws:222222222222:aws_access_key:"+id]
		if !ok {
			t.Errorf("%s was not recorded", id)
			continue
		}
		if k.Attributes["status"] != want.status || k.Attributes["last_used_service"] != want.service || k.LastUsedAt == nil || !k.LastUsedAt.Equal(day(want.daysAgo)) {
			t.Errorf("%s: status %s, last used %v with %s; want %s, %d days ago with %s", id, k.Attributes["status"], k.LastUsedAt, k.Attributes["last_used_service"], want.status, want.daysAgo, want.service)
		}
	}
	if n := s.Calls(awstest.SampleProd)["iam:GetAccessKeyLastUsed"]; n != 3 {
		t.Errorf("GetAccessKeyLastUsed asked %d times, want once per inactive key (3)", n)
	}
}

// TestPagesThatLoop: a listing whose last page hands back a marker to the
// first (pages that loop) ends the account's run with an error saying so,
// after one lap, where the SDK's paginator asked for ever; the account's
// population stays that of its last finished snapshot, nothing removed.
func TestPagesThatLoop(t *testing.T) {
	org := awstest.Sample(fixedNow)
	s := serve(t, org, awstest.WithPageSize(3))
	st, _ := openStore(t)
	snapshotAll(t, st, options(&lockedBuffer{}))
	s.LoopPages()
	ctx := context.Background()
	plan, err := awsconn.NewPlan(ctx, options(&lockedBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	plan.Snapshot(ctx, st, connectors.RunOptions{ToolVersion: "test", Actor: "tester"}, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
		runErr = err
	})
	if runErr == nil || !strings.Contains(runErr.Error(), "page marker it had given before") {
		t.Fatalf("pages that loop: %v", runErr)
	}
	if n := s.Calls(awstest.SampleManagement)["iam:GetAccountAuthorizationDetails"]; n > 40 {
		t.Errorf("%d calls to a listing whose pages loop; want one lap", n)
	}
	for id, i := range byID(t, st) {
		if i.Status != audit.StatusActive {
			t.Errorf("%s: %s after a run that failed; want active", id, i.Status)
		}
	}
}

// TestUnreachableIsNotACredential: an STS endpoint that cannot be reached
// says so and what to check, not "no usable AWS credentials" with advice
// to log in again; a key AWS rejects still says that.
func TestUnreachableIsNotACredential(t *testing.T) {
	serve(t, awstest.Sample(fixedNow))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	good := os.Getenv("AWS_ENDPOINT_URL")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+ln.Addr().String())
	_, err = awsconn.NewPlan(context.Background(), options(&lockedBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "cannot reach AWS STS") || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL") || strings.Contains(err.Error(), "aws sso login") {
		t.Errorf("STS unreachable: %v", err)
	}
	t.Setenv("AWS_ENDPOINT_URL", good)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREVOKED000000000")
	_, err = awsconn.NewPlan(context.Background(), options(&lockedBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "no usable AWS credentials") || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("a revoked key: %v", err)
	}
}
