package campaigns_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

func slackBot(key, name string) audit.Observation {
	return audit.Observation{ID: audit.IdentityID("slack", "ws-a", "import_bot_token", key), Kind: "import_bot_token", Name: name, Scope: "#deploys"}
}

var slackSource = audit.SnapshotInfo{Source: "slack", Account: "ws-a", APIURL: "file:bots.csv", ToolVersion: "test"}

// twoSources records a GitHub snapshot (8 identities) and, an hour later, a
// Slack import (2).
func twoSources(t *testing.T) (*fixture, *audit.Snapshot, *audit.Snapshot) {
	f := newFixture(t)
	gh := f.Snapshot(t, nil, population()...)
	f.Clock.Add(time.Hour)
	github := f.Source
	f.Source = slackSource
	sl := f.Snapshot(t, nil, slackBot("B1", "deploy-bot"), slackBot("B2", "legacy-alerts"))
	f.Source = github
	return f, gh, sl
}

// With several sources in the file, a campaign reviews the current
// snapshot of each, frozen with its ID, status, digest and start; the
// scope's time terms count from each snapshot's own start.
func TestCampaignSpansEverySource(t *testing.T) {
	f, gh, sl := twoSources(t)
	res := create(t, f, campaigns.Spec{Name: "q4", Scope: "id:*"})
	c := res.Campaign
	if c.Count != 10 || len(c.Snapshots) != 2 {
		t.Fatalf("campaign over both sources: %d items, snapshots %+v", c.Count, c.Snapshots)
	}
	want := []campaigns.SnapshotUse{
		{ID: gh.ID, Source: "github", Account: "acme", Status: audit.SnapshotComplete, Digest: gh.Digest, AsOf: gh.StartedAt.UTC().Format(time.RFC3339), Count: 8},
		{ID: sl.ID, Source: "slack", Account: "ws-a", Status: audit.SnapshotComplete, Digest: sl.Digest, AsOf: sl.StartedAt.UTC().Format(time.RFC3339), Count: 2},
	}
	if !slices.Equal(c.Snapshots, want) {
		t.Errorf("snapshots\n got %+v\nwant %+v", c.Snapshots, want)
	}
	// The campaign row names the newest; Get reads the list back from the
	// campaign.create event.
	if c.SnapshotID != sl.ID || !slices.Equal(get(t, f, "q4").Snapshots, want) {
		t.Errorf("campaign snapshot %d, read back %+v", c.SnapshotID, get(t, f, "q4").Snapshots)
	}
	byItem, err := campaigns.ItemSnapshots(ctx, f.Store, c)
	if err != nil || byItem[keyID("api", "1")] != gh.ID || byItem[slackBot("B1", "").ID] != sl.ID || len(byItem) != 10 {
		t.Errorf("item snapshots %v %v", byItem, err)
	}

	// --source and --account narrow the snapshots; --snapshot names them.
	only := create(t, f, campaigns.Spec{Name: "slack-only", Scope: "id:*", Sources: []string{"Slack"}})
	if only.Campaign.Count != 2 || len(only.Campaign.Snapshots) != 1 || only.Campaign.SnapshotID != sl.ID {
		t.Errorf("--source slack: %+v", only.Campaign)
	}
	acme := create(t, f, campaigns.Spec{Name: "acme-only", Scope: "id:*", Accounts: []string{"acme"}})
	if acme.Campaign.Count != 8 || acme.Campaign.SnapshotID != gh.ID {
		t.Errorf("--account acme: %+v", acme.Campaign)
	}
	named := create(t, f, campaigns.Spec{Name: "named", Scope: "id:*", SnapshotIDs: []int64{sl.ID, gh.ID}})
	if named.Campaign.Count != 10 || !slices.Equal(named.Campaign.Snapshots, want) {
		t.Errorf("--snapshot both: %+v", named.Campaign.Snapshots)
	}
	// A scope that selects from one source still records every snapshot it
	// was evaluated over, with how many each gave.
	keys := create(t, f, campaigns.Spec{Name: "keys", Scope: "kind:deploy_key"})
	if keys.Campaign.Count != 6 || len(keys.Campaign.Snapshots) != 2 || keys.Campaign.Snapshots[1].Count != 0 {
		t.Errorf("kind:deploy_key over both: %+v", keys.Campaign.Snapshots)
	}
	verifyOK(t, f)
}

