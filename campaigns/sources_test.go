package campaigns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// With several sources in the file, a campaign without --snapshot is
// refused, naming each source's current snapshot, rather than silently
// reviewing the newest alone; with --snapshot it reviews that one.
func TestCreateWithSeveralSources(t *testing.T) {
	f := newFixture(t)
	gh := f.Snapshot(t, nil, population()...)
	f.Source = audit.SnapshotInfo{Source: "slack", Account: "ws-a", APIURL: "file:bots.csv", ToolVersion: "test"}
	bot := audit.Observation{ID: audit.IdentityID("slack", "ws-a", "import_bot_token", "B1"), Kind: "import_bot_token", Name: "deploy-bot"}
	sl := f.Snapshot(t, nil, bot)

	spec := campaigns.Spec{Name: "q4", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"rev@acme.test"}}
	_, err := campaigns.Create(ctx, f.Store, "lead", spec)
	if !errors.Is(err, campaigns.ErrSeveralSources) ||
		!strings.Contains(err.Error(), "github/acme #1 (complete), slack/ws-a #2 (complete)") || !strings.Contains(err.Error(), "--snapshot N") {
		t.Fatalf("without --snapshot: %v", err)
	}
	for _, snap := range []*audit.Snapshot{gh, sl} {
		spec.Name, spec.SnapshotID = "q4-"+snap.Source, snap.ID
		res, err := campaigns.Create(ctx, f.Store, "lead", spec)
		if err != nil {
			t.Fatalf("--snapshot %d: %v", snap.ID, err)
		}
		if res.Snapshot.ID != snap.ID || res.Campaign.Count != snap.Total() {
			t.Errorf("--snapshot %d: campaign of snapshot %d with %d items; want %d", snap.ID, res.Snapshot.ID, res.Campaign.Count, snap.Total())
		}
	}
}
