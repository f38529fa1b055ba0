package github_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// recorder is an in-memory connectors.Recorder.
type recorder struct {
	mu   sync.Mutex
	obs  []audit.Observation
	gaps []audit.Gap
	ids  map[string]bool
	dups []string

	principals []audit.Principal
	units      map[string]bool
	order      []string // checkpointed units, in order
	reads      []audit.ScopeRead
}

func (r *recorder) Scope(s audit.ScopeRead) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, s)
	return nil
}

func (r *recorder) Principal(p audit.Principal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.principals = append(r.principals, p)
	return nil
}

func (r *recorder) Checkpoint(unit string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.units == nil {
		r.units = map[string]bool{}
	}
	r.units[unit] = true
	r.order = append(r.order, unit)
	return nil
}

func (r *recorder) Checkpointed(unit string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.units[unit]
}

func (r *recorder) Record(o audit.Observation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	if r.ids[o.ID] {
		r.dups = append(r.dups, o.ID)
	}
	r.ids[o.ID] = true
	r.obs = append(r.obs, o)
	return nil
}

func (r *recorder) Gap(g audit.Gap) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps = append(r.gaps, g)
	return nil
}

func (r *recorder) byID() map[string]audit.Observation {
	m := map[string]audit.Observation{}
	for _, o := range r.obs {
		m[o.ID] = o
	}
	return m
}

func (r *recorder) kinds() map[audit.Kind]int {
	m := map[audit.Kind]int{}
	for _, o := range r.obs {
		m[o.Kind]++
	}
	return m
}

func (r *recorder) gapEndpoints() []string {
	var out []string
	for _, g := range r.gaps {
		out = append(out, g.Endpoint)
	}
	return out
}

// run reads org from s with s's classic token and returns what was recorded.
func run(t *testing.T, s *githubtest.Server, org string) (*recorder, error) {
	t.Helper()
	return runToken(t, s, org, s.Token())
}

func runToken(t *testing.T, s *githubtest.Server, org, token string) (*recorder, error) {
	t.Helper()
	return runWith(t, org, ghconn.Options{APIURL: s.URL(), Token: token, HTTPClient: s.Client()})
}

