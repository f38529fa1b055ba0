package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// CampaignReviewer is the Reviewer backed by the campaigns package: the
// TUI's decisions are the same events `nhi decide` writes.
type CampaignReviewer struct {
	st *audit.Store
	// Tool names the program in exported reports, e.g. "nhi 1.2.0".
	Tool string

	mu       sync.Mutex
	campaign map[int64]string // decision event seq -> campaign, for undo
}

// NewCampaignReviewer reviews the campaigns in st.
func NewCampaignReviewer(st *audit.Store) *CampaignReviewer {
	return &CampaignReviewer{st: st, campaign: map[int64]string{}}
}

var _ Reviewer = (*CampaignReviewer)(nil)

// Campaigns lists open campaigns first, due soonest first, then closed ones.
func (r *CampaignReviewer) Campaigns(ctx context.Context) ([]Campaign, error) {
	list, err := campaigns.List(ctx, r.st)
	if err != nil {
		return nil, err
	}
	out := make([]Campaign, 0, len(list))
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
		out = append(out, Campaign{Name: c.Name, Status: c.Status, Scope: c.Scope, Due: due, Total: c.Progress.Total, Counts: counts, Reviewers: reviewers})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Status == "open") != (out[j].Status == "open") {
			return out[i].Status == "open"
		}
		return out[i].Due.Before(out[j].Due)
	})
	return out, nil
}

// Decisions is the current decision per identity in campaign.
func (r *CampaignReviewer) Decisions(ctx context.Context, campaign string) (map[string]string, error) {
	ds, err := campaigns.Decisions(ctx, r.st, campaign)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ds))
	for id, d := range ds {
		if d == campaigns.Pending {
			out[id] = DecisionPending
		} else {
			out[id] = string(d)
		}
	}
	return out, nil
}

// Decide records decision for every id, all or none.
func (r *CampaignReviewer) Decide(ctx context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error) {
	d, err := campaigns.ParseDecision(decision)
	if err != nil {
		return nil, err
	}
	outcomes, err := campaigns.DecideEach(ctx, r.st, actor, campaign, ids, d, reason)
	if err != nil {
		return nil, err
	}
	evs := make([]audit.Event, len(outcomes))
	r.mu.Lock()
	for i, o := range outcomes {
		evs[i] = o.Event
		r.campaign[o.Event.Seq] = campaign
	}
	r.mu.Unlock()
	return evs, nil
}

// UndoDecision reverses decision event seq with a compensating event.
func (r *CampaignReviewer) UndoDecision(ctx context.Context, actor string, seq int64) (audit.Event, error) {
	r.mu.Lock()
	name, ok := r.campaign[seq]
	r.mu.Unlock()
	if !ok {
		var err error
		if name, err = r.campaignOf(ctx, seq); err != nil {
			return audit.Event{}, err
		}
	}
	u, err := campaigns.Undo(ctx, r.st, actor, name, seq)
	if err != nil {
		return audit.Event{}, err
	}
	return u.Event, nil
}

// Export writes the campaign's evidence bundle (every format, unsigned),
// as nhi export does.
func (r *CampaignReviewer) Export(ctx context.Context, campaign, dir, signer string, at time.Time) (Exported, error) {
	tool := r.Tool
	if tool == "" {
		tool = "nhi"
	}
	res, err := report.Export(ctx, r.st, campaign, dir, report.ExportOptions{
		Options: report.Options{GeneratedAt: at.UTC().Truncate(time.Second), Signer: signer, Tool: tool},
	})
	if err != nil {
		return Exported{}, err
	}
	return Exported{Dir: res.Dir, Files: len(res.Files), Head: res.Report.Integrity.Head.Seq, Draft: res.Report.Draft}, nil
}

// campaignOf finds the campaign a decision event belongs to in the log.
func (r *CampaignReviewer) campaignOf(ctx context.Context, seq int64) (string, error) {
	evs, err := r.st.EventsOfType(ctx, "campaign.decide")
	if err != nil {
		return "", err
	}
	for _, e := range evs {
		if e.Seq == seq {
			var p campaigns.DecidePayload
			if err := json.Unmarshal(e.Payload, &p); err != nil || p.Campaign == "" {
				return "", fmt.Errorf("event %d does not name its campaign", seq)
			}
			return p.Campaign, nil
		}
	}
	return "", fmt.Errorf("event %d is not a decision", seq)
}
