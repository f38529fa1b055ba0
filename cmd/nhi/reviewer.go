package main

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/tui"
)

// campaignReviewer is the TUI's tui.Reviewer, backed by the campaigns
// package: the TUI's decisions are the same events `nhi decide` writes,
// and what it shows is what `nhi campaign show` reads.
type campaignReviewer struct {
	st   *audit.Store
	tool string // names the program in exported reports, e.g. "nhi 1.2.0"
	// sign, when not nil, adds the reviewer's signing key to the context
	// of every decision and undo (--sign-with, NHI_SIGNING_KEY).
	sign func(context.Context) context.Context

	prepMu sync.Mutex
	// prepared holds, by campaign, what campaigns.PrepareToDecide
	// answered (once it has) for the first read of the campaign's items.
	prepared map[string]chan error
}

func (r *campaignReviewer) signed(ctx context.Context) context.Context {
	if r.sign == nil {
		return ctx
	}
	return r.sign(ctx)
}

var _ tui.Reviewer = (*campaignReviewer)(nil)

// Campaigns lists open campaigns first, due soonest first, then closed ones.
func (r *campaignReviewer) Campaigns(ctx context.Context) ([]tui.Campaign, error) {
	list, err := campaigns.List(ctx, r.st)
	if err != nil {
		return nil, err
	}
	offboards, err := campaigns.OffboardingTargets(ctx, r.st)
	if err != nil {
		return nil, err
	}
	out := make([]tui.Campaign, 0, len(list))
	for _, c := range list {
		due, _ := time.Parse("2006-01-02", c.Due)
		counts := map[string]int{}
		for d, n := range c.Progress.ByDecision {
			counts[string(d)] = n
		}
		var reviewers []tui.ReviewerProgress
		for _, p := range c.Progress.Reviewers {
			reviewers = append(reviewers, tui.ReviewerProgress{Reviewer: p.Reviewer, Assigned: p.Assigned, Decided: p.Decided})
		}
		out = append(out, tui.Campaign{Name: c.Name, Status: c.Status, Scope: c.Scope, Due: due, Total: c.Progress.Total, Counts: counts, Reviewers: reviewers,
			Offboards: offboards[c.Name]})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Status == "open") != (out[j].Status == "open") {
			return out[i].Status == "open"
		}
		return out[i].Due.Before(out[j].Due)
	})
	return out, nil
}

// Items are the campaign's items: reviewer, whether it is actor (under
// any alias the directory knows), and the current decision.
func (r *campaignReviewer) Items(ctx context.Context, campaign, actor string) (map[string]filter.Item, error) {
	out := map[string]filter.Item{}
	if err := r.EachItem(ctx, campaign, actor, func(int) {}, func(id string, it filter.Item) { out[id] = it }); err != nil {
		return nil, err
	}
	return out, nil
}

var _ tui.ItemsEacher = (*campaignReviewer)(nil)

// EachItem gives the campaign's items one at a time, as Items lists
// them, without a second map of them all.
func (r *campaignReviewer) EachItem(ctx context.Context, campaign, actor string, expect func(int), yield func(id string, it filter.Item)) error {
	var first string // actor's first pending item, for prepare
	err := campaigns.EachAssignment(ctx, r.st, campaign, actor, expect, func(id string, a campaigns.Assignment) {
		if a.Mine && a.Decision == campaigns.Pending && (first == "" || id < first) {
			first = strings.Clone(id) // not the page of items it is part of
		}
		yield(id, filter.Item{Reviewer: a.Reviewer, Mine: a.Mine, Decision: itemDecision(a.Decision), Findings: a.Findings})
	})
	if err != nil {
		return err
	}
	r.prepare(ctx, campaign, actor, first)
	return nil
}

// itemDecision is d as the TUI names it.
func itemDecision(d campaigns.Decision) string {
	if d == campaigns.Pending {
		return tui.DecisionPending
	}
	return string(d)
}

var _ tui.DecisionsSincer = (*campaignReviewer)(nil)

// DecisionsSince is campaigns.DecisionsSince, named as the TUI names
// decisions.
func (r *campaignReviewer) DecisionsSince(ctx context.Context, campaign string, asOf, upTo int64, types []string) (map[string]string, bool, error) {
	changed, ok, err := campaigns.DecisionsSince(ctx, r.st, campaign, asOf, upTo, types)
	if !ok || err != nil {
		return nil, false, err
	}
	out := make(map[string]string, len(changed))
	for id, d := range changed {
		out[id] = itemDecision(d)
	}
	return out, true, nil
}

