package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// The decision history (docs/report.md, "The decision history"): every
// decision event of every item, not only the one in force, so an undone or
// overwritten decision, the filter behind a bulk one, a carried decision and
// its confirmation, and refused attempts all appear in the bundle.

// HistoryEntry is one event in an item's decision trail.
type HistoryEntry struct {
	N        int    `json:"n"` // the item's row in the register
	ID       string `json:"id"`
	Event    int64  `json:"event"`
	Type     string `json:"type"` // the event's type
	At       string `json:"at"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`   // carried, decide, confirm, undo, no-response, or the suffix of another decision.* event (refused)
	Decision string `json:"decision"` // what it decided; for an undo, what it put back; for a refusal, what was attempted
	Via      string `json:"via"`      // single, bulk, confirm, undo
	Reason   string `json:"justification"`
	Filter   string `json:"filter"` // the filter that selected the items of a bulk decision or confirmation
	Undoes   int64  `json:"undoes"` // the event an undo reversed
	// Outcome is what became of it: current, overwritten, undone,
	// confirmed, not-confirmed, refused; "" for an undo or a close.
	Outcome string `json:"outcome"`
	By      int64  `json:"by"`       // the event that overwrote, undid or confirmed it
	Other   bool   `json:"conflict"` // overwritten or undone by someone other than who made it
	Detail  string `json:"detail"`
}

// detailWithFilter is the detail the pages print, followed by the filter
// of a bulk decision or confirmation.
func (e *HistoryEntry) detailWithFilter() string {
	if e.Filter == "" {
		return e.Detail
	}
	return strings.TrimPrefix(e.Detail+"; filter "+e.Filter, "; ")
}

// History actions besides the decisions' own.
const (
	ActionCarried    = "carried"
	ActionDecide     = "decide"
	ActionConfirm    = "confirm"
	ActionUndo       = "undo"
	ActionNoResponse = "no-response"
)

// Outcomes of a history entry.
const (
	OutcomeCurrent      = "current"
	OutcomeOverwritten  = "overwritten"
	OutcomeUndone       = "undone"
	OutcomeConfirmed    = "confirmed"
	OutcomeNotConfirmed = "not-confirmed"
	OutcomeRefused      = "refused"
)

// decisionEventPrefix: events of this prefix that name a campaign and its
// items (decision.refused, docs/people.md) belong to the items' trails.
const decisionEventPrefix = "decision."

// itemHistory appends item it's decision trail (its register row is row)
// to out, in event order.
func (k *collector) itemHistory(it *campaigns.Item, row *Row, out []HistoryEntry) ([]HistoryEntry, error) {
	c := k.c
	start := len(out)
	add := func(e HistoryEntry) *HistoryEntry {
		e.N, e.ID = row.N, row.ID
		out = append(out, e)
		return &out[len(out)-1]
	}
	carried := -1
	// from is where a carried decision came from: the earlier campaign,
	// and the ID the identity had there when it was another (its
	// repository renamed between the two; campaign.create's carried_as).
	from := clean(c.CarriedFrom)
	if it.CarriedAs != "" {
		from += " as " + clean(it.CarriedAs)
	}
	if it.Carried != campaigns.Pending {
		add(HistoryEntry{Event: c.CreateSeq, Type: campaigns.EventCreate, At: ts(c.CreatedAt), Actor: clean(c.CreatedBy),
			Action: ActionCarried, Decision: string(it.Carried), Reason: clean(it.CarriedReason),
			Detail: "carried from campaign " + from + "; counts only once confirmed"})
		carried = len(out) - 1
	}
	// in force: the index in out of the decision in force; before:
	// what was in force before each decision, for undos.
	inForce := -1
	var before, index map[int64]int
	if len(it.History) > 1 {
		before, index = map[int64]int{}, map[int64]int{}
	}
	for _, h := range it.History {
		e := HistoryEntry{Event: h.Seq, At: ts(h.At), Actor: clean(h.Actor), Decision: string(h.Decision), Via: h.Via, Reason: clean(h.Reason)}
		switch h.Via {
		case campaigns.ViaUndo:
			e.Type, e.Action, e.Undoes = campaigns.EventUndo, ActionUndo, h.Undoes
			if e.Decision == "" {
				e.Decision = "pending"
			}
			e.Detail = fmt.Sprintf("reverses event %d; puts back %s", h.Undoes, e.Decision)
			k.selfReview(&e, it)
			add(e)
			if k, ok := index[h.Undoes]; ok {
				u := &out[k]
				u.Outcome, u.By, u.Other = OutcomeUndone, h.Seq, !strings.EqualFold(u.Actor, e.Actor)
				inForce = before[h.Undoes]
				if inForce >= 0 {
					out[inForce].Outcome, out[inForce].By, out[inForce].Other = "", 0, false
				}
			}
			continue
		case campaigns.ViaConfirm:
			e.Type, e.Action = campaigns.EventConfirm, ActionConfirm
		default:
			e.Type, e.Action = campaigns.EventDecide, ActionDecide
		}
		k.selfReview(&e, it)
		if h.Via == campaigns.ViaBulk || h.Via == campaigns.ViaConfirm {
			f, err := k.filterOf(h.Seq)
			if err != nil {
				return nil, err
			}
			e.Filter = f
		}
		p := add(e)
		i := len(out) - 1
		if h.Via == campaigns.ViaConfirm && carried >= 0 {
			out[carried].Outcome, out[carried].By = OutcomeConfirmed, h.Seq
			p.Detail = joinDetail("confirms the decision carried from "+from, p.Detail)
		}
		if inForce >= 0 {
			o := &out[inForce]
			o.Outcome, o.By, o.Other = OutcomeOverwritten, h.Seq, !strings.EqualFold(o.Actor, p.Actor)
		}
		if index != nil {
			before[h.Seq], index[h.Seq] = inForce, i
		}
		inForce = i
	}
	if inForce >= 0 {
		out[inForce].Outcome = OutcomeCurrent
	}
	if it.Decision == campaigns.NoResponse {
		if carried >= 0 && out[carried].Outcome == "" {
			out[carried].Outcome = OutcomeNotConfirmed
		}
		add(HistoryEntry{Event: c.CloseSeq, Type: campaigns.EventClose, At: tsp(c.ClosedAt), Actor: clean(c.ClosedBy),
			Action: ActionNoResponse, Decision: string(campaigns.NoResponse), Detail: "closed without a decision"})
	}
	for _, e := range k.others[it.ID] {
		add(e)
	}
	sortByEvent(out[start:])
	return out, nil
}

