package githubtest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Reference is the "now" of [SampleOrg]: every generated timestamp lies
// before it, at a fixed distance, so the sample is the same on every run.
var Reference = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// DefaultSampleRepos is the size of the demo organisation.
const DefaultSampleRepos = 40

// SampleLogin is the login of the generated organisation.
const SampleLogin = "northwind"

const sampleSeed = 0x4e57_2026 // "NW" 2026

// SampleOrg is SampleOrgAt(repos, Reference).
func SampleOrg(repos int) *Org { return SampleOrgAt(repos, Reference) }

// SampleOrgAt generates "northwind" (Northwind Traders), an e-commerce
// company with repos repositories and about five non-human identities per
// repository, with timestamps relative to now. The same arguments always
// give the same organisation; repository i (its name and everything in it)
// does not depend on how many repositories there are, except for who added
// its deploy keys.
//
// The mix is deliberately realistic: healthy, fresh identities next to
// third-party apps with broad permissions on all repositories, a suspended
// app, write deploy keys never used or last used years ago and added by
// former members, secrets unrotated for years, org secrets visible to all
// repositories, webhooks without a secret or with TLS verification off,
// offline runners and a runner on somebody's laptop. Every hook that has a
// secret serves it as "CANARY-hook-secret-<hook id>".
func SampleOrgAt(repos int, now time.Time) *Org {
	repos = max(repos, 0)
	now = now.UTC().Truncate(time.Second)
	g := &gen{
		rng: rand.New(rand.NewPCG(sampleSeed, 0)),
		now: now,
	}
	o := &Org{
		Login:       SampleLogin,
		ID:          4211337,
		Name:        "Northwind Traders",
		Description: "Fine foods, delivered. Engineering at Northwind.",
		CreatedAt:   now.AddDate(-10, -7, -18),
	}
	g.org = o
	g.people(max(30, repos/4), max(8, repos/20))
	o.Repos = make([]*Repo, repos)
	seen := make(map[string]bool, repos)
	for i := range repos {
		o.Repos[i] = g.repo(i, repoName(i, seen))
	}
	g.installations(repos)
	g.orgSecrets(repos)
	g.orgHooks()
	g.orgRunners(repos)
	// Drawn after everything above so adding them left the rest unchanged.
	g.admins()
	g.finePATs()
	g.patRequests()
	g.credentialAuthorizations()
	g.reach()
	g.sampleTeams()
	return o
}

type gen struct {
	rng    *rand.Rand
	now    time.Time
	org    *Org
	former []string
}

// between is a time uniformly between a and b (a if b is not after a),
// to the second.
func between(r *rand.Rand, a, b time.Time) time.Time {
	d := b.Sub(a)
	if d <= time.Second {
		return a.Truncate(time.Second)
	}
	return a.Add(time.Duration(r.Int64N(int64(d)))).Truncate(time.Second)
}

