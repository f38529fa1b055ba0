package githubtest_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// get sends an authenticated GET (token "" sends none) and returns the
// response with its body read.
func get(t *testing.T, s *githubtest.Server, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL(), "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func bearer(s *githubtest.Server) string { return "Bearer " + s.Token() }

func manyRepos(n int) *githubtest.Org {
	o := &githubtest.Org{Login: "many", ID: 1, Name: "Many", Members: []string{"a"}}
	for i := range n {
		o.Repos = append(o.Repos, &githubtest.Repo{ID: int64(i + 1), Name: fmt.Sprintf("repo-%03d", i), DefaultBranch: "main"})
	}
	return o
}

func errMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.DocumentationURL == "" {
		t.Errorf("error body %s has no documentation_url", body)
	}
	return e.Message
}

func TestAuth(t *testing.T) {
	s := githubtest.NewServer(manyRepos(1))
	defer s.Close()
	if s.Token() != githubtest.DefaultToken {
		t.Fatalf("Token() = %q", s.Token())
	}
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic " + s.Token(), http.StatusUnauthorized},
		{"Bearer " + s.Token(), http.StatusOK},
		{"token " + s.Token(), http.StatusOK},
	} {
		resp, body := get(t, s, "/orgs/many", tc.auth)
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusUnauthorized {
			if m := errMessage(t, body); m != "Bad credentials" {
				t.Errorf("401 message %q", m)
			}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}

	s2 := githubtest.NewServer(manyRepos(1), githubtest.WithToken("ghp_other"))
	defer s2.Close()
	if resp, _ := get(t, s2, "/user", "Bearer "+githubtest.DefaultToken); resp.StatusCode != 401 {
		t.Errorf("default token accepted by WithToken server: %d", resp.StatusCode)
	}
	resp, body := get(t, s2, "/user", "Bearer ghp_other")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /user: %d %s", resp.StatusCode, body)
	}
	var u github.User
	if err := json.Unmarshal(body, &u); err != nil || u.GetLogin() != githubtest.TokenOwner {
		t.Errorf("GET /user = %s (%v)", body, err)
	}
	if got := resp.Header.Get("X-OAuth-Scopes"); got != githubtest.DefaultScopes {
		t.Errorf("X-OAuth-Scopes %q", got)
	}
}

