package github_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestReachRefused: when GitHub will not say which repositories an
// identity reaches, the identity is still recorded, no reach is claimed
// for it, and a gap of its kind says what is not known and what is needed.
func TestReachRefused(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	s.Fail("/orgs/acme/actions/secrets/DEPLOY_KEY/repositories", http.StatusForbidden)
	s.Fail("/orgs/acme/actions/runner-groups", http.StatusForbidden)
	s.Fail("/orgs/acme/rulesets", http.StatusNotFound)
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	got := rec.byID()
	secret := got["github:acme:github_actions_secret:acme/DEPLOY_KEY"]
	runner := got["github:acme:github_runner:acme/9"]
	key := got["github:acme:github_deploy_key:api/201"]
	app := got["github:acme:github_app_installation:101"]
	if secret.Name != "DEPLOY_KEY" || secret.Attributes["repositories"] != "" || secret.Attributes["visibility"] != "selected" {
		t.Errorf("secret: %+v", secret.Attributes)
	}
	if runner.Name == "" || runner.Attributes["runner_group"] != "" || runner.Attributes["repositories"] != "" {
		t.Errorf("runner: %+v", runner.Attributes)
	}
	if key.Attributes["bypasses_rulesets"] != "" || app.Attributes["bypasses_rulesets"] != "" {
		t.Errorf("bypass claimed without the rulesets: key %+v, app %+v", key.Attributes, app.Attributes)
	}
	want := map[string]audit.Kind{
		"GET /orgs/acme/actions/secrets/DEPLOY_KEY/repositories": audit.KindGitHubActionsSecret,
		"GET /orgs/acme/actions/runner-groups":                   audit.KindGitHubRunner,
		"GET /orgs/acme/rulesets":                                "",
	}
	if len(rec.gaps) != len(want) {
		t.Fatalf("gaps %v", rec.gapEndpoints())
	}
	for _, g := range rec.gaps {
		kind, ok := want[g.Endpoint]
		if !ok || g.Kind != kind || !strings.Contains(g.Reason, "organization owner") {
			t.Errorf("gap %+v", g)
		}
	}
	if !strings.Contains(rec.gaps[0].Reason+rec.gaps[1].Reason+rec.gaps[2].Reason, "which repositories it reaches is not known") {
		t.Errorf("no gap says what is not known: %+v", rec.gaps)
	}
}

// TestReachOnGHES: GitHub Enterprise Server has no Copilot coding agent
// secrets: they are not asked for and are no gap.
func TestReachOnGHES(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t), githubtest.WithGHES("3.19.0", true))
	defer s.Close()
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RequestsTo("/orgs/acme/agents/secrets") + s.RequestsTo("/repos/acme/api/agents/secrets"); n != 0 {
		t.Errorf("asked GHES for agent secrets %d times", n)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps %v", rec.gapEndpoints())
	}
	if k := rec.kinds(); k[audit.KindGitHubAgentsSecret] != 0 || k[audit.KindGitHubPrivateRegistry] != 1 {
		t.Errorf("kinds %v", k)
	}
}

// TestRepoRulesets: a repository's own rulesets are read (without the
// organisation's, which GitHub would list again) for the deploy keys that
// may bypass them; a refusal is a gap that names what is needed, and the
// keys are still read, with no bypass claimed from the ruleset not seen.
func TestRepoRulesets(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	s.Mutate(func(o *githubtest.Org) {
		o.Repo("api").Rulesets[0].BypassActors = append(o.Repo("api").Rulesets[0].BypassActors, githubtest.BypassActor{ActorType: "DeployKey", BypassMode: "always"})
	})
	for _, restOnly := range []bool{true, false} {
		s.ResetCounters()
		opts := appOptions(t, s)
		opts.RESTOnly = restOnly
		rec, err := runWith(t, "acme", opts)
		if err != nil {
			t.Fatal(err)
		}
		checkRepoRulesets(t, s, rec, restOnly)
	}

	// A refusal: of REST's answer, or (the same fault) of GraphQL's
	// rulesets field, which REST then reads and is refused.
	s.Fail("/repos/acme/api/rulesets", http.StatusForbidden)
	for _, restOnly := range []bool{true, false} {
		opts := appOptions(t, s)
		opts.RESTOnly = restOnly
		rec, err := runWith(t, "acme", opts)
		if err != nil {
			t.Fatal(err)
		}
		got := rec.byID()
		if k := got["github:acme:github_deploy_key:api/201"]; k.Name != "argocd" || k.Attributes["bypasses_rulesets"] != "protect-main" {
			t.Errorf("refused (REST only %v): key %q bypasses %q", restOnly, k.Name, k.Attributes["bypasses_rulesets"])
		}
		if len(rec.gaps) != 1 || rec.gaps[0].Endpoint != "GET /repos/acme/api/rulesets" || rec.gaps[0].Kind != "" || rec.gaps[0].Scope != "acme/api" ||
			!strings.Contains(rec.gaps[0].Reason, `"Metadata: read"`) || !strings.Contains(rec.gaps[0].Reason, "which deploy keys bypass the repository's own rulesets is not known") {
			t.Errorf("REST only %v: gaps %+v", restOnly, rec.gaps)
		}
	}
}

func checkRepoRulesets(t *testing.T, s *githubtest.Server, rec *recorder, restOnly bool) {
	t.Helper()
	got := rec.byID()
	for _, key := range []string{"201", "202"} {
		if b := got["github:acme:github_deploy_key:api/"+key].Attributes["bypasses_rulesets"]; b != "protect-main, release-tags (api's own ruleset)" {
			t.Errorf("key %s: bypasses %q (the organisation's ruleset once, then the repository's)", key, b)
		}
	}
	if b := got["github:acme:github_app_installation:102"].Attributes["bypasses_rulesets"]; b != "" {
		t.Errorf("App 8 marked by %q: only the repository's ruleset names it", b)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps %v", rec.gapEndpoints())
	}
	want := 1 // REST reads the ruleset's detail for its bypass actors
	if !restOnly {
		want = 0 // GraphQL gave them (graphql.go)
		if n := s.GraphQLRequests(); n == 0 {
			t.Error("no GraphQL query sent")
		}
	}
	if n := s.RequestsTo("/repos/acme/api/rulesets/21"); n != want {
		t.Errorf("REST only %v: read the ruleset's bypass actors %d times through REST, want %d", restOnly, n, want)
	}
	if n := s.RequestsTo("/repos/acme/api/rulesets/11"); n != 0 {
		t.Errorf("read the organisation's ruleset through the repository %d times (includes_parents=false not sent?)", n)
	}
}