func runWith(t *testing.T, org string, opts ghconn.Options) (*recorder, error) {
	t.Helper()
	c, err := ghconn.NewConnector(org, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	err = c.Run(context.Background(), rec)
	if len(rec.dups) > 0 {
		t.Errorf("identities recorded twice: %v", rec.dups)
	}
	return rec, err
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time { t := at(s); return &t }

// A throwaway public key and its fingerprint as `ssh-keygen -lf` prints it.
const (
	testKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsIbpOgzEZjWRcssewgth8JVm1KU6lMQG3xkJFEOZo7"
	testKeyFP = "SHA256:FN8cmYzr4Xt4uUB/ukkAHGHDELAhr4VYBgFbPTAAh8c"
)

// The test App: one key for the whole package (generating one is slow).
const (
	testAppID   = 424242
	testInstall = 5150
	testAppSlug = "nhi-audit"
)

var (
	appKeyOnce sync.Once
	appKey     *rsa.PrivateKey
	appKeyPEM  []byte
)

func testAppKey(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	appKeyOnce.Do(func() {
		var err error
		appKey, appKeyPEM, err = githubtest.NewAppKey(2048)
		if err != nil {
			panic(err)
		}
	})
	return appKey, appKeyPEM
}

// withApp makes a server accept the test App.
func withApp(t testing.TB) githubtest.Option {
	key, _ := testAppKey(t)
	return githubtest.WithApp(githubtest.App{
		ID: testAppID, Slug: testAppSlug, Name: "NHI audit", InstallationID: testInstall, PublicKey: &key.PublicKey,
		Permissions: map[string]string{
			"administration": "read", "members": "read", "organization_administration": "read",
			"organization_personal_access_tokens": "read", "organization_personal_access_token_requests": "read",
			"secrets": "read", "organization_secrets": "read",
		},
	})
}

// appOptions read s as the test App.
func appOptions(t testing.TB, s *githubtest.Server) ghconn.Options {
	_, pemBytes := testAppKey(t)
	return ghconn.Options{
		APIURL: s.URL(), HTTPClient: s.Client(),
		App: &ghconn.AppAuth{AppID: testAppID, PrivateKey: pemBytes, InstallationID: testInstall},
	}
}

// minRequests is the fewest requests that can read org at per_page=100,
// as the connector reads it: the credential (GET /user, or for an App the
// installation token and GET /app), GET /orgs/{org}, every list endpoint
// (an empty one, or one answering 403/404, costing one request; the
// members as owners and the others, role=admin and role=member), what
// identities reach, the
// repository list, and per repository its identity endpoints, its own
// rulesets (and each one's detail), the secrets
// of each environment, and, for a repository holding an identity, its
// teams, direct collaborators and CODEOWNERS (one request per location
// tried: .github/, the root, docs/). Read through GraphQL (the default),
// environments, own rulesets, collaborators and CODEOWNERS cost one query
// per 100 repositories instead, unless one holds more than a query's page
// of them (graphql.go); minRESTRequests is the same read through REST
// alone (Options.RESTOnly).
func minRequests(o *githubtest.Org, app bool) int { return minRequestsVia(o, app, true) }

func minRESTRequests(o *githubtest.Org, app bool) int { return minRequestsVia(o, app, false) }

func minRequestsVia(o *githubtest.Org, app, gql bool) int {
	pages := func(n int) int { return max(1, (n+99)/100) }
	total := 1 + 1
	if app {
		total++
		total += pages(len(o.FineGrainedPATs)) + pages(len(o.PATRequests))
	} else {
		total += 2 // 403
	}
	if o.SAML {
		total += pages(len(o.CredentialAuthorizations))
	} else {
		total++ // 404
	}
	total += pages(len(o.Admins)) + pages(len(o.Members)-len(o.Admins)) + pages(len(o.Installations)) +
		pages(len(o.Secrets)) + pages(len(o.DependabotSecrets)) + pages(len(o.CodespacesSecrets)) + pages(len(o.AgentsSecrets)) +
		pages(len(o.Hooks)) + pages(len(o.Runners)) + pages(len(o.Repos)) + pages(len(o.PrivateRegistries))
	// What identities reach (reach.go): the rulesets and each one's bypass
	// actors, the runner groups and the repositories of selected ones, of
	// each org secret shared with selected repositories, and (for an App)
	// of each fine-grained token or request on a subset.
	total += pages(len(o.Rulesets)) + len(o.Rulesets) + pages(len(o.RunnerGroups))
	total += 1 + len(o.Repos) // the Actions OIDC sub claim: the organisation's, each repository's
	for _, g := range o.RunnerGroups {
		if g.Visibility == "selected" {
			total += pages(len(g.SelectedRepos))
		}
	}
	for _, list := range [][]githubtest.Secret{o.Secrets, o.DependabotSecrets, o.CodespacesSecrets, o.AgentsSecrets} {
		for _, sec := range list {
			if sec.Visibility == "selected" {
				total += pages(len(sec.SelectedRepos))
			}
		}
	}
	if app {
		for _, p := range o.FineGrainedPATs {
			if p.RepositorySelection == "subset" {
				total += pages(len(p.Repositories))
			}
		}
		for _, p := range o.PATRequests {
			if p.RepositorySelection == "subset" {
				total += pages(len(p.Repositories))
			}
		}
	}
	teams := map[string]bool{}
	if gql {
		total += (len(o.Repos) + 99) / 100
		total++ // the members' count (counts.go)
	}
	for _, r := range o.Repos {
		bypassers := 0
		for _, rs := range r.Rulesets {
			bypassers = max(bypassers, len(rs.BypassActors))
		}
		if !gql || len(r.Rulesets) > 10 || bypassers > 10 {
			total += pages(len(r.Rulesets)) + len(r.Rulesets) // the repository's own rulesets, and each one's bypass actors
		}
		if !gql || len(r.Environments) > 100 {
			total += pages(len(r.Environments))
		}
		total += pages(len(r.DeployKeys)) + pages(len(r.Secrets)) + pages(len(r.DependabotSecrets)) +
			pages(len(r.CodespacesSecrets)) + pages(len(r.AgentsSecrets)) + pages(len(r.Hooks)) + pages(len(r.Runners))
		ids := len(r.DeployKeys) + len(r.Secrets) + len(r.DependabotSecrets) + len(r.CodespacesSecrets) + len(r.AgentsSecrets) + len(r.Hooks) + len(r.Runners)
		for _, e := range r.Environments {
			total += pages(len(e.Secrets))
			ids += len(e.Secrets)
		}
		if ids > 0 {
			total += pages(len(r.Teams))
			if !gql || len(r.Collaborators) > 100 {
				total += pages(len(r.Collaborators))
			}
			if !gql || (r.CodeOwners != nil && len(r.CodeOwners.Content) > 1<<20) {
				total += codeOwnersProbes(r)
			}
			for _, t := range r.Teams {
				if t.Permission == "admin" || t.Permission == "maintain" {
					teams[strings.ToLower(t.Slug)] = true
				}
			}
			if r.CodeOwners != nil && !r.CodeOwners.Dir {
				for _, m := range codeOwnersTeam.FindAllStringSubmatch(r.CodeOwners.Content, -1) {
					if strings.EqualFold(m[1], o.Login) {
						teams[strings.ToLower(m[2])] = true
					}
				}
			}
		}
	}
	// The members of each team that may own an identity, once a run, and
	// with GraphQL, how many GitHub counts of a team that exists.
	for slug := range teams {
		n := 0
		for _, t := range o.Teams {
			if strings.EqualFold(t.Slug, slug) {
				n = len(t.Members)
			}
		}
		total += pages(n)
	}
	if gql {
		total += teamsCounted(o, teams)
	}
	return total
}

// teamListsRead is how many teams' member lists s was asked for: with
// GraphQL, each is counted by one query more (people_teams.go).
func teamListsRead(s *githubtest.Server, o *githubtest.Org) int {
	slugs := map[string]bool{}
	for _, t := range o.Teams {
		slugs[strings.ToLower(t.Slug)] = true
	}
	for _, r := range o.Repos {
		for _, t := range r.Teams {
			slugs[strings.ToLower(t.Slug)] = true
		}
	}
	n := 0
	for slug := range slugs {
		if s.RequestsTo("/orgs/"+o.Login+"/teams/"+slug+"/members") > 0 {
			n++
		}
	}
	return n
}

// teamsCounted is how many of teams (slugs) GraphQL is asked to count the
// members of: those the organisation has (people_teams.go).
func teamsCounted(o *githubtest.Org, teams map[string]bool) int {
	n := 0
	for slug := range teams {
		exists := slices.ContainsFunc(o.Teams, func(t githubtest.Team) bool { return strings.EqualFold(t.Slug, slug) })
		for _, r := range o.Repos {
			exists = exists || slices.ContainsFunc(r.Teams, func(t githubtest.TeamAccess) bool { return strings.EqualFold(t.Slug, slug) })
		}
		if exists {
			n++
		}
	}
	return n
}

var codeOwnersTeam = regexp.MustCompile(`@([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+)`)

func codeOwnersProbes(r *githubtest.Repo) int {
	if r.CodeOwners == nil {
		return 3
	}
	for i, p := range []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"} {
		if p == r.CodeOwners.Path {
			return i + 1
		}
	}
	return 3
}

// fixedNow is the clock of the evidence files tests write, so that
// findings, and so digests, do not depend on when the test runs.
var fixedNow = githubtest.Reference.Add(36 * time.Hour)

func openStore(t testing.TB, path string) *audit.Store {
	t.Helper()
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: true, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tempStore(t testing.TB) (*audit.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	st := openStore(t, path)
	t.Cleanup(func() { st.Close() })
	return st, path
}

// snapshot runs a connector built with opts into st, with the store as its
// cache.
func snapshot(t testing.TB, ctx context.Context, st *audit.Store, org string, opts ghconn.Options) (*audit.Snapshot, *ghconn.Connector, error) {
	t.Helper()
	opts.Cache = st
	c, err := ghconn.NewConnector(org, opts)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := connectors.Snapshot(ctx, st, c, "test")
	return snap, c, err
}

// fileBytes is the evidence file and its write-ahead log, as bytes.
func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func jsonString(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func containsAny(haystack string, needles []string) []string {
	var found []string
	for _, n := range needles {
		if n != "" && strings.Contains(haystack, n) {
			found = append(found, n)
		}
	}
	return found
}
