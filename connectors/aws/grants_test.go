package aws_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// grantsOf snapshots the sample's production account with the roles and
// users added, through the fake and the real SDK (IAM serves every
// document URL-encoded), and returns the identities read.
func grantsOf(t *testing.T, roles []*awstest.Role, users []*awstest.User) map[string]audit.Identity {
	t.Helper()
	org := awstest.Sample(fixedNow)
	prod := org.Account(awstest.SampleProd)
	prod.Roles = append(prod.Roles, roles...)
	prod.Users = append(prod.Users, users...)
	serve(t, org)
	st, _ := openStore(t)
	opts := options(&lockedBuffer{})
	opts.OrgRole = "OrganizationAccountAccessRole"
	opts.Accounts = []string{awstest.SampleProd}
	snapshotAll(t, st, opts)
	return byID(t, st)
}

func finding(id audit.Identity, rule string) string {
	for _, f := range id.Findings {
		if f.Rule == rule {
			return f.Message
		}
	}
	return ""
}

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// TestNotActionAndNotResourceGrantBroadly: an Allow with NotAction on
// every resource grants every action but those named, the classic
// "everything but IAM"; one with NotResource grants on every resource but
// those named. Both are broad, said in words ("all actions except
// iam:*"), where the statement, having no Action, read as granting
// nothing and the identity had no overprivileged finding. A Deny beside
// an Allow is named, not weighed: nhi never claims less than is granted.
func TestNotActionAndNotResourceGrantBroadly(t *testing.T) {
	role := func(name, doc string) *awstest.Role {
		return &awstest.Role{Name: name, Path: "/", ID: "AROA" + strings.ToUpper(name), Created: fixedNow.AddDate(0, 0, -10), Trust: ec2Trust,
			Inline: map[string]string{"policy": doc}}
	}
	ids := grantsOf(t, []*awstest.Role{
		role("all-but-iam", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`),
		role("all-but-two", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"]}]}`),
		role("all-but-bucket", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::audit-logs/*"}]}`),
		role("s3-on-a-role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"arn:aws:iam::222222222222:role/deploy"}]}`),
		role("nothing-but-s3", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"*","Resource":"*"},{"Effect":"Allow","NotAction":"*:*","Resource":"*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		role("allow-and-deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["iam:*","organizations:*"],"Resource":"*"}]}`),
	}, []*awstest.User{{Name: "ops-bot", Path: "/", ID: "AIDAPRODOPSBOT", Created: fixedNow.AddDate(0, 0, -10),
		Inline: map[string]string{"ops": `{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
		Keys:   []*awstest.AccessKey{{ID: "AKIAPRODOPSBOT000001", Status: "Active", Created: fixedNow.AddDate(0, 0, -10)}}}})

	for name, want := range map[string]string{
		"aws:222222222222:aws_iam_role:all-but-iam":            "all actions except iam:*",
		"aws:222222222222:aws_iam_role:all-but-two":            "all actions except iam:*, organizations:*",
		"aws:222222222222:aws_iam_role:all-but-bucket":         "*:* on all resources except arn:aws:s3:::audit-logs/*",
		"aws:222222222222:aws_iam_role:s3-on-a-role":           "all actions except s3:* on arn:aws:iam::222222222222:role/deploy",
		"aws:222222222222:aws_iam_role:allow-and-deny":         "*:*",
		"aws:222222222222:aws_iam_user:ops-bot":                "all actions except iam:*",
		"aws:222222222222:aws_access_key:AKIAPRODOPSBOT000001": "all actions except iam:*",
	} {
		id := ids[name]
		if got := id.Attributes[awsconn.AttrGrants]; got != want {
			t.Errorf("%s: grants %q, want %q", name, got, want)
		}
		if msg := finding(id, "overprivileged"); msg != "grants "+want && !strings.HasPrefix(msg, "grants "+want+";") {
			t.Errorf("%s: overprivileged finding %q, want it to say %q", name, msg, "grants "+want)
		}
	}
	if id := ids["aws:222222222222:aws_iam_role:nothing-but-s3"]; id.Attributes[awsconn.AttrGrants] != "" || finding(id, "overprivileged") != "" {
		t.Errorf("NotAction \"*\" grants nothing, s3:GetObject nothing broad: %v, %v", id.Attributes, id.Findings)
	}
	deny := ids["aws:222222222222:aws_iam_role:allow-and-deny"]
	if got, want := deny.Attributes["denies_not_evaluated"], "policy (inline): Deny iam:*, organizations:*"; got != want {
		t.Errorf("the Deny beside a broad Allow: %q, want %q", got, want)
	}
	if msg := finding(deny, "overprivileged"); !strings.Contains(msg, "Deny iam:*, organizations:*") || !strings.Contains(msg, "not weighed") {
		t.Errorf("the finding does not name the Deny nhi did not weigh: %q", msg)
	}
}

// TestTrustNotPrincipal: a trust policy that allows every principal but
// those named (NotPrincipal with Allow) trusts nearly anyone, where it
// read as trusting no one.
func TestTrustNotPrincipal(t *testing.T) {
	ids := grantsOf(t, []*awstest.Role{
		{Name: "all-but-one", Path: "/", ID: "AROAPRODALLBUTONE", Created: fixedNow.AddDate(0, 0, -10),
			Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:role/intruder"},"Action":"sts:AssumeRole"}]}`},
		{Name: "all-but-one-if", Path: "/", ID: "AROAPRODALLBUTONEIF", Created: fixedNow.AddDate(0, 0, -10),
			Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:role/intruder"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`},
		{Name: "anyone", Path: "/", ID: "AROAPRODANYONE", Created: fixedNow.AddDate(0, 0, -10),
			Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:role/intruder"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}}},{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`},
		{Name: "no-one", Path: "/", ID: "AROAPRODNOONE", Created: fixedNow.AddDate(0, 0, -10),
			Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"sts:AssumeRole"}]}`},
	}, nil)
	open := ids["aws:222222222222:aws_iam_role:all-but-one"]
	if a := open.Attributes; a[awsconn.AttrTrustStar] != "unconditioned" || a["trust_any_principal_except"] != "arn:aws:iam::222222222222:role/intruder" {
		t.Errorf("NotPrincipal trust: %v", a)
	}
	if msg := finding(open, "broad-trust"); !strings.Contains(msg, "any AWS principal except arn:aws:iam::222222222222:role/intruder") {
		t.Errorf("broad-trust finding %q", msg)
	}
	if a := ids["aws:222222222222:aws_iam_role:no-one"].Attributes; a[awsconn.AttrTrustStar] != "" || a["trust_any_principal_except"] != "" {
		t.Errorf("NotPrincipal \"*\" leaves no one: %v", a)
	}
	anyone := ids["aws:222222222222:aws_iam_role:anyone"]
	if a := anyone.Attributes; a[awsconn.AttrTrustStar] != "unconditioned" || a["trust_any_principal_except"] != "" {
		t.Errorf("a NotPrincipal beside an unconditioned Principal \"*\" excepts no one: %v", a)
	}
	if msg := finding(anyone, "broad-trust"); !strings.Contains(msg, `Principal "*" without a condition: any AWS principal can assume it`) {
		t.Errorf("broad-trust finding %q", msg)
	}
	cond := ids["aws:222222222222:aws_iam_role:all-but-one-if"]
	if a := cond.Attributes; a[awsconn.AttrTrustStar] != "conditioned" || a["trust_any_principal_except"] != "arn:aws:iam::222222222222:role/intruder" {
		t.Errorf("NotPrincipal trust with a condition: %v", a)
	}
}

// TestAWSManagedPolicies: nhi does not read AWS managed policies' documents
// (they are AWS's, not in the account). Those it knows to be broad say so
// in grants — PowerUserAccess (every action but IAM, Organizations and
// Account) and the *FullAccess family beside AdministratorAccess and
// IAMFullAccess — where all but the last two granted nothing; any other
// is named in policies_not_evaluated, never read as granting nothing.
func TestAWSManagedPolicies(t *testing.T) {
	const aws = "arn:aws:iam::aws:policy/"
	role := func(name string, attached ...string) *awstest.Role {
		return &awstest.Role{Name: name, Path: "/", ID: "AROA" + strings.ToUpper(name), Created: fixedNow.AddDate(0, 0, -10), Trust: ec2Trust, Attached: attached}
	}
	ids := grantsOf(t, []*awstest.Role{
		role("power", aws+"PowerUserAccess"),
		role("s3-full", aws+"AmazonS3FullAccess", aws+"service-role/AWSLambdaBasicExecutionRole"),
		role("lambda-full", aws+"AWSLambda_FullAccess"),
		role("iam-full", aws+"IAMFullAccess"),
		role("viewer", aws+"job-function/ViewOnlyAccess", aws+"ReadOnlyAccess"),
	}, nil)
	for name, want := range map[string]struct{ grants, notEvaluated string }{
		"power":                         {"PowerUserAccess (all actions except iam:*, organizations:*, account:*)", ""},
		"s3-full":                       {"AmazonS3FullAccess (AWS managed: full access to its service)", "AWSLambdaBasicExecutionRole"},
		"lambda-full":                   {"AWSLambda_FullAccess (AWS managed: full access to its service)", ""},
		"iam-full":                      {"IAMFullAccess", ""},
		"viewer":                        {"", "ViewOnlyAccess, ReadOnlyAccess"},
		"OrganizationAccountAccessRole": {"AdministratorAccess", ""},
		"vendor-monitoring":             {"", "SecurityAudit"},
	} {
		id := ids["aws:222222222222:aws_iam_role:"+name]
		a := id.Attributes
		if a[awsconn.AttrGrants] != want.grants || a["policies_not_evaluated"] != want.notEvaluated {
			t.Errorf("%s: grants %q, policies_not_evaluated %q; want %q, %q", name, a[awsconn.AttrGrants], a["policies_not_evaluated"], want.grants, want.notEvaluated)
		}
		if msg := finding(id, "overprivileged"); (want.grants != "") != (msg != "") || !strings.Contains(msg, want.grants) {
			t.Errorf("%s: overprivileged finding %q, want one saying %q", name, msg, want.grants)
		}
	}
}

// TestAttachedButNotListed: a group a user is in, or a customer managed
// policy attached to an identity, that GetAccountAuthorizationDetails did
// not list (created or changed between its pages) grants what nobody
// read: the identity says its policies are not known and names them,
// where they read as granting nothing.
func TestAttachedButNotListed(t *testing.T) {
	ids := grantsOf(t, []*awstest.Role{{Name: "late-policy", Path: "/", ID: "AROAPRODLATE", Created: fixedNow.AddDate(0, 0, -10), Trust: ec2Trust,
		Attached: []string{"arn:aws:iam::222222222222:policy/created-late"}}},
		[]*awstest.User{{Name: "late-group", Path: "/", ID: "AIDAPRODLATE", Created: fixedNow.AddDate(0, 0, -10), Groups: []string{"admins-new"},
			Keys: []*awstest.AccessKey{{ID: "AKIAPRODLATE00000001", Status: "Active", Created: fixedNow.AddDate(0, 0, -10)}}}})
	for id, want := range map[string]string{
		"aws:222222222222:aws_iam_role:late-policy":            "created-late (not in the listing)",
		"aws:222222222222:aws_iam_user:late-group":             "group admins-new (not in the listing)",
		"aws:222222222222:aws_access_key:AKIAPRODLATE00000001": "group admins-new (not in the listing)",
	} {
		if a := ids[id].Attributes; a[awsconn.AttrPolicyUnknown] != "true" || a["policies_unreadable"] != want {
			t.Errorf("%s: %v; want its policies marked not known, naming %s", id, a, want)
		}
	}
}