func (g *gen) daysAgo(r *rand.Rand, lo, hi int) time.Time {
	return between(r, g.now.AddDate(0, 0, -hi), g.now.AddDate(0, 0, -lo))
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// ---- people -------------------------------------------------------------

var firstNames = []string{
	"alice", "bruno", "chen", "dana", "emeka", "fatima", "george", "hana", "ivan", "julia",
	"kofi", "lena", "marco", "nadia", "omar", "priya", "quentin", "rosa", "sven", "tara",
	"umar", "vera", "wei", "ximena", "yusuf", "zoe", "aaron", "bianca", "carlos", "deepa",
	"elena", "felix", "grace", "hugo", "ines", "jonas", "kim", "lucas", "maya", "nils",
	"olga", "pablo", "ravi", "sofia", "tomas", "ulla", "victor", "wanda", "yara", "zeke",
}

var lastNames = []string{
	"smith", "garcia", "nguyen", "kowalski", "okafor", "haddad", "muller", "tanaka", "ivanova", "rossi",
	"mensah", "berg", "silva", "khan", "patel", "dubois", "lindqvist", "moreau", "schmidt", "novak",
	"costa", "jensen", "wong", "lopez", "yilmaz", "obrien", "fischer", "sato", "kumar", "ali",
	"petrov", "santos", "andersen", "baker", "cohen", "diaz", "evans", "ferreira", "gupta", "hall",
}

func login(k int) string {
	f := firstNames[k%len(firstNames)]
	l := lastNames[(k/len(firstNames)+k*7)%len(lastNames)]
	switch (k / (len(firstNames) * len(lastNames))) % 3 {
	case 0:
		return f + "-" + l
	case 1:
		return f[:1] + l
	default:
		return f + l[:1] + fmt.Sprint(k%97)
	}
}

// people fills Members (current) and g.former (left the organisation).
func (g *gen) people(members, former int) {
	seen := map[string]bool{}
	next := func(k *int) string {
		for {
			l := login(*k)
			*k++
			if !seen[l] {
				seen[l] = true
				return l
			}
		}
	}
	k := 0
	// The auditor's own account and a machine user (itself an NHI smell).
	m := []string{TokenOwner, "northwind-ci-bot"}
	for len(m) < members {
		m = append(m, next(&k))
	}
	g.org.Members = m
	for range former {
		g.former = append(g.former, next(&k))
	}
	g.org.FormerMembers = g.former
}

func (g *gen) member(r *rand.Rand) string { return g.org.Members[2+r.IntN(len(g.org.Members)-2)] }

// ---- repositories -------------------------------------------------------

var curatedRepos = []string{
	"payments-api", "web-storefront", "infra-terraform", "checkout-service", "orders-service",
	"inventory-service", "catalog-api", "search-indexer", "auth-service", "mobile-ios",
	"mobile-android", "admin-portal", "design-system", "data-pipeline", "analytics-etl",
	"ml-recommendations", "fraud-detection", "shipping-rates", "pricing-engine", "helm-charts",
	"k8s-manifests", "ansible-playbooks", "ci-templates", "docs-site", "api-gateway",
	"legacy-monolith", "notifications-service", "supplier-portal", "erp-connector", "reporting-dashboards",
	"feature-flags", "load-tests", "terraform-modules", "loyalty-program", "customer-support-bot",
	"warehouse-scanner", "marketing-site", "sdk-js", "sdk-python", ".github",
	"edge-proxy", "billing-worker", "identity-gateway", "email-templates", "status-page",
}

var domains = []string{
	"payments", "orders", "inventory", "catalog", "checkout", "search", "auth", "billing",
	"shipping", "notifications", "analytics", "pricing", "loyalty", "reviews", "recommendations",
	"fraud", "ledger", "identity", "gateway", "reporting", "warehouse", "supplier", "returns",
	"promotions", "customer", "cart", "tax", "invoicing", "fulfillment", "routing",
}

var components = []string{
	"api", "service", "worker", "web", "ui", "sdk", "cli", "infra", "terraform", "helm",
	"e2e", "lib", "proto", "etl", "jobs", "docs", "mobile", "consumer", "scheduler", "adapter",
}

// repoName is the i-th repository name: the curated list first, then
// domain-component pairs, then numbered generations of them.
func repoName(i int, seen map[string]bool) string {
	var name string
	if i < len(curatedRepos) {
		name = curatedRepos[i]
	} else {
		j := i - len(curatedRepos)
		n := len(domains) * len(components)
		d, c := domains[j%len(domains)], components[(j/len(domains))%len(components)]
		name = d + "-" + c
		if gen := j / n; gen > 0 {
			name = fmt.Sprintf("%s-%d", name, gen+1)
		}
	}
	for base, n := name, 2; seen[name]; n++ {
		name = fmt.Sprintf("%s-x%d", base, n)
	}
	seen[name] = true
	return name
}

type category int

const (
	catService category = iota
	catInfra
	catWeb
	catMobile
	catData
)

func categorize(name string) category {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(name, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("terraform", "infra", "helm", "k8s", "ansible", "ci-templates", "edge-proxy"):
		return catInfra
	case has("mobile"):
		return catMobile
	case has("data", "etl", "ml-", "analytics", "reporting", "recommendations"):
		return catData
	case has("web", "site", "portal", "design", "sdk", "ui", "storefront", "dashboards", "docs", "status-page", ".github"):
		return catWeb
	}
	return catService
}

var publicRepos = map[string]bool{
	"docs-site": true, "marketing-site": true, "sdk-js": true, "sdk-python": true,
	"design-system": true, ".github": true, "status-page": true,
}

func (g *gen) repo(i int, name string) *Repo {
	r := rand.New(rand.NewPCG(sampleSeed, uint64(i)+1))
	cat := categorize(name)
	created := between(r, g.org.CreatedAt.AddDate(0, 1, 0), g.now.AddDate(0, 0, -30))
	repo := &Repo{
		ID:            600000000 + int64(i)*37,
		Name:          name,
		Description:   describe(name),
		Private:       !publicRepos[name] && !(strings.HasPrefix(name, "sdk-") || chance(r, 0.05)),
		Archived:      name == "legacy-monolith" || (i >= len(curatedRepos) && chance(r, 0.04)),
		DefaultBranch: "main",
		CreatedAt:     created,
	}
	if chance(r, 0.2) && created.Before(g.now.AddDate(-4, 0, 0)) {
		repo.DefaultBranch = "master"
	}
	repo.PushedAt = between(r, created, g.now.AddDate(0, 0, -1))
	if repo.Archived {
		repo.PushedAt = between(r, created, created.AddDate(1, 0, 0))
		if repo.PushedAt.After(g.now) {
			repo.PushedAt = created
		}
	}
	g.deployKeys(r, i, repo, cat)
	g.repoSecrets(r, repo, cat)
	g.repoHooks(r, i, repo, cat)
	g.repoRunners(r, i, repo, cat)
	// Drawn last so the draws above stay what they were.
	g.environments(r, i, repo, cat)
	g.repoExtraSecrets(r, repo, cat)
	g.repoContext(r, repo, cat)
	return repo
}

func describe(name string) string {
	return strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "-", " ")
}

