package campaigns

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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
	to       string // a transfer's new owner
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
	// people is the directory's person.set events, read once for
	// verify's passes over who acted (readPersonChanges): the deciders,
	// the leavers' other acts and the approvers.
	people []personChange
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
var errStop = errors.New("stop")

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
	orphans, err := v.unknownCampaigns(ctx, "campaign_items")
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	for _, cid := range orphans {
		var n int64
		if err := v.st.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE campaign_id = ?`, cid).Scan(&n); err != nil {
			return fmt.Errorf("reading campaign items: %w", err)
		}
		v.add(key(), "campaign items: %s to campaign id %d, which does not exist: rows were added behind nhi's back", audit.Counted(int(n), "row belongs", "rows belong"), cid)
	}
	if orphans, err = v.unknownCampaigns(ctx, "campaign_decisions"); err != nil {
		return fmt.Errorf("reading campaign decisions: %w", err)
	}
	for _, cid := range orphans {
		if err := v.orphanDecisions(ctx, cid, key); err != nil {
			return fmt.Errorf("reading campaign decisions: %w", err)
		}
	}
	return nil
}

// unknownCampaigns lists the campaign IDs of table's rows that no campaign
// has, from one seek per campaign ID (the tables' keys begin with it),
// not a read of every row.
func (v *verifier) unknownCampaigns(ctx context.Context, table string) ([]int64, error) {
	rows, err := v.st.Query(ctx, `WITH RECURSIVE ids(id) AS (
		SELECT (SELECT min(campaign_id) FROM `+table+`)
		UNION ALL SELECT (SELECT min(campaign_id) FROM `+table+` WHERE campaign_id > ids.id) FROM ids WHERE ids.id IS NOT NULL)
		SELECT id FROM ids WHERE id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if v.byID[id] == nil {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

func (v *verifier) orphanDecisions(ctx context.Context, cid int64, key func() problemKey) error {
	rows, err := v.st.Query(ctx, `SELECT identity_id, seq FROM campaign_decisions WHERE campaign_id = ? ORDER BY identity_id, seq`, cid)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&id, &seq); err != nil {
			return err
		}
		v.add(key(), "campaign decisions: a decision on %s (event %d) belongs to campaign id %d, which does not exist: rows were added behind nhi's back", audit.Printable(id), seq, cid)
	}
	return rows.Err()
}

// unsigned adds a problem when event e, which does what in campaign r,
// claims no signature although r was created with --require-signed:
// nhi refuses such a decision (rule unsigned), so one in the log was
// written around it, and its report would say every decision had to be
// signed. A signature claimed is checked with the rest (audit's
// verifySignatures: missing, replaced, not the actor's key).
func (v *verifier) unsigned(e *audit.Event, r *replayed, signedBy, what string) {
	if r.create.RequireSigned && signedBy == "" {
		v.add(v.eventKey(e.Seq), "event %d (%s by %s) %s in campaign %s, which requires signed decisions, and is not signed: nhi refuses such a decision (rule unsigned), so it was written around nhi",
			e.Seq, e.Type, audit.Printable(e.Actor), what, audit.Printable(r.create.Name))
	}
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
			name, t.ids, t.op, t.decision, t.reason, t.to = d.Campaign, d.Items, opDecide, d.Decision, d.Reason, d.To
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
		v.unsigned(e, r, cmp.Or(d.SignedBy, c.SignedBy), "decides")
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
		v.unsigned(e, r, p.SignedBy, "undoes a decision")
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
