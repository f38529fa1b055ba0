package github_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// GitHub's own OpenAPI description, as @octokit/openapi ships it, checks
// that every answer its schemas allow is read. The description is 28 MB
// and stays out of the repository: NHI_GITHUB_OPENAPI names a copy of
// generated/api.github.com.json, or the test fetches it with npm into the
// user's cache where the network allows, and skips otherwise (and with
// -short). The edge cases it found are tests of their own that need no
// network (TestResponsesGitHubAllows).

const octokitOpenAPI = "@octokit/openapi@23.0.2"

func openAPIDescription(t *testing.T) map[string]any {
	t.Helper()
	path := os.Getenv("NHI_GITHUB_OPENAPI")
	if path == "" {
		if testing.Short() {
			t.Skip("-short: the OpenAPI description is fetched only in full runs (or set NHI_GITHUB_OPENAPI)")
		}
		path = fetchOpenAPI(t)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("NHI_GITHUB_OPENAPI: %v", err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// fetchOpenAPI is the description's path in the user cache, fetched with
// `npm pack` the first time; it skips the test when that cannot be done.
func fetchOpenAPI(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory for the OpenAPI description: %v", err)
	}
	dir := filepath.Join(cache, "nhi-test", strings.NewReplacer("@", "", "/", "-").Replace(octokitOpenAPI))
	path := filepath.Join(dir, "api.github.com.json")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: cannot fetch GitHub's OpenAPI description (set NHI_GITHUB_OPENAPI)")
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", octokitOpenAPI, "--pack-destination", tmp)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot fetch %s (no network?): %v\n%s", octokitOpenAPI, err, out)
	}
	tgz, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgz) != 1 {
		t.Skipf("npm pack left %v", tgz)
	}
	f, err := os.Open(tgz[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no generated/api.github.com.json: %v", tgz[0], err)
		}
		if h.Name != "package/generated/api.github.com.json" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.CreateTemp(dir, "partial-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
		if err := os.Rename(out.Name(), path); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// schemaGen makes instances of a schema. Variant 0 fills every property,
// takes the last alternative of oneOf/anyOf (the numbers GitHub allows
// besides strings), and an enum value nobody knows yet; variant 1 only the
// required properties, null wherever null is allowed.
type schemaGen struct {
	doc     map[string]any
	variant int
	depth   int
}

func (g *schemaGen) resolve(s map[string]any) map[string]any {
	for range 20 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		cur := any(g.doc)
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[p]
		}
		s = cur.(map[string]any)
	}
	return s
}

func (g *schemaGen) value(s map[string]any) any { return g.named("", s) }

// named is value for a property called name: a string GitHub describes
// as a date and time ("…_at", "last_used") without a format gets one.
func (g *schemaGen) named(name string, s map[string]any) any {
	s = g.resolve(s)
	if g.depth > 8 {
		return nil
	}
	g.depth++
	defer func() { g.depth-- }()
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			pick := alts[len(alts)-1]
			if g.variant == 1 {
				pick = alts[0]
			}
			return g.value(pick.(map[string]any))
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		merged := map[string]any{}
		for _, a := range all {
			if m, ok := g.value(a.(map[string]any)).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	}
	nullable, _ := s["nullable"].(bool)
	typ, _ := s["type"].(string)
	if types, ok := s["type"].([]any); ok {
		for _, t := range types {
			if t == "null" {
				nullable = true
			} else if typ == "" {
				typ, _ = t.(string)
			}
		}
	}
	if nullable && g.variant == 1 {
		return nil
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		if g.variant == 0 && typ == "string" {
			return "nhi_unknown_enum_value"
		}
		return enum[0]
	}
	switch typ {
	case "object", "":
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		required := map[string]bool{}
		if r, ok := s["required"].([]any); ok {
			for _, x := range r {
				required[x.(string)] = true
			}
		}
		for name, p := range props {
			if g.variant == 0 || required[name] {
				out[name] = g.named(name, p.(map[string]any))
			}
		}
		if _, ok := out["total_count"]; ok {
			// A wrapped list ({"total_count": N, "secrets": [...]}) counts
			// what it holds: a count of more is a list cut short, which the
			// connector reads as a gap (TestFewerThanTotalCount).
			for _, v := range out {
				if list, ok := v.([]any); ok {
					out["total_count"] = len(list)
				}
			}
		}
		return out
	case "array":
		item, _ := s["items"].(map[string]any)
		if item == nil {
			return []any{}
		}
		return []any{g.value(item)}
	case "integer":
		return 42
	case "number":
		return 0
	case "boolean":
		return true
	}
	if ex, ok := s["example"].(string); ok {
		return ex // GitHub's own example: a timestamp where one is meant
	}
	if strings.HasSuffix(name, "_at") || name == "last_used" {
		return "2026-01-02T03:04:05Z"
	}
	switch s["format"] {
	case "date-time":
		return "2026-01-02T03:04:05Z"
	case "uri":
		return "https://example.com/x"
	}
	return "x"
}