// ---- deploy keys --------------------------------------------------------

var keyTitles = map[category][]string{
	catInfra:   {"argocd", "flux-system", "terraform-cloud", "ansible-tower", "atlantis", "backup-server", "prod-bastion"},
	catService: {"deploy@prod-app-01", "jenkins-ci", "buildkite-agent", "staging-deployer", "octopus-deploy", "argocd"},
	catWeb:     {"netlify", "render.com", "vercel-deploy", "gh-pages-publisher"},
	catMobile:  {"bitrise", "fastlane-match", "appcenter"},
	catData:    {"airflow-prod", "dbt-cloud", "databricks-repos"},
}

func (g *gen) deployKeys(r *rand.Rand, i int, repo *Repo, cat category) {
	n := 0
	switch cat {
	case catInfra:
		n = r.IntN(4) // 0..3
	case catService:
		n = r.IntN(3) // 0..2
	default:
		if chance(r, 0.5) {
			n = 1
		}
	}
	for j := range n {
		k := DeployKey{
			ID:        80000000 + int64(i)*10 + int64(j),
			Title:     pick(r, keyTitles[cat]),
			ReadOnly:  chance(r, 0.55),
			Verified:  true,
			Enabled:   !chance(r, 0.05),
			CreatedAt: between(r, repo.CreatedAt, g.now.AddDate(0, 0, -2)),
		}
		if chance(r, 0.08) { // a person's own key used as a deploy key
			k.Title = g.member(r) + "-laptop"
			k.ReadOnly = false
		}
		if chance(r, 0.3) {
			k.Key = sshRSA(r)
		} else {
			k.Key = sshEd25519(r)
		}
		switch u := r.Float64(); {
		case u < 0.15: // never used
		case u < 0.40: // last used long ago
			t := between(r, k.CreatedAt, g.now.AddDate(-1, 0, 0))
			k.LastUsed = &t
		default:
			t := between(r, maxTime(k.CreatedAt, g.now.AddDate(0, 0, -30)), g.now)
			k.LastUsed = &t
		}
		switch u := r.Float64(); {
		case u < 0.60:
			k.AddedBy = g.member(r)
		case u < 0.85:
			k.AddedBy = pick(r, g.former)
		} // else null: added before GitHub recorded who
		repo.DeployKeys = append(repo.DeployKeys, k)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, (n+7)/8*8)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

// sshEd25519 is a well-formed (random) OpenSSH ed25519 public key.
func sshEd25519(r *rand.Rand) string {
	blob := append(sshString([]byte("ssh-ed25519")), sshString(randBytes(r, 32))...)
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob)
}

