package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
	"github.com/nhi-audit/nhi/tui"
)

// The TUI's reviewer is the campaigns package: what it decides and undoes
// is in the file as `nhi decide` would write it, undo works in a later
// session (it finds the campaign by the event), and the trail and the
// export are what the CLI reads.
func TestCampaignReviewer(t *testing.T) {
	ctx := context.Background()
	path := campaignDB(t, 7)
	st, err := audit.Open(ctx, path, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, spec := range []campaigns.Spec{
		{Name: "later", Scope: "kind:deploy_key", Due: due(30), Reviewers: []string{"rita@acme.test"}},
		{Name: "sooner", Scope: "scope:acme/r1", Due: due(7), Reviewers: []string{"rita@acme.test"}},
	} {
		if _, err := campaigns.Create(ctx, st, "lead@acme.test", spec); err != nil {
			t.Fatal(err)
		}
	}
	r := &campaignReviewer{st: st, tool: "nhi test"}
	list, err := r.Campaigns(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "sooner" || list[0].Total != 2 || list[1].Total != 7 || list[0].Status != "open" {
		t.Fatalf("campaigns, soonest due first: %+v %v", list, err)
	}
	if len(list[0].Reviewers) != 1 || list[0].Reviewers[0].Reviewer != "rita@acme.test" || list[0].Reviewers[0].Assigned != 2 {
		t.Errorf("reviewer progress: %+v", list[0].Reviewers)
	}

	evs, err := r.Decide(ctx, "rita@acme.test", "sooner", []string{keyID(1), keyID(6)}, tui.DecisionKeep, "deploys r1")
	if err != nil || len(evs) != 2 || evs[0].Type != campaigns.EventDecide {
		t.Fatalf("decide: %+v %v", evs, err)
	}
	d, err := r.Items(ctx, "sooner", "RITA@acme.test")
	if err != nil || d[keyID(1)].Decision != tui.DecisionKeep || d[keyID(6)].Decision != tui.DecisionKeep || len(d) != 2 {
		t.Errorf("items after decide: %v %v", d, err)
	}
	if it := d[keyID(1)]; it.Reviewer != "rita@acme.test" || !it.Mine {
		t.Errorf("rita's item: %+v, want hers", it)
	}
	if d, _ := r.Items(ctx, "sooner", "someone@acme.test"); d[keyID(1)].Mine {
		t.Errorf("rita's item is someone else's: %+v", d[keyID(1)])
	}
	if d, _ := r.Items(ctx, "later", ""); d[keyID(1)].Decision != tui.DecisionPending || len(d) != 7 {
		t.Errorf("the other campaign: %v", d)
	}
	if _, err := r.Decide(ctx, "rita@acme.test", "sooner", []string{keyID(1)}, tui.DecisionKeep, ""); err == nil {
		t.Error("keep without a reason was accepted")
	}

	// A new session (a new reviewer) undoes an event of the last one.
	r = &campaignReviewer{st: st}
	u, err := r.UndoDecision(ctx, "rita@acme.test", evs[1].Seq)
	if err != nil || u.Type != campaigns.EventUndo {
		t.Fatalf("undo: %+v %v", u, err)
	}
	if d, _ := r.Items(ctx, "sooner", ""); d[keyID(6)].Decision != tui.DecisionPending || d[keyID(1)].Decision != tui.DecisionKeep {
		t.Errorf("decisions after undo: %v", d)
	}
	if _, err := r.UndoDecision(ctx, "rita@acme.test", 1); err == nil || !strings.Contains(err.Error(), "not a campaign decision") {
		t.Errorf("undo of a campaign.create: %v", err)
	}

	trail, err := r.Trail(ctx, keyID(6))
	if err != nil || len(trail) != 2 {
		t.Fatalf("trail: %+v %v", trail, err)
	}
	if e := trail[0]; e.Seq != evs[1].Seq || e.Campaign != "sooner" || e.What != "keep" || e.Reason != "deploys r1" || e.Actor != "rita@acme.test" {
		t.Errorf("trail[0] %+v", e)
	}
	if e := trail[1]; e.Seq != u.Seq || e.What != "undid #"+strconv.FormatInt(evs[1].Seq, 10) {
		t.Errorf("trail[1] %+v", e)
	}

	dir := filepath.Join(t.TempDir(), "bundle")
	// The events carry the wall clock: a report is dated after them.
	res, err := r.Export(ctx, "sooner", dir, "rita@acme.test", time.Now(), false)
	if err != nil || !res.Draft || res.Head != u.Seq || res.Files == 0 || !filepath.IsAbs(res.Dir) {
		t.Fatalf("export: %+v %v", res, err)
	}
	v, err := report.VerifyBundle(ctx, res.Dir, st, report.VerifyOptions{Tool: "nhi"})
	if err != nil || !v.OK() || !v.LogChecked {
		t.Errorf("the exported bundle does not verify: %+v %v", v, err)
	}
}

// Opening a campaign in the TUI (its first read of the items) readies
// the store for the reviewer's decisions there, once, in the background
// (campaigns.PrepareToDecide; on an evidence file it has nothing to do
// and answers at once): reading the items again does not start it
// again, and a reviewer with nothing pending has nothing to prepare.
func TestCampaignReviewerPreparesOnOpen(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, campaignDB(t, 7), audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := campaigns.Create(ctx, st, "lead@acme.test", campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Due: due(30), Reviewers: []string{"rita@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	r := &campaignReviewer{st: st}
	if _, err := r.Items(ctx, "q", "someone@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.prepared["q"]; ok {
		t.Errorf("someone with no item in q: preparing their decisions; want nothing to prepare")
	}
	if _, err := r.Items(ctx, "q", "rita@acme.test"); err != nil {
		t.Fatal(err)
	}
	first, ok := r.prepared["q"]
	if !ok {
		t.Fatal("rita opened q: her decisions are not being prepared")
	}
	if err := <-first; err != nil {
		t.Errorf("preparing rita's decisions: %v", err)
	}
	if _, err := r.Items(ctx, "q", "rita@acme.test"); err != nil {
		t.Fatal(err)
	}
	if r.prepared["q"] != first {
		t.Error("reading q's items again prepared them again; want once")
	}
}
