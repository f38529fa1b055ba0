package tui

import (
	"cmp"
	"context"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
	"github.com/nhi-audit/nhi/filter"
)

// campaignsReviewer is the Reviewer over the real campaigns package, for
// the tests that walk a review through the TUI into the evidence file. The
// binary's own adapter (cmd/nhi, campaignReviewer) has its tests there;
// this one only converts, so that a decision taken here is the
// campaign.decide event `nhi decide` writes.
type campaignsReviewer struct{ st *audit.Store }

func (r campaignsReviewer) Campaigns(ctx context.Context) ([]Campaign, error) {
	list, err := campaigns.List(ctx, r.st)
	if err != nil {
		return nil, err
	}
	offboards, err := campaigns.OffboardingTargets(ctx, r.st)
	if err != nil {
		return nil, err
	}
	var out []Campaign
	for _, c := range list {
		due, _ := time.Parse("2006-01-02", c.Due)
		counts := map[string]int{}
		for d, n := range c.Progress.ByDecision {
			counts[string(d)] = n
		}
		var reviewers []ReviewerProgress
		for _, p := range c.Progress.Reviewers {
			reviewers = append(reviewers, ReviewerProgress{Reviewer: p.Reviewer, Assigned: p.Assigned, Decided: p.Decided})
		}
		out = append(out, Campaign{Name: c.Name, Status: c.Status, Scope: c.Scope, Due: due, Total: c.Progress.Total, Counts: counts, Reviewers: reviewers,
			Offboards: offboards[c.Name]})
	}
	return out, nil
}

func (r campaignsReviewer) Items(ctx context.Context, campaign, actor string) (map[string]filter.Item, error) {
	as, err := campaigns.Assignments(ctx, r.st, campaign, actor)
	out := map[string]filter.Item{}
	for id, a := range as {
		out[id] = filter.Item{Reviewer: a.Reviewer, Mine: a.Mine, Decision: cmp.Or(string(a.Decision), DecisionPending), Findings: a.Findings}
	}
	return out, err
}

// EachItem is Items one at a time, as cmd/nhi's reviewer gives them.
func (r campaignsReviewer) EachItem(ctx context.Context, campaign, actor string, expect func(int), yield func(string, filter.Item)) error {
	items, err := r.Items(ctx, campaign, actor)
	expect(len(items))
	for id, it := range items {
		yield(id, it)
	}
	return err
}

func (r campaignsReviewer) DecisionsSince(ctx context.Context, campaign string, asOf, upTo int64, types []string) (map[string]string, bool, error) {
	changed, ok, err := campaigns.DecisionsSince(ctx, r.st, campaign, asOf, upTo, types)
	if !ok || err != nil {
		return nil, false, err
	}
	out := map[string]string{}
	for id, d := range changed {
		out[id] = cmp.Or(string(d), DecisionPending)
	}
	return out, true, nil
}

func (r campaignsReviewer) ExceptionIDs(ctx context.Context, campaign string, limit int) ([]string, error) {
	return campaigns.ExceptionIDs(ctx, r.st, campaign, limit)
}

func (r campaignsReviewer) Decide(ctx context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error) {
	outcomes, err := campaigns.DecideEach(ctx, r.st, actor, campaign, ids, campaigns.Decision(decision), reason)
	var evs []audit.Event
	for _, o := range outcomes {
		evs = append(evs, o.Event)
	}
	return evs, err
}

func (r campaignsReviewer) Transfer(ctx context.Context, actor, campaign string, ids []string, to, reason string) ([]audit.Event, error) {
	outcomes, err := campaigns.TransferItems(ctx, r.st, actor, campaign, ids, to, reason)
	var evs []audit.Event
	for _, o := range outcomes {
		evs = append(evs, o.Event)
	}
	return evs, err
}

func (r campaignsReviewer) RotateReplacing(ctx context.Context, actor, campaign, id, reason, replacement string) (audit.Event, error) {
	o, err := campaigns.RotateReplacing(ctx, r.st, actor, campaign, id, reason, replacement)
	if err != nil {
		return audit.Event{}, err
	}
	return o.Event, nil
}

func (r campaignsReviewer) UndoDecision(ctx context.Context, actor string, seq int64) (audit.Event, error) {
	u, err := campaigns.Undo(ctx, r.st, actor, "", seq)
	if err != nil {
		return audit.Event{}, err
	}
	return u.Event, nil
}

func (r campaignsReviewer) Export(ctx context.Context, campaign, dir, signer string, at time.Time, force bool) (Exported, error) {
	res, err := report.Export(ctx, r.st, campaign, dir, report.ExportOptions{
		Options: report.Options{GeneratedAt: at.UTC().Truncate(time.Second), Signer: signer, Tool: "nhi"},
		Force:   force,
	})
	if err != nil {
		return Exported{}, err
	}
	return Exported{Dir: res.Dir, Files: len(res.Files), Head: res.Report.Integrity.Head.Seq, Draft: res.Report.Draft}, nil
}

func (r campaignsReviewer) Trail(ctx context.Context, id string) ([]DecisionEvent, error) {
	trail, err := campaigns.Trail(ctx, r.st, id)
	var out []DecisionEvent
	for _, t := range trail {
		out = append(out, DecisionEvent(t))
	}
	return out, err
}

func (r campaignsReviewer) ApproveException(ctx context.Context, actor, campaign, id string) (audit.Event, error) {
	a, err := campaigns.ApproveException(ctx, r.st, actor, campaign, id)
	if err != nil {
		return audit.Event{}, err
	}
	return a.Event, nil
}
