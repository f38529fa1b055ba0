package tui

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// A campaign created before a repository was renamed keeps its item under
// the ID it froze; the table lists the identity under its ID now. The
// campaign's view and campaign:NAME show the item on that row, and a
// decision taken there is recorded on the item, once, and shows in the
// identity's trail (docs/campaigns.md, "Renamed repositories").
func TestRenamedItemInTheCampaignsView(t *testing.T) {
	ctx := context.Background()
	st, snap, oldID, newID := renamedCampaign(t)
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := New(snap, ids, Options{Now: clock, Store: st, Actor: testActor, Reviewer: campaignsReviewer{st}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 60})

	// The campaign's view: both items, the renamed one on its row now.
	press(t, m, ":campaigns", "enter", "enter")
	v := m.View()
	for _, want := range []string{"acme/api-v2", "deploy-web"} {
		if !strings.Contains(v, want) {
			t.Errorf("the campaign's view lacks %s:\n%s", want, v)
		}
	}
	if n := strings.Count(v, "pending"); n < 2 {
		t.Errorf("%d pending rows in the campaign's view; want both items:\n%s", n, v)
	}
	// campaign:NAME finds it too.
	press(t, m, "/", "campaign:2025-Q2 name:deploy-prod", "enter")
	v = m.View()
	if !strings.Contains(selectedLine(t, v), "acme/api-v2") || !strings.Contains(selectedLine(t, v), "pending") {
		t.Fatalf("campaign:2025-Q2 does not show the renamed item on its row now:\n%s", v)
	}
	press(t, m, "D", "enter")
	if v := m.View(); !strings.Contains(selectedLine(t, v), "decom") {
		t.Fatalf("the decision is not shown on the row:\n%s", v)
	}
	// The detail's trail reads the decision recorded under the old ID.
	press(t, m, "enter")
	if v := m.View(); !strings.Contains(v, testActor+" · 2025-Q2: decommission (as "+oldID[:len(oldID)-len("prod")]) {
		t.Errorf("the detail's trail lacks the decision on the item:\n%s", v)
	}
	press(t, m, "esc")
	got, err := campaigns.Decisions(ctx, st, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[oldID] != campaigns.Decommission {
		t.Errorf("decisions in the file: %v; want %s decommissioned, under the ID the campaign froze", got, oldID)
	}
	if _, ok := got[newID]; ok {
		t.Errorf("an item under %s, which the campaign did not freeze: %v", newID, got)
	}
}

// TestRowsSinceFollowsRenames: a decision recorded under the ID a
// campaign froze names the identity's row under its ID now, so the table
// another process's decision changed (the watch), or a cache of an older
// head (the patch), derives that row again.
func TestRowsSinceFollowsRenames(t *testing.T) {
	ctx := context.Background()
	st, _, oldID, newID := renamedCampaign(t)
	head, err := st.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, testActor, "2025-Q2", oldID, campaigns.Decommission, "gone with the old repository"); err != nil {
		t.Fatal(err)
	}
	now, err := st.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := rowsSince(ctx, st, nil, head.Seq, now.Seq, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, newID) {
		t.Errorf("rows to derive again after a decision on %s: %v; want the row of %s, its ID now", oldID, ids, newID)
	}
}

// renamedCampaign is a file in which campaign 2025-Q2 froze two deploy
// keys, one of whose repository (acme/api) was renamed after (acme/api-v2):
// the newest snapshot, and the renamed key's ID frozen and now.
func renamedCampaign(t *testing.T) (st *audit.Store, snap *audit.Snapshot, oldID, newID string) {
	t.Helper()
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := func(repo string) audit.Observation {
		return audit.Observation{
			ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/deploy-prod"), Kind: audit.KindGitHubDeployKey,
			Name: "deploy-prod", Scope: "acme/" + repo, CreatedAt: daysAgo(800),
			Attributes: map[string]string{"read_only": "false", "added_by": "alice", audit.LineageAttribute: "repository:42/github_deploy_key/7"},
		}
	}
	other := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "web/deploy-web"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy-web", Scope: "acme/web", CreatedAt: daysAgo(30)}
	snapshot := func(started time.Time, obs ...audit.Observation) *audit.Snapshot {
		w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com", ToolVersion: "test", StartedAt: started})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range obs {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := w.Finish(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	snapshot(testNow.Add(-48*time.Hour), key("api"), other)
	if _, err := campaigns.Create(ctx, st, "lead@example.com", campaigns.Spec{
		Name: "2025-Q2", Scope: "kind:deploy_key", Due: testNow.AddDate(0, 0, 14).Format("2006-01-02"), Reviewers: []string{testActor},
	}); err != nil {
		t.Fatal(err)
	}
	snap = snapshot(testNow.Add(-2*time.Hour), key("api-v2"), other)
	return st, snap, key("api").ID, key("api-v2").ID
}