// sshRSA is a well-formed (random, not a real modulus) 2048-bit RSA key.
func sshRSA(r *rand.Rand) string {
	n := randBytes(r, 257)
	n[0], n[1] = 0, n[1]|0x80
	blob := sshString([]byte("ssh-rsa"))
	blob = append(blob, sshString([]byte{1, 0, 1})...)
	blob = append(blob, sshString(n)...)
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(blob)
}

// ---- secrets ------------------------------------------------------------

var commonSecrets = []string{
	"SLACK_WEBHOOK_URL", "SENTRY_AUTH_TOKEN", "CODECOV_TOKEN", "SONAR_TOKEN", "SNYK_TOKEN", "GH_PAT", "RELEASE_TOKEN",
}

var categorySecrets = map[category][]string{
	catService: {"DOCKERHUB_USERNAME", "AWS_ACCESS_KEY_ID", "DATABASE_URL", "STRIPE_SECRET_KEY", "DATADOG_API_KEY", "KUBECONFIG", "GCP_SA_KEY"},
	catInfra:   {"AWS_ACCESS_KEY_ID", "TF_API_TOKEN", "AZURE_CREDENTIALS", "GCP_SA_KEY", "SSH_PRIVATE_KEY", "VAULT_TOKEN", "CLOUDFLARE_API_TOKEN", "KUBECONFIG"},
	catWeb:     {"NPM_TOKEN", "VERCEL_TOKEN", "NETLIFY_AUTH_TOKEN", "CYPRESS_RECORD_KEY", "CLOUDFLARE_API_TOKEN", "ALGOLIA_ADMIN_KEY"},
	catMobile:  {"APPLE_API_KEY", "FASTLANE_PASSWORD", "MATCH_PASSWORD", "ANDROID_KEYSTORE_BASE64", "FIREBASE_TOKEN", "GOOGLE_PLAY_JSON_KEY"},
	catData:    {"SNOWFLAKE_PASSWORD", "DATABRICKS_TOKEN", "AWS_ACCESS_KEY_ID", "OPENAI_API_KEY", "HF_TOKEN", "BIGQUERY_SA_KEY"},
}

// secretPairs are set together, so they share their timestamps.
var secretPairs = map[string]string{
	"AWS_ACCESS_KEY_ID":       "AWS_SECRET_ACCESS_KEY",
	"DOCKERHUB_USERNAME":      "DOCKERHUB_TOKEN",
	"ANDROID_KEYSTORE_BASE64": "ANDROID_KEYSTORE_PASSWORD",
}

// secretTimes: created after since; 45% never rotated, 35% rotated in the
// last 90 days, 20% rotated once, long ago.
func (g *gen) secretTimes(r *rand.Rand, since time.Time) (created, updated time.Time) {
	created = between(r, since, g.now.AddDate(0, 0, -1))
	switch u := r.Float64(); {
	case u < 0.45:
		updated = created
	case u < 0.80:
		updated = between(r, maxTime(created, g.now.AddDate(0, 0, -90)), g.now)
	default:
		updated = between(r, created, maxTime(created, g.now.AddDate(-1, -6, 0)))
	}
	return created, updated
}

func (g *gen) repoSecrets(r *rand.Rand, repo *Repo, cat category) {
	pool := append(append([]string(nil), categorySecrets[cat]...), commonSecrets...)
	r.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
	n := r.IntN(6) // 0..5 picks; pairs add one more
	have := map[string]bool{}
	for _, name := range pool[:min(n, len(pool))] {
		if have[name] {
			continue
		}
		c, u := g.secretTimes(r, repo.CreatedAt)
		repo.Secrets = append(repo.Secrets, Secret{Name: name, CreatedAt: c, UpdatedAt: u})
		have[name] = true
		if other, ok := secretPairs[name]; ok && !have[other] {
			repo.Secrets = append(repo.Secrets, Secret{Name: other, CreatedAt: c, UpdatedAt: u})
			have[other] = true
		}
	}
	if cat == catService && chance(r, 0.1) {
		c, u := g.secretTimes(r, repo.CreatedAt)
		repo.DependabotSecrets = append(repo.DependabotSecrets, Secret{Name: "NPM_REGISTRY_TOKEN", CreatedAt: c, UpdatedAt: u})
	}
}

