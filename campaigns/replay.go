package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Replaying the campaign.* events against the campaign tables without
// holding a campaign whole (issue 21: a million-item campaign). The log is
// read once, in order: what an event says about a campaign (created,
// closed) is applied there, and what it says about items is kept as the
// list of item IDs its payload names (a touch), indexed by ID when the
// campaign is walked. The walk reads the campaign's items and their
// decision history through two cursors in ID order, and rebuilds each
// item's state from the touches that name it (and the closes, which name
// every item), so one item is in memory at a time besides the lists the
// events themselves hold.

// touchOp is what a touch does to the items it names.
type touchOp uint8

const (
	opDecide touchOp = iota
	opConfirm
	opUndo
	opClose // every item of the campaign
	opVerify
)

// touch is what one event does to items of one campaign (a verify event
// makes one touch per list of its payload).
type touch struct {
	op       touchOp
	seq      int64
	sub      int64 // which list of the event, for the order of problems
	typ      string
	actor    string
	at       string // atLayout
	via      string
	decision Decision
	reason   string
	undoes   int64
	state    string // verify: the remediation state
	snapshot int64  // verify: the snapshot that checked it
	ids      []string
}

// replayed is one campaign as the log makes it.
type replayed struct {
	create    CreatePayload
	createSeq int64
	createdAt string
	createdBy string
	closed    bool
	closedAt  string
	closedBy  string
	closeSeq  int64
	rank      int64          // among the campaigns, in creation order
	table     *tableCampaign // nil: no row
	touches   []touch        // in event order
}

// tableCampaign is a campaign's row.
type tableCampaign struct {
	c   *Campaign
	raw map[string]string // columns as stored, for comparison
}

// verifier replays the log; its problems are ordered by their keys, as
// the checks that found them were written (see problemKey).
type verifier struct {
	st       *audit.Store
	upTo     int64 // the last event replayed, 0: all
	problems []problem
	tables   map[string]*tableCampaign // by name
	byID     map[int64]*tableCampaign
	replay   map[string]*replayed
	order    []string // campaigns in creation order
}

// Phases of Verify, in the order their problems are listed.
const (
	phaseTables  = iota // rows that belong to no campaign
	phaseEvents         // the events, in log order
	phaseCompare        // each campaign's tables against its replay
)

// problemKey orders a problem among the others: Verify lists them as it
// listed them when it held every campaign whole (events in log order, then
// the tables campaign by campaign), whatever order the walk found them in.
type problemKey struct {
	k  [4]int64
	id string
	n  int64
}

type problem struct {
	key  problemKey
	text string
}

func (v *verifier) add(key problemKey, format string, args ...any) {
	v.problems = append(v.problems, problem{key, fmt.Sprintf(format, args...)})
}

// eventKey is the key of the kth problem an event found about itself,
// before any about its items.
func (v *verifier) eventKey(seq int64) problemKey {
	return problemKey{k: [4]int64{phaseEvents, seq, -1, int64(len(v.problems))}}
}

// sorted is the problems in order.
func (v *verifier) sorted() []string {
	slices.SortStableFunc(v.problems, func(a, b problem) int {
		if c := slices.Compare(a.key.k[:], b.key.k[:]); c != 0 {
			return c
		}
		if c := strings.Compare(a.key.id, b.key.id); c != 0 {
			return c
		}
		return int(a.key.n - b.key.n)
	})
	out := make([]string, len(v.problems))
	for i := range v.problems {
		out[i] = v.problems[i].text
	}
	return out
}

// replayUpTo reads the campaign rows and replays the campaign events of
// the log up to event seq (0: all of them) at the campaign level; walk
// then replays each campaign's items.
func replayUpTo(ctx context.Context, st *audit.Store, seq int64) (*verifier, error) {
	v := &verifier{st: st, upTo: seq, replay: map[string]*replayed{}}
	if err := v.loadCampaigns(ctx); err != nil {
		return nil, err
	}
	err := eachEventOfType(ctx, st, "campaign.", func(e *audit.Event) error {
		if seq > 0 && e.Seq > seq {
			return errStop
		}
		v.apply(e)
		return nil
	})
	return v, err
}

// errStop ends eachEventOfType early, without an error.
var errStop = fmt.Errorf("stop")

