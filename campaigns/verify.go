package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Verify replays the campaign.* events of the log and compares what they
// imply with the campaign tables; it recomputes every frozen item's hash
// and every population digest. Each problem names the campaign and the
// record; none means the tables are what the log says. The log's own hash
// chain is audit.Store.Verify's business.
func Verify(ctx context.Context, st *audit.Store) ([]string, error) {
	v, err := replayUpTo(ctx, st, 0)
	if err != nil {
		return nil, err
	}
	v.compare()
	more, err := verifyOffboardings(ctx, st)
	if err != nil {
		return nil, err
	}
	return append(v.problems, more...), nil
}

// replayUpTo replays the campaign events of the log up to event seq (0:
// all of them) over the campaign tables as they are.
func replayUpTo(ctx context.Context, st *audit.Store, seq int64) (*verifier, error) {
	v := &verifier{st: st, replay: map[string]*replayed{}}
	evs, err := st.EventsOfType(ctx, "campaign.")
	if err != nil {
		return nil, err
	}
	if err := v.loadTables(ctx); err != nil {
		return nil, err
	}
	for i := range evs {
		if seq > 0 && evs[i].Seq > seq {
			break
		}
		v.apply(&evs[i])
	}
	return v, nil
}

type replayed struct {
	create    CreatePayload
	createSeq int64
	createdAt string
	createdBy string
	closed    bool
	closedAt  string
	closedBy  string
	closeSeq  int64
	table     *tableCampaign // nil: no row
	items     map[string]*itemState
	history   map[historyKey]histEntry
	itemHist  map[string][]histEntry // per item, in event order
}

type tableCampaign struct {
	c     *Campaign
	raw   map[string]string // columns as stored, for comparison
	items map[string]*tableItem
	order []string // item IDs in ID order
	hist  map[historyKey]histEntry
}

type tableItem struct {
	frozen
	itemState
	rowHash string
}

type historyKey struct {
	id  string
	seq int64
}

type verifier struct {
	st       *audit.Store
	problems []string
	tables   map[string]*tableCampaign // by name
	byID     map[int64]*tableCampaign
	replay   map[string]*replayed
	order    []string // campaigns in creation order
}

