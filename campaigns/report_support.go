package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// What the evidence report (package campaigns/report) needs beyond Get: a
// campaign as the event log stood after a given event, so a report can be
// rebuilt byte for byte later, and the event behind each item's state.

// AsOf is a campaign as the event log stood after event Seq.
type AsOf struct {
	Campaign *Campaign // Items in ID order, each with its history up to Seq
	Seq      int64
	// Events is parallel to Campaign.Items: the events behind each item's
	// current decision and verification.
	Events []ItemEvents
}

// ItemEvents names the events behind an item's state.
type ItemEvents struct {
	Decision int64 // the event that made the current decision (campaign.close for no-response); 0 while pending
	Verify   int64 // the campaign.verify event behind Verification; 0 when never verified
}

// GetAsOf returns campaign name as the event log stood after event seq:
// decisions, undos, the close and verifications recorded by later events
// are left out. When nothing was recorded after seq it is what Get returns;
// otherwise the campaign.* events up to seq are replayed over the frozen
// population (the way Verify replays them).
func GetAsOf(ctx context.Context, st *audit.Store, name string, seq int64) (*AsOf, error) {
	a, err := getAsOf(ctx, st, name, seq)
	if err != nil {
		return nil, err
	}
	// The no-response rule, and the escalations recorded up to seq.
	c := a.Campaign
	if _, err := readCreation(ctx, st, c); err != nil {
		return nil, err
	}
	if c.NoResponse.On == OnNoResponseEscalate {
		esc, err := escalations(ctx, st, c.Name, seq)
		if err != nil {
			return nil, err
		}
		for i := range c.Items {
			if x, ok := esc[c.Items[i].ID]; ok {
				c.Items[i].Escalated = &x
			}
		}
	}
	return a, nil
}

func getAsOf(ctx context.Context, st *audit.Store, name string, seq int64) (*AsOf, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	if c.CreateSeq > seq {
		return nil, fmt.Errorf("campaign %s was created by event %d, after event %d", c.Name, c.CreateSeq, seq)
	}
	// The items and their decisions are read side by side, on two of the
	// pool's connections (100,000 items take a second to read); the
	// head's check below covers both reads.
	var history map[string][]Change
	var histErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		history, histErr = loadHistory(ctx, st, c.ID, nil)
	}()
	live, err := loadItems(ctx, st, c.ID)
	<-read
	if err = errors.Join(err, histErr); err != nil {
		return nil, err
	}
	head, err := st.LogHead(ctx)
	if err != nil {
		return nil, err
	}
	if head.Seq > seq {
		return replayAsOf(ctx, st, c, seq)
	}
	// Nothing was appended since seq, during the reads above included (a
	// write appends an event in the same transaction): the tables are the
	// log as of seq.
	c.Progress = progress(c, live)
	dec := newDecoder()
	c.Items = make([]Item, len(live))
	events := make([]ItemEvents, len(live))
	for i := range live {
		l := &live[i]
		it, err := dec.item(&l.frozen)
		if err != nil {
			return nil, err
		}
		l.fill(&it, history)
		c.Items[i] = it
		events[i] = ItemEvents{Decision: l.seq, Verify: l.verifySeq}
	}
	return &AsOf{Campaign: c, Seq: seq, Events: events}, nil
}

// decoder turns frozen rows into Items, decoding each distinct findings
// and permissions text once: across a population most are repeated.
type decoder struct {
	findings map[string][]audit.Finding
	perms    map[string]map[string]string
}

func newDecoder() *decoder {
	return &decoder{findings: map[string][]audit.Finding{}, perms: map[string]map[string]string{}}
}

