package campaigns_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A repository renamed after the campaign, whose deploy keys the next
// snapshot could not read under its new name (403), though its secrets it
// could: the keys decided for removal and rotation are not checked, never
// removed because their old repository name is gone from the listing.
func TestRenamedRepositoryUnreadNotRemoved(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		npm := func(repo string) audit.Observation {
			o := secret(repo, "NPM_TOKEN")
			o.ID = audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "acme/"+repo+"/NPM_TOKEN")
			o.Attributes = map[string]string{audit.LineageAttribute: "repository:42/github_actions_secret/NPM_TOKEN"}
			return o
		}
		keys := []audit.Kind{audit.KindGitHubDeployKey, audit.KindGitHubActionsSecret}
		f.Scopes = []audit.ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api", Kinds: keys}, {Scope: "acme/web", Kinds: keys}}
		f.Snapshot(t, nil,
			lineageKey("api", "1", "alice"), lineageKey("api", "2", "bob"), npm("api"), key("web", "3", "carol"))
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"})
		for id, d := range map[string]campaigns.Decision{keyID("api", "1"): campaigns.Decommission, keyID("api", "2"): campaigns.Rotate, keyID("web", "3"): campaigns.Decommission} {
			if _, err := campaigns.Decide(ctx, f.Store, "tess", "q", id, d, "unused"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		f.Clock.Add(24 * time.Hour)
		f.Scopes = []audit.ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api-v2", Kinds: keys[1:]}, {Scope: "acme/web", Kinds: keys}}
		f.Snapshot(t,
			[]audit.Gap{{Endpoint: "GET /repos/acme/api-v2/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/api-v2", Status: 403, Reason: "needs admin on the repository"}},
			npm("api-v2"))
		rs, err := campaigns.VerifyRemediation(ctx, f.Store, "lead@acme.test", "q")
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		r := rs[0]
		if !slices.Equal(r.NotChecked, []string{keyID("api", "1"), keyID("api", "2")}) || !slices.Equal(r.Removed, []string{keyID("web", "3")}) {
			t.Errorf("removed %v, not checked %v; want web/3 removed, the renamed repository's keys not checked", r.Removed, r.NotChecked)
		}
		for _, id := range []string{keyID("api", "1"), keyID("api", "2")} {
			if why := r.Why[id]; !strings.Contains(why, "acme/api-v2") {
				t.Errorf("%s: why %q; want it to name the repository's name now", id, why)
			}
		}
	})
}