// selfReview marks e, a decision, confirmation or undo of item it, when
// nhi verify names it a self-review (campaigns.SelfReviews): its detail
// says whose the item was, and the attestation counts it. The decision
// in force was checked for the item's row already (registerRow).
func (k *collector) selfReview(e *HistoryEntry, it *campaigns.Item) {
	sr, ok := k.rowSelf.sr, k.rowSelf.ok
	if e.Event != k.rowSelf.seq || e.Event == 0 {
		sr, ok = k.self.Of(e.Event, it)
	}
	if !ok {
		return
	}
	e.Detail = joinDetail(e.Detail, clean(sr.Text(e.Actor)))
	k.sum.SelfReviews++
	k.selfEvents[e.Event] = true
}

// joinDetail joins two parts of a history entry's detail.
func joinDetail(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// sortByEvent orders one item's trail by event (insertion sort: a trail
// is a few entries, and its parts are each in order already).
func sortByEvent(t []HistoryEntry) {
	for i := 1; i < len(t); i++ {
		for j := i; j > 0 && t[j].Event < t[j-1].Event; j-- {
			t[j], t[j-1] = t[j-1], t[j]
		}
	}
}

// decisionEvents reads the decision.* events (refused attempts, and any
// later kind) that name campaign up to event asOf, by item. They have no
// projection: they are read from the log, generically, so a kind added
// later shows in the trail without a change here.
func decisionEvents(ctx context.Context, st *audit.Store, campaign string, asOf int64) (map[string][]HistoryEntry, error) {
	rows, err := st.Query(ctx, `SELECT seq, at, actor, type, payload FROM events
		WHERE type >= ? AND type < ? AND json_extract(payload, '$.campaign') = ? AND seq <= ? ORDER BY seq`,
		decisionEventPrefix, decisionEventPrefix[:len(decisionEventPrefix)-1]+"/", campaign, asOf)
	if err != nil {
		return nil, fmt.Errorf("reading decision events: %w", err)
	}
	defer rows.Close()
	out := map[string][]HistoryEntry{}
	for rows.Next() {
		var (
			e       audit.Event
			at      string
			payload string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Type, &payload); err != nil {
			return nil, err
		}
		var p struct {
			Items    []string `json:"items"`
			Item     string   `json:"item"`
			Identity string   `json:"identity"`
			Action   string   `json:"action"`
			Decision string   `json:"decision"`
			Rule     string   `json:"rule"`
			Detail   string   `json:"detail"`
			Reason   string   `json:"reason"`
			Filter   string   `json:"filter"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", e.Seq, e.Type, err)
		}
		action := strings.TrimPrefix(e.Type, decisionEventPrefix)
		h := HistoryEntry{Event: e.Seq, Type: clean(e.Type), At: clean(at), Actor: clean(e.Actor), Action: clean(action),
			Decision: clean(p.Action + p.Decision), Reason: clean(p.Reason), Filter: clean(p.Filter)}
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			h.At = ts(t)
		}
		if action == "refused" {
			h.Outcome = OutcomeRefused
		}
		h.Detail = clean(strings.TrimSpace(strings.Trim(p.Rule+": "+p.Detail, ": ")))
		items := p.Items
		for _, one := range []string{p.Item, p.Identity} {
			if one != "" {
				items = append(items, one)
			}
		}
		for _, id := range items {
			out[id] = append(out[id], h)
		}
	}
	return out, rows.Err()
}
