package githubtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// postGraphQL sends query with vars to s's GraphQL endpoint (url, "" for
// beside the REST API) and decodes the answer.
func postGraphQL(t *testing.T, s *githubtest.Server, url, token, query string, vars map[string]any) (http.Header, map[string]any) {
	t.Helper()
	if url == "" {
		url = s.URL() + "graphql"
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.Header, out
}

const repoQuery = `query($org: String!, $a: String!, $b: String!) {
  rateLimit { cost }
  a: repository(owner: $org, name: $a) { ...R }
  b: repository(owner: $org, name: $b) { ...R }
}
fragment R on Repository {
  name
  environments(first: 100) { nodes { name } }
  collaborators(first: 100, affiliation: DIRECT) { edges { permission node { login } } }
  rulesets(first: 10, includeParents: false) { nodes { name enforcement bypassActors(first: 10) { nodes { deployKey actor { __typename ... on App { databaseId } } } } } }
  co: object(expression: "HEAD:.github/CODEOWNERS") { __typename ... on Blob { text isTruncated } }
}`

// TestGraphQLRepositories: the GraphQL API answers from the REST
// routes' organisation: aliases, fragments and variables; a repository
// the token does not see is null with NOT_FOUND at its alias; a path
// Fail made fail fails its field; the cost is GitHub's formula (2
// repositories × 13 requests is 0.26 of 100, and a query costs at least
// 1), charged to the graphql resource; too many nodes are refused; GHES
// serves it at /api/graphql.
func TestGraphQLRepositories(t *testing.T) {
	s := githubtest.NewServer(smallOrgForGraphQL(), githubtest.WithViewer(githubtest.Viewer{Token: "github_pat_api", Repos: []string{"api"}}))
	defer s.Close()
	h, out := postGraphQL(t, s, "", s.Token(), repoQuery, map[string]any{"org": "acme", "a": "api", "b": "web"})
	if h.Get("X-RateLimit-Resource") != "graphql" || h.Get("X-RateLimit-Used") != "1" {
		t.Errorf("rate-limit headers %v", h)
	}
	data, _ := out["data"].(map[string]any)
	a, _ := data["a"].(map[string]any)
	if a["name"] != "api" {
		t.Fatalf("answer %v", out)
	}
	envs := a["environments"].(map[string]any)["nodes"].([]any)
	if len(envs) != 2 || envs[0].(map[string]any)["name"] != "production" || envs[1].(map[string]any)["name"] != "staging" {
		t.Errorf("environments %v (GitHub orders them by name)", envs)
	}
	edges := a["collaborators"].(map[string]any)["edges"].([]any)
	if len(edges) != 1 || edges[0].(map[string]any)["permission"] != "ADMIN" {
		t.Errorf("collaborators %v", edges)
	}
	if co := a["co"].(map[string]any); co["__typename"] != "Blob" || !strings.Contains(co["text"].(string), "@acme/platform") {
		t.Errorf("CODEOWNERS %v", co)
	}
	if rl := data["rateLimit"].(map[string]any); rl["cost"] != float64(1) {
		t.Errorf("cost %v", rl)
	}

	// A token that sees only api: web is not found, as on GitHub.
	_, out = postGraphQL(t, s, "", "github_pat_api", repoQuery, map[string]any{"org": "acme", "a": "api", "b": "web"})
	data, _ = out["data"].(map[string]any)
	errs, _ := out["errors"].([]any)
	if data["b"] != nil || data["a"] == nil || len(errs) != 1 || errs[0].(map[string]any)["type"] != "NOT_FOUND" || errs[0].(map[string]any)["path"].([]any)[0] != "b" {
		t.Errorf("limited view: data %v errors %v", data, errs)
	}

	// A path made to fail through REST fails its field here too.
	s.Fail("/repos/acme/api/collaborators", http.StatusForbidden)
	_, out = postGraphQL(t, s, "", s.Token(), repoQuery, map[string]any{"org": "acme", "a": "api", "b": "web"})
	errs, _ = out["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["type"] != "FORBIDDEN" || strings.Join(strings.Fields(jsonText(errs[0].(map[string]any)["path"])), "") != `["a","collaborators"]` {
		t.Errorf("refused field: %v", errs)
	}

	// Too many nodes (100 + 100×100 + 100×100×100): refused whole, as
	// GitHub does.
	_, out = postGraphQL(t, s, "", s.Token(), `query { repository(owner: "acme", name: "api") { collaborators(first: 100) { nodes { repositories(first: 100) { nodes { collaborators(first: 100) { nodes { login } } } } } } } }`, nil)
	if errs, _ := out["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["type"] != "MAX_NODE_LIMIT_EXCEEDED" || out["data"] != nil {
		t.Errorf("node limit: %v", out)
	}

	g := githubtest.NewServer(smallOrgForGraphQL(), githubtest.WithGHES("3.19.0", true))
	defer g.Close()
	if _, out := postGraphQL(t, g, strings.TrimSuffix(g.URL(), "v3/")+"graphql", g.Token(), repoQuery, map[string]any{"org": "acme", "a": "api", "b": "web"}); out["data"] == nil {
		t.Errorf("GHES /api/graphql: %v", out)
	}
}

// TestGraphQLRateLimit: an enforced GraphQL budget answers RATE_LIMITED,
// with no data, once spent; REST's budget is its own.
func TestGraphQLRateLimit(t *testing.T) {
	s := githubtest.NewServer(smallOrgForGraphQL(), githubtest.WithRateLimit(2, true))
	defer s.Close()
	for i, want := range []string{"", "", "RATE_LIMITED"} {
		_, out := postGraphQL(t, s, "", s.Token(), repoQuery, map[string]any{"org": "acme", "a": "api", "b": "web"})
		errs, _ := out["errors"].([]any)
		got := ""
		if len(errs) > 0 {
			got, _ = errs[0].(map[string]any)["type"].(string)
		}
		if got != want {
			t.Errorf("query %d: error %q, want %q (%v)", i+1, got, want, out)
		}
	}
	if resp, _ := get(t, s, "/orgs/acme", bearer(s)); resp.StatusCode != http.StatusOK {
		t.Errorf("REST after GraphQL's budget was spent: %d", resp.StatusCode)
	}
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

// smallOrgForGraphQL: api (two environments, an admin collaborator, a
// CODEOWNERS file, a ruleset) and web.
func smallOrgForGraphQL() *githubtest.Org {
	return &githubtest.Org{Login: "acme", ID: 1, Members: []string{"alice"}, Repos: []*githubtest.Repo{
		{ID: 1001, Name: "api", DefaultBranch: "main", PushedAt: githubtest.Reference,
			Environments:  []githubtest.Environment{{ID: 1, Name: "staging"}, {ID: 2, Name: "production"}},
			Collaborators: []githubtest.Collaborator{{Login: "alice", RoleName: "admin"}},
			CodeOwners:    &githubtest.CodeOwners{Path: ".github/CODEOWNERS", Content: "* @acme/platform\n"},
			Rulesets:      []githubtest.Ruleset{{ID: 21, Name: "release", Enforcement: "active", BypassActors: []githubtest.BypassActor{{ActorType: "Integration", ActorID: 8, BypassMode: "always"}}}},
		},
		{ID: 1002, Name: "web", DefaultBranch: "main", PushedAt: githubtest.Reference},
	}}
}
