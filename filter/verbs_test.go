package filter_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// TestKubernetesVerbs: Kubernetes permissions are verb lists per resource;
// perm.NAME:VERB asks for a verb (or *), and levels rank a list by its
// strongest verb, beside GitHub's levels in the same population.
func TestKubernetesVerbs(t *testing.T) {
	ids := map[string]*audit.Identity{
		"reader": {Observation: audit.Observation{ID: "k8s:c:k8s_service_account:payments/default", Kind: audit.KindK8sServiceAccount,
			Permissions: map[string]string{"secrets": "get,list", "pods": "list,watch"}}},
		"admin": {Observation: audit.Observation{ID: "k8s:c:k8s_service_account:ci/deployer", Kind: audit.KindK8sServiceAccount,
			Permissions: map[string]string{"*": "*"}}},
		"ops": {Observation: audit.Observation{ID: "k8s:c:k8s_service_account:ops/bot", Kind: audit.KindK8sServiceAccount,
			Permissions: map[string]string{"secrets": "*", "roles": "bind,get"}}},
		"writer": {Observation: audit.Observation{ID: "k8s:c:k8s_service_account:ops/writer", Kind: audit.KindK8sServiceAccount,
			Permissions: map[string]string{"deployments": "get,patch"}}},
		"gh": {Observation: audit.Observation{ID: "github:acme:github_app_installation:1", Kind: audit.KindGitHubAppInstallation,
			Permissions: map[string]string{"secrets": "write"}}},
	}
	env := &filter.Env{Now: filterTestNow}
	for _, tt := range []struct{ expr, want string }{
		{"perm.secrets:get", "admin ops reader"},
		{"perm.secrets:GET", "admin ops reader"},
		{"perm.secrets:delete", "admin ops"},
		{"perm.roles:bind", "admin ops"},
		{"perm:bind", "admin ops"},
		{"perm.secrets:read", "admin gh ops reader"},
		{"perm.secrets:write", "admin gh ops"},
		{"perm:admin", "admin ops"},
		{"perm:write", "admin gh ops writer"},
		{"perm.deployments:write", "admin writer"},
		{"perm.pods:write", "admin"}, // */*: every resource
		{"perm.pods:any", "admin reader"},
		{"perm.pods:none", "gh ops writer"},
		{"-perm.secrets:get", "gh writer"},
	} {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Errorf("filter.Parse(%q): %v", tt.expr, err)
			continue
		}
		if got := strings.Join(filterMatching(t, f, ids, env), " "); got != tt.want {
			t.Errorf("%q (canonical %q) matches [%s], want [%s]", tt.expr, f.String(), got, tt.want)
		}
	}
	if _, err := filter.Parse("perm.secrets:gett", audit.Vocabulary); err == nil {
		t.Error("a misspelt verb parsed: it would silently match nothing")
	}
}
