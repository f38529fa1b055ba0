package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
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

// Trail reads the identity's decision trail from the campaign events of
// the log.
func (r *CampaignReviewer) Trail(ctx context.Context, id string) ([]DecisionEvent, error) {
	noResponse := map[string]bool{} // campaigns where the item closed undecided
	rows, err := r.st.Query(ctx, `SELECT c.name FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		WHERE i.identity_id = ? AND i.decision = ?`, id, string(campaigns.NoResponse))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		noResponse[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	evs, err := r.st.EventsOfType(ctx, "campaign.")
	if err != nil {
		return nil, err
	}
	var out []DecisionEvent
	add := func(e audit.Event, campaign, what, reason string) {
		out = append(out, DecisionEvent{Seq: e.Seq, At: e.At, Actor: e.Actor, Campaign: campaign, What: what, Reason: reason})
	}
	for _, e := range evs {
		switch e.Type {
		case campaigns.EventDecide:
			var p campaigns.DecidePayload
			if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
				continue
			}
			what := string(p.Decision)
			if p.Filter != "" || len(p.Items) > 1 {
				what += " (bulk, " + strconv.Itoa(len(p.Items)) + " items)"
			}
			add(e, p.Campaign, what, p.Reason)
		case campaigns.EventConfirm:
			var p campaigns.ConfirmPayload
			if json.Unmarshal(e.Payload, &p) == nil && slices.Contains(p.Items, id) {
				add(e, p.Campaign, "confirmed the carried decision", p.Reason)
			}
		case campaigns.EventUndo:
			var p campaigns.UndoPayload
			if json.Unmarshal(e.Payload, &p) == nil && slices.Contains(p.Items, id) {
				add(e, p.Campaign, "undid #"+strconv.FormatInt(p.Undoes, 10), "")
			}
		case campaigns.EventClose:
			var p campaigns.ClosePayload
			if json.Unmarshal(e.Payload, &p) == nil && noResponse[p.Campaign] {
				add(e, p.Campaign, "closed without a decision: no-response", "")
			}
		case campaigns.EventVerify:
			var p campaigns.VerifyPayload
			if json.Unmarshal(e.Payload, &p) != nil {
				continue
			}
			snap := " (snapshot " + strconv.FormatInt(p.Snapshot, 10) + ")"
			switch {
			case slices.Contains(p.Removed, id):
				add(e, p.Campaign, "checked: removed"+snap, "")
			case slices.Contains(p.StillPresent, id):
				add(e, p.Campaign, "checked: still present"+snap, "")
			case slices.Contains(p.NotChecked, id):
				add(e, p.Campaign, "not checked: its endpoint was not read"+snap, "")
			}
		}
	}
	return out, nil
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