// TestOpenAPIShapes serves, for every endpoint the connector reads, what
// GitHub's description says its answer may be, in two extremes, and checks
// the run goes on and the answer is read, not turned into a gap.
func TestOpenAPIShapes(t *testing.T) {
	doc := openAPIDescription(t)
	paths := doc["paths"].(map[string]any)
	for _, ep := range []struct{ spec, path string }{
		{"/orgs/{org}", "/orgs/acme"},
		{"/orgs/{org}/members", "/orgs/acme/members"},
		{"/orgs/{org}/installations", "/orgs/acme/installations"},
		{"/orgs/{org}/personal-access-tokens", "/orgs/acme/personal-access-tokens"},
		{"/orgs/{org}/personal-access-token-requests", "/orgs/acme/personal-access-token-requests"},
		{"/orgs/{org}/actions/secrets", "/orgs/acme/actions/secrets"},
		{"/orgs/{org}/dependabot/secrets", "/orgs/acme/dependabot/secrets"},
		{"/orgs/{org}/codespaces/secrets", "/orgs/acme/codespaces/secrets"},
		{"/orgs/{org}/hooks", "/orgs/acme/hooks"},
		{"/orgs/{org}/actions/runners", "/orgs/acme/actions/runners"},
		{"/repos/{owner}/{repo}/keys", "/repos/acme/api/keys"},
		{"/repos/{owner}/{repo}/actions/secrets", "/repos/acme/api/actions/secrets"},
		{"/repos/{owner}/{repo}/dependabot/secrets", "/repos/acme/api/dependabot/secrets"},
		{"/repos/{owner}/{repo}/codespaces/secrets", "/repos/acme/api/codespaces/secrets"},
		{"/repos/{owner}/{repo}/hooks", "/repos/acme/api/hooks"},
		{"/repos/{owner}/{repo}/actions/runners", "/repos/acme/api/actions/runners"},
		{"/repos/{owner}/{repo}/environments", "/repos/acme/api/environments"},
		{"/repos/{owner}/{repo}/environments/{environment_name}/secrets", "/repos/acme/api/environments/production/secrets"},
		{"/repos/{owner}/{repo}/teams", "/repos/acme/api/teams"},
		{"/repos/{owner}/{repo}/collaborators", "/repos/acme/api/collaborators"},
		{"/orgs/{org}/teams/{team_slug}/members", "/orgs/acme/teams/platform/members"},
		// What identities reach (reach.go).
		{"/orgs/{org}/agents/secrets", "/orgs/acme/agents/secrets"},
		{"/repos/{owner}/{repo}/agents/secrets", "/repos/acme/api/agents/secrets"},
		{"/orgs/{org}/private-registries", "/orgs/acme/private-registries"},
		{"/orgs/{org}/rulesets", "/orgs/acme/rulesets"},
		{"/orgs/{org}/rulesets/{ruleset_id}", "/orgs/acme/rulesets/11"},
		{"/repos/{owner}/{repo}/rulesets", "/repos/acme/api/rulesets"},
		{"/repos/{owner}/{repo}/rulesets/{ruleset_id}", "/repos/acme/api/rulesets/21"},
		{"/orgs/{org}/actions/runner-groups", "/orgs/acme/actions/runner-groups"},
		{"/orgs/{org}/actions/runner-groups/{runner_group_id}/repositories", "/orgs/acme/actions/runner-groups/2/repositories"},
		{"/orgs/{org}/actions/secrets/{secret_name}/repositories", "/orgs/acme/actions/secrets/DEPLOY_KEY/repositories"},
		{"/orgs/{org}/agents/secrets/{secret_name}/repositories", "/orgs/acme/agents/secrets/COPILOT_MCP_TOKEN/repositories"},
		{"/orgs/{org}/personal-access-tokens/{pat_id}/repositories", "/orgs/acme/personal-access-tokens/71/repositories"},
		{"/orgs/{org}/actions/oidc/customization/sub", "/orgs/acme/actions/oidc/customization/sub"},
		{"/repos/{owner}/{repo}/actions/oidc/customization/sub", "/repos/acme/api/actions/oidc/customization/sub"},
	} {
		op, ok := paths[ep.spec].(map[string]any)["get"].(map[string]any)
		if !ok {
			t.Errorf("%s: not in the description", ep.spec)
			continue
		}
		resp := op["responses"].(map[string]any)["200"].(map[string]any)
		schema := (&schemaGen{doc: doc}).resolve(resp)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		for variant := range 2 {
			body, err := json.Marshal((&schemaGen{doc: doc, variant: variant}).value(schema))
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s variant %d", ep.path, variant)
			path := ep.path
			o := smallOrg()
			if ep.spec == "/orgs/{org}/members" {
				// The answer holds one user, for owners and members
				// alike: GraphQL counts one member (counts.go).
				o.Members, o.Admins = []string{"octocat"}, nil
			}
			s := githubtest.NewServer(o, withApp(t), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
				return 200, string(body), r.URL.Path == path
			}))
			rec, err := runWith(t, "acme", appOptions(t, s))
			s.Close()
			if err != nil {
				t.Errorf("%s: the run ended: %v\n%s", name, err, body)
				continue
			}
			for _, g := range rec.gaps {
				if g.Endpoint == "GET "+ep.path {
					t.Errorf("%s: not read: %s\n%s", name, g.Reason, body)
				}
			}
		}
	}
}
