package github_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
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

// run reads org from s with s's token and returns what was recorded.
func run(t *testing.T, s *githubtest.Server, org string) (*recorder, error) {
	t.Helper()
	return runToken(t, s, org, s.Token())
}

func runToken(t *testing.T, s *githubtest.Server, org, token string) (*recorder, error) {
	t.Helper()
	c, err := ghconn.NewFromToken(s.URL(), token, org, s.Client())
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

// smallOrg has one identity of each shape the connector reads, and a
// repository named like the organisation.
func smallOrg() *githubtest.Org {
	return &githubtest.Org{
		Login: "acme", ID: 42, Name: "Acme", CreatedAt: at("2018-01-01T00:00:00Z"),
		Members: []string{"ann", "bob"},
		Installations: []githubtest.Installation{
			{
				ID: 101, AppID: 7, AppSlug: "renovate", RepositorySelection: "all",
				Permissions: map[string]string{"contents": "write", "metadata": "read", "new_fancy_permission": "admin"},
				Events:      []string{"push", "pull_request"},
				CreatedAt:   at("2021-01-02T03:04:05Z"), UpdatedAt: at("2024-01-01T00:00:00Z"),
			},
			{
				ID: 102, AppID: 8, AppSlug: "travis-ci", RepositorySelection: "selected",
				Permissions: map[string]string{"statuses": "write"},
				CreatedAt:   at("2019-05-05T00:00:00Z"), UpdatedAt: at("2023-09-01T00:00:00Z"),
				SuspendedAt: tp("2023-09-01T00:00:00Z"), SuspendedBy: "ann",
			},
		},
		Secrets: []githubtest.Secret{
			{Name: "NPM_TOKEN", CreatedAt: at("2020-01-01T00:00:00Z"), UpdatedAt: at("2020-01-01T00:00:00Z"), Visibility: "all"},
			{Name: "DEPLOY_KEY", CreatedAt: at("2022-01-01T00:00:00Z"), UpdatedAt: at("2026-10-01T00:00:00Z"), Visibility: "selected", SelectedRepos: []string{"api"}},
		},
		Hooks: []githubtest.Hook{{
			ID: 501, Active: true, Events: []string{"*"}, URL: "https://siem.acme.example/ingest?token=CANARY-query-token",
			ContentType: "json", InsecureSSL: "0", Secret: "CANARY-hook-secret-501",
			CreatedAt: at("2022-02-02T00:00:00Z"), UpdatedAt: at("2022-03-03T00:00:00Z"),
		}},
		Runners: []githubtest.Runner{{ID: 9, Name: "acme-linux-01", OS: "Linux", Status: "online", Busy: true, Labels: []string{"self-hosted", "Linux", "X64", "gpu"}, RunnerGroupID: 1}},
		Repos: []*githubtest.Repo{
			{
				ID: 1001, Name: "api", Private: true, DefaultBranch: "main", CreatedAt: at("2019-01-01T00:00:00Z"), PushedAt: at("2026-10-10T00:00:00Z"),
				DeployKeys: []githubtest.DeployKey{
					{ID: 201, Title: "argocd", Key: testKey, ReadOnly: true, Verified: true, Enabled: true, CreatedAt: at("2020-06-01T00:00:00Z"), LastUsed: tp("2026-10-30T12:00:00Z"), AddedBy: "bob"},
					{ID: 202, Title: "old-jenkins", Key: "ssh-rsa not-base64!", ReadOnly: false, Verified: true, Enabled: false, CreatedAt: at("2017-06-01T00:00:00Z")},
				},
				Secrets: []githubtest.Secret{{Name: "NPM_TOKEN", CreatedAt: at("2021-01-01T00:00:00Z"), UpdatedAt: at("2025-01-01T00:00:00Z")}},
				Hooks: []githubtest.Hook{{
					ID: 601, Active: false, Events: []string{"push", "pull_request"},
					URL:         "https://hooks.slack.com/services/T0001/B0002/CANARYslackPathToken123",
					ContentType: "form", InsecureSSL: "1",
					CreatedAt: at("2020-02-02T00:00:00Z"), UpdatedAt: at("2020-02-02T00:00:00Z"),
					LastResponse: githubtest.LastResponse{Code: 502, Status: "failed", Message: "Invalid HTTP Response: 502"},
				}},
				Runners: []githubtest.Runner{{ID: 77, Name: "bob-macbook", OS: "macOS", Status: "offline", Labels: []string{"self-hosted", "macOS", "ARM64"}}},
			},
			{
				ID: 1002, Name: "acme", DefaultBranch: "main", CreatedAt: at("2019-01-01T00:00:00Z"), PushedAt: at("2026-01-01T00:00:00Z"),
				Secrets: []githubtest.Secret{{Name: "NPM_TOKEN", CreatedAt: at("2021-01-01T00:00:00Z"), UpdatedAt: at("2021-01-01T00:00:00Z")}},
			},
		},
	}
}

func TestRunSmallOrg(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), "ACME", s.Client())
	if err != nil {
		t.Fatal(err)
	}
	if c.Source() != "github" || c.APIURL() != s.URL() || c.Account() != "acme" {
		t.Errorf("Source %q APIURL %q Account %q", c.Source(), c.APIURL(), c.Account())
	}
	cred, err := c.Credential(context.Background())
	if want := "nhi-auditor (classic token, scopes: admin:org, repo, read:user)"; err != nil || cred != want {
		t.Errorf("Credential() = %q, %v; want %q", cred, err, want)
	}
	rec := &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if n := s.RequestsTo("/user"); n != 1 {
		t.Errorf("GET /user asked %d times", n)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps: %+v", rec.gaps)
	}

	want := []audit.Observation{
		{
			ID: "github:acme:github_app_installation:101", Kind: audit.KindGitHubAppInstallation,
			Name: "renovate", Scope: "acme", CreatedAt: tp("2021-01-02T03:04:05Z"),
			Permissions: map[string]string{"contents": "write", "metadata": "read", "new_fancy_permission": "admin"},
			Attributes: map[string]string{
				"app_slug": "renovate", "app_id": "7", "target_type": "Organization", "repository_selection": "all",
				"suspended": "false", "account": "acme", "updated_at": "2024-01-01T00:00:00Z", "events": "push,pull_request",
			},
		},
		{
			ID: "github:acme:github_app_installation:102", Kind: audit.KindGitHubAppInstallation,
			Name: "travis-ci", Scope: "acme", CreatedAt: tp("2019-05-05T00:00:00Z"),
			Permissions: map[string]string{"statuses": "write"},
			Attributes: map[string]string{
				"app_slug": "travis-ci", "app_id": "8", "target_type": "Organization", "repository_selection": "selected",
				"suspended": "true", "suspended_at": "2023-09-01T00:00:00Z", "suspended_by": "ann", "account": "acme",
				"updated_at": "2023-09-01T00:00:00Z",
			},
		},
		{
			ID: "github:acme:github_actions_secret:acme/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme", CreatedAt: tp("2020-01-01T00:00:00Z"), RotatedAt: tp("2020-01-01T00:00:00Z"),
			Attributes: map[string]string{"visibility": "all"},
		},
		{
			ID: "github:acme:github_actions_secret:acme/DEPLOY_KEY", Kind: audit.KindGitHubActionsSecret,
			Name: "DEPLOY_KEY", Scope: "acme", CreatedAt: tp("2022-01-01T00:00:00Z"), RotatedAt: tp("2026-10-01T00:00:00Z"),
			Attributes: map[string]string{"visibility": "selected"},
		},
		{
			ID: "github:acme:github_webhook:acme/501", Kind: audit.KindGitHubWebhook,
			Name: "siem.acme.example/ingest", Scope: "acme", CreatedAt: tp("2022-02-02T00:00:00Z"),
			Attributes: map[string]string{
				"active": "true", "insecure_ssl": "0", "content_type": "json", "has_secret": "true", "events": "*",
				"url": "https://siem.acme.example/ingest", "url_redacted": "true", "updated_at": "2022-03-03T00:00:00Z",
			},
		},
		{
			ID: "github:acme:github_runner:acme/9", Kind: audit.KindGitHubRunner, Name: "acme-linux-01", Scope: "acme",
			Attributes: map[string]string{"status": "online", "busy": "true", "os": "Linux", "labels": "self-hosted,Linux,X64,gpu"},
		},
		{
			ID: "github:acme:github_deploy_key:api/201", Kind: audit.KindGitHubDeployKey, Name: "argocd", Scope: "acme/api",
			CreatedAt: tp("2020-06-01T00:00:00Z"), LastUsedAt: tp("2026-10-30T12:00:00Z"), RotatedAt: tp("2020-06-01T00:00:00Z"),
			Permissions: map[string]string{"contents": "read"},
			Attributes: map[string]string{
				"read_only": "true", "verified": "true", "added_by": "bob", "enabled": "true",
				"key_type": "ssh-ed25519", "fingerprint": testKeyFP,
			},
		},
		{
			ID: "github:acme:github_deploy_key:api/202", Kind: audit.KindGitHubDeployKey, Name: "old-jenkins", Scope: "acme/api",
			CreatedAt: tp("2017-06-01T00:00:00Z"), RotatedAt: tp("2017-06-01T00:00:00Z"),
			Permissions: map[string]string{"contents": "write"},
			Attributes:  map[string]string{"read_only": "false", "verified": "true", "enabled": "false"},
		},
		{
			ID: "github:acme:github_actions_secret:acme/api/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme/api", CreatedAt: tp("2021-01-01T00:00:00Z"), RotatedAt: tp("2025-01-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
		{
			ID: "github:acme:github_webhook:api/601", Kind: audit.KindGitHubWebhook,
			Name: "hooks.slack.com/services/T0001/B0002/REDACTED", Scope: "acme/api", CreatedAt: tp("2020-02-02T00:00:00Z"),
			Attributes: map[string]string{
				"active": "false", "insecure_ssl": "1", "content_type": "form", "has_secret": "false", "events": "push,pull_request",
				"url": "https://hooks.slack.com/services/T0001/B0002/REDACTED", "url_redacted": "true",
				"updated_at": "2020-02-02T00:00:00Z", "last_response": "failed", "last_response_code": "502",
			},
		},
		{
			ID: "github:acme:github_runner:api/77", Kind: audit.KindGitHubRunner, Name: "bob-macbook", Scope: "acme/api",
			Attributes: map[string]string{"status": "offline", "busy": "false", "os": "macOS", "labels": "self-hosted,macOS,ARM64"},
		},
		// The repository named like the organisation: its secret must not
		// collide with the organisation's NPM_TOKEN.
		{
			ID: "github:acme:github_actions_secret:acme/acme/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme/acme", CreatedAt: tp("2021-01-01T00:00:00Z"), RotatedAt: tp("2021-01-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
	}
	got := rec.byID()
	if len(rec.obs) != len(want) {
		var ids []string
		for id := range got {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Errorf("%d observations, want %d: %v", len(rec.obs), len(want), ids)
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("missing %s", w.ID)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.MarshalIndent(g, "", "  ")
			wj, _ := json.MarshalIndent(w, "", "  ")
			t.Errorf("%s:\n got %s\nwant %s", w.ID, gj, wj)
		}
	}
	assertNoLeak(t, rec, "CANARY", "AAAAC3NzaC1lZDI1NTE5", "not-base64")
}

// assertNoLeak fails if any of needles appears in anything recorded.
func assertNoLeak(t *testing.T, rec *recorder, needles ...string) {
	t.Helper()
	b, err := json.Marshal(struct {
		Obs  []audit.Observation
		Gaps []audit.Gap
	}{rec.obs, rec.gaps})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needles {
		if strings.Contains(string(b), n) {
			t.Errorf("%q leaked into the recorded observations", n)
		}
	}
}

// minRequests is the fewest requests that can read org at per_page=100:
// GET /user and GET /orgs/{org}, then every list endpoint, an empty one
// costing one request.
func minRequests(o *githubtest.Org) int {
	pages := func(n int) int { return max(1, (n+99)/100) }
	total := 2 + pages(len(o.Installations)) + pages(len(o.Secrets)) + pages(len(o.Hooks)) +
		pages(len(o.Runners)) + pages(len(o.Repos))
	for _, r := range o.Repos {
		total += pages(len(r.DeployKeys)) + pages(len(r.Secrets)) + pages(len(r.Hooks)) + pages(len(r.Runners))
	}
	return total
}

// readKinds are the kinds this slice of the connector reads.
var readKinds = []audit.Kind{
	audit.KindGitHubAppInstallation, audit.KindGitHubDeployKey, audit.KindGitHubActionsSecret,
	audit.KindGitHubWebhook, audit.KindGitHubRunner,
}

func TestPagination(t *testing.T) {
	o := &githubtest.Org{Login: "big", ID: 1, Name: "Big"}
	for i := range 250 {
		o.Repos = append(o.Repos, &githubtest.Repo{ID: int64(i + 1), Name: fmt.Sprintf("r%03d", i), DefaultBranch: "main"})
	}
	for i := range 250 {
		o.Repos[7].DeployKeys = append(o.Repos[7].DeployKeys, githubtest.DeployKey{
			ID: int64(1000 + i), Title: fmt.Sprintf("key-%d", i), Key: testKey, ReadOnly: true, CreatedAt: at("2024-01-01T00:00:00Z"),
		})
	}
	for i := range 101 {
		o.Installations = append(o.Installations, githubtest.Installation{
			ID: int64(5000 + i), AppID: int64(i), AppSlug: fmt.Sprintf("app-%d", i), RepositorySelection: "selected",
			CreatedAt: at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-01-01T00:00:00Z"),
		})
	}
	for i := range 200 {
		o.Secrets = append(o.Secrets, githubtest.Secret{Name: fmt.Sprintf("S_%d", i), CreatedAt: at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-01-01T00:00:00Z"), Visibility: "private"})
		o.Runners = append(o.Runners, githubtest.Runner{ID: int64(i + 1), Name: fmt.Sprintf("run-%d", i), OS: "Linux", Status: "online", Labels: []string{"self-hosted"}})
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	rec, err := run(t, s, "big")
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	// 2 + installations 2 + secrets 2 + hooks 1 + runners 2 + repos 3 + 250*4 + 2 extra key pages
	if got, want := s.Requests(), minRequests(o); got != want || want != 1014 {
		t.Errorf("%d requests, want %d (= 1014)", got, want)
	}
	if got := s.RequestsTo("/repos/big/r007/keys"); got != 3 {
		t.Errorf("%d requests for 250 keys, want 3", got)
	}
}

func checkCounts(t *testing.T, o *githubtest.Org, rec *recorder) {
	t.Helper()
	want, got := o.Counts(), rec.kinds()
	for _, k := range readKinds {
		if got[k] != want[k] {
			t.Errorf("%s: %d recorded, %d served", k, got[k], want[k])
		}
	}
}

func TestRunSampleOrg(t *testing.T) {
	o := githubtest.SampleOrg(githubtest.DefaultSampleRepos)
	s := githubtest.NewServer(o)
	defer s.Close()
	rec, err := run(t, s, githubtest.SampleLogin)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if got, want := s.Requests(), minRequests(o); got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	for _, ob := range rec.obs {
		if ob.Name == "" || ob.Scope == "" || !strings.HasPrefix(ob.ID, "github:northwind:"+string(ob.Kind)+":") {
			t.Errorf("observation %+v", ob)
		}
	}
}

// TestSecretsNeverRecorded: the fake serves every webhook secret unmasked
// (a canary), deploy key material and token-bearing webhook URLs; none of
// it may reach the recorder.
func TestSecretsNeverRecorded(t *testing.T) {
	o := githubtest.SampleOrg(githubtest.DefaultSampleRepos)
	needles := []string{"CANARY"}
	withSecret := 0
	hooks := append([]githubtest.Hook(nil), o.Hooks...)
	for _, r := range o.Repos {
		hooks = append(hooks, r.Hooks...)
		for _, k := range r.DeployKeys {
			needles = append(needles, strings.Fields(k.Key)[1][20:60])
		}
	}
	for _, h := range hooks {
		if h.Secret != "" {
			withSecret++
		}
		// the last path segment or query value of token-bearing URLs
		if i := strings.LastIndexAny(h.URL, "/="); i >= 0 && len(h.URL)-i > 12 {
			needles = append(needles, h.URL[i+1:])
		}
	}
	if withSecret == 0 || len(needles) < 10 {
		t.Fatalf("sample has %d hooks with a secret, %d needles: nothing to prove", withSecret, len(needles))
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	rec, err := run(t, s, githubtest.SampleLogin)
	if err != nil {
		t.Fatal(err)
	}
	assertNoLeak(t, rec, needles...)
	has := 0
	for _, ob := range rec.obs {
		if ob.Kind == audit.KindGitHubWebhook && ob.Attributes["has_secret"] == "true" {
			has++
		}
	}
	if has != withSecret {
		t.Errorf("has_secret=true on %d hooks, %d have one", has, withSecret)
	}
}

func TestBadCredentials(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	for _, token := range []string{"", "ghp_wrong"} {
		rec, err := runToken(t, s, "acme", token)
		if !errors.Is(err, ghconn.ErrBadCredentials) {
			t.Fatalf("token %q: err = %v", token, err)
		}
		for _, want := range []string{"401 Bad credentials", "GITHUB_TOKEN", "GH_TOKEN", "gh auth login"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if len(rec.obs)+len(rec.gaps) != 0 {
			t.Errorf("recorded %d observations, %d gaps", len(rec.obs), len(rec.gaps))
		}
	}
	// A 401 later in the run (token revoked mid-way) is just as fatal.
	s.Fail("/repos/acme/api/hooks", http.StatusUnauthorized)
	if _, err := run(t, s, "acme"); !errors.Is(err, ghconn.ErrBadCredentials) || !strings.Contains(err.Error(), "GET /repos/acme/api/hooks") {
		t.Errorf("401 mid-run: %v", err)
	}
}

func TestCredential(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), githubtest.WithScopes(""))
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), "acme", s.Client())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := c.Credential(context.Background())
	if want := "nhi-auditor (token without OAuth scopes: fine-grained PAT or GitHub App)"; err != nil || cred != want {
		t.Errorf("Credential() = %q, %v; want %q", cred, err, want)
	}

	// An installation token may not read /user: not an error, and the run goes on.
	s.Fail("/user", http.StatusForbidden)
	c, _ = ghconn.NewFromToken(s.URL(), s.Token(), "acme", s.Client())
	cred, err = c.Credential(context.Background())
	if err != nil || !strings.Contains(cred, "unknown") || !strings.Contains(cred, "403") {
		t.Errorf("Credential() with 403 = %q, %v", cred, err)
	}
	if err := c.Run(context.Background(), &recorder{}); err != nil {
		t.Errorf("Run after 403 on /user: %v", err)
	}

	c, _ = ghconn.NewFromToken(s.URL(), "ghp_wrong", "acme", s.Client())
	if _, err := c.Credential(context.Background()); !errors.Is(err, ghconn.ErrBadCredentials) {
		t.Errorf("Credential() with a bad token: %v", err)
	}
}

func TestUnknownOrg(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	_, err := run(t, s, "nope")
	if !errors.Is(err, ghconn.ErrOrgNotFound) {
		t.Fatalf("err = %v", err)
	}
	want := fmt.Sprintf("organization %q not found at %s (or the token cannot see it)", "nope", s.URL())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	// The repository list vanishing is the same failure.
	s.Fail("/orgs/acme/repos", http.StatusNotFound)
	if _, err := run(t, s, "acme"); !errors.Is(err, ghconn.ErrOrgNotFound) {
		t.Errorf("404 on repos: %v", err)
	}
}

func TestGaps(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	s.Fail("/repos/acme/api/hooks", http.StatusForbidden)
	s.Fail("/orgs/acme/installations", http.StatusNotFound)
	rec, err := run(t, s, "acme")
	if err != nil {
		t.Fatalf("a 403 stopped the run: %v", err)
	}
	wantGaps := map[string]audit.Gap{
		"GET /repos/acme/api/hooks":    {Endpoint: "GET /repos/acme/api/hooks", Kind: audit.KindGitHubWebhook, Scope: "acme/api", Status: 403},
		"GET /orgs/acme/installations": {Endpoint: "GET /orgs/acme/installations", Kind: audit.KindGitHubAppInstallation, Scope: "acme", Status: 404},
	}
	if len(rec.gaps) != len(wantGaps) {
		t.Fatalf("gaps %+v", rec.gaps)
	}
	for _, g := range rec.gaps {
		w := wantGaps[g.Endpoint]
		reason := g.Reason
		g.Reason = ""
		if g != w {
			t.Errorf("gap %+v, want %+v", g, w)
		}
		if !strings.Contains(reason, "needs") || !strings.Contains(reason, fmt.Sprint(w.Status)) {
			t.Errorf("gap reason %q", reason)
		}
	}
	got := rec.byID()
	for _, id := range []string{
		"github:acme:github_deploy_key:api/201",                 // same repo, before the hooks
		"github:acme:github_runner:api/77",                      // same repo, after the hooks
		"github:acme:github_actions_secret:acme/acme/NPM_TOKEN", // next repo
		"github:acme:github_webhook:acme/501",                   // org hooks
	} {
		if _, ok := got[id]; !ok {
			t.Errorf("missing %s after a gap", id)
		}
	}
	if _, ok := got["github:acme:github_webhook:api/601"]; ok {
		t.Error("the unreadable hook was recorded")
	}
	if k := rec.kinds()[audit.KindGitHubAppInstallation]; k != 0 {
		t.Errorf("%d installations recorded from a 404", k)
	}
}

// TestGapAfterFirstPage: a 403 on page 2 keeps page 1 and says so.
func TestGapAfterFirstPage(t *testing.T) {
	o := smallOrg()
	for i := range 150 {
		o.Repos[0].DeployKeys = append(o.Repos[0].DeployKeys, githubtest.DeployKey{ID: int64(3000 + i), Title: "k", Key: testKey, CreatedAt: at("2024-01-01T00:00:00Z")})
	}
	s := githubtest.NewServer(o, githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/repos/acme/api/keys" && r.URL.Query().Get("page") == "2" {
			return 403, `{"message":"Must have admin rights to Repository."}`, true
		}
		return 0, "", false
	}))
	defer s.Close()
	rec, err := run(t, s, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.kinds()[audit.KindGitHubDeployKey]; n != 100 {
		t.Errorf("%d deploy keys, want the first page's 100", n)
	}
	if len(rec.gaps) != 1 || !strings.Contains(rec.gaps[0].Reason, "first 1 page") || !strings.Contains(rec.gaps[0].Reason, "Must have admin rights") {
		t.Errorf("gaps %+v", rec.gaps)
	}
}

func TestFatalErrors(t *testing.T) {
	for _, tc := range []struct {
		path   string
		status int
		body   string
		want   []string
	}{
		{"/repos/acme/api/keys", 200, `[{"id": 1, "title": "x"`, []string{"GET /repos/acme/api/keys", "malformed JSON"}},
		{"/orgs/acme/actions/secrets", 200, `{"total_count": "many"}`, []string{"GET /orgs/acme/actions/secrets", "malformed JSON"}},
		{"/repos/acme/acme/actions/runners", 500, `{"message":"Server Error"}`, []string{"GET /repos/acme/acme/actions/runners", "500", "Server Error"}},
		{"/orgs/acme/repos", 502, `<html>Bad gateway</html>`, []string{"GET /orgs/acme/repos", "502"}},
		{"/orgs/acme", 500, `{"message":"Server Error"}`, []string{"GET /orgs/acme", "500"}},
	} {
		s := githubtest.NewServer(smallOrg())
		s.FailWith(tc.path, tc.status, tc.body)
		_, err := run(t, s, "acme")
		s.Close()
		if err == nil {
			t.Errorf("%s %d: no error", tc.path, tc.status)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %d: error %q lacks %q", tc.path, tc.status, err, w)
			}
		}
	}
}

func TestRateLimited(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), githubtest.WithRateLimit(5, true))
	defer s.Close()
	_, err := run(t, s, "acme")
	if err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("err = %v", err)
	}
}

