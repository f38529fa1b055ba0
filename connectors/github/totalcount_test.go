package github_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestFewerThanTotalCount: a list GitHub wraps ({"total_count": N, …})
// whose pages hold fewer than its total_count was not read whole: the
// identities that came are recorded, a gap of their kind says so, and the
// one that did not come is not checked in the next snapshot, never
// removed; a secret's repositories so cut short are not claimed, and
// the run is partial.
func TestFewerThanTotalCount(t *testing.T) {
	ctx := context.Background()
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil || snap.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}

	s.ServeFewer("/orgs/acme/installations", 1)                           // travis-ci, the last, does not come
	s.ServeFewer("/orgs/acme/actions/secrets/DEPLOY_KEY/repositories", 1) // nor the secret's one repository
	snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial {
		t.Errorf("second snapshot %s; want partial", snap.Status)
	}
	gaps := snap.Gaps
	want := map[string]audit.Kind{
		"GET /orgs/acme/installations":                           audit.KindGitHubAppInstallation,
		"GET /orgs/acme/actions/secrets/DEPLOY_KEY/repositories": audit.KindGitHubActionsSecret,
	}
	for _, g := range gaps {
		kind, ok := want[g.Endpoint]
		if !ok {
			t.Errorf("unexpected gap %+v", g)
			continue
		}
		delete(want, g.Endpoint)
		if g.Kind != kind || !strings.Contains(g.Reason, "total_count") || !strings.Contains(g.Reason, "not read whole") {
			t.Errorf("gap %+v", g)
		}
	}
	if len(want) > 0 {
		t.Errorf("no gap for %v", want)
	}

	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*audit.Identity{}
	for i := range ids {
		got[ids[i].ID] = &ids[i]
	}
	if id := got["github:acme:github_app_installation:101"]; id == nil || id.Status != audit.StatusActive {
		t.Errorf("renovate, which came: %+v", id)
	}
	if id := got["github:acme:github_app_installation:102"]; id == nil || id.Status != audit.StatusNotChecked {
		t.Errorf("travis-ci, which GitHub counted and did not send: %+v; want not-checked, never removed", id)
	}
	if id := got["github:acme:github_actions_secret:acme/DEPLOY_KEY"]; id == nil || id.Attributes["repositories"] != "" || id.Attributes["repository_count"] != "" {
		t.Errorf("DEPLOY_KEY's repositories, cut short, are claimed: %+v", id)
	}
}
