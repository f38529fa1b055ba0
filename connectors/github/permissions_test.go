package github

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// appPermissions is, for each gap message (a need… constant), the GitHub
// App permission GitHub's REST reference gives for the endpoint it
// explains ("Fine-grained access tokens for …": the names GitHub's
// "Permissions required for GitHub Apps" uses, and that an App's settings
// show), with the access it asks; "" where the message names no App
// permission.
var appPermissions = map[string]struct{ endpoint, permission string }{
	// Read in GitHub's REST reference on 2026-12-01.
	"needOrgSecrets":    {"GET /orgs/{org}/actions/secrets", `organization permission "Secrets: read"`},
	"needOrgDependabot": {"GET /orgs/{org}/dependabot/secrets", `organization permission "Organization dependabot secrets: read"`},
	"needOrgCodespaces": {"GET /orgs/{org}/codespaces/secrets", `organization permission "Organization codespaces secrets: read"`},
	"needOrgAgents":     {"GET /orgs/{org}/agents/secrets", `organization permission "Agent secrets: read"`},
	"needPATReqs":       {"GET /orgs/{org}/personal-access-token-requests", `organization permission "Personal access token requests: read"`},
	"needTeamMembers":   {"GET /orgs/{org}/teams/{team_slug}/members", `organization permission "Members: read"`},
	"needRegistries":    {"GET /orgs/{org}/private-registries", `organization permission "Organization private registries: read"`},
	// GitHub asks write even to list an organization's rulesets.
	"needRulesets":     {"GET /orgs/{org}/rulesets", `organization permission "Administration: write"`},
	"needOrgOIDC":      {"GET /orgs/{org}/actions/oidc/customization/sub", `organization permission "Administration: read"`},
	"needEnvs":         {"GET /repos/{owner}/{repo}/environments", `repository permission "Actions: read"`},
	"needRepoRulesets": {"GET /repos/{owner}/{repo}/rulesets", `repository permission "Metadata: read"`}, // as GET …/rules/branches/{branch}
	"needSAML":         {"GET /orgs/{org}/credential-authorizations", ""},                                // a classic token's read:org only
	// Not found in the reference this session: as the connector had them,
	// in GitHub's naming (the repository permission "Agent secrets" by the
	// organization one's name).
	"needOrgOwner":     {"GET /orgs/{org}/installations", `organization permission "Administration: read"`},
	"needOrgHooks":     {"GET /orgs/{org}/hooks", `organization permission "Webhooks: read"`},
	"needRunners":      {"GET /orgs/{org}/actions/runners", `organization permission "Self-hosted runners: read"`},
	"needRunnerGroups": {"GET /orgs/{org}/actions/runner-groups", `organization permission "Self-hosted runners: read"`},
	"needMembers":      {"GET /orgs/{org}/members", `organization permission "Members: read"`},
	"needPATs":         {"GET /orgs/{org}/personal-access-tokens", `organization permission "Personal access tokens: read"`},
	"needRepoAdmin":    {"GET /repos/{owner}/{repo}/keys (and runners, teams)", `repository permission "Administration: read"`},
	"needRepoSecret":   {"GET /repos/{owner}/{repo}/actions/secrets", `repository permission "Secrets: read"`},
	"needDependabot":   {"GET /repos/{owner}/{repo}/dependabot/secrets", `repository permission "Dependabot secrets: read"`},
	"needCodespaces":   {"GET /repos/{owner}/{repo}/codespaces/secrets", `repository permission "Codespaces secrets: read"`},
	"needAgents":       {"GET /repos/{owner}/{repo}/agents/secrets", `repository permission "Agent secrets: read"`},
	"needRepoHooks":    {"GET /repos/{owner}/{repo}/hooks", `repository permission "Webhooks: read"`},
	"needOIDC":         {"GET /repos/{owner}/{repo}/actions/oidc/customization/sub", `repository permission "Actions: read"`},
	"needCollabs":      {"GET /repos/{owner}/{repo}/collaborators", `repository permission "Metadata: read"`},
	"needContents":     {"GET /repos/{owner}/{repo}/contents/{path}", `repository permission "Contents: read"`},
}

// TestGapPermissionNames lists every gap message of the package (each
// need… constant, found by reading the source, so a new one cannot be
// left out) and checks that the GitHub App permissions it names are
// exactly the one GitHub documents for its endpoint.
func TestGapPermissionNames(t *testing.T) {
	named := regexp.MustCompile(`(organization|repository) permission "[^"]+: (read|write)"`)
	needs := needConstants(t)
	if len(needs) < len(appPermissions) {
		t.Errorf("found %d need… constants, the table lists %d", len(needs), len(appPermissions))
	}
	for name, msg := range needs {
		want, ok := appPermissions[name]
		if !ok {
			t.Errorf("%s = %q: not in appPermissions; look up its endpoint's permission in GitHub's REST reference and add it", name, msg)
			continue
		}
		got := named.FindAllString(msg, -1)
		switch {
		case want.permission == "" && len(got) != 0:
			t.Errorf("%s (%s) names %q; GitHub documents no App permission for it", name, want.endpoint, got)
		case want.permission != "" && (len(got) != 1 || got[0] != want.permission):
			t.Errorf("%s (%s) names %q, GitHub's reference says %s", name, want.endpoint, got, want.permission)
		}
	}
}

// needConstants are the package's need… string constants, by name.
func needConstants(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := goparser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "need") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[id.Name] = s
				}
			}
			return true
		})
	}
	return out
}