// prepare readies the store for actor's decisions in campaign the first
// time its items are read — when the reviewer opens it — in the
// background (campaigns.PrepareToDecide, docs/team.md "A reviewer's
// first decision"), rehearsing first, the first of actor's pending
// items. A campaign with none of theirs pending (first "") has nothing
// to prepare.
func (r *campaignReviewer) prepare(ctx context.Context, campaign, actor, first string) {
	if first == "" {
		return
	}
	r.prepMu.Lock()
	defer r.prepMu.Unlock()
	if _, ok := r.prepared[campaign]; ok {
		return
	}
	if r.prepared == nil {
		r.prepared = map[string]chan error{}
	}
	done := make(chan error, 1)
	r.prepared[campaign] = done
	go func() { done <- campaigns.PrepareToDecide(ctx, r.st, actor, campaign, first) }()
}

// Decide records decision for every id, all or none.
func (r *campaignReviewer) Decide(ctx context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error) {
	d, err := campaigns.ParseDecision(decision)
	if err != nil {
		return nil, err
	}
	outcomes, err := campaigns.DecideEach(r.signed(ctx), r.st, actor, campaign, ids, d, reason)
	if err != nil {
		return nil, err
	}
	return outcomeEvents(outcomes), nil
}

var _ tui.Transferrer = (*campaignReviewer)(nil)

// Transfer hands ids of an offboarding campaign to the person to, as nhi
// decide … transfer --to does: a decision and an owner.set event each, all
// or none.
func (r *campaignReviewer) Transfer(ctx context.Context, actor, campaign string, ids []string, to, reason string) ([]audit.Event, error) {
	outcomes, err := campaigns.TransferItems(r.signed(ctx), r.st, actor, campaign, ids, to, reason)
	if err != nil {
		return nil, err
	}
	return outcomeEvents(outcomes), nil
}

var _ tui.Replacer = (*campaignReviewer)(nil)

// RotateReplacing records a rotate of deploy key id naming its
// replacement, as nhi decide … rotate --replacement does.
func (r *campaignReviewer) RotateReplacing(ctx context.Context, actor, campaign, id, reason, replacement string) (audit.Event, error) {
	o, err := campaigns.RotateReplacing(r.signed(ctx), r.st, actor, campaign, id, reason, replacement)
	if err != nil {
		return audit.Event{}, err
	}
	return o.Event, nil
}

// UndoDecision reverses decision event seq with a compensating event.
func (r *campaignReviewer) UndoDecision(ctx context.Context, actor string, seq int64) (audit.Event, error) {
	// The campaign is the one the event decided in: Undo finds it by the
	// event's sequence number.
	u, err := campaigns.Undo(r.signed(ctx), r.st, actor, "", seq)
	if err != nil {
		return audit.Event{}, err
	}
	return u.Event, nil
}

// Export writes the campaign's evidence bundle (every format, unsigned),
// as nhi export does.
func (r *campaignReviewer) Export(ctx context.Context, campaign, dir, signer string, at time.Time, force bool) (tui.Exported, error) {
	tool := r.tool
	if tool == "" {
		tool = "nhi"
	}
	res, err := report.Export(ctx, r.st, campaign, dir, report.ExportOptions{
		Options: report.Options{GeneratedAt: at.UTC().Truncate(time.Second), Signer: signer, Tool: tool},
		Force:   force,
	})
	if err != nil {
		return tui.Exported{}, exportFailed(err, dir) // as nhi export says it
	}
	return tui.Exported{Dir: res.Dir, Files: len(res.Files), Head: res.Report.Integrity.Head.Seq, Draft: res.Report.Draft}, nil
}

// Trail is what every campaign recorded about identity id.
func (r *campaignReviewer) Trail(ctx context.Context, id string) ([]tui.DecisionEvent, error) {
	trail, err := campaigns.Trail(ctx, r.st, id)
	if err != nil {
		return nil, err
	}
	out := make([]tui.DecisionEvent, len(trail))
	for i, t := range trail {
		out[i] = tui.DecisionEvent{Seq: t.Seq, At: t.At, Actor: t.Actor, Campaign: t.Campaign, What: t.What, Reason: t.Reason}
	}
	return out, nil
}

// ApproveException records actor's approval of the exception on id, signed
// like the UI's decisions.
func (r *campaignReviewer) ApproveException(ctx context.Context, actor, campaign, id string) (audit.Event, error) {
	a, err := campaigns.ApproveException(r.signed(ctx), r.st, actor, campaign, id)
	if err != nil {
		return audit.Event{}, err
	}
	return a.Event, nil
}

var _ tui.ExceptionLister = (*campaignReviewer)(nil)

// ExceptionIDs lists the identities of the campaign's exceptions, at
// most limit: what its close can change in the UI's cached table.
func (r *campaignReviewer) ExceptionIDs(ctx context.Context, campaign string, limit int) ([]string, error) {
	return campaigns.ExceptionIDs(ctx, r.st, campaign, limit)
}

// outcomeEvents is the event each decision recorded, in order.
func outcomeEvents(outcomes []campaigns.Outcome) []audit.Event {
	evs := make([]audit.Event, len(outcomes))
	for i, o := range outcomes {
		evs[i] = o.Event
	}
	return evs
}