func TestContextCanceled(t *testing.T) {
	s := githubtest.NewServer(githubtest.SampleOrg(20))
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), githubtest.SampleLogin, s.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx, &recorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before Run: %v", err)
	}

	// Cancel while reading the fifth repository.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s2 := githubtest.NewServer(githubtest.SampleOrg(20), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if strings.HasPrefix(r.URL.Path, "/repos/northwind/orders-service/") {
			cancel()
		}
		return 0, "", false
	}))
	defer s2.Close()
	c2, err := ghconn.NewFromToken(s2.URL(), s2.Token(), githubtest.SampleLogin, s2.Client())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := c2.Run(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled mid-run: %v", err)
	}
	if s2.RequestsTo("/repos/northwind/orders-service/actions/secrets") != 0 {
		t.Error("kept reading after cancel")
	}
}

func TestNewFromToken(t *testing.T) {
	c, err := ghconn.NewFromToken("https://ghe.example.com/api/v3", "t", "acme", nil)
	if err != nil || c.APIURL() != "https://ghe.example.com/api/v3/" {
		t.Errorf("APIURL %q %v", c.APIURL(), err)
	}
	c, err = ghconn.NewFromToken("", "t", "acme", nil)
	if err != nil || c.APIURL() != "https://api.github.com/" || c.Account() != "acme" {
		t.Errorf("default APIURL %q %v", c.APIURL(), err)
	}
	for _, bad := range []string{"ftp://x/", "not a url", "//nohost"} {
		if _, err := ghconn.NewFromToken(bad, "t", "acme", nil); err == nil {
			t.Errorf("API URL %q accepted", bad)
		}
	}
	if _, err := ghconn.NewFromToken("", "t", " ", nil); err == nil {
		t.Error("empty org accepted")
	}
}
