package githubtest

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The generators below were added after the first sample: each draws only
// after everything older has drawn, so the organisations generated before
// them are unchanged.

// ---- owners and members ---------------------------------------------------

// admins makes the auditor and about one member in a hundred owners.
func (g *gen) admins() {
	o := g.org
	o.Admins = []string{TokenOwner}
	for i := 2; i < len(o.Members); i += 97 {
		o.Admins = append(o.Admins, o.Members[i])
	}
}

// ---- fine-grained PATs and requests ----------------------------------------

var patNames = []string{
	"release-automation", "terraform", "local-dev", "backup-script", "renovate-selfhosted",
	"data-sync", "deploy-prod", "ci-bot", "migration-2024", "dashboards", "gh-cli", "cron-reports",
}

var patPermissionSets = []PATPermissions{
	{Repository: map[string]string{"contents": "write", "metadata": "read", "pull_requests": "write"}},
	{Repository: map[string]string{"contents": "read", "metadata": "read"}},
	{Repository: map[string]string{"administration": "write", "contents": "write", "metadata": "read", "secrets": "write", "workflows": "write"}},
	{Organization: map[string]string{"members": "read"}, Repository: map[string]string{"metadata": "read"}},
	{Organization: map[string]string{"administration": "write", "members": "write"}, Repository: map[string]string{"metadata": "read"}},
	{Repository: map[string]string{"actions": "read", "metadata": "read", "issues": "write"}},
}

