package awstest

import (
	"fmt"
	"time"
)

// Sample account IDs.
const (
	SampleManagement = "111111111111"
	SampleProd       = "222222222222"
	SampleSandbox    = "333333333333"
	// SampleVendor is an account outside the organisation that a prod
	// role trusts.
	SampleVendor = "999988887777"
)

// Sample returns a small organisation ("northwind", three accounts) with
// healthy and risky identities, dated relative to now: a CI user with two
// active keys, one three years old; an administrator's key used from the
// console user's own login; a role trusting "*"; a GitHub OIDC role
// without a sub condition; a vendor role; service-linked roles; tags that
// name owners. Every key's secret is a canary.
func Sample(now time.Time) *Org {
	day := func(n int) time.Time { return now.AddDate(0, 0, -n).Truncate(time.Second).UTC() }
	dp := func(n int) *time.Time { t := day(n); return &t }
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	readS3 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::northwind-artifacts","arn:aws:s3:::northwind-artifacts/*"]}]}`
	passRole := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ecs:*"],"Resource":"*"}]}`
	trustService := func(svc string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + svc + `"},"Action":"sts:AssumeRole"}]}`
	}
	trustAccount := func(acct string, cond string) string {
		c := ""
		if cond != "" {
			c = `,"Condition":{"StringEquals":{"sts:ExternalId":"` + cond + `"}}`
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"` + c + `}]}`
	}
	gha := "token.actions.githubusercontent.com"
	trustGitHub := func(sub string) string {
		cond := `"StringEquals":{"` + gha + `:aud":"sts.amazonaws.com"}`
		if sub != "" {
			cond += `,"StringLike":{"` + gha + `:sub":"` + sub + `"}`
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/` + gha + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{` + cond + `}}]}`
	}
	orgRole := func(id string) *Role {
		return &Role{Name: "OrganizationAccountAccessRole", Path: "/", ID: "AROA" + id + "ORG", Created: day(2000),
			Trust: trustAccount(SampleManagement, ""), MaxSession: 3600, LastUsed: dp(0), LastRegion: "us-east-1",
			Attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, Tags: map[string]string{"Owner": "platform@northwind.example"}}
	}
	slr := func(id, name, svc string) *Role {
		return &Role{Name: name, Path: "/aws-service-role/" + svc + "/", ID: "AROA" + id + name, Created: day(1500),
			Trust: trustService(svc), MaxSession: 3600, LastUsed: dp(1), LastRegion: "eu-west-1"}
	}
	key := func(id string, created, used int, service string) *AccessKey {
		k := &AccessKey{ID: id, Secret: "canary-secret-" + id, Status: "Active", Created: day(created), Service: service, Region: "eu-west-1"}
		if used >= 0 {
			k.LastUsed = dp(used)
		}
		return k
	}

	mgmt := &Account{ID: SampleManagement, Name: "northwind-management", Email: "aws-mgmt@northwind.example", Status: "ACTIVE",
		Users: []*User{
			{Name: "terraform-ci", Path: "/automation/", ID: "AIDAMGMTTERRAFORM", Created: day(1200), Attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
				Tags: map[string]string{"team": "platform"}, Keys: []*AccessKey{key("AKIAMGMTTERRAFORM001", 1100, 0, "sts")}},
			{Name: "dana", Path: "/", ID: "AIDAMGMTDANA", Created: day(900), PasswordEnabled: true, PasswordLastUsed: dp(3), MFA: true,
				Groups: []string{"admins"}, Keys: []*AccessKey{key("AKIAMGMTDANA00000001", 400, 2, "iam")}},
			{Name: "alice", Path: "/", ID: "AIDAMGMTALICE", Created: day(700), PasswordEnabled: true, PasswordLastUsed: dp(1), MFA: true, Groups: []string{"admins"}},
		},
		Groups: []*Group{{Name: "admins", Path: "/", ID: "AGPAMGMTADMINS", Created: day(1500), Attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}},
		Roles: []*Role{
			slr(SampleManagement, "AWSServiceRoleForOrganizations", "organizations.amazonaws.com"),
			slr(SampleManagement, "AWSServiceRoleForSSO", "sso.amazonaws.com"),
			{Name: "billing-export", Path: "/", ID: "AROAMGMTBILLING", Created: day(800), Trust: trustService("lambda.amazonaws.com"), MaxSession: 3600,
				LastUsed: dp(300), LastRegion: "us-east-1", Inline: map[string]string{"read-cur": readS3}, Tags: map[string]string{"CreatedBy": "finops@northwind.example"}},
		},
	}
	prod := &Account{ID: SampleProd, Name: "northwind-prod", Email: "aws-prod@northwind.example", Status: "ACTIVE",
		Users: []*User{
			{Name: "legacy-deployer", Path: "/", ID: "AIDAPRODLEGACY", Created: day(1400), Inline: map[string]string{"deploy": passRole},
				Keys: []*AccessKey{key("AKIAPRODLEGACY000001", 1300, 200, "ecs"), key("AKIAPRODLEGACY000002", 60, 1, "ecs")}},
			{Name: "metrics-shipper", Path: "/service/", ID: "AIDAPRODMETRICS", Created: day(100), Attached: []string{"arn:aws:iam::" + SampleProd + ":policy/artifacts-read"},
				Tags: map[string]string{"Owner": "sre@northwind.example"}, Keys: []*AccessKey{key("AKIAPRODMETRICS00001", 45, 0, "s3")}},
			{Name: "backup-old", Path: "/", ID: "AIDAPRODBACKUP", Created: day(1000), Keys: []*AccessKey{{ID: "AKIAPRODBACKUP000001", Secret: "canary-secret-backup", Status: "Inactive", Created: day(990)}}},
		},
		Policies: []*Policy{{Name: "artifacts-read", ID: "ANPAPRODARTIFACTS", Path: "/", Document: readS3, Created: day(500)}},
		Roles: []*Role{
			orgRole(SampleProd),
			slr(SampleProd, "AWSServiceRoleForECS", "ecs.amazonaws.com"),
			{Name: "github-deploy", Path: "/ci/", ID: "AROAPRODGHDEPLOY", Created: day(300), Trust: fmt.Sprintf(trustGitHub("repo:northwind/api:ref:refs/heads/main"), SampleProd),
				MaxSession: 3600, LastUsed: dp(0), LastRegion: "eu-west-1", Inline: map[string]string{"deploy": passRole}, Tags: map[string]string{"Owner": "platform@northwind.example"}},
			{Name: "github-any-repo", Path: "/ci/", ID: "AROAPRODGHANY", Created: day(200), Trust: fmt.Sprintf(trustGitHub(""), SampleProd),
				MaxSession: 43200, LastUsed: dp(10), LastRegion: "eu-west-1", Attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
			{Name: "vendor-monitoring", Path: "/", ID: "AROAPRODVENDOR", Created: day(600), Trust: trustAccount(SampleVendor, "northwind-7731"),
				MaxSession: 3600, LastUsed: dp(0), LastRegion: "us-east-1", Attached: []string{"arn:aws:iam::aws:policy/SecurityAudit"}, Tags: map[string]string{"owner": "secops@northwind.example"}},
			{Name: "public-reader", Path: "/", ID: "AROAPRODPUBLIC", Created: day(700), Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
				MaxSession: 3600, Inline: map[string]string{"read": readS3}},
			{Name: "batch-jobs", Path: "/", ID: "AROAPRODBATCH", Created: day(900), Trust: trustService("ecs-tasks.amazonaws.com"), MaxSession: 3600,
				LastUsed: dp(400), LastRegion: "eu-west-1", Inline: map[string]string{"all": allowAll}},
		},
		OIDC: []*OIDCProvider{{URL: gha, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}, Created: day(400)}},
	}
	sandbox := &Account{ID: SampleSandbox, Name: "northwind-sandbox", Email: "aws-sandbox@northwind.example", Status: "ACTIVE",
		Users: []*User{
			{Name: "experiments", Path: "/", ID: "AIDASANDBOXEXP", Created: day(500), PasswordEnabled: true, PasswordLastUsed: dp(100),
				Attached: []string{"arn:aws:iam::aws:policy/PowerUserAccess"}, Keys: []*AccessKey{key("AKIASANDBOXEXP000001", 480, -1, "")}},
		},
		Roles: []*Role{
			orgRole(SampleSandbox),
			{Name: "lambda-cleanup", Path: "/", ID: "AROASANDBOXCLEAN", Created: day(20), Trust: trustService("lambda.amazonaws.com"), MaxSession: 3600,
				LastUsed: dp(1), LastRegion: "eu-west-1", Inline: map[string]string{"read": readS3}, Tags: map[string]string{"Owner": "dev@northwind.example"}},
		},
	}
	return &Org{ID: "o-northwind1", RoleName: "OrganizationAccountAccessRole", Accounts: []*Account{mgmt, prod, sandbox}}
}
