package campaigns

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// TrailEntry is one thing a campaign recorded about an identity.
type TrailEntry struct {
	Seq      int64 // the event
	At       time.Time
	Actor    string
	Campaign string
	What     string // "rotate", "keep (bulk, 12 items)", "undid #12", "checked: removed (snapshot 3)"
	Reason   string
}

// Trail is what every campaign recorded about identity id, oldest first:
// decisions (and whether they were signed), confirmations and undos,
// attempts a separation or signature rule refused, closing without a
// decision, and removal checks. It reads the events the projections point
// at (an identity's decision rows, the close of a campaign it went
// unanswered in), the campaign.verify events and the decision.refused
// events, never the whole log. An identity whose repository was renamed
// has its trail under every ID it had (renames.go): what a campaign
// recorded under another one says so ("as ID").
func Trail(ctx context.Context, st *audit.Store, id string) ([]TrailEntry, error) {
	out, err := trailOf(ctx, st, id)
	if err != nil {
		return nil, err
	}
	ren, err := readRenames(ctx, st)
	if err != nil || len(ren) == 0 {
		return out, err
	}
	for _, other := range ren.lineage(id) {
		more, err := trailOf(ctx, st, other)
		if err != nil {
			return nil, err
		}
		for _, t := range more {
			t.What += " (as " + other + ")"
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b TrailEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// trailOf is Trail of id alone.
func trailOf(ctx context.Context, st *audit.Store, id string) ([]TrailEntry, error) {
	// Every event that names id through the projections, plus the checks.
	rows, err := st.Query(ctx, `
		SELECT d.seq FROM campaigns c JOIN campaign_decisions d ON d.campaign_id = c.id AND d.identity_id = ?1
		UNION SELECT c.close_seq FROM campaigns c JOIN campaign_items i ON i.campaign_id = c.id AND i.identity_id = ?1
			WHERE i.decision = ?2 AND c.close_seq IS NOT NULL
		UNION SELECT seq FROM events WHERE type = ?3
		UNION SELECT seq FROM events WHERE type IN (?4, ?5, ?6) AND EXISTS (SELECT 1 FROM json_each(payload, '$.items') WHERE value = ?1)
		ORDER BY 1`, id, string(NoResponse), EventVerify, EventRefused, EventApprove, EventEscalate)
	if err != nil {
		return nil, fmt.Errorf("reading the campaign trail of %s: %w", audit.Printable(id), err)
	}
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []TrailEntry
	for _, seq := range seqs {
		e, err := st.EventAt(ctx, seq)
		if err != nil {
			return nil, err
		}
		if t, ok := trailEntry(e, id); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// trailEntry says what event e recorded about identity id, if anything.
func trailEntry(e audit.Event, id string) (TrailEntry, bool) {
	t := TrailEntry{Seq: e.Seq, At: e.At, Actor: e.Actor}
	switch e.Type {
	case EventDecide:
		var p DecidePayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What, t.Reason = p.Campaign, string(p.Decision), p.Reason
		if p.Filter != "" || len(p.Items) > 1 {
			t.What += " (bulk, " + strconv.Itoa(len(p.Items)) + " items)"
		}
		if p.SignedBy != "" {
			t.What += ", signed"
		}
	case EventRefused:
		var p RefusedPayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What, t.Reason = p.Campaign, "refused: "+p.Action+" (rule "+p.Rule+")", p.Detail
	case EventApprove:
		var p ApprovePayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What, t.Reason = p.Campaign, "approved the exception", p.Detail
		if p.SignedBy != "" {
			t.What += ", signed"
		}
	case EventEscalate:
		var p EscalatePayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What, t.Reason = p.Campaign, "escalated to "+p.To, p.Detail
	case EventConfirm:
		var p ConfirmPayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What, t.Reason = p.Campaign, "confirmed the carried decision", p.Reason
	case EventUndo:
		var p UndoPayload
		if json.Unmarshal(e.Payload, &p) != nil || !slices.Contains(p.Items, id) {
			return t, false
		}
		t.Campaign, t.What = p.Campaign, "undid #"+strconv.FormatInt(p.Undoes, 10)
	case EventClose:
		var p ClosePayload
		if json.Unmarshal(e.Payload, &p) != nil {
			return t, false
		}
		// Trail asks for the close only of campaigns id went unanswered in.
		t.Campaign, t.What = p.Campaign, "closed without a decision: no-response"
	case EventVerify:
		var p VerifyPayload
		if json.Unmarshal(e.Payload, &p) != nil {
			return t, false
		}
		snap := " (snapshot " + strconv.FormatInt(p.Snapshot, 10) + ")"
		// Each list as campaign verify recorded it, with why in its words
		// (verifyReason); an event written before reasons were recorded
		// gives none but a not-checked item's.
		switch {
		case slices.Contains(p.Removed, id):
			t.What, t.Reason = "checked: removed"+snap, p.Reason(id, Removed)
		case slices.Contains(p.StillPresent, id):
			t.What, t.Reason = "checked: still present"+snap, p.Reason(id, StillPresent)
		case slices.Contains(p.NotChecked, id):
			t.What, t.Reason = "not checked"+snap, p.Reason(id, NotChecked)
		case slices.Contains(p.Rotated, id):
			t.What, t.Reason = "checked: rotated"+snap, p.Reason(id, Rotated)
		case slices.Contains(p.NotRotated, id):
			t.What, t.Reason = "checked: not rotated"+snap, p.Reason(id, NotRotated)
		case slices.Contains(p.Transferred, id):
			t.What, t.Reason = "checked: transferred"+snap, p.Reason(id, Transferred)
		case slices.Contains(p.NotTransferred, id):
			t.What, t.Reason = "checked: not transferred"+snap, p.Reason(id, NotTransferred)
		default:
			return t, false
		}
		t.Campaign = p.Campaign
	default:
		return t, false
	}
	return t, true
}