// ---- webhooks -----------------------------------------------------------

type hookTemplate struct {
	url         func(r *rand.Rand) string
	events      []string
	contentType string
	insecure    bool
	secret      bool
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func token(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func fixed(s string) func(*rand.Rand) string { return func(*rand.Rand) string { return s } }

var slackHook = hookTemplate{
	url: func(r *rand.Rand) string {
		return "https://hooks.slack.com/services/T0NW1ND01/B0" + token(r, 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "/" + token(r, 24, alnum)
	},
	events: []string{"push", "pull_request", "release"}, contentType: "json",
}

var repoHookTemplates = []hookTemplate{
	slackHook,
	{url: fixed("https://ci.northwind.io/github-webhook/"), events: []string{"push", "pull_request"}, contentType: "json", secret: true},
	{url: fixed("https://ci.northwind.io/github-webhook/"), events: []string{"push", "pull_request"}, contentType: "json", secret: true},
	{url: fixed("http://jenkins.northwind.internal:8080/github-webhook/"), events: []string{"push"}, contentType: "form", insecure: true},
	{url: fixed("https://deploy.northwind.io/hooks/github"), events: []string{"deployment", "release"}, contentType: "json", secret: true},
	{url: fixed("https://argocd.northwind.io/api/webhook"), events: []string{"push"}, contentType: "json", secret: true},
	{url: func(r *rand.Rand) string {
		return fmt.Sprintf("https://hooks.zapier.com/hooks/catch/%d/%s/", 4000000+r.IntN(999999), token(r, 6, "abcdefghijklmnopqrstuvwxyz0123456789"))
	}, events: []string{"issues", "pull_request"}, contentType: "json"},
	{url: func(r *rand.Rand) string { return "https://smee.io/" + token(r, 16, alnum) }, events: []string{"*"}, contentType: "json"},
	{url: func(r *rand.Rand) string {
		return "https://api.opsgenie.com/v1/json/github?apiKey=" + token(r, 8, "0123456789abcdef") + "-" + token(r, 4, "0123456789abcdef") + "-" + token(r, 12, "0123456789abcdef")
	}, events: []string{"workflow_run"}, contentType: "json", secret: true},
	{url: func(r *rand.Rand) string {
		return fmt.Sprintf("https://discord.com/api/webhooks/%d/%s", 1100000000000000000+r.Int64N(99999999999999999), token(r, 68, alnum+"-_"))
	}, events: []string{"release"}, contentType: "json"},
}

func (g *gen) makeHook(r *rand.Rand, id int64, t hookTemplate, since time.Time) Hook {
	h := Hook{
		ID:          id,
		Active:      !chance(r, 0.15),
		Events:      t.events,
		URL:         t.url(r),
		ContentType: t.contentType,
		InsecureSSL: "0",
		CreatedAt:   between(r, since, g.now.AddDate(0, 0, -1)),
	}
	if t.insecure || chance(r, 0.05) {
		h.InsecureSSL = "1"
	}
	if t.secret && !chance(r, 0.1) {
		h.Secret = fmt.Sprintf("CANARY-hook-secret-%d", id)
	}
	h.UpdatedAt = between(r, h.CreatedAt, g.now)
	switch {
	case !h.Active:
		h.LastResponse = LastResponse{Status: "unused"}
	case chance(r, 0.1):
		h.LastResponse = LastResponse{Code: 502, Status: "failed", Message: "Invalid HTTP Response: 502"}
	default:
		h.LastResponse = LastResponse{Code: 200, Status: "active", Message: "OK"}
	}
	return h
}

func (g *gen) repoHooks(r *rand.Rand, i int, repo *Repo, _ category) {
	n := 0
	switch u := r.Float64(); {
	case u < 0.40:
	case u < 0.80:
		n = 1
	default:
		n = 2
	}
	for j := range n {
		id := 400000000 + int64(i)*10 + int64(j)
		repo.Hooks = append(repo.Hooks, g.makeHook(r, id, pick(r, repoHookTemplates), repo.CreatedAt))
	}
}

// ---- runners ------------------------------------------------------------

func (g *gen) repoRunners(r *rand.Rand, i int, repo *Repo, cat category) {
	p := 0.05
	if cat == catMobile || cat == catData {
		p = 0.5
	}
	if !chance(r, p) {
		return
	}
	run := Runner{ID: 5000 + int64(i)*4, Status: "online"}
	switch cat {
	case catMobile:
		run.Name, run.OS, run.Labels = "mac-mini-build-01", "macOS", []string{"self-hosted", "macOS", "ARM64", "xcode-16"}
	case catData:
		run.Name, run.OS, run.Labels = "gpu-box-01", "Linux", []string{"self-hosted", "Linux", "X64", "gpu", "cuda-12"}
	default:
		// a developer registered their laptop and forgot about it
		run.Name, run.OS, run.Labels = g.member(r)+"-macbook", "macOS", []string{"self-hosted", "macOS", "ARM64"}
	}
	if chance(r, 0.4) {
		run.Status = "offline"
	} else {
		run.Busy = chance(r, 0.3)
	}
	repo.Runners = append(repo.Runners, run)
}

func (g *gen) orgRunners(repos int) {
	r := g.rng
	n := 6 + repos/50
	for j := range n {
		run := Runner{ID: int64(20 + j), RunnerGroupID: 1, Status: "online"}
		switch {
		case j%6 == 4:
			run.Name, run.OS = fmt.Sprintf("nw-win-build-%02d", j/6+1), "Windows"
			run.Labels = []string{"self-hosted", "Windows", "X64", "dotnet"}
		case j%6 == 5:
			run.Name, run.OS = fmt.Sprintf("nw-mac-arm-%02d", j/6+1), "macOS"
			run.Labels = []string{"self-hosted", "macOS", "ARM64"}
		case j%6 == 3:
			run.Name, run.OS, run.Ephemeral, run.RunnerGroupID = "nw-arc-"+token(r, 5, "bcdfghjklmnpqrstvwxz2456789"), "Linux", true, 2
			run.Labels = []string{"self-hosted", "Linux", "X64", "k8s", "ephemeral"}
		default:
			run.Name, run.OS = fmt.Sprintf("nw-linux-x64-%02d", j/6*3+j%6+1), "Linux"
			run.Labels = []string{"self-hosted", "Linux", "X64", "docker"}
			if j == 0 {
				run.Labels = append(run.Labels, "prod-deploy")
				run.RunnerGroupID = 3
			}
		}
		if chance(r, 0.25) {
			run.Status = "offline"
		} else {
			run.Busy = chance(r, 0.4)
		}
		g.org.Runners = append(g.org.Runners, run)
	}
}

// ---- org-level ----------------------------------------------------------

type appSpec struct {
	slug      string
	appID     int64
	selection string
	perms     string // "name=level,..."
	events    string
	age       int // days since installed
	suspended int // days since suspended, 0: not
}

var apps = []appSpec{
	{"snyk", 13491, "all", "checks=write,contents=read,metadata=read,pull_requests=write,statuses=write", "pull_request,push", 1650, 0},
	{"codecov", 254, "all", "checks=write,contents=read,metadata=read,pull_requests=write,statuses=write", "pull_request,push,status", 2100, 0},
	{"renovate", 2740, "all", "administration=read,checks=write,contents=write,issues=write,metadata=read,pull_requests=write,statuses=write,vulnerability_alerts=read,workflows=write", "issues,pull_request,push", 1200, 0},
	{"slack", 7100, "selected", "actions=read,checks=read,contents=read,deployments=read,issues=write,metadata=read,pull_requests=write", "issues,pull_request,push,release", 1900, 0},
	{"jira", 11043, "all", "contents=read,deployments=read,issues=read,metadata=read,pull_requests=read", "create,delete,pull_request,push", 1500, 0},
	{"vercel", 8329, "selected", "administration=write,checks=write,contents=write,deployments=write,emails=read,issues=write,members=read,metadata=read,pull_requests=write,repository_hooks=write,statuses=write", "deployment,pull_request,push", 700, 0},
	{"sonarqubecloud", 12526, "all", "checks=write,contents=read,members=read,metadata=read,pull_requests=write,statuses=write", "pull_request,push", 980, 0},
	{"travis-ci", 9880, "all", "administration=read,checks=write,contents=read,deployments=write,metadata=read,statuses=write", "check_run,check_suite,create,delete,pull_request,push", 2900, 1120},
	{"mergify", 10562, "selected", "checks=write,contents=write,members=read,metadata=read,pull_requests=write,statuses=write,workflows=write", "check_run,pull_request,push", 400, 0},
	{"linear", 59224, "selected", "contents=read,issues=read,metadata=read,pull_requests=write", "issues,pull_request", 120, 0},
	{"gitguardian", 46505, "all", "checks=write,contents=read,metadata=read,pull_requests=write", "pull_request,push", 365, 0},
	{"lgtm-com", 1563, "all", "checks=write,contents=read,metadata=read,pull_requests=write,statuses=write", "pull_request,push", 2500, 0},
	{"imgbot", 4706, "selected", "contents=write,metadata=read,pull_requests=write", "push", 1700, 0},
	{"northwind-deployer", 301122, "selected", "actions=write,administration=write,contents=write,deployments=write,environments=write,metadata=read,secrets=write", "deployment,workflow_run", 800, 0},
	{"northwind-terraform-provisioner", 301577, "all", "administration=write,contents=write,members=write,metadata=read,organization_administration=write,organization_hooks=write,organization_secrets=write", "", 1100, 0},
	{"northwind-release-bot", 302904, "selected", "contents=write,metadata=read,pull_requests=write", "release", 60, 0},
}

var teams = []string{"payments", "platform", "data", "mobile", "storefront", "logistics", "security", "growth", "identity", "search"}

func parsePerms(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (g *gen) installations(repos int) {
	r := g.rng
	specs := append([]appSpec(nil), apps...)
	for j := range repos / 400 {
		t := teams[j%len(teams)]
		if j >= len(teams) {
			t = fmt.Sprintf("%s-%d", t, j/len(teams)+1)
		}
		specs = append(specs, appSpec{
			"northwind-" + t + "-automation", 310000 + int64(j)*17, "selected",
			"contents=write,issues=write,metadata=read,pull_requests=write", "pull_request,push", 30 + r.IntN(900), 0,
		})
	}
	for j, a := range specs {
		created := g.daysAgo(r, a.age, a.age+5)
		in := Installation{
			ID:                  31000000 + int64(j)*104729,
			AppID:               a.appID,
			AppSlug:             a.slug,
			RepositorySelection: a.selection,
			Permissions:         parsePerms(a.perms),
			Events:              splitList(a.events),
			CreatedAt:           created,
			UpdatedAt:           between(r, created, g.now),
		}
		if a.suspended > 0 {
			t := g.daysAgo(r, a.suspended, a.suspended)
			in.SuspendedAt, in.SuspendedBy = &t, g.member(r)
			in.UpdatedAt = t
		}
		g.org.Installations = append(g.org.Installations, in)
	}
}

type orgSecretSpec struct {
	name       string
	visibility string
	age        int // days since created
	rotated    int // days since last rotated, -1: never
}

var orgSecretSpecs = []orgSecretSpec{
	{"NPM_TOKEN", "all", 2400, -1},
	{"DOCKERHUB_USERNAME", "all", 2200, -1},
	{"DOCKERHUB_TOKEN", "all", 2200, 1300},
	{"SLACK_WEBHOOK_URL", "all", 1900, -1},
	{"SONAR_TOKEN", "all", 980, 40},
	{"SNYK_TOKEN", "all", 1650, 12},
	{"AWS_ACCESS_KEY_ID", "private", 1400, 700},
	{"AWS_SECRET_ACCESS_KEY", "private", 1400, 700},
	{"PROD_DEPLOY_KEY", "selected", 900, 200},
	{"GPG_SIGNING_KEY", "selected", 600, -1},
	{"SENTRY_AUTH_TOKEN", "all", 1000, 85},
	{"DATADOG_API_KEY", "private", 750, 30},
	{"GH_ADMIN_PAT", "all", 2600, -1},
	{"ARTIFACTORY_PASSWORD", "private", 1800, 1000},
	{"CODECOV_TOKEN", "all", 2100, -1},
	{"TF_API_TOKEN", "selected", 1100, 5},
}

func (g *gen) selected(r *rand.Rand, n int) []string {
	var out []string
	for _, repo := range g.org.Repos {
		if len(out) == n {
			break
		}
		if chance(r, 0.5) {
			out = append(out, repo.Name)
		}
	}
	return out
}

func (g *gen) orgSecret(r *rand.Rand, s orgSecretSpec) Secret {
	created := g.daysAgo(r, s.age, s.age+3)
	updated := created
	if s.rotated >= 0 {
		updated = maxTime(created, g.daysAgo(r, s.rotated, s.rotated+1))
	}
	sec := Secret{Name: s.name, CreatedAt: created, UpdatedAt: updated, Visibility: s.visibility}
	if s.visibility == "selected" {
		sec.SelectedRepos = g.selected(r, 1+r.IntN(4))
	}
	return sec
}

func (g *gen) orgSecrets(repos int) {
	r := g.rng
	for _, s := range orgSecretSpecs {
		g.org.Secrets = append(g.org.Secrets, g.orgSecret(r, s))
	}
	for j := range repos / 100 {
		t := teams[j%len(teams)]
		if j >= len(teams) {
			t = fmt.Sprintf("%s_%d", t, j/len(teams)+1)
		}
		rot := -1
		if chance(r, 0.5) {
			rot = r.IntN(400)
		}
		s := orgSecretSpec{strings.ToUpper(t) + "_DEPLOY_TOKEN", "selected", 30 + r.IntN(1500), rot}
		g.org.Secrets = append(g.org.Secrets, g.orgSecret(r, s))
	}
	for _, s := range []orgSecretSpec{
		{"NPM_REGISTRY_TOKEN", "all", 1300, -1},
		{"MAVEN_PASSWORD", "private", 900, 400},
		{"DOCKER_REGISTRY_PASSWORD", "selected", 500, 60},
	} {
		g.org.DependabotSecrets = append(g.org.DependabotSecrets, g.orgSecret(r, s))
	}
	for _, s := range []orgSecretSpec{
		{"NPM_TOKEN", "selected", 600, -1},
		{"DEV_DATABASE_URL", "all", 450, 100},
	} {
		g.org.CodespacesSecrets = append(g.org.CodespacesSecrets, g.orgSecret(r, s))
	}
}

func (g *gen) orgHooks() {
	r := g.rng
	specs := []hookTemplate{
		{url: fixed("https://siem.northwind.io/ingest/github"), events: []string{"*"}, contentType: "json", secret: true},
		slackHook,
		{url: fixed("http://legacy-ci.northwind.io:8080/github"), events: []string{"push", "repository"}, contentType: "form", insecure: true},
		{url: func(r *rand.Rand) string {
			return "https://northwind.webhook.office.com/webhookb2/" + token(r, 8, "0123456789abcdef") + "-" + token(r, 4, "0123456789abcdef") + "@" + token(r, 8, "0123456789abcdef") + "/IncomingWebhook/" + token(r, 32, "0123456789abcdef")
		}, events: []string{"repository", "member", "organization"}, contentType: "json"},
		{url: fixed("https://audit.northwind.io/github/org-events"), events: []string{"member", "membership", "organization", "repository"}, contentType: "json", secret: true},
	}
	for j, t := range specs {
		h := g.makeHook(r, 390000000+int64(j), t, g.org.CreatedAt)
		if j == 0 {
			h.Active, h.InsecureSSL = true, "0"
			h.Secret = fmt.Sprintf("CANARY-hook-secret-%d", h.ID)
		}
		if j == 2 {
			h.Active = false
		}
		g.org.Hooks = append(g.org.Hooks, h)
	}
}