func (v *verifier) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *verifier) loadTables(ctx context.Context) error {
	v.tables, v.byID = map[string]*tableCampaign{}, map[int64]*tableCampaign{}
	rows, err := v.st.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id`)
	if err != nil {
		return fmt.Errorf("reading campaigns: %w", err)
	}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return err
		}
		t := &tableCampaign{c: c, items: map[string]*tableItem{}, hist: map[historyKey]histEntry{}}
		v.tables[c.Name], v.byID[c.ID] = t, t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The raw columns, so a value the Go types would normalise still shows.
	raw, err := v.st.Query(ctx, `SELECT id, scope, due, status, snapshot_id, as_of, policy_digest, reviewers, carried_from, item_count,
		population_digest, created_at, created_by, create_seq, COALESCE(closed_at, ''), closed_by, COALESCE(close_seq, 0) FROM campaigns`)
	if err != nil {
		return err
	}
	cols := []string{"scope", "due", "status", "snapshot_id", "as_of", "policy_digest", "reviewers", "carried_from", "item_count",
		"population_digest", "created_at", "created_by", "create_seq", "closed_at", "closed_by", "close_seq"}
	for raw.Next() {
		var id int64
		vals := make([]string, len(cols))
		args := []any{&id}
		for i := range vals {
			args = append(args, &vals[i])
		}
		if err := raw.Scan(args...); err != nil {
			raw.Close()
			return err
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		v.byID[id].raw = m
	}
	raw.Close()
	if err := raw.Err(); err != nil {
		return err
	}

	items, err := v.st.Query(ctx, `SELECT campaign_id, `+frozenColumns+`, row_hash, `+stateColumns+` FROM campaign_items ORDER BY campaign_id, identity_id`)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	orphans := map[int64]int{}
	for items.Next() {
		var cid int64
		it := &tableItem{}
		args := append([]any{&cid, &it.id, &it.kind, &it.name, &it.scope, &it.owner, &it.naturalOwner,
			&it.findings, &it.permissions, &it.reviewer, &it.carried, &it.carriedReason, &it.rowHash}, it.scanArgs()...)
		if err := items.Scan(args...); err != nil {
			items.Close()
			return err
		}
		t := v.byID[cid]
		if t == nil {
			orphans[cid]++
			continue
		}
		t.items[it.id] = it
		t.order = append(t.order, it.id)
	}
	items.Close()
	if err := items.Err(); err != nil {
		return err
	}
	for cid, n := range orphans {
		v.add("campaign items: %d row(s) belong to campaign id %d, which does not exist: rows were added behind nhi's back", n, cid)
	}

	hist, err := v.st.Query(ctx, `SELECT campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes FROM campaign_decisions`)
	if err != nil {
		return fmt.Errorf("reading campaign decisions: %w", err)
	}
	defer hist.Close()
	for hist.Next() {
		var cid int64
		var k historyKey
		var h histEntry
		if err := hist.Scan(&cid, &k.id, &k.seq, &h.decision, &h.reason, &h.actor, &h.at, &h.via, &h.undoes); err != nil {
			return err
		}
		h.seq = k.seq
		if t := v.byID[cid]; t != nil {
			t.hist[k] = h
		} else {
			orphans[cid]++
			v.add("campaign decisions: a decision on %s (event %d) belongs to campaign id %d, which does not exist: rows were added behind nhi's back", audit.Printable(k.id), k.seq, cid)
		}
	}
	return hist.Err()
}

func (v *verifier) apply(e *audit.Event) {
	at := formatAt(e.At)
	bad := func(err error) {
		v.add("event %d (%s by %s): its payload cannot be read: %v", e.Seq, e.Type, e.Actor, err)
	}
	campaign := func(name string) *replayed {
		r := v.replay[name]
		if r == nil {
			v.add("event %d (%s by %s) refers to campaign %s, which no earlier event created", e.Seq, e.Type, e.Actor, audit.Printable(name))
		}
		return r
	}
	switch e.Type {
	case EventCreate:
		var p CreatePayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			bad(err)
			return
		}
		if v.replay[p.Name] != nil {
			v.add("event %d creates campaign %s a second time", e.Seq, audit.Printable(p.Name))
			return
		}
		r := &replayed{create: p, createSeq: e.Seq, createdAt: at, createdBy: e.Actor,
			items: map[string]*itemState{}, history: map[historyKey]histEntry{}, itemHist: map[string][]histEntry{}, table: v.tables[p.Name]}
		v.replay[p.Name] = r
		v.order = append(v.order, p.Name)
		if r.table == nil {
			v.add("campaign %s (created by event %d) is missing from the campaigns table: it was deleted behind nhi's back", audit.Printable(p.Name), e.Seq)
			return
		}
		v.checkPopulation(r, e.Seq)
	case EventDecide, EventConfirm:
		var d DecidePayload
		var c ConfirmPayload
		var name string
		var ids []string
		if e.Type == EventDecide {
			if err := json.Unmarshal(e.Payload, &d); err != nil {
				bad(err)
				return
			}
			name, ids = d.Campaign, d.Items
		} else {
			if err := json.Unmarshal(e.Payload, &c); err != nil {
				bad(err)
				return
			}
			name, ids = c.Campaign, c.Items
		}
		r := campaign(name)
		if r == nil || r.table == nil {
			return
		}
		if r.closed {
			v.add("event %d (%s by %s) decides in campaign %s after it was closed", e.Seq, e.Type, e.Actor, audit.Printable(name))
		}
		via := ViaSingle
		switch {
		case e.Type == EventConfirm:
			via = ViaConfirm
		case d.Filter != "" || len(ids) > 1:
			via = ViaBulk
		}
		for _, id := range ids {
			s := r.items[id]
			if s == nil {
				v.add("event %d (%s by %s) decides %s, which is not in campaign %s's population as the table holds it: items were deleted",
					e.Seq, e.Type, e.Actor, audit.Printable(id), audit.Printable(name))
				continue
			}
			dec, reason := d.Decision, d.Reason
			if e.Type == EventConfirm {
				dec, reason = Decision(r.table.items[id].carried), c.Reason
			}
			s.decide(dec, reason, e.Actor, at, e.Seq)
			r.record(id, s.entry(via))
		}
	case EventUndo:
		var p UndoPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			bad(err)
			return
		}
		r := campaign(p.Campaign)
		if r == nil || r.table == nil {
			return
		}
		if r.closed {
			v.add("event %d (%s by %s) undoes a decision in campaign %s after it was closed", e.Seq, e.Type, e.Actor, audit.Printable(p.Campaign))
		}
		for _, id := range p.Items {
			s := r.items[id]
			if s == nil {
				v.add("event %d (%s by %s) undoes a decision on %s, which is not in campaign %s's population as the table holds it: items were deleted",
					e.Seq, e.Type, e.Actor, audit.Printable(id), audit.Printable(p.Campaign))
				continue
			}
			if s.seq != p.Undoes {
				v.add("event %d (%s by %s) undoes event %d on %s, which was not its decision then", e.Seq, e.Type, e.Actor, p.Undoes, audit.Printable(id))
			}
			prev := restoreBefore(r.itemHist[id], p.Undoes)
			s.undo(prev, e.Actor)
			r.record(id, histEntry{seq: e.Seq, decision: prev.decision, reason: prev.reason, actor: e.Actor, at: at, via: ViaUndo, undoes: p.Undoes})
		}
	case EventClose:
		var p ClosePayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			bad(err)
			return
		}
		r := campaign(p.Campaign)
		if r == nil {
			return
		}
		r.closed, r.closedAt, r.closedBy, r.closeSeq = true, at, e.Actor, e.Seq
		for _, s := range r.items {
			s.close(at, e.Seq)
		}
	case EventVerify:
		var p VerifyPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			bad(err)
			return
		}
		r := campaign(p.Campaign)
		if r == nil {
			return
		}
		for state, ids := range map[string][]string{Removed: p.Removed, StillPresent: p.StillPresent, NotChecked: p.NotChecked,
			Rotated: p.Rotated, NotRotated: p.NotRotated, Transferred: p.Transferred, NotTransferred: p.NotTransferred} {
			for _, id := range ids {
				if s := r.items[id]; s != nil {
					s.verify(state, p.Snapshot, e.Seq)
				} else {
					v.add("event %d (%s) verifies %s, which is not in campaign %s's population as the table holds it: items were deleted",
						e.Seq, e.Type, audit.Printable(id), audit.Printable(p.Campaign))
				}
			}
		}
	default:
		v.add("event %d has type %s, which this nhi does not know", e.Seq, audit.Printable(e.Type))
	}
}

// checkPopulation compares a campaign's items with what its creation
// recorded, and starts every item pending.
func (v *verifier) checkPopulation(r *replayed, seq int64) {
	t, name := r.table, audit.Printable(r.create.Name)
	digest := newPopulationDigest()
	for _, id := range t.order {
		it := t.items[id]
		if it.rowHash != digest.add(&it.frozen) {
			v.add("campaign %s: item %s was edited after creation: its frozen columns (owner, findings, reviewer, ...) no longer match their hash",
				name, audit.Printable(id))
		}
		r.items[id] = &itemState{}
	}
	if len(t.order) != r.create.Count {
		v.add("campaign %s: the table holds %d items but its creation (event %d) recorded %d: items were added or deleted behind nhi's back",
			name, len(t.order), seq, r.create.Count)
	} else if digest.sum() != r.create.PopulationDigest {
		v.add("campaign %s: its population no longer matches the digest its creation (event %d) recorded: items were edited, added or removed behind nhi's back",
			name, seq)
	}
}

func (r *replayed) record(id string, h histEntry) {
	r.history[historyKey{id, h.seq}] = h
	r.itemHist[id] = append(r.itemHist[id], h)
}

func (v *verifier) compare() {
	for _, name := range slices.Sorted(maps.Keys(v.tables)) {
		if v.replay[name] == nil {
			v.add("campaign %s is in the campaigns table but no event created it: it was added behind nhi's back", audit.Printable(name))
		}
	}
	for _, name := range v.order {
		r := v.replay[name]
		if r.table == nil {
			continue
		}
		v.compareCampaign(r)
		v.compareItems(r)
	}
}

func (v *verifier) compareCampaign(r *replayed) {
	p := r.create
	reviewers, _ := json.Marshal(p.Reviewers)
	status, closedAt, closeSeq := StatusOpen, "", "0"
	if r.closed {
		status, closedAt, closeSeq = StatusClosed, r.closedAt, fmt.Sprint(r.closeSeq)
	}
	want := map[string]string{
		"scope": p.Scope, "due": p.Due, "status": status, "snapshot_id": fmt.Sprint(p.Snapshot), "as_of": p.AsOf,
		"policy_digest": p.PolicyDigest, "reviewers": string(reviewers), "carried_from": p.CarriedFrom,
		"item_count": fmt.Sprint(p.Count), "population_digest": p.PopulationDigest, "created_at": r.createdAt,
		"created_by": r.createdBy, "create_seq": fmt.Sprint(r.createSeq), "closed_at": closedAt, "closed_by": r.closedBy,
		"close_seq": closeSeq,
	}
	for _, col := range slices.Sorted(maps.Keys(want)) {
		if got := r.table.raw[col]; got != want[col] {
			v.add("campaign %s: %s is %q in the table but %q by the event log: the table was edited", audit.Printable(p.Name), col, audit.Printable(got), audit.Printable(want[col]))
		}
	}
}

func (v *verifier) compareItems(r *replayed) {
	t, name := r.table, audit.Printable(r.create.Name)
	for _, id := range t.order {
		got, want := &t.items[id].itemState, r.items[id]
		if want == nil {
			continue
		}
		diff := func(field string, g, w any) {
			v.add("campaign %s: item %s: %s is %q in the table but %q by the event log: the table was edited",
				name, audit.Printable(id), field, audit.Printable(fmt.Sprint(g)), audit.Printable(fmt.Sprint(w)))
		}
		switch {
		case got.decision != want.decision:
			diff("decision", got.decision, want.decision)
		case got.reason != want.reason:
			diff("reason", got.reason, want.reason)
		case got.decidedBy != want.decidedBy:
			diff("decided_by", got.decidedBy, want.decidedBy)
		case got.decidedAt != want.decidedAt:
			diff("decided_at", got.decidedAt, want.decidedAt)
		case got.seq != want.seq:
			diff("decision_seq", got.seq, want.seq)
		case got.conflict != want.conflict:
			diff("conflict", got.conflict, want.conflict)
		case got.verification != want.verification:
			diff("verification", got.verification, want.verification)
		case got.verifiedSnapshot != want.verifiedSnapshot:
			diff("verified_snapshot", got.verifiedSnapshot, want.verifiedSnapshot)
		case got.verifySeq != want.verifySeq:
			diff("verify_seq", got.verifySeq, want.verifySeq)
		}
	}
	keys := make([]historyKey, 0, len(t.hist)+len(r.history))
	for k := range t.hist {
		keys = append(keys, k)
	}
	for k := range r.history {
		if _, ok := t.hist[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b historyKey) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	for _, k := range keys {
		g, inTable := t.hist[k]
		w, inLog := r.history[k]
		switch {
		case !inLog:
			v.add("campaign %s: item %s: the decision history has a row for event %d (%s by %s) that the event log does not: it was added behind nhi's back",
				name, audit.Printable(k.id), k.seq, audit.Printable(string(g.decision)), audit.Printable(g.actor))
		case !inTable:
			v.add("campaign %s: item %s: the decision of event %d (%s by %s) is missing from the decision history: it was deleted behind nhi's back",
				name, audit.Printable(k.id), k.seq, w.decision, audit.Printable(w.actor))
		case g != w:
			v.add("campaign %s: item %s: the decision history row of event %d reads %s by %s (%q) but the event log says %s by %s (%q): the table was edited",
				name, audit.Printable(k.id), k.seq, audit.Printable(string(g.decision)), audit.Printable(g.actor), audit.Printable(g.reason),
				w.decision, audit.Printable(w.actor), audit.Printable(w.reason))
		}
	}
}
