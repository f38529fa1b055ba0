package awstest

import (
	"fmt"
	"time"
)

// Generate returns an organisation of accounts accounts, each with users
// IAM users holding keys access keys between them (one or two each; keys
// must be between users and 2*users) and roles roles, for benchmarks.
// The first account is the management account. Identities are dated
// relative to now and vary in age, use and trust.
func Generate(now time.Time, accounts, users, keys, roles int) *Org {
	day := func(n int) time.Time { return now.AddDate(0, 0, -n).Truncate(time.Second).UTC() }
	org := &Org{ID: "o-generated", RoleName: "OrganizationAccountAccessRole"}
	for a := range accounts {
		id := fmt.Sprintf("%012d", int64(100000000000)+int64(a))
		acct := &Account{ID: id, Name: fmt.Sprintf("account-%03d", a), Email: fmt.Sprintf("aws+%d@example.com", a), Status: "ACTIVE",
			Groups: []*Group{{Name: "deployers", Path: "/", ID: "AGPA" + id, Created: day(1000),
				Inline: map[string]string{"deploy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:*","iam:PassRole"],"Resource":"*"}]}`}}},
			Policies: []*Policy{{Name: "read-artifacts", ID: "ANPA" + id, Path: "/", Created: day(900),
				Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*"}]}`}},
		}
		doubles := keys - users // users with two keys
		for u := range users {
			user := &User{Name: fmt.Sprintf("svc-%04d", u), Path: "/service/", ID: fmt.Sprintf("AIDA%s%04d", id, u), Created: day(100 + u%900),
				Attached: []string{"arn:aws:iam::" + id + ":policy/read-artifacts"}, Tags: map[string]string{"team": fmt.Sprintf("team-%d", u%12)}}
			if u%5 == 0 {
				user.Groups = []string{"deployers"}
			}
			if u%17 == 0 {
				user.PasswordEnabled = true
			}
			n := 1
			if u < doubles {
				n = 2
			}
			for k := range n {
				kid := fmt.Sprintf("AKIA%s%04d%d", id, u, k)
				key := &AccessKey{ID: kid, Secret: "canary-" + kid, Status: "Active", Created: day(10 + (u*7+k*31)%1200), Service: "s3", Region: "eu-west-1"}
				if u%4 != 0 {
					used := day((u + k) % 200)
					key.LastUsed = &used
				}
				user.Keys = append(user.Keys, key)
			}
			acct.Users = append(acct.Users, user)
		}
		for r := range roles {
			role := &Role{Name: fmt.Sprintf("role-%04d", r), Path: "/", ID: fmt.Sprintf("AROA%s%04d", id, r), Created: day(30 + r%1000), MaxSession: 3600}
			switch r % 5 {
			case 0:
				role.Path = "/aws-service-role/ecs.amazonaws.com/"
				role.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
			case 1:
				role.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fmt.Sprintf("%012d", int64(100000000000)+int64((a+1)%accounts)) + `:root"},"Action":"sts:AssumeRole"}]}`
			case 2:
				role.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + id + `:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:example/*"}}}]}`
			default:
				role.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
				role.Inline = map[string]string{"run": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*","s3:GetObject"],"Resource":"*"}]}`}
			}
			if r%3 != 0 {
				used := day(r % 300)
				role.LastUsed, role.LastRegion = &used, "eu-west-1"
			}
			if r%7 == 0 {
				role.Tags = map[string]string{"Owner": fmt.Sprintf("owner-%d@example.com", r%9)}
			}
			acct.Roles = append(acct.Roles, role)
		}
		acct.OIDC = []*OIDCProvider{{URL: "token.actions.githubusercontent.com", ClientIDs: []string{"sts.amazonaws.com"}, Created: day(500)}}
		org.Accounts = append(org.Accounts, acct)
	}
	// Member accounts are read through the organisation role.
	for _, acct := range org.Accounts[1:] {
		acct.Roles = append(acct.Roles, &Role{Name: org.RoleName, Path: "/", ID: "AROA" + acct.ID + "ORG", Created: day(1000), MaxSession: 3600,
			Trust:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + org.Accounts[0].ID + `:root"},"Action":"sts:AssumeRole"}]}`,
			Attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}})
	}
	return org
}