func clonePerms(p PATPermissions) PATPermissions {
	cp := func(m map[string]string) map[string]string {
		if m == nil {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return PATPermissions{Organization: cp(p.Organization), Repository: cp(p.Repository), Other: cp(p.Other)}
}

func (g *gen) selection(r *rand.Rand) string {
	switch u := r.Float64(); {
	case u < 0.35:
		return "all"
	case u < 0.95:
		return "subset"
	}
	return "none"
}

// tokenLife draws when a token expires and was last used, given when it
// was granted: some never expire, some expired, some expire within two
// weeks; some were never used, some not for months.
func (g *gen) tokenLife(r *rand.Rand, granted time.Time) (expires, lastUsed *time.Time, expired bool) {
	switch u := r.Float64(); {
	case u < 0.25: // no expiry
	case u < 0.33:
		t := between(r, granted, g.now.AddDate(0, 0, -1))
		expires, expired = &t, true
	case u < 0.43:
		t := between(r, g.now.AddDate(0, 0, 1), g.now.AddDate(0, 0, 13))
		expires = &t
	default:
		t := between(r, g.now.AddDate(0, 0, 15), g.now.AddDate(1, 0, 0))
		expires = &t
	}
	end := g.now
	if expired {
		end = *expires
	}
	switch u := r.Float64(); {
	case u < 0.12: // never used
	case u < 0.32:
		t := between(r, granted, maxTime(granted, end.AddDate(0, 0, -120)))
		lastUsed = &t
	default:
		t := between(r, maxTime(granted, end.AddDate(0, 0, -30)), end)
		lastUsed = &t
	}
	return expires, lastUsed, expired
}

func (g *gen) finePATs() {
	r := g.rng
	n := max(6, len(g.org.Members)/3)
	for j := range n {
		owner := g.member(r)
		if j == 0 {
			owner = "northwind-ci-bot" // a machine user's token
		}
		granted := g.daysAgo(r, 1, 700)
		p := FineGrainedPAT{
			ID:                  7100000 + int64(j),
			Owner:               owner,
			TokenID:             88000000 + int64(j)*13,
			TokenName:           pick(r, patNames),
			RepositorySelection: g.selection(r),
			Permissions:         clonePerms(pick(r, patPermissionSets)),
			AccessGrantedAt:     granted,
		}
		p.TokenExpiresAt, p.TokenLastUsedAt, p.TokenExpired = g.tokenLife(r, granted)
		switch j {
		case 0: // the machine user's token never expires
			p.TokenExpiresAt, p.TokenExpired = nil, false
		case 1: // granted, never used
			p.TokenLastUsedAt = nil
		}
		g.org.FineGrainedPATs = append(g.org.FineGrainedPATs, p)
	}
}

var patReasons = []string{
	"", "Need to automate releases for the storefront", "Terraform state migration",
	"Local scripts to bulk-label issues", "Backfill analytics data",
}

func (g *gen) patRequests() {
	r := g.rng
	n := 2 + len(g.org.Members)/50
	for j := range n {
		created := g.daysAgo(r, 0, 20)
		p := PATRequest{
			ID:                  7200000 + int64(j),
			Owner:               g.member(r),
			Reason:              pick(r, patReasons),
			RepositorySelection: g.selection(r),
			Permissions:         clonePerms(pick(r, patPermissionSets)),
			CreatedAt:           created,
			TokenID:             89000000 + int64(j)*11,
			TokenName:           pick(r, patNames),
		}
		p.TokenExpiresAt, p.TokenLastUsedAt, p.TokenExpired = g.tokenLife(r, created)
		g.org.PATRequests = append(g.org.PATRequests, p)
	}
}

// ---- SAML SSO credential authorizations -------------------------------------

var classicScopeSets = [][]string{
	{"repo"}, {"read:org", "repo"}, {"read:org", "repo", "workflow"}, {"admin:org", "repo"},
	{"read:packages"}, {"delete_repo", "repo"}, {"public_repo"}, {"read:org", "read:user", "repo", "write:packages"},
}

var tokenNotes = []string{"laptop", "terraform", "jenkins", "backup-script", "gh-cli", "ci", "sourcegraph", "old-deploy"}
var sshTitles = []string{"work laptop", "build-server", "desktop", "bastion", "yubikey", "old-macbook"}

func (g *gen) credentialAuthorizations() {
	r := g.rng
	g.org.SAML = true
	n := len(g.org.Members) * 4 / 5
	for j := range n {
		c := CredentialAuthorization{
			Login:                  g.member(r),
			CredentialID:           9100000 + int64(j),
			AuthorizedCredentialID: 4400000 + int64(j)*3,
			AuthorizedAt:           g.daysAgo(r, 1, 1500),
		}
		switch u := r.Float64(); {
		case u < 0.55:
			c.CredentialType = "personal access token"
			c.TokenLastEight = token(r, 8, "0123456789abcdef")
			c.Scopes = append([]string(nil), pick(r, classicScopeSets)...)
			c.Note = pick(r, tokenNotes)
			if !chance(r, 0.4) {
				t := c.AuthorizedAt.AddDate(0, 0, 30+r.IntN(335))
				c.ExpiresAt = &t
			}
		case u < 0.90:
			c.CredentialType = "SSH key"
			c.Fingerprint = "SHA256:" + base64.RawStdEncoding.EncodeToString(randBytes(r, 32))
			c.Title = pick(r, sshTitles)
		case u < 0.97:
			c.CredentialType = "OAuth app token"
			c.TokenLastEight = token(r, 8, "0123456789abcdef")
			c.Scopes = []string{"repo", "user"}
		default:
			c.CredentialType = "GitHub app token"
			c.TokenLastEight = token(r, 8, "0123456789abcdef")
		}
		if !chance(r, 0.15) {
			t := between(r, c.AuthorizedAt, g.now)
			c.AccessedAt = &t
		}
		g.org.CredentialAuthorizations = append(g.org.CredentialAuthorizations, c)
	}
}

// ---- environments and the other repository secrets ---------------------------

var envSecretNames = []string{
	"DEPLOY_TOKEN", "DATABASE_URL", "KUBECONFIG", "SENTRY_DSN", "STRIPE_SECRET_KEY",
	"VERCEL_TOKEN", "SSH_PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY", "APP_STORE_CONNECT_KEY",
}

// deployedRepos always have deployment environments, so the demo shows some.
var deployedRepos = map[string]bool{
	"payments-api": true, "web-storefront": true, "checkout-service": true, "auth-service": true, "mobile-ios": true,
}

func (g *gen) environments(r *rand.Rand, i int, repo *Repo, cat category) {
	p := map[category]float64{catService: 0.15, catWeb: 0.15, catData: 0.1, catInfra: 0.1, catMobile: 0.1}[cat]
	if deployedRepos[repo.Name] {
		p = 1
	}
	if !chance(r, p) {
		return
	}
	names := []string{"production"}
	if cat == catMobile {
		names = []string{"app-store"}
	} else if chance(r, 0.4) {
		names = append(names, "staging")
	}
	for k, name := range names {
		created := between(r, repo.CreatedAt, g.now.AddDate(0, 0, -1))
		env := Environment{
			ID: 9000000 + int64(i)*4 + int64(k), Name: name,
			CreatedAt: created, UpdatedAt: between(r, created, g.now),
		}
		have := map[string]bool{}
		for range 1 + r.IntN(2) {
			s := pick(r, envSecretNames)
			if have[s] {
				continue
			}
			have[s] = true
			c, u := g.secretTimes(r, created)
			env.Secrets = append(env.Secrets, Secret{Name: s, CreatedAt: c, UpdatedAt: u})
		}
		repo.Environments = append(repo.Environments, env)
	}
}

func (g *gen) repoExtraSecrets(r *rand.Rand, repo *Repo, cat category) {
	if (cat == catWeb || cat == catService) && chance(r, 0.03) {
		c, u := g.secretTimes(r, repo.CreatedAt)
		repo.CodespacesSecrets = append(repo.CodespacesSecrets, Secret{Name: "DEV_API_KEY", CreatedAt: c, UpdatedAt: u})
	}
	if cat == catWeb && chance(r, 0.08) {
		c, u := g.secretTimes(r, repo.CreatedAt)
		repo.DependabotSecrets = append(repo.DependabotSecrets, Secret{Name: "NPM_TOKEN", CreatedAt: c, UpdatedAt: u})
	}
}

// ---- ownership context -------------------------------------------------------

func teamFor(r *rand.Rand, cat category) string {
	switch cat {
	case catInfra:
		return "platform"
	case catMobile:
		return "mobile"
	case catData:
		return "data"
	case catWeb:
		return "storefront"
	}
	return pick(r, []string{"payments", "logistics", "identity", "search", "growth"})
}

func teamAccess(slug, permission string) TeamAccess {
	id := int64(3000)
	for k, t := range teams {
		if t == slug {
			id += int64(k)
		}
	}
	if slug == "docs-writers" {
		id = 3100
	}
	name := strings.ToUpper(slug[:1]) + strings.ReplaceAll(slug[1:], "-", " ")
	return TeamAccess{ID: id, Slug: slug, Name: name, Permission: permission}
}

func (g *gen) repoContext(r *rand.Rand, repo *Repo, cat category) {
	owner := teamFor(r, cat)
	perm := "push"
	switch u := r.Float64(); {
	case u < 0.3:
		perm = "admin"
	case u < 0.6:
		perm = "maintain"
	}
	repo.Teams = append(repo.Teams, teamAccess(owner, perm))
	if chance(r, 0.5) && owner != "security" {
		repo.Teams = append(repo.Teams, teamAccess("security", pick(r, []string{"pull", "triage"})))
	}
	if chance(r, 0.12) {
		role := "write"
		if chance(r, 0.5) {
			role = "admin"
		}
		repo.Collaborators = append(repo.Collaborators, Collaborator{Login: g.member(r), RoleName: role})
	}
	if chance(r, 0.03) && len(g.former) > 0 {
		// someone who left, still an outside collaborator with admin
		repo.Collaborators = append(repo.Collaborators, Collaborator{Login: pick(r, g.former), RoleName: "admin"})
	}
	var path string
	switch u := r.Float64(); {
	case u < 0.40:
		path = ".github/CODEOWNERS"
	case u < 0.55:
		path = "CODEOWNERS"
	case u < 0.60:
		path = "docs/CODEOWNERS"
	default:
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Owners of %s/%s\n", SampleLogin, repo.Name)
	if chance(r, 0.3) {
		fmt.Fprintf(&b, "*       @%s/%s @%s\n", SampleLogin, owner, g.member(r))
	} else {
		fmt.Fprintf(&b, "*       @%s/%s\n", SampleLogin, owner)
	}
	fmt.Fprintf(&b, "/docs/  @%s/docs-writers\n", SampleLogin)
	if cat == catInfra {
		fmt.Fprintf(&b, "*.tf    @%s  security@northwind.io\n", g.member(r))
	}
	repo.CodeOwners = &CodeOwners{Path: path, Content: b.String()}
}

// reach gives the sample what GitHub says identities reach: the runner
// groups the org runners belong to (Default open to every repository,
// "arc" to selected ones, "prod-deploy" to the deploy repositories), the
// repositories of fine-grained tokens on a subset, rulesets that the
// deployer App and deploy keys may bypass, and one repository's own OIDC
// sub claim. It draws from its own source,
// so the rest of the sample is as before.
func (g *gen) reach() {
	r := rand.New(rand.NewPCG(sampleSeed, 11))
	o := g.org
	o.RunnerGroups = []RunnerGroup{
		{ID: 1, Name: "Default", Visibility: "all", Default: true},
		{ID: 2, Name: "arc-k8s", Visibility: "selected", SelectedRepos: g.selected(r, 3+r.IntN(4))},
		{ID: 3, Name: "prod-deploy", Visibility: "selected", SelectedRepos: g.selected(r, 2)},
	}
	for i := range o.FineGrainedPATs {
		if p := &o.FineGrainedPATs[i]; p.RepositorySelection == "subset" {
			p.Repositories = g.selected(r, 1+r.IntN(3))
		}
	}
	for i := range o.PATRequests {
		if p := &o.PATRequests[i]; p.RepositorySelection == "subset" {
			p.Repositories = g.selected(r, 1+r.IntN(3))
		}
	}
	// One repository ties its OIDC tokens' sub to the workflow file;
	// every other uses the organisation's (GitHub's default) template.
	for _, name := range g.selected(r, 1) {
		o.Repo(name).OIDCSub = &OIDCSub{IncludeClaimKeys: []string{"repo", "context", "job_workflow_ref"}}
	}
	since := g.now.AddDate(-1, 0, 0)
	o.Rulesets = []Ruleset{
		{ID: 4100, Name: "protect-default-branch", Enforcement: "active", Include: []string{"~ALL"},
			BypassActors: []BypassActor{{ActorID: 301122, ActorType: "Integration", BypassMode: "always"}, {ActorType: "OrganizationAdmin", BypassMode: "always"}},
			CreatedAt:    since, UpdatedAt: since},
		{ID: 4101, Name: "deploy-repos", Enforcement: "active", Include: []string{"*-deploy*", "infra*"},
			BypassActors: []BypassActor{{ActorType: "DeployKey", BypassMode: "always"}},
			CreatedAt:    since, UpdatedAt: since},
	}
	// The first repository with a deploy key that can push has a ruleset
	// of its own that its deploy keys may bypass.
	for _, rp := range o.Repos {
		if slices.ContainsFunc(rp.DeployKeys, func(k DeployKey) bool { return !k.ReadOnly }) {
			rp.Rulesets = []Ruleset{{ID: 5200, Name: "release-tags", Enforcement: "active",
				BypassActors: []BypassActor{{ActorType: "DeployKey", BypassMode: "always"}},
				CreatedAt:    since, UpdatedAt: since}}
			break
		}
	}
}