// eachEventOfType calls fn with each event whose type begins with prefix,
// in log order, one at a time (the log may be long; Store.EventsOfType
// holds it whole).
func eachEventOfType(ctx context.Context, st *audit.Store, prefix string, fn func(*audit.Event) error) error {
	rows, err := st.Query(ctx, `SELECT seq, at, actor, type, payload FROM events WHERE substr(type, 1, ?) = ? ORDER BY seq`, len(prefix), prefix)
	if err != nil {
		return fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e audit.Event
		var at, payload string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Type, &payload); err != nil {
			return err
		}
		e.At, _ = time.Parse(atLayout, at)
		e.Payload = json.RawMessage(payload)
		if err := fn(&e); err == errStop {
			return nil
		} else if err != nil {
			return err
		}
	}
	return rows.Err()
}

// loadCampaigns reads the campaign rows, and names the rows of the other
// tables that belong to no campaign.
func (v *verifier) loadCampaigns(ctx context.Context) error {
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
		t := &tableCampaign{c: c}
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

	key := func() problemKey { return problemKey{k: [4]int64{phaseTables, 0, 0, int64(len(v.problems))}} }
	items, err := v.st.Query(ctx, `SELECT campaign_id, count(*) FROM campaign_items
		WHERE campaign_id NOT IN (SELECT id FROM campaigns) GROUP BY campaign_id ORDER BY campaign_id`)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	for items.Next() {
		var cid, n int64
		if err := items.Scan(&cid, &n); err != nil {
			items.Close()
			return err
		}
		v.add(key(), "campaign items: %d row(s) belong to campaign id %d, which does not exist: rows were added behind nhi's back", n, cid)
	}
	items.Close()
	if err := items.Err(); err != nil {
		return err
	}
	hist, err := v.st.Query(ctx, `SELECT campaign_id, identity_id, seq FROM campaign_decisions
		WHERE campaign_id NOT IN (SELECT id FROM campaigns) ORDER BY campaign_id, identity_id, seq`)
	if err != nil {
		return fmt.Errorf("reading campaign decisions: %w", err)
	}
	defer hist.Close()
	for hist.Next() {
		var cid, seq int64
		var id string
		if err := hist.Scan(&cid, &id, &seq); err != nil {
			return err
		}
		v.add(key(), "campaign decisions: a decision on %s (event %d) belongs to campaign id %d, which does not exist: rows were added behind nhi's back", audit.Printable(id), seq, cid)
	}
	return hist.Err()
}

// apply replays one event at the level of its campaign, and keeps what it
// does to items for the walk.
func (v *verifier) apply(e *audit.Event) {
	at := formatAt(e.At)
	bad := func(err error) {
		v.add(v.eventKey(e.Seq), "event %d (%s by %s): its payload cannot be read: %v", e.Seq, e.Type, e.Actor, err)
	}
	campaign := func(name string) *replayed {
		r := v.replay[name]
		if r == nil {
			v.add(v.eventKey(e.Seq), "event %d (%s by %s) refers to campaign %s, which no earlier event created", e.Seq, e.Type, e.Actor, audit.Printable(name))
		}
		return r
	}
	t := touch{seq: e.Seq, typ: e.Type, actor: e.Actor, at: at}
	switch e.Type {
	case EventCreate:
		var p CreatePayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			bad(err)
			return
		}
		if v.replay[p.Name] != nil {
			v.add(v.eventKey(e.Seq), "event %d creates campaign %s a second time", e.Seq, audit.Printable(p.Name))
			return
		}
		r := &replayed{create: p, createSeq: e.Seq, createdAt: at, createdBy: e.Actor, table: v.tables[p.Name], rank: int64(len(v.order))}
		v.replay[p.Name] = r
		v.order = append(v.order, p.Name)
		if r.table == nil {
			v.add(v.eventKey(e.Seq), "campaign %s (created by event %d) is missing from the campaigns table: it was deleted behind nhi's back", audit.Printable(p.Name), e.Seq)
		}
	case EventDecide, EventConfirm:
		var d DecidePayload
		var c ConfirmPayload
		var name string
		if e.Type == EventDecide {
			if err := json.Unmarshal(e.Payload, &d); err != nil {
				bad(err)
				return
			}
			name, t.ids, t.op, t.decision, t.reason = d.Campaign, d.Items, opDecide, d.Decision, d.Reason
		} else {
			if err := json.Unmarshal(e.Payload, &c); err != nil {
				bad(err)
				return
			}
			name, t.ids, t.op, t.reason = c.Campaign, c.Items, opConfirm, c.Reason
		}
		r := campaign(name)
		if r == nil || r.table == nil {
			return
		}
		if r.closed {
			v.add(v.eventKey(e.Seq), "event %d (%s by %s) decides in campaign %s after it was closed", e.Seq, e.Type, e.Actor, audit.Printable(name))
		}
		t.via = ViaSingle
		switch {
		case e.Type == EventConfirm:
			t.via = ViaConfirm
		case d.Filter != "" || len(t.ids) > 1:
			t.via = ViaBulk
		}
		r.touches = append(r.touches, t)
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
			v.add(v.eventKey(e.Seq), "event %d (%s by %s) undoes a decision in campaign %s after it was closed", e.Seq, e.Type, e.Actor, audit.Printable(p.Campaign))
		}
		t.op, t.ids, t.undoes = opUndo, p.Items, p.Undoes
		r.touches = append(r.touches, t)
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
		t.op = opClose
		r.touches = append(r.touches, t)
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
		// One touch per list, in a fixed order: an item in two lists ends
		// in the state of the later.
		t.op, t.snapshot = opVerify, p.Snapshot
		for i, l := range []struct {
			state string
			ids   []string
		}{{Removed, p.Removed}, {StillPresent, p.StillPresent}, {NotChecked, p.NotChecked},
			{Rotated, p.Rotated}, {NotRotated, p.NotRotated}, {Transferred, p.Transferred}, {NotTransferred, p.NotTransferred}} {
			if len(l.ids) > 0 {
				t.sub, t.state, t.ids = int64(i), l.state, l.ids
				r.touches = append(r.touches, t)
			}
		}
	default:
		v.add(v.eventKey(e.Seq), "event %d has type %s, which this nhi does not know", e.Seq, audit.Printable(e.Type))
	}
}