func TestCampaignSnapshotChoiceRefusals(t *testing.T) {
	f, gh, sl := twoSources(t)
	again := f.Snapshot(t, nil, population()...) // a newer GitHub snapshot
	spec := campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"rev"}}
	for _, tc := range []struct {
		name string
		edit func(*campaigns.Spec)
		err  error
		says string
	}{
		{"two of one account", func(s *campaigns.Spec) { s.SnapshotIDs = []int64{gh.ID, again.ID} }, campaigns.ErrSnapshotChoice, "are both of github/acme"},
		{"snapshot and source", func(s *campaigns.Spec) { s.SnapshotIDs, s.Sources = []int64{sl.ID}, []string{"slack"} }, campaigns.ErrSnapshotChoice, "leave out --source"},
		{"no such source", func(s *campaigns.Spec) { s.Sources = []string{"okta"} }, campaigns.ErrNoSnapshot, "github/acme, slack/ws-a"},
		{"scope matches nothing", func(s *campaigns.Spec) { s.Scope = "name:nothing-like-this" }, campaigns.ErrEmptyScope, "github/acme #3, slack/ws-a #2"},
	} {
		s := spec
		tc.edit(&s)
		if _, err := campaigns.Create(ctx, f.Store, "lead", s); !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v; want %v saying %q", tc.name, err, tc.err, tc.says)
		}
	}

	// A partial snapshot of any source refuses the whole campaign, naming it.
	f.Source = slackSource
	f.Snapshot(t, []audit.Gap{{Endpoint: "file:bots.csv", Reason: "line 3 unreadable"}}, slackBot("B1", "deploy-bot"))
	_, err := campaigns.Create(ctx, f.Store, "lead", spec)
	if !errors.Is(err, campaigns.ErrPartial) || !strings.Contains(err.Error(), "(slack/ws-a) could not read 1 endpoint;") ||
		!strings.Contains(err.Error(), "--snapshot 2") || !strings.Contains(err.Error(), "--source/--account to leave it out") {
		t.Errorf("partial slack: %v", err)
	}
	// A scope that takes nothing from the partial snapshot is not refused:
	// the snapshot stays listed, with its gaps, and its count is 0.
	spec.Scope = "source:github"
	res, err := campaigns.Create(ctx, f.Store, "lead", spec)
	if err != nil {
		t.Fatalf("source:github with slack partial: %v", err)
	}
	if u := res.Campaign.Snapshots; len(u) != 2 || u[1].Source != "slack" || u[1].Count != 0 || u[1].Status != audit.SnapshotPartial || res.Campaign.Count != 8 {
		t.Errorf("source:github: %+v", u)
	}
	var p campaigns.CreatePayload
	if err := json.Unmarshal(res.Event.Payload, &p); err != nil || p.SnapshotStatus != audit.SnapshotPartial {
		t.Errorf("the payload does not say a snapshot was partial: %+v %v", p, err)
	}
}

// A later snapshot checks the decommissions of its own source/account
// only: the others stay unverified until a snapshot of theirs is taken.
func TestRemediationPerSource(t *testing.T) {
	f, _, _ := twoSources(t)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	bot, key := slackBot("B2", "").ID, keyID("api", "1")
	for _, id := range []string{bot, key} {
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead@acme.test", "q"); err != nil {
		t.Fatal(err)
	}
	_, err := campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q")
	if !errors.Is(err, campaigns.ErrNoSnapshot) || !strings.Contains(err.Error(), "github/acme since snapshot 1, nor of slack/ws-a since snapshot 2 (campaign q's population): take a new snapshot of any of them") {
		t.Fatalf("no later snapshot: %v", err)
	}

	// The next Slack import no longer has B2; GitHub was not read again.
	f.Clock.Add(24 * time.Hour)
	f.Source = slackSource
	sl2 := f.Snapshot(t, nil, slackBot("B1", "deploy-bot"))
	rs, err := campaigns.VerifyAfterSnapshot(ctx, f.Store, "nhi snapshot", sl2.ID)
	if err != nil || len(rs) != 1 || !slices.Equal(rs[0].Removed, []string{bot}) || len(rs[0].StillPresent)+len(rs[0].NotChecked) != 0 ||
		rs[0].Base.Source != "slack" || !rs[0].Recorded {
		t.Fatalf("after the slack import: %+v %v", rs, err)
	}
	c := get(t, f, "q")
	if v := item(t, c, key).Verification; v != "" {
		t.Errorf("the GitHub key was judged %q by a Slack import", v)
	}
	if it := item(t, c, bot); it.Verification != campaigns.Removed || it.VerifiedSnapshot != sl2.ID {
		t.Errorf("slack bot: %s by %d", it.Verification, it.VerifiedSnapshot)
	}

	// A new GitHub snapshot, with the key still there: verify checks it,
	// and says the Slack result was recorded already.
	f.Source.Source, f.Source.Account = "github", "acme"
	gh2 := f.Snapshot(t, nil, population()...)
	rs, err = campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q")
	if err != nil || len(rs) != 2 {
		t.Fatalf("verify over both: %+v %v", rs, err)
	}
	if r := rs[0]; r.Snapshot.ID != gh2.ID || !slices.Equal(r.StillPresent, []string{key}) || len(r.Removed) != 0 || !r.Recorded {
		t.Errorf("github: %+v", r)
	}
	if r := rs[1]; r.Snapshot.ID != sl2.ID || r.Recorded || !slices.Equal(r.Removed, []string{bot}) {
		t.Errorf("slack again: %+v", r)
	}
	if it := item(t, get(t, f, "q"), key); it.Verification != campaigns.StillPresent || it.VerifiedSnapshot != gh2.ID {
		t.Errorf("github key: %s by %d", it.Verification, it.VerifiedSnapshot)
	}
	verifyOK(t, f)
}
