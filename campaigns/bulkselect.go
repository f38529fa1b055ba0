package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
	spoolfile "github.com/nhi-audit/nhi/internal/spool"
)

// A bulk decision's filter reads each item as the filter language sees
// an identity: its observation in the campaign's snapshot with the owner
// and findings frozen at creation (frozenIdentity), and, for decision:
// and reviewer:me, the item's decision and whether the actor reviews it,
// as they stand under the write lock. The first part is frozen, so it is
// read before the lock, the campaign's snapshots an observation batch at
// a time with their items (issue 21: a campaign of a million items held
// every observation and every item decoded, twice). What is kept of it
// is, for each item the filter can select, the states of its review in
// which it does (bulkSelection); under the lock the items are read again
// through a cursor, their state alone decoded, and each is looked up.

// bulkHeld, when set, is given the ID of each identity the selection
// judges and its item's, and of each item read under the lock, as read:
// a test counts how many of them are still held
// (TestBulkDecisionHoldsABatchAtOnce, TestBulkDecisionHoldsNotItsSelection).
var bulkHeld func(id string)

// bulkSelection is what the filter selects of a campaign's items before
// the write lock: every item when there is no filter (all); else the
// items the filter matches in some state of their review, with a bit
// for each state it matches in (stateBit). An item not listed is matched
// in none. It is kept on disk, a run of (ID, mask) records in ID order
// for each snapshot judged, merged under the lock with the cursor that
// reads the items again in the same order (issue 21: a map of a million
// IDs, their masks and texts, 518 MB of heap at a million).
type bulkSelection struct {
	all   bool
	slots map[Decision]int // a decision's place in stateBit
	// kinds: where the filter tells them (filter.RequiredKinds), the
	// kinds an item must have to match, and only the items of these are
	// judged and read again under the lock; nil: every kind (issue 21: a
	// bulk decision by kind:X read every item of a million twice, in
	// the preview and in the decision, to decide the 4% of kind X).
	kinds []string
	// runs: one for each of the campaign's snapshots, in its order, and
	// a last for the items no snapshot holds. An ID in two runs is
	// judged as the later run's record says, as a map filled in that
	// order held it; so where there are several snapshots a run keeps
	// the items matched in no state too (a later snapshot's "none"
	// undoes an earlier's match).
	runs []*selectionRun
}

// selectionRun is the records of one snapshot's judged items, in ID
// order, byte by byte as Go compares (byteOrder).
type selectionRun struct {
	w    *spoolfile.Writer
	n    int    // records written
	last string // the ID last written

	r    *spoolfile.Reader // nil until read; opened again by rewind
	left int               // records not read yet
	id   string            // the record read last: valid while held
	mask uint64
	held bool
}

func newSelectionRun() (*selectionRun, error) {
	w, err := spoolfile.Create("", "nhi-bulk-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the bulk decision's selection: %w", err)
	}
	return &selectionRun{w: w}, nil
}

// add writes item id's record: the states of its review the filter
// matches it in.
func (r *selectionRun) add(id string, mask uint64) error {
	if r.n > 0 && id <= r.last {
		// The merge under the lock reads each run once, forward.
		return fmt.Errorf("item %s: the snapshot's observations are not in ID order (after %s)", audit.Printable(id), audit.Printable(r.last))
	}
	r.w.String(id)
	r.w.Int(int64(mask))
	r.n, r.last = r.n+1, id
	return r.w.Err()
}

// rewind starts reading the run again from its first record: a write
// transaction tried again reads the items again from the first.
func (r *selectionRun) rewind() error {
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("spooling the bulk decision's selection: %w", err)
	}
	rd, err := r.w.Open(true)
	if err != nil {
		return fmt.Errorf("reading the bulk decision's selection back: %w", err)
	}
	r.r, r.left, r.id, r.held = rd, r.n, "", false
	return nil
}

// at reads forward to item id and returns its record's mask, or found
// false when the run holds no record of it. The IDs asked for must rise.
func (r *selectionRun) at(id string) (mask uint64, found bool, err error) {
	for (!r.held || r.id < id) && r.left > 0 {
		r.r.Next()
		r.id, r.mask = r.r.String(), uint64(r.r.Int())
		r.left--
		if err := r.r.Err(); err != nil {
			return 0, false, fmt.Errorf("reading the bulk decision's selection back: %w", err)
		}
		r.held = true
	}
	if !r.held || r.id != id {
		return 0, false, nil
	}
	return r.mask, true, nil
}