// walkedItem is one item as the walk passes it: its row, the state and
// history the events give it, and its rows of the decision history.
type walkedItem struct {
	frozen
	table   itemState // as the row holds it
	rowHash string
	state   itemState    // as the events make it
	hist    []histEntry  // as the events make it, in event order
	rows    []histEntry  // the decision history's rows, in event order
	n       int64        // its position in the walk
	touched []touchedPos // scratch: the touches naming it
}

// histRow is a row of the decision history.
type histRow struct {
	id    string
	entry histEntry
}

// touchedPos is one mention of an item by a touch: which touch, and where
// in its list.
type touchedPos struct{ touch, pos int32 }

// walk reads campaign r's items and their decision history in ID order
// and calls fn with each item as the events make it. Rows of the history
// whose item the table does not hold go to orphan; the IDs the events name
// that the table does not hold are problems (items were deleted).
func (v *verifier) walk(ctx context.Context, r *replayed, fn func(*walkedItem), orphan func(id string, h histEntry)) error {
	// The mentions of each ID, chained in event order: the first in
	// first, the next of each in next.
	var mentions []touchedPos
	first := map[string]int32{}
	var n int
	for i := range r.touches {
		n += len(r.touches[i].ids)
	}
	mentions = make([]touchedPos, 0, n)
	next := make([]int32, 0, n)
	var closes []int32
	for ti := range r.touches {
		t := &r.touches[ti]
		if t.op == opClose {
			closes = append(closes, int32(ti))
		}
		for pos := range t.ids {
			mentions = append(mentions, touchedPos{int32(ti), int32(pos)})
			next = append(next, -1)
		}
	}
	last := map[string]int32{}
	for m := range mentions {
		id := r.touches[mentions[m].touch].ids[mentions[m].pos]
		if l, ok := last[id]; ok {
			next[l] = int32(m)
		} else {
			first[id] = int32(m)
		}
		last[id] = int32(m)
	}
	clear(last)
	last = nil

	if r.table != nil {
		if err := v.walkItems(ctx, r, first, mentions, next, closes, fn, orphan); err != nil {
			return err
		}
	}
	// What is left in first was never found among the items.
	name := audit.Printable(r.create.Name)
	for id, m := range first {
		for ; m >= 0; m = next[m] {
			t := &r.touches[mentions[m].touch]
			key := problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(mentions[m].pos)}}
			switch t.op {
			case opDecide, opConfirm:
				v.add(key, "event %d (%s by %s) decides %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, t.actor, audit.Printable(id), name)
			case opUndo:
				v.add(key, "event %d (%s by %s) undoes a decision on %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, t.actor, audit.Printable(id), name)
			case opVerify:
				v.add(key, "event %d (%s) verifies %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, audit.Printable(id), name)
			}
		}
	}
	return nil
}

func (v *verifier) walkItems(ctx context.Context, r *replayed, first map[string]int32, mentions []touchedPos, next, closes []int32,
	fn func(*walkedItem), orphan func(id string, h histEntry)) error {
	items, err := v.st.Query(ctx, `SELECT `+frozenColumns+`, row_hash, `+stateColumns+` FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`, r.table.c.ID)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	defer items.Close()
	// The history in the same order; a row whose item is not in the table
	// is flagged, so the two cursors keep step comparing IDs for equality
	// only (the database's collation need not be Go's).
	hist, err := v.st.Query(ctx, `SELECT d.identity_id, d.seq, d.decision, d.reason, d.actor, d.at, d.via, d.undoes,
		CASE WHEN i.identity_id IS NULL THEN 1 ELSE 0 END
		FROM campaign_decisions d LEFT JOIN campaign_items i ON i.campaign_id = d.campaign_id AND i.identity_id = d.identity_id
		WHERE d.campaign_id = ? ORDER BY d.identity_id, d.seq`, r.table.c.ID)
	if err != nil {
		return fmt.Errorf("reading campaign decisions: %w", err)
	}
	defer hist.Close()
	var pending *histRow
	var pendingOrphan bool
	readHistory := func() error {
		pending = nil
		if !hist.Next() {
			if err := hist.Err(); err != nil {
				return fmt.Errorf("reading campaign decisions: %w", err)
			}
			return nil
		}
		h := &histRow{}
		if err := hist.Scan(&h.id, &h.entry.seq, &h.entry.decision, &h.entry.reason, &h.entry.actor, &h.entry.at, &h.entry.via, &h.entry.undoes, &pendingOrphan); err != nil {
			return err
		}
		pending = h
		return nil
	}
	if err := readHistory(); err != nil {
		return err
	}
	w := &walkedItem{}
	for w.n = 0; items.Next(); w.n++ {
		w.rowHash = ""
		if err := scanFrozen(items, &w.frozen, append([]any{&w.rowHash}, w.table.scanArgs()...)...); err != nil {
			return err
		}
		w.rows = w.rows[:0]
		for pending != nil && (pendingOrphan || pending.id == w.id) {
			if pendingOrphan {
				orphan(pending.id, pending.entry)
			} else {
				w.rows = append(w.rows, pending.entry)
			}
			if err := readHistory(); err != nil {
				return err
			}
		}
		w.touched = w.touched[:0]
		if m, ok := first[w.id]; ok {
			delete(first, w.id)
			for ; m >= 0; m = next[m] {
				w.touched = append(w.touched, mentions[m])
			}
		}
		v.replayItem(r, w, closes)
		fn(w)
	}
	if err := items.Err(); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	// Rows after the last item belong to none.
	for pending != nil {
		orphan(pending.id, pending.entry)
		if err := readHistory(); err != nil {
			return err
		}
	}
	return nil
}

// replayItem rebuilds w's state and history from the touches naming it
// and the campaign's closes, in event order.
func (v *verifier) replayItem(r *replayed, w *walkedItem, closes []int32) {
	s := &w.state
	*s = itemState{}
	w.hist = w.hist[:0]
	i, c := 0, 0
	for i < len(w.touched) || c < len(closes) {
		var t *touch
		var pos int32
		if c < len(closes) && (i == len(w.touched) || closes[c] < w.touched[i].touch) {
			t = &r.touches[closes[c]]
			c++
		} else {
			t, pos = &r.touches[w.touched[i].touch], w.touched[i].pos
			i++
		}
		switch t.op {
		case opDecide, opConfirm:
			dec := t.decision
			if t.op == opConfirm {
				dec = Decision(w.carried)
			}
			s.decide(dec, t.reason, t.actor, t.at, t.seq)
			w.hist = append(w.hist, s.entry(t.via))
		case opUndo:
			if s.seq != t.undoes {
				v.add(problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(pos)}}, "event %d (%s by %s) undoes event %d on %s, which was not its decision then",
					t.seq, t.typ, t.actor, t.undoes, audit.Printable(w.id))
			}
			prev := restoreBefore(w.hist, t.undoes)
			s.undo(prev, t.actor)
			w.hist = append(w.hist, histEntry{seq: t.seq, decision: prev.decision, reason: prev.reason, actor: t.actor, at: t.at, via: ViaUndo, undoes: t.undoes})
		case opClose:
			s.close(t.at, t.seq)
		case opVerify:
			s.verify(t.state, t.snapshot, t.seq)
		}
	}
}