func TestNotFound(t *testing.T) {
	s := githubtest.NewServer(manyRepos(1))
	defer s.Close()
	for _, p := range []string{
		"/orgs/nope", "/orgs/nope/repos", "/repos/many/nope/keys", "/repos/nope/repo-000/keys",
		"/orgs/many/unknown", "/nothing",
	} {
		resp, body := get(t, s, p, bearer(s))
		if resp.StatusCode != 404 || errMessage(t, body) != "Not Found" {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	// Logins and repository names are case-insensitive, as on GitHub.
	if resp, _ := get(t, s, "/repos/MANY/Repo-000/keys", bearer(s)); resp.StatusCode != 200 {
		t.Errorf("case-insensitive lookup: %d", resp.StatusCode)
	}
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="([a-z]+)"`)

// links parses a Link header into rel -> page (and checks every URL).
func links(t *testing.T, s *githubtest.Server, h string, wantPerPage string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		if !strings.HasPrefix(m[1], s.URL()) {
			t.Errorf("link %q is not an absolute URL on the server", m[1])
		}
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("per_page"); got != wantPerPage {
			t.Errorf("link %q: per_page %q, want %q", m[1], got, wantPerPage)
		}
		p, err := strconv.Atoi(u.Query().Get("page"))
		if err != nil {
			t.Fatalf("link %q: %v", m[1], err)
		}
		out[m[2]] = p
	}
	return out
}

func TestPagination(t *testing.T) {
	s := githubtest.NewServer(manyRepos(250))
	defer s.Close()
	for _, tc := range []struct {
		query   string
		n       int
		first   string // name of the first item
		links   map[string]int
		perPage string // as echoed in links
	}{
		{"", 30, "repo-000", map[string]int{"next": 2, "last": 9}, ""},
		{"?page=2", 30, "repo-030", map[string]int{"prev": 1, "next": 3, "last": 9, "first": 1}, ""},
		{"?per_page=100", 100, "repo-000", map[string]int{"next": 2, "last": 3}, "100"},
		{"?per_page=100&page=2", 100, "repo-100", map[string]int{"prev": 1, "next": 3, "last": 3, "first": 1}, "100"},
		{"?per_page=100&page=3", 50, "repo-200", map[string]int{"prev": 2, "first": 1}, "100"},
		{"?per_page=1000", 100, "repo-000", map[string]int{"next": 2, "last": 3}, "100"},
		{"?per_page=7&page=36", 5, "repo-245", map[string]int{"prev": 35, "first": 1}, "7"},
		{"?per_page=100&page=4", 0, "", map[string]int{"prev": 3, "first": 1}, "100"},
		{"?per_page=0&page=0", 30, "repo-000", map[string]int{"next": 2, "last": 9}, "30"},
	} {
		resp, body := get(t, s, "/orgs/many/repos"+tc.query, bearer(s))
		var repos []github.Repository
		if err := json.Unmarshal(body, &repos); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if len(repos) != tc.n {
			t.Errorf("%s: %d repos, want %d", tc.query, len(repos), tc.n)
		}
		if tc.n > 0 && repos[0].GetName() != tc.first {
			t.Errorf("%s: first repo %q, want %q", tc.query, repos[0].GetName(), tc.first)
		}
		got := links(t, s, resp.Header.Get("Link"), tc.perPage)
		if fmt.Sprint(got) != fmt.Sprint(tc.links) {
			t.Errorf("%s: links %v, want %v (header %q)", tc.query, got, tc.links, resp.Header.Get("Link"))
		}
	}

	// An empty list has no Link header; a single page neither.
	s2 := githubtest.NewServer(manyRepos(3))
	defer s2.Close()
	for _, p := range []string{"/orgs/many/hooks", "/orgs/many/repos?per_page=100"} {
		if resp, _ := get(t, s2, p, bearer(s2)); resp.Header.Get("Link") != "" {
			t.Errorf("GET %s: Link %q", p, resp.Header.Get("Link"))
		}
	}
}

// TestGoGithubFollowsPages checks go-github reads the Link header the
// server writes: every repository, exactly once, in ceil(n/100) requests.
func TestGoGithubFollowsPages(t *testing.T) {
	s := githubtest.NewServer(manyRepos(250))
	defer s.Close()
	c := client(t, s)
	opts := &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 100}}
	seen := map[string]bool{}
	for {
		repos, resp, err := c.Repositories.ListByOrg(context.Background(), "many", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range repos {
			if seen[r.GetName()] {
				t.Fatalf("%s twice", r.GetName())
			}
			seen[r.GetName()] = true
		}
		if resp.NextPage == 0 {
			if resp.PrevPage != 2 || resp.FirstPage != 1 {
				t.Errorf("last page: prev %d first %d", resp.PrevPage, resp.FirstPage)
			}
			break
		}
		if resp.LastPage != 3 {
			t.Errorf("LastPage %d", resp.LastPage)
		}
		opts.Page = resp.NextPage
	}
	if len(seen) != 250 || s.Requests() != 3 || s.RequestsTo("/orgs/many/repos") != 3 {
		t.Errorf("%d repos in %d requests (%d to repos)", len(seen), s.Requests(), s.RequestsTo("/orgs/many/repos"))
	}
	s.ResetCounters()
	if s.Requests() != 0 || s.RequestsTo("/orgs/many/repos") != 0 {
		t.Error("ResetCounters left counts")
	}
}

func client(t *testing.T, s *githubtest.Server) *github.Client {
	t.Helper()
	c := github.NewClient(s.Client()).WithAuthToken(s.Token())
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func TestRateLimitHeaders(t *testing.T) {
	s := githubtest.NewServer(manyRepos(1))
	defer s.Close()
	r1, _ := get(t, s, "/orgs/many", bearer(s))
	r2, _ := get(t, s, "/orgs/nope", bearer(s)) // errors count too
	r3, _ := get(t, s, "/orgs/many", "")
	num := func(r *http.Response, h string) int {
		n, err := strconv.Atoi(r.Header.Get(h))
		if err != nil {
			t.Fatalf("%s: %q", h, r.Header.Get(h))
		}
		return n
	}
	for i, r := range []*http.Response{r1, r2, r3} {
		if num(r, "X-RateLimit-Limit") != githubtest.DefaultRateLimit ||
			num(r, "X-RateLimit-Used") != i+1 ||
			num(r, "X-RateLimit-Remaining") != githubtest.DefaultRateLimit-i-1 ||
			r.Header.Get("X-RateLimit-Resource") != "core" {
			t.Errorf("request %d: %v", i+1, r.Header)
		}
		reset := time.Unix(int64(num(r, "X-RateLimit-Reset")), 0)
		if d := time.Until(reset); d < 50*time.Minute || d > 61*time.Minute {
			t.Errorf("reset in %v", d)
		}
	}
	if r1.Header.Get("X-RateLimit-Reset") != r2.Header.Get("X-RateLimit-Reset") {
		t.Error("reset moved")
	}
}

func TestRateLimitEnforced(t *testing.T) {
	s := githubtest.NewServer(manyRepos(1), githubtest.WithRateLimit(2, true))
	defer s.Close()
	for i := range 2 {
		if r, _ := get(t, s, "/orgs/many", bearer(s)); r.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, r.StatusCode)
		}
	}
	r, body := get(t, s, "/orgs/many", bearer(s))
	if r.StatusCode != 403 || r.Header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(errMessage(t, body), "rate limit exceeded") {
		t.Errorf("over the limit: %d %v %s", r.StatusCode, r.Header, body)
	}
	// go-github sees a RateLimitError.
	_, _, err := client(t, s).Organizations.Get(context.Background(), "many")
	if _, ok := err.(*github.RateLimitError); !ok {
		t.Errorf("go-github error %T %v", err, err)
	}
}

// TestRateLimitRefills: an unenforced budget never reaches 0 (go-github
// would then refuse to send anything until the reset).
func TestRateLimitRefills(t *testing.T) {
	s := githubtest.NewServer(manyRepos(1), githubtest.WithRateLimit(5, false))
	defer s.Close()
	c := client(t, s)
	for i := range 12 {
		_, resp, err := c.Users.Get(context.Background(), "")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if resp.Rate.Limit != 5 || resp.Rate.Remaining < 1 || resp.Rate.Remaining > 4 {
			t.Errorf("request %d: rate %+v", i+1, resp.Rate)
		}
		// A refill opens a window that ends an hour from now: a progress
		// line must not show a reset hours or days ahead.
		if d := time.Until(resp.Rate.Reset.Time); d > 61*time.Minute {
			t.Errorf("request %d: reset in %v", i+1, d)
		}
	}
}

func TestFaults(t *testing.T) {
	s := githubtest.NewServer(manyRepos(2), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/orgs/many/installations" {
			return 500, `{"message":"Server Error"}`, true
		}
		return 0, "", false
	}))
	defer s.Close()
	s.Fail("/repos/many/repo-000", 403)
	s.FailWith("/orgs/many/hooks", 200, `[{"id": 1,`)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/orgs/many/installations", 500, `{"message":"Server Error"}`},
		{"/repos/many/repo-000/hooks", 403, ""},
		{"/repos/many/repo-000", 403, ""},
		{"/repos/many/repo-001/hooks", 200, "[]"},
		{"/orgs/many/hooks", 200, `[{"id": 1,`},
		{"/orgs/many/hooks/", 200, `[{"id": 1,`},
	} {
		resp, body := get(t, s, tc.path, bearer(s))
		if resp.StatusCode != tc.status || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("GET %s: %d %s", tc.path, resp.StatusCode, body)
		}
		if tc.status == 403 && !strings.Contains(errMessage(t, body), "not accessible") {
			t.Errorf("GET %s: %s", tc.path, body)
		}
	}
	// Faults come after the token check.
	if resp, _ := get(t, s, "/orgs/many/installations", ""); resp.StatusCode != 401 {
		t.Errorf("fault before auth: %d", resp.StatusCode)
	}
	s.ClearFaults()
	if resp, _ := get(t, s, "/orgs/many/installations", bearer(s)); resp.StatusCode != 200 {
		t.Errorf("after ClearFaults: %d", resp.StatusCode)
	}
}

// TestShapes reads every endpoint with go-github and checks the fields the
// connector relies on survive its decoding, plus the raw fields go-github
// v60 does not model.
func TestShapes(t *testing.T) {
	o, err := githubtest.LoadOrg("../../../testdata/github/org-small.json")
	if err != nil {
		t.Fatal(err)
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	c := client(t, s)
	ctx := context.Background()
	lo := &github.ListOptions{PerPage: 100}

	org, _, err := c.Organizations.Get(ctx, "tinyco")
	if err != nil || org.GetLogin() != "tinyco" || org.GetName() != "TinyCo" {
		t.Fatalf("org %v %v", org, err)
	}
	inst, _, err := c.Organizations.ListInstallations(ctx, "tinyco", lo)
	if err != nil || inst.GetTotalCount() != 1 || inst.Installations[0].GetAppSlug() != "renovate" ||
		inst.Installations[0].GetPermissions().GetContents() != "write" ||
		inst.Installations[0].GetRepositorySelection() != "all" ||
		inst.Installations[0].GetAccount().GetLogin() != "tinyco" {
		t.Errorf("installations %v %v", inst, err)
	}
	keys, _, err := c.Repositories.ListKeys(ctx, "tinyco", "website", lo)
	if err != nil || len(keys) != 1 || keys[0].GetAddedBy() != "carl-dietz" || keys[0].LastUsed != nil ||
		keys[0].GetReadOnly() || !keys[0].GetVerified() || keys[0].GetCreatedAt().Year() != 2020 {
		t.Errorf("keys %v %v", keys, err)
	}
	_, raw := get(t, s, "/repos/tinyco/website/keys", bearer(s))
	var rawKeys []map[string]any
	if err := json.Unmarshal(raw, &rawKeys); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"enabled", "last_used", "added_by", "key", "read_only", "verified", "created_at", "url", "title", "id"} {
		if _, ok := rawKeys[0][f]; !ok {
			t.Errorf("deploy key lacks %q: %s", f, raw)
		}
	}
	secs, _, err := c.Actions.ListOrgSecrets(ctx, "tinyco", lo)
	if err != nil || secs.TotalCount != 1 || secs.Secrets[0].Name != "NPM_TOKEN" || secs.Secrets[0].Visibility != "all" {
		t.Errorf("org secrets %v %v", secs, err)
	}
	rsecs, _, err := c.Actions.ListRepoSecrets(ctx, "tinyco", "website", lo)
	if err != nil || rsecs.TotalCount != 1 || rsecs.Secrets[0].UpdatedAt.Year() != 2025 || rsecs.Secrets[0].Visibility != "" {
		t.Errorf("repo secrets %v %v", rsecs, err)
	}
	hooks, _, err := c.Repositories.ListHooks(ctx, "tinyco", "website", lo)
	if err != nil || len(hooks) != 1 || hooks[0].GetConfig().GetSecret() != "CANARY-hook-secret-9002" ||
		hooks[0].GetConfig().GetInsecureSSL() != "1" || hooks[0].GetActive() || hooks[0].GetType() != "Repository" {
		t.Errorf("repo hooks %v %v", hooks, err)
	}
	ohooks, _, err := c.Organizations.ListHooks(ctx, "tinyco", lo)
	if err != nil || len(ohooks) != 1 || ohooks[0].GetConfig().Secret != nil || ohooks[0].GetType() != "Organization" {
		t.Errorf("org hooks %v %v", ohooks, err)
	}
	runners, _, err := c.Actions.ListOrganizationRunners(ctx, "tinyco", lo)
	if err != nil || runners.TotalCount != 1 || runners.Runners[0].GetStatus() != "offline" ||
		len(runners.Runners[0].Labels) != 3 || runners.Runners[0].Labels[0].GetType() != "read-only" {
		t.Errorf("org runners %v %v", runners, err)
	}
	members, _, err := c.Organizations.ListMembers(ctx, "tinyco", &github.ListMembersOptions{ListOptions: *lo})
	if err != nil || len(members) != 2 || members[1].GetLogin() != "ben-okoro" {
		t.Errorf("members %v %v", members, err)
	}
	repos, _, err := c.Repositories.ListByOrg(ctx, "tinyco", nil)
	if err != nil || len(repos) != 1 || repos[0].GetFullName() != "tinyco/website" || repos[0].GetPrivate() {
		t.Errorf("repos %v %v", repos, err)
	}
}

func TestMutate(t *testing.T) {
	s := githubtest.NewServer(manyRepos(2))
	defer s.Close()
	s.Mutate(func(o *githubtest.Org) {
		o.Repos = append(o.Repos, &githubtest.Repo{ID: 99, Name: "added"})
	})
	if resp, _ := get(t, s, "/repos/many/added/keys", bearer(s)); resp.StatusCode != 200 {
		t.Errorf("added repo: %d", resp.StatusCode)
	}
}

// TestShapesMore reads the endpoints added for every kind and for
// ownership context, with go-github where v60 has them, raw where not.
func TestShapesMore(t *testing.T) {
	o, err := githubtest.LoadOrg("../../../testdata/github/org-small.json")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := githubtest.NewAppKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	s := githubtest.NewServer(o, githubtest.WithApp(githubtest.App{ID: 1, Slug: "a", InstallationID: 2, PublicKey: &key.PublicKey}))
	defer s.Close()
	c := client(t, s)
	ctx := context.Background()
	lo := &github.ListOptions{PerPage: 100}

	creds, _, err := c.Organizations.ListCredentialAuthorizations(ctx, "tinyco", lo)
	if err != nil || len(creds) != 2 || creds[0].GetCredentialType() != "personal access token" || creds[0].GetTokenLastEight() != "CANARY08" ||
		creds[0].GetAuthorizedCredentialExpiresAt().Year() != 2027 || creds[1].CredentialAccessedAt != nil || creds[1].GetAuthorizedCredentialTitle() != "work laptop" {
		t.Errorf("credential authorizations %v %v", creds, err)
	}
	_, raw := get(t, s, "/orgs/tinyco/credential-authorizations", bearer(s))
	for _, f := range []string{`"credential_accessed_at":null`, `"authorized_credential_expires_at":null`, `"scopes":["repo","read:org"]`} {
		if !strings.Contains(string(raw), f) {
			t.Errorf("credential authorizations lack %s: %s", f, raw)
		}
	}
	envs, _, err := c.Repositories.ListEnvironments(ctx, "tinyco", "website", nil)
	if err != nil || envs.GetTotalCount() != 1 || envs.Environments[0].GetName() != "production" {
		t.Errorf("environments %v %v", envs, err)
	}
	var envSecrets github.Secrets
	_, raw = get(t, s, "/repos/tinyco/website/environments/production/secrets", bearer(s))
	if err := json.Unmarshal(raw, &envSecrets); err != nil || envSecrets.TotalCount != 1 || envSecrets.Secrets[0].Name != "NETLIFY_DEPLOY_TOKEN" {
		t.Errorf("environment secrets %s %v", raw, err)
	}
	teams, _, err := c.Repositories.ListTeams(ctx, "tinyco", "website", lo)
	if err != nil || len(teams) != 1 || teams[0].GetPermission() != "maintain" || !teams[0].GetPermissions()["maintain"] || teams[0].GetPermissions()["admin"] {
		t.Errorf("teams %v %v", teams, err)
	}
	collabs, _, err := c.Repositories.ListCollaborators(ctx, "tinyco", "website", &github.ListCollaboratorsOptions{Affiliation: "direct"})
	if err != nil || len(collabs) != 1 || collabs[0].GetRoleName() != "admin" || !collabs[0].GetPermissions()["admin"] {
		t.Errorf("collaborators %v %v", collabs, err)
	}
	file, _, _, err := c.Repositories.GetContents(ctx, "tinyco", "website", ".github/CODEOWNERS", nil)
	if text, _ := file.GetContent(); err != nil || text != "* @tinyco/web\n" {
		t.Errorf("CODEOWNERS %v %v", file, err)
	}
	if _, _, resp, err := c.Repositories.GetContents(ctx, "tinyco", "website", "CODEOWNERS", nil); resp == nil || resp.StatusCode != 404 {
		t.Errorf("missing CODEOWNERS: %v", err)
	}
	admins, _, err := c.Organizations.ListMembers(ctx, "tinyco", &github.ListMembersOptions{Role: "admin"})
	if err != nil || len(admins) != 1 || admins[0].GetLogin() != "ana-lima" {
		t.Errorf("admins %v %v", admins, err)
	}

	// Fine-grained PATs: App installation tokens only.
	if resp, _ := get(t, s, "/orgs/tinyco/personal-access-tokens", bearer(s)); resp.StatusCode != 403 {
		t.Errorf("classic token on personal-access-tokens: %d", resp.StatusCode)
	}
	tok := installationToken(t, s, key)
	resp, raw := get(t, s, "/orgs/tinyco/personal-access-tokens", "Bearer "+tok)
	var pats []map[string]any
	if err := json.Unmarshal(raw, &pats); err != nil || resp.StatusCode != 200 || len(pats) != 1 {
		t.Fatalf("PATs %d %s", resp.StatusCode, raw)
	}
	for _, f := range []string{"id", "owner", "repository_selection", "repositories_url", "permissions", "access_granted_at", "token_id", "token_name", "token_expired", "token_expires_at", "token_last_used_at"} {
		if _, ok := pats[0][f]; !ok {
			t.Errorf("PAT lacks %q: %s", f, raw)
		}
	}
	if p := pats[0]["permissions"].(map[string]any); p["repository"].(map[string]any)["contents"] != "write" {
		t.Errorf("PAT permissions %v", p)
	}
	_, raw = get(t, s, "/orgs/tinyco/personal-access-token-requests", "Bearer "+tok)
	if !strings.Contains(string(raw), `"reason":"Backfill analytics"`) || !strings.Contains(string(raw), `"token_expires_at":null`) || !strings.Contains(string(raw), `"created_at":"2026-10-25T00:00:00Z"`) {
		t.Errorf("PAT requests %s", raw)
	}
	if resp, _ := get(t, s, "/user", "Bearer "+tok); resp.StatusCode != 403 {
		t.Errorf("GET /user with an installation token: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s, "/user", "Bearer "+tok); resp.Header.Get("X-OAuth-Scopes") != "" {
		t.Error("X-OAuth-Scopes sent for an installation token")
	}
}

// installationToken mints one as a GitHub App would.
func installationToken(t *testing.T, s *githubtest.Server, key *rsa.PrivateKey) string {
	t.Helper()
	now := time.Now()
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(), "iss": "1"})
	signing := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	jwt := signing + "." + enc.EncodeToString(sig)
	if resp, body := get(t, s, "/app", "Bearer "+jwt); resp.StatusCode != 200 || !strings.Contains(string(body), `"slug":"a"`) {
		t.Fatalf("GET /app: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, s, "/orgs/tinyco/hooks", "Bearer "+jwt); resp.StatusCode != 403 {
		t.Errorf("a JWT read the API: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"app/installations/2/access_tokens", nil)
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 || !strings.HasPrefix(out.Token, "ghs_") || out.ExpiresAt.Before(now.Add(50*time.Minute)) {
		t.Fatalf("access token: %d %+v %v", resp.StatusCode, out, err)
	}
	// A JWT signed with another key is refused.
	other, _, _ := githubtest.NewAppKey(1024)
	bad, _ := rsa.SignPKCS1v15(rand.Reader, other, crypto.SHA256, sum[:])
	if resp, _ := get(t, s, "/app", "Bearer "+signing+"."+enc.EncodeToString(bad)); resp.StatusCode != 401 {
		t.Errorf("a JWT of another key: %d", resp.StatusCode)
	}
	return out.Token
}

// TestConditional: answers carry an ETag; the same request with it is
// answered 304, free of the rate limit, until the data changes.
func TestConditional(t *testing.T) {
	s := githubtest.NewServer(manyRepos(3), githubtest.WithRateLimit(10, true))
	defer s.Close()
	resp, _ := get(t, s, "/orgs/many/repos", bearer(s))
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !strings.HasPrefix(etag, `W/"`) {
		t.Fatalf("%d ETag %q", resp.StatusCode, etag)
	}
	remaining := resp.Header.Get("X-RateLimit-Remaining")
	for _, inm := range []string{etag, strings.TrimPrefix(etag, "W/"), `"nope", ` + etag} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"orgs/many/repos", nil)
		req.Header.Set("Authorization", bearer(s))
		req.Header.Set("If-None-Match", inm)
		r, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 304 || r.Header.Get("X-RateLimit-Remaining") != remaining || r.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, remaining %s (was %s)", inm, r.StatusCode, r.Header.Get("X-RateLimit-Remaining"), remaining)
		}
	}
	if s.NotModified() != 3 || s.Requests() != 4 {
		t.Errorf("%d of %d answered 304", s.NotModified(), s.Requests())
	}
	s.Mutate(func(o *githubtest.Org) { o.Repos[0].Description = "changed" })
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"orgs/many/repos", nil)
	req.Header.Set("Authorization", bearer(s))
	req.Header.Set("If-None-Match", etag)
	r, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("ETag") == etag {
		t.Errorf("after a change: %d, ETag %q", r.StatusCode, r.Header.Get("ETag"))
	}
}

func TestFaultHelpers(t *testing.T) {
	clock := githubtest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := githubtest.NewServer(manyRepos(2), githubtest.WithClock(clock.Now), githubtest.WithRateLimit(3, true),
		githubtest.WithHTTPFault(githubtest.FailTimes("/orgs/many/hooks", 2, 502, nil, "bad gateway")),
		githubtest.WithHTTPFault(githubtest.SecondaryRateLimit("/orgs/many/actions/secrets", 1, 42*time.Second)),
		githubtest.WithHTTPFault(githubtest.TruncatedBody("/orgs/many/actions/runners", 1)),
	)
	defer s.Close()
	for i, want := range []int{502, 502, 200} {
		if r, _ := get(t, s, "/orgs/many/hooks", bearer(s)); r.StatusCode != want {
			t.Errorf("hooks %d: %d, want %d", i, r.StatusCode, want)
		}
	}
	// The budget of 3 is spent: 403 until the clock passes the reset.
	if r, _ := get(t, s, "/orgs/many/actions/secrets", bearer(s)); r.StatusCode != 403 || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d %v", r.StatusCode, r.Header)
	}
	_ = clock.Sleep(context.Background(), time.Hour)
	r, body := get(t, s, "/orgs/many/actions/secrets", bearer(s))
	if r.StatusCode != 403 || r.Header.Get("Retry-After") != "42" || !strings.Contains(string(body), "secondary rate limit") || r.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("secondary limit after the reset: %d %v %s", r.StatusCode, r.Header, body)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"orgs/many/actions/runners", nil)
	req.Header.Set("Authorization", bearer(s))
	resp, err := s.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("a truncated body read in full")
	}
}