// rewind starts the merge again from the first item.
func (s *bulkSelection) rewind() error {
	for _, r := range s.runs {
		if err := r.rewind(); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the runs' files.
func (s *bulkSelection) remove() {
	for _, r := range s.runs {
		r.w.Remove()
	}
}

// maxDecisionSlots bounds the decisions a selection tells apart: two
// bits each (the actor reviews the item or not) in a uint64.
const maxDecisionSlots = 32

// everyState is the mask of an item matched whatever its review's state:
// the filter reads none of it.
const everyState = ^uint64(0)

func stateBit(slot int, mine bool) uint64 {
	if mine {
		return 1 << (2*slot + 1)
	}
	return 1 << (2 * slot)
}

// selects reports whether the filter matches item id with decision d,
// the actor reviewing it (mine) or not. The items are asked for in ID
// order (rewind starts again).
func (s *bulkSelection) selects(id string, d Decision, mine bool) (bool, error) {
	if s.all {
		return true, nil
	}
	var m uint64
	for i := len(s.runs) - 1; i >= 0; i-- {
		mask, found, err := s.runs[i].at(id)
		if err != nil {
			return false, err
		}
		if found {
			m = mask
			break
		}
	}
	switch m {
	case 0:
		return false, nil
	case everyState:
		return true, nil
	}
	slot, ok := s.slots[d]
	if !ok {
		// Decisions are those nhi writes, and the others the campaign
		// held when the selection was made; a new one written meanwhile
		// by another program is not guessed at.
		return false, fmt.Errorf("item %s: its decision %q changed to one this nhi does not know while the filter was read; try again", audit.Printable(id), string(d))
	}
	return m&stateBit(slot, mine) != 0, nil
}

// itemReview answers a filter's campaign terms about the one item it
// matches: the campaign in view is the one decided in, and every subject
// is an item of it.
type itemReview struct {
	inView, id string
	item       filter.Item
}

func (r *itemReview) Item(campaign, id string) (filter.Item, bool) {
	if (campaign != "" && campaign != r.inView) || id != r.id {
		return filter.Item{}, false
	}
	return r.item, true
}

// selectForBulk reads which items of c the filter f can select (see
// bulkSelection), a batch of observations and their items at a time.
// The caller removes the selection's files (remove), an error's too.
func selectForBulk(ctx context.Context, st *audit.Store, c *Campaign, f *filter.Filter) (sel *bulkSelection, err error) {
	sel = &bulkSelection{all: f.String() == ""}
	if sel.all {
		return sel, nil
	}
	if kinds, ok := f.RequiredKinds(); ok {
		sel.kinds = append([]string{}, kinds...) // not nil: none is none
	}
	defer func() {
		if err != nil {
			sel.remove()
		}
	}()
	var decisions []Decision
	if f.NeedsCampaign() {
		var err error
		if decisions, err = decisionsHeld(ctx, st, c.ID); err != nil {
			return nil, err
		}
		sel.slots = make(map[Decision]int, len(decisions))
		for i, d := range decisions {
			sel.slots[d] = i
		}
	}
	r := &itemReview{inView: strings.ToLower(c.Name)}
	// Time terms count from the start of the item's own snapshot, as
	// the scope did at creation.
	env := &filter.Env{Now: c.AsOf, Review: r}
	envs := map[int64]*filter.Env{}
	for _, u := range c.Snapshots {
		if at, err := time.Parse(time.RFC3339, u.AsOf); err == nil {
			envs[u.ID] = &filter.Env{Now: at, Review: r}
		}
	}
	snaps := c.snapshotIDs()
	// Items matched in no state are kept only where a later snapshot's
	// record of an ID must undo an earlier one's (bulkSelection.runs).
	keepNone := len(snaps) > 1
	var run *selectionRun
	judge := func(id *audit.Identity, fr *frozen) error {
		if err := frozenIdentity(id, fr); err != nil {
			return err
		}
		e := env
		if se := envs[id.SnapshotID]; se != nil {
			e = se
		}
		if bulkHeld != nil {
			bulkHeld(id.ID)
			bulkHeld(fr.id)
		}
		r.id = fr.id
		var m uint64
		if !f.NeedsCampaign() {
			if f.Match(id, e) {
				m = everyState
			}
		} else {
			for slot, d := range decisions {
				for _, mine := range []bool{false, true} {
					r.item = Assignment{Reviewer: fr.reviewer, Decision: d, Mine: mine}.filterItem()
					if f.Match(id, e) {
						m |= stateBit(slot, mine)
					}
				}
			}
		}
		if m == 0 && !keepNone {
			return nil
		}
		return run.add(fr.id, m)
	}
	newRun := func() error {
		r, err := newSelectionRun()
		if err != nil {
			return err
		}
		sel.runs = append(sel.runs, r)
		run = r
		return nil
	}
	for _, snap := range snaps {
		if err := newRun(); err != nil {
			return nil, err
		}
		err := st.EachObservationInSnapshot(ctx, snap, sel.kinds, func(batch []audit.Identity) error {
			ids := make([]string, len(batch))
			for i := range batch {
				ids[i] = batch[i].ID
			}
			list, err := json.Marshal(ids)
			if err != nil {
				return err
			}
			items, err := frozenItems(ctx, st, c.ID, `identity_id IN (SELECT value FROM json_each(?))`, string(list))
			if err != nil {
				return err
			}
			for i := range batch {
				if fr := items[batch[i].ID]; fr != nil {
					if err := judge(&batch[i], fr); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// An item its snapshot does not hold (cannot happen while the
	// snapshot is intact) is judged on its frozen columns alone.
	// The snapshots as placeholders: a JSON list's values are text on
	// PostgreSQL, and a snapshot's ID an integer.
	args := make([]any, len(snaps))
	for i, snap := range snaps {
		args[i] = snap
	}
	// Each item looked for by the observations' key, where NOT IN built
	// a set of every observation of the snapshots first: a bulk decision
	// by kind (bulkSelection.kinds) looks for its kind's items alone
	// (issue 21: the set was a third of kind:X's CPU once the items of
	// other kinds were no longer judged; 'id:*' costs the same).
	narrow, kindArgs := audit.OfKinds("kind", sel.kinds)
	missing, err := frozenItems(ctx, st, c.ID, `NOT EXISTS (SELECT 1 FROM observations o WHERE o.snapshot_id IN (?`+strings.Repeat(", ?", len(snaps)-1)+`)
		AND o.identity_id = campaign_items.identity_id)`+narrow, append(args, kindArgs...)...)
	if err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return sel, nil
	}
	// No snapshot holds them: a run of their own, in ID order, which no
	// other run's ID is in.
	if err := newRun(); err != nil {
		return nil, err
	}
	keepNone = false
	for _, key := range slices.Sorted(maps.Keys(missing)) {
		fr := missing[key]
		id := &audit.Identity{Observation: audit.Observation{ID: fr.id, Kind: audit.Kind(fr.kind), Name: fr.name, Scope: fr.scope}}
		if err := judge(id, fr); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

// frozenIdentity makes id, an item's observation in its snapshot, the
// identity the filter sees: the owner and findings frozen at creation.
func frozenIdentity(id *audit.Identity, f *frozen) error {
	id.Owner = f.owner
	id.Findings = nil
	if err := json.Unmarshal([]byte(f.findings), &id.Findings); err != nil {
		return fmt.Errorf("item %s: findings: %w", f.id, err)
	}
	id.Permissions = nil
	if err := json.Unmarshal([]byte(f.permissions), &id.Permissions); err != nil {
		return fmt.Errorf("item %s: permissions: %w", f.id, err)
	}
	return nil
}

// frozenItems reads the frozen columns of campaign campaignID's items
// that where, with args, selects, by ID.
func frozenItems(ctx context.Context, st *audit.Store, campaignID int64, where string, args ...any) (map[string]*frozen, error) {
	rows, err := st.Query(ctx, `SELECT `+frozenColumns+` FROM campaign_items WHERE campaign_id = ? AND `+where, append([]any{campaignID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	out := map[string]*frozen{}
	for rows.Next() {
		f := &frozen{}
		if err := scanFrozen(rows, f); err != nil {
			return nil, err
		}
		out[f.id] = f
	}
	return out, rows.Err()
}

// decisionsHeld are the decisions a selection tells apart: those nhi
// writes, and any other the campaign's items hold.
func decisionsHeld(ctx context.Context, st *audit.Store, campaignID int64) ([]Decision, error) {
	out := []Decision{Pending, Decommission, Keep, Rotate, NoResponse, Transfer}
	rows, err := st.Query(ctx, `SELECT DISTINCT decision FROM campaign_items WHERE campaign_id = ?`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > maxDecisionSlots {
		return nil, fmt.Errorf("campaign items hold %d different decisions; a bulk decision tells at most %d apart", len(out), maxDecisionSlots)
	}
	return out, nil
}

// pickColumns are frozenColumns as pickForBulk reads them under the
// lock: those its checks read (the separation rules: the owner and the
// holder; eligible and the decision: the reviewer and the carried
// decision), the others empty. The findings and permissions are an
// item's longest texts, and the filter read them before the lock.
const pickColumns = `identity_id, '', '', '', owner, natural_owner, '', '', reviewer, carried, ''`

// bulkPicked is what a bulk decision decides, as pickForBulk found it:
// the items in ID order, which its event lists, each one's group of the
// decision it takes, and what its outcome counts of them.
type bulkPicked struct {
	n int // the items picked
	// listed is the length of the items' IDs as the event's list of
	// them writes them, a comma between two (withItems).
	listed int
	groups []*bulkGroup
	// each holds a record for each item picked, in ID order: its ID,
	// the place of its group in groups, and whether the decision marks
	// it a conflict. On disk, as the selection is (issue 21: a million
	// items' IDs were a list of 100 MB held from the pick to the
	// command's end, their groups and conflicts a second and a third).
	each *spoolfile.Writer
	// notAssigned: items assigned to another reviewer or to nobody;
	// conflicts: items whose decision someone else made.
	notAssigned, conflicts int
}

// bulkGroup is the items taking one decision, written together; only a
// confirmation gives different ones (each its carried decision).
type bulkGroup struct {
	decision    Decision
	reason, via string
}

// decisionsBatch is how many items' decisions one statement writes.
const decisionsBatch = 2048

// pickForBulk reads the items of c under the write lock, in ID order
// through one cursor, and returns those sel selects in their state now
// that eligible takes and the actor may decide, counting in res those it
// leaves and listing in refusals those a separation rule refuses. Of an
// item picked it keeps the ID and what its decision (decision) writes,
// not the item: a bulk decision of a million items holds none whole. No
// other statement runs while the cursor is open: a transaction on
// PostgreSQL has one connection, which a cursor holds.
func pickForBulk(ctx context.Context, tx *audit.Tx, remote bool, c *Campaign, sep *separation, sel *bulkSelection, actor string, mineOnly bool,
	eligible func(*Campaign, *liveItem, *BulkOutcome) bool, decision func(*liveItem) (Decision, string, string),
	res *BulkOutcome, refusals *[]itemRefusal) (_ *bulkPicked, err error) {
	ren, err := readRenames(ctx, tx)
	if err != nil {
		return nil, err
	}
	// The ID each renamed item's identity has now, and the owner
	// recorded under it; an item's own owner comes with its row.
	renamed, err := itemRenames(ctx, tx, c.ID, ren)
	if err != nil {
		return nil, err
	}
	ownersNow, err := ownersOf(ctx, tx, renamed)
	if err != nil {
		return nil, err
	}
	// The campaign decided in is the one in view: decision: and
	// reviewer: read its items, as they stand in this transaction.
	dir, err := tx.People(ctx)
	if err != nil {
		return nil, err
	}
	mine := newMineOf(actor, dir)
	if err := sel.rewind(); err != nil {
		return nil, err
	}
	each, err := spoolfile.Create("", "nhi-bulk-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the bulk decision's items: %w", err)
	}
	out := &bulkPicked{each: each}
	defer func() {
		if err != nil {
			out.remove()
		}
	}()
	// In the selection's order, byte by byte (selectionRun).
	order := `identity_id`
	if remote {
		order = `identity_id COLLATE "C"`
	}
	// Of the kinds the filter can match alone, where it tells them
	// (bulkSelection.kinds): an item of another is in no run.
	narrow, kindArgs := audit.OfKinds("kind", sel.kinds)
	rows, err := tx.Query(ctx, `SELECT `+pickColumns+`, `+stateColumns+`,
		COALESCE((SELECT owner FROM owners WHERE owners.identity_id = campaign_items.identity_id), '')
		FROM campaign_items WHERE campaign_id = ?`+narrow+` ORDER BY `+order, append([]any{c.ID}, kindArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			it    liveItem
			owner string
		)
		if err := scanFrozen(rows, &it.frozen, append(it.scanArgs(), &owner)...); err != nil {
			return nil, err
		}
		if bulkHeld != nil {
			bulkHeld(it.id)
		}
		ok, err := sel.selects(it.id, it.decision, mine.of(it.reviewer))
		if err != nil {
			return nil, err
		}
		if !ok || !eligible(c, &it, res) {
			continue
		}
		if mineOnly && (it.reviewer == "" || !sep.same(it.reviewer, actor)) {
			if it.reviewer == "" {
				res.Unassigned++
			} else {
				res.NotMine++
			}
			continue
		}
		res.Matched++
		if r := sep.refusalNow(&it.frozen, owner, ownersNow[renamed[it.id]], actor); r != nil {
			res.SkippedOwn = append(res.SkippedOwn, it.id)
			*refusals = append(*refusals, itemRefusal{it.id, *r})
			continue
		}
		out.add(&it, decision, sep, actor)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	if err := out.each.Close(); err != nil {
		return nil, fmt.Errorf("spooling the bulk decision's items: %w", err)
	}
	return out, nil
}

// add picks item it.
func (p *bulkPicked) add(it *liveItem, decision func(*liveItem) (Decision, string, string), sep *separation, actor string) {
	if it.reviewer == "" || !sep.same(it.reviewer, actor) {
		p.notAssigned++
	}
	if it.decidedBy != "" && !sep.same(it.decidedBy, actor) {
		p.conflicts++
	}
	d, reason, via := decision(it)
	g := -1
	for i, x := range p.groups {
		if x.decision == d && x.via == via {
			g = i
		}
	}
	if g < 0 {
		g = len(p.groups)
		p.groups = append(p.groups, &bulkGroup{decision: d, reason: reason, via: via})
	}
	// The item's state as the decision leaves it says whether it
	// becomes a conflict (itemState.decide, the one rule for it).
	after := it.itemState
	after.decide(d, reason, actor, "", 0)
	p.record(it.id, g, after.conflict && !it.conflict)
}

// record writes item id's record: the place of its group in groups, and
// whether the decision makes it a conflict.
func (p *bulkPicked) record(id string, group int, conflict bool) {
	if p.n > 0 {
		p.listed++ // the comma
	}
	p.n++
	p.listed += listedLen(id)
	p.each.String(id)
	p.each.Int(int64(group))
	p.each.Bool(conflict)
}

// withItems is payload v, whose list of items is empty, as its canonical
// JSON with the items picked listed in it, in ID order: written straight
// into one text sized once, from the items' file (issue 21: the list of
// a million IDs in the payload, then encoded into a buffer, copied into
// another and then into a string, was a Go heap of 591 MB at its peak).
// The event's text must still be one value, to be inserted.
func (p *bulkPicked) withItems(v any) (audit.CanonicalPayload, error) {
	frame, err := audit.Canonical(v)
	if err != nil {
		return "", err
	}
	// The key, at its first place: a string value holding the text has
	// its quotes escaped.
	const key = `"items":[`
	at := strings.Index(string(frame), key+"]")
	if at < 0 {
		return "", fmt.Errorf("a bulk decision's payload has no empty list of items: %.80s", frame)
	}
	at += len(key)
	var b strings.Builder
	b.Grow(len(frame) + p.listed)
	b.WriteString(string(frame[:at]))
	first := true
	err = p.eachPicked(true, -1, func(id string, _ int, _ bool) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeItemID(&b, id)
		return nil
	})
	if err != nil {
		return "", err
	}
	b.WriteString(string(frame[at:]))
	if b.Len() != len(frame)+p.listed {
		return "", fmt.Errorf("a bulk decision's payload is %d bytes where its items made %d", b.Len(), len(frame)+p.listed)
	}
	return audit.CanonicalPayload(b.String()), nil
}

// plainJSON reports whether canonical JSON writes id between quotes as
// it is: printable ASCII, no quote or backslash (HTML is not escaped).
// Most IDs are; any other goes through the encoder, whose escapes the
// event's hash covers.
func plainJSON(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// listedLen is the length of id as writeItemID writes it.
func listedLen(id string) int {
	if plainJSON(id) {
		return len(id) + 2
	}
	s, _ := audit.Canonical(id) // a string always encodes
	return len(s)
}

// writeItemID writes id into b as canonical JSON does.
func writeItemID(b *strings.Builder, id string) {
	if plainJSON(id) {
		b.WriteByte('"')
		b.WriteString(id)
		b.WriteByte('"')
		return
	}
	s, _ := audit.Canonical(id)
	b.WriteString(string(s))
}

// items are the IDs of the first limit items picked (every one where
// limit < 0), in ID order.
func (p *bulkPicked) items(limit int) ([]string, error) {
	n := p.n
	if limit >= 0 {
		n = min(n, limit)
	}
	out := make([]string, 0, n)
	err := p.eachPicked(false, limit, func(id string, _ int, _ bool) error {
		out = append(out, id)
		return nil
	})
	return out, err
}

// eachPicked gives fn each of the first limit items picked (every one
// where limit < 0), in ID order, as record wrote it: its ID, the place
// of its group in groups, and whether the decision makes it a conflict.
// A transient ID is valid only until fn returns (spool.Writer.Open).
func (p *bulkPicked) eachPicked(transient bool, limit int, fn func(id string, group int, conflict bool) error) error {
	n := p.n
	if limit >= 0 {
		n = min(n, limit)
	}
	r, err := p.each.Open(transient)
	if err != nil {
		return fmt.Errorf("reading the bulk decision's items back: %w", err)
	}
	for range n {
		r.Next()
		id, group, conflict := r.String(), int(r.Int()), r.Bool()
		if err := r.Err(); err != nil {
			return fmt.Errorf("reading the bulk decision's items back: %w", err)
		}
		if err := fn(id, group, conflict); err != nil {
			return err
		}
	}
	return nil
}

// write stores the decisions of the items picked, recorded by event seq
// at at: a group after another, as one statement each wrote them,
// decisionsBatch items at a time.
func (p *bulkPicked) write(ctx context.Context, tx *audit.Tx, campaignID int64, actor, at string, seq int64) error {
	ids, conflicted := make([]string, 0, decisionsBatch), make([]string, 0, decisionsBatch)
	for g, group := range p.groups {
		state := itemState{decision: group.decision, reason: group.reason, decidedBy: actor, decidedAt: at, seq: seq}
		flush := func() error {
			if len(ids) == 0 {
				return nil
			}
			err := writeDecisions(ctx, tx, campaignID, ids, conflicted, &state, group.via)
			ids, conflicted = ids[:0], conflicted[:0]
			return err
		}
		// Not transient: a batch holds the IDs until it is written.
		err := p.eachPicked(false, -1, func(id string, in int, conflict bool) error {
			if in != g {
				return nil
			}
			ids = append(ids, id)
			if conflict {
				conflicted = append(conflicted, id)
			}
			if len(ids) == decisionsBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the file of the items' groups.
func (p *bulkPicked) remove() {
	if p != nil {
		p.each.Remove()
	}
}

// ownersOf is the owner recorded now under each ID that renamed maps an
// item to (renames are few), by that ID.
func ownersOf(ctx context.Context, tx *audit.Tx, renamed map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, cur := range renamed {
		if _, done := out[cur]; done {
			continue
		}
		owner, err := tx.Owner(ctx, cur)
		if err != nil {
			return nil, err
		}
		out[cur] = owner
	}
	return out, nil
}