// item is frozen.item with the decoded values shared between items that
// have the same text; callers must not modify them.
func (d *decoder) item(f *frozen) (Item, error) {
	it := Item{
		ID: f.id, Kind: audit.Kind(f.kind), Name: f.name, Scope: f.scope, Owner: f.owner,
		NaturalOwner: f.naturalOwner, Reviewer: f.reviewer,
		Carried: Decision(f.carried), CarriedReason: f.carriedReason,
	}
	var ok bool
	if it.Findings, ok = d.findings[f.findings]; !ok {
		it.Findings = []audit.Finding{}
		if err := json.Unmarshal([]byte(f.findings), &it.Findings); err != nil {
			return it, fmt.Errorf("item %s: findings: %w", f.id, err)
		}
		d.findings[f.findings] = it.Findings
	}
	if it.Permissions, ok = d.perms[f.permissions]; !ok {
		it.Permissions = map[string]string{}
		if err := json.Unmarshal([]byte(f.permissions), &it.Permissions); err != nil {
			return it, fmt.Errorf("item %s: permissions: %w", f.id, err)
		}
		d.perms[f.permissions] = it.Permissions
	}
	return it, nil
}

// Headers returns every campaign, oldest first, without items or progress:
// what List returns, for a caller that only needs to pick one.
func Headers(ctx context.Context, st *audit.Store) ([]Campaign, error) {
	rows, err := st.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// Member is one identity of a campaign's frozen population and the
// decision it had at a given event.
type Member struct {
	ID       string
	Kind     audit.Kind
	Decision Decision // Pending when undecided then (no-response is not a decision)
}

// Population returns campaign name's frozen population in ID order, each
// item with the decision it had after event seq: the decision of its last
// history row up to seq (an undo's row holds the decision it put back).
func Population(ctx context.Context, st *audit.Store, name string, seq int64) ([]Member, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	rows, err := st.Query(ctx, `SELECT i.identity_id, i.kind, COALESCE((SELECT d.decision FROM campaign_decisions d
			WHERE d.campaign_id = i.campaign_id AND d.identity_id = i.identity_id AND d.seq <= ? ORDER BY d.seq DESC LIMIT 1), '')
		FROM campaign_items i WHERE i.campaign_id = ? ORDER BY i.identity_id`, seq, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading campaign %s: %w", c.Name, err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.Kind, &m.Decision); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// replayAsOf rebuilds c's state from the campaign.* events up to seq.
func replayAsOf(ctx context.Context, st *audit.Store, c *Campaign, seq int64) (*AsOf, error) {
	v, err := replayUpTo(ctx, st, seq)
	if err != nil {
		return nil, err
	}
	r := v.replay[c.Name]
	if r == nil || r.table == nil {
		return nil, fmt.Errorf("campaign %s: no campaign.create event up to event %d", c.Name, seq)
	}
	out := *c
	out.Status, out.ClosedAt, out.ClosedBy, out.CloseSeq = StatusOpen, nil, "", 0
	if r.closed {
		out.Status, out.ClosedBy, out.CloseSeq = StatusClosed, r.closedBy, r.closeSeq
		if t, ok := parseAt(r.closedAt); ok {
			out.ClosedAt = &t
		}
	}
	dec := newDecoder()
	live := make([]liveItem, 0, r.create.Count)
	out.Items = make([]Item, 0, r.create.Count)
	events := make([]ItemEvents, 0, r.create.Count)
	err = v.walk(ctx, r, true, func(w *walkedItem) error {
		s := &w.state
		live = append(live, liveItem{frozen: w.frozen, itemState: *s})
		it, err := dec.item(&w.frozen)
		if err != nil {
			return err
		}
		it.Decision, it.Reason, it.DecidedBy, it.Conflict = s.decision, s.reason, s.decidedBy, s.conflict
		if t, ok := parseAt(s.decidedAt); ok {
			it.DecidedAt = &t
		}
		it.Verification, it.VerifiedSnapshot = s.verification, s.verifiedSnapshot
		it.History = make([]Change, 0, len(w.hist))
		for _, h := range w.hist {
			ch := Change{Seq: h.seq, Decision: h.decision, Reason: h.reason, Actor: h.actor, Via: h.via, Undoes: h.undoes}
			ch.At, _ = parseAt(h.at)
			it.History = append(it.History, ch)
		}
		slices.SortFunc(it.History, func(a, b Change) int { return int(a.Seq - b.Seq) })
		out.Items = append(out.Items, it)
		events = append(events, ItemEvents{Decision: s.seq, Verify: s.verifySeq})
		return nil
	}, func(string, histEntry) {})
	if err != nil {
		return nil, err
	}
	out.Progress = progress(&out, live)
	return &AsOf{Campaign: &out, Seq: seq, Events: events}, nil
}
