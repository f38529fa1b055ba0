package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// Reading a campaign a batch of items at a time, for the evidence report of
// a campaign of a million items (issue 21): GetAsOf holds every item with
// its history; EachAsOf holds one batch.

// Batch is a run of a campaign's items, in ID order, as the log stood
// after the event EachAsOf was given.
type Batch struct {
	Items  []Item
	Events []ItemEvents // parallel to Items
	// Snapshots is parallel to Items: the snapshot of the campaign each
	// item was frozen from (see ItemSnapshots).
	Snapshots []int64
}

// streamBatch is how many items a Batch holds at most.
const streamBatch = 2048

// EachAsOf reads campaign name as the log stood after event seq, as
// GetAsOf does, and calls begin with the campaign (without items or
// progress), then fn with its items in ID order, a batch at a time; the
// batch's slices are reused, so fn keeps nothing of them.
//
// When nothing was recorded after seq the items and their decisions are
// read through two cursors over the tables, so only a batch is in memory,
// each item's decision and verification held to the events the table names
// for them (ErrTablesDisagree when they differ: tablecheck.go);
// otherwise (a rebuild as of an earlier event) the campaign.* events up to
// seq are replayed, which holds the replayed campaign whole.
func EachAsOf(ctx context.Context, st *audit.Store, name string, seq int64, begin func(*Campaign) error, fn func(*Batch) error) error {
	c, err := load(ctx, st, name)
	if err != nil {
		return err
	}
	if c.CreateSeq > seq {
		return fmt.Errorf("campaign %s was created by event %d, after event %d", c.Name, c.CreateSeq, seq)
	}
	created, err := readCreation(ctx, st, c)
	if err != nil {
		return err
	}
	var esc map[string]Escalation
	if c.NoResponse.On == OnNoResponseEscalate {
		if esc, err = escalations(ctx, st, c.Name, seq); err != nil {
			return err
		}
	}
	var renamed map[string]string // item -> its identity's ID now (renames.go)
	escalate := func(b *Batch) {
		for i := range b.Items {
			if x, ok := esc[b.Items[i].ID]; ok {
				b.Items[i].Escalated = &x
			}
			if len(renamed) > 0 {
				b.Items[i].CurrentID = renamed[b.Items[i].ID]
			}
			if len(created.CarriedAs) > 0 {
				b.Items[i].CarriedAs = created.CarriedAs[b.Items[i].ID]
			}
		}
	}
	head, err := st.LogHead(ctx)
	if err != nil {
		return err
	}
	// Read after the head: if the cursors below find it unchanged, the
	// renames are as of seq too.
	ren, err := renamesAsOf(ctx, st, seq)
	if err != nil {
		return err
	}
	if renamed, err = itemRenames(ctx, st, c.ID, ren); err != nil {
		return err
	}
	if head.Seq == seq {
		cur, err := openItemCursor(ctx, st, c, nil, false)
		if err != nil {
			return err
		}
		defer cur.close()
		// Both cursors have begun reading: if the head is still seq, no
		// write came between (a write appends an event in the same
		// transaction), and each cursor reads the tables as of seq.
		if head, err = st.LogHead(ctx); err != nil {
			return err
		}
		if head.Seq == seq {
			header := *c
			header.Items = nil
			if err := begin(&header); err != nil {
				return err
			}
			// begin reads on other connections while the items cursor
			// stands open (a report reads whole tables there), and such a
			// read keeps the process's page cache full: the cursor's join
			// would read its inner pages from the file again for every
			// item. Without the cache given back the read is as right,
			// only slower, so a failure here is not the read's.
			_ = st.ReleasePageCache(ctx)
			b := &Batch{}
			// Each row is held to the events it names before it is
			// given out: a table changed with plain SQL is never read
			// as evidence (tablecheck.go).
			chk := newLogCheck(ctx, st, c)
			for {
				more, err := cur.next(b)
				if err != nil {
					return err
				}
				for i := range b.Items {
					if err := chk.item(&b.Items[i], b.Events[i]); err != nil {
						return err
					}
				}
				if len(b.Items) > 0 {
					escalate(b)
					if err := fn(b); err != nil {
						return err
					}
				}
				if !more {
					return nil
				}
			}
		}
		cur.close()
	}
	a, err := replayAsOf(ctx, st, c, seq)
	if err != nil {
		return err
	}
	rc := a.Campaign
	snaps, err := ItemSnapshots(ctx, st, rc)
	if err != nil {
		return err
	}
	header := *rc
	header.Items = nil
	if err := begin(&header); err != nil {
		return err
	}
	b := &Batch{}
	for start := 0; start < len(rc.Items); start += streamBatch {
		end := min(start+streamBatch, len(rc.Items))
		b.Items, b.Events, b.Snapshots = rc.Items[start:end], a.Events[start:end], b.Snapshots[:0]
		for i := range b.Items {
			b.Snapshots = append(b.Snapshots, snaps[b.Items[i].ID])
		}
		escalate(b)
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// itemCursor walks a campaign's items and its decision history side by
// side, both in identity order.
type itemCursor struct {
	c     *Campaign
	items *sql.Rows
	// history is nil when the cursor reads the pending items alone
	// (openItemCursor's pendingOnly): their items are given without it.
	history    *sql.Rows
	multi      map[[2]string]int64 // source/account -> snapshot, over several snapshots
	single     int64
	dec        *decoder
	decoded    int         // how many texts dec may share before it starts again (0: decodedTexts)
	pending    *historyRow // the history row read ahead of its item
	historyEnd bool
	peeked     bool // the items cursor stands on a row next has not taken
}

type historyRow struct {
	id string
	ch Change
}

// itemsIn names some of a campaign's items: those whose IDs list holds
// (a JSON array), or the one whose ID is id.
type itemsIn struct {
	list []byte
	id   string
	one  bool
}

// itemCursorOpened, when set (a test), is told of each item cursor
// opened, and whether it reads the whole campaign (only nil; its pending
// items alone, or every one): a test counts how often a command reads
// the campaign.
var itemCursorOpened func(whole bool)

// itemCursorScanned, when set (a test), is told of each row an item
// cursor scans: an item's (history false) or a decision's of the history
// (true). A test counts what a command has read and decoded.
var itemCursorScanned func(history bool)

// openItemCursor opens a cursor over c's items, or, when only is not nil,
// over those it names. With pendingOnly it reads the pending items
// alone, without their history: the decided ones are passed over in the
// database (a filter on its range scan by campaign and ID: no index of
// campaign_items serves the pending ones) and never scanned or decoded
// here, and the decision history is not read at all (issue 21: remind
// read, decoded and passed over every decided item and every row of the
// history, the whole read of a campaign, to list the few items left
// pending near its due date).
func openItemCursor(ctx context.Context, st *audit.Store, c *Campaign, only *itemsIn, pendingOnly bool) (*itemCursor, error) {
	if itemCursorOpened != nil {
		itemCursorOpened(only == nil)
	}
	cur := &itemCursor{c: c, dec: newDecoder()}
	ids := c.snapshotIDs()
	args := []any{c.ID}
	where, whereItems := ``, ``
	switch {
	case only == nil:
	case only.one:
		where, whereItems = ` AND identity_id = ?`, ` AND ci.identity_id = ?`
		args = append(args, only.id)
	default:
		where, whereItems = ` AND identity_id IN (SELECT value FROM json_each(?))`, ` AND ci.identity_id IN (SELECT value FROM json_each(?))`
		args = append(args, string(only.list))
	}
	itemArgs, pending, pendingItems := args, ``, ``
	if pendingOnly {
		pending, pendingItems = ` AND decision = ?`, ` AND ci.decision = ?`
		itemArgs = append(args[:len(args):len(args)], string(Pending))
	}
	q := `SELECT ` + frozenColumns + `, ` + stateColumns + `, '', '' FROM campaign_items WHERE campaign_id = ?` + where + pending + ` ORDER BY identity_id`
	if len(ids) == 1 {
		cur.single = ids[0]
	} else {
		cur.multi = map[[2]string]int64{}
		for _, u := range c.Snapshots {
			cur.multi[[2]string{u.Source, u.Account}] = u.ID
		}
		q = `SELECT ci.identity_id, ci.kind, ci.name, ci.scope, ci.owner, ci.natural_owner, ci.findings, ci.permissions, ci.reviewer, ci.carried, ci.carried_reason,
			ci.decision, ci.reason, ci.decided_by, COALESCE(ci.decided_at, ''), COALESCE(ci.decision_seq, 0), ci.conflict,
			ci.verification, COALESCE(ci.verified_snapshot, 0), COALESCE(ci.verify_seq, 0), COALESCE(i.source, ''), COALESCE(i.account, '')
			FROM campaign_items ci LEFT JOIN identities i ON i.id = ci.identity_id WHERE ci.campaign_id = ?` + whereItems + pendingItems + ` ORDER BY ci.identity_id`
	}
	var err error
	if cur.items, err = st.Query(ctx, q, itemArgs...); err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	if pendingOnly {
		cur.historyEnd = true
	} else if cur.history, err = st.Query(ctx, `SELECT identity_id, seq, decision, reason, actor, at, via, undoes FROM campaign_decisions
		WHERE campaign_id = ?`+where+` ORDER BY identity_id, seq`, args...); err != nil {
		cur.items.Close()
		return nil, fmt.Errorf("reading decisions: %w", err)
	}
	// The first row of each, so both cursors have begun reading (a
	// cursor's read transaction starts with its first step).
	cur.peeked = cur.items.Next()
	if err := cur.readHistory(); err != nil {
		cur.close()
		return nil, err
	}
	return cur, nil
}

func (cur *itemCursor) close() {
	cur.items.Close()
	if cur.history != nil {
		cur.history.Close()
	}
}

// readHistory reads the next history row into cur.pending.
func (cur *itemCursor) readHistory() error {
	cur.pending = nil
	if cur.historyEnd {
		return nil
	}
	if !cur.history.Next() {
		cur.historyEnd = true
		if err := cur.history.Err(); err != nil {
			return fmt.Errorf("reading decisions: %w", err)
		}
		return nil
	}
	h := &historyRow{}
	var at string
	if err := cur.history.Scan(&h.id, &h.ch.Seq, &h.ch.Decision, &h.ch.Reason, &h.ch.Actor, &at, &h.ch.Via, &h.ch.Undoes); err != nil {
		return err
	}
	if itemCursorScanned != nil {
		itemCursorScanned(true)
	}
	h.ch.At, _ = parseAt(at)
	cur.pending = h
	return nil
}

// decodedTexts is how many findings and permissions texts an item
// cursor's decoder shares before it starts again.
const decodedTexts = 50_000

// next fills b with the next batch; false once the items are all read.
func (cur *itemCursor) next(b *Batch) (bool, error) {
	b.Items, b.Events, b.Snapshots = b.Items[:0], b.Events[:0], b.Snapshots[:0]
	// The decoder shares decoded findings and permissions between items;
	// a population whose texts rarely repeat would grow it without end.
	if len(cur.dec.findings)+len(cur.dec.perms) > cmp.Or(cur.decoded, decodedTexts) {
		cur.dec = newDecoder()
	}
	for len(b.Items) < streamBatch {
		more := cur.peeked
		if more {
			cur.peeked = false
		} else {
			more = cur.items.Next()
		}
		if !more {
			if err := cur.items.Err(); err != nil {
				return false, fmt.Errorf("reading campaign items: %w", err)
			}
			return false, nil
		}
		var l liveItem
		var source, account string
		if err := scanFrozen(cur.items, &l.frozen, append(l.scanArgs(), &source, &account)...); err != nil {
			return false, err
		}
		if itemCursorScanned != nil {
			itemCursorScanned(false)
		}
		it, err := cur.dec.item(&l.frozen)
		if err != nil {
			return false, err
		}
		l.fill(&it, nil)
		if cur.history != nil {
			// Both cursors list identities in the same order (the
			// database's collation, which need not be Go's: only
			// equality is compared).
			hist := []Change{}
			for cur.pending != nil && cur.pending.id == l.id {
				hist = append(hist, cur.pending.ch)
				if err := cur.readHistory(); err != nil {
					return false, err
				}
			}
			it.History = hist
		} else {
			it.History = nil // not read: nil, where an item read without any is empty
		}
		b.Items = append(b.Items, it)
		b.Events = append(b.Events, ItemEvents{Decision: l.seq, Verify: l.verifySeq})
		snap := cur.single
		if cur.multi != nil {
			snap = cur.multi[[2]string{source, account}]
		}
		b.Snapshots = append(b.Snapshots, snap)
	}
	return true, nil
}

// ExceptionReader gives the exceptions among a campaign's items a batch at
// a time (see Exceptions): the approvals up to the event the batches
// reflect are read once.
type ExceptionReader struct {
	c         *Campaign
	approvals map[approvalKey]approval
}

// NewExceptionReader reads the approvals of campaign c's exceptions up to
// event upTo. An unsigned approval in a campaign created with
// --require-signed is refused with ErrUnsignedDecision, as logCheck
// refuses an unsigned decision: nothing is exported.
func NewExceptionReader(ctx context.Context, st *audit.Store, c *Campaign, upTo int64) (*ExceptionReader, error) {
	a, unsigned, err := readApprovalsSigned(ctx, st, c.Name, upTo)
	if err != nil {
		return nil, err
	}
	if len(unsigned) > 0 {
		// As an unsigned decision (logCheck): nothing is exported.
		u := unsigned[0]
		return nil, fmt.Errorf("%w: campaign %s, item %s: event %d (%s by %s) approves its exception, is not signed, and the campaign requires signed decisions: nhi refuses such an approval (rule unsigned), so it was written around nhi, and nothing is exported: run `nhi verify` to see every difference",
			ErrUnsignedDecision, audit.Printable(c.Name), audit.Printable(u.id), u.seq, EventApprove, audit.Printable(u.actor))
	}
	return &ExceptionReader{c: c, approvals: a}, nil
}

// Of returns the exceptions among b's items, by identity ID.
func (x *ExceptionReader) Of(ctx context.Context, st *audit.Store, b *Batch) (map[string]*Exception, error) {
	out := map[string]*Exception{}
	for i := range b.Items {
		it := &b.Items[i]
		if it.Decision != Keep || len(it.Findings) == 0 {
			continue
		}
		e := &Exception{Campaign: x.c.Name, ID: it.ID, Seq: b.Events[i].Decision, DecidedBy: it.DecidedBy, Reason: it.Reason, CampaignClosedAt: x.c.ClosedAt}
		if it.DecidedAt != nil {
			e.DecidedAt = *it.DecidedAt
		}
		out[it.ID] = e
	}
	if len(out) == 0 {
		return out, nil
	}
	return out, fillTerms(ctx, st, out, x.approvals)
}

// KindDelta compares, for one kind, the frozen population of a campaign
// with that of an earlier one (the evidence report's reconciliation).
type KindDelta struct {
	Kind            audit.Kind
	Previous        int // items of the earlier campaign
	Added           int // items of this one the earlier one did not have
	Removed         int // items of the earlier one this one does not have
	RemovedApproved int // of Removed, decided decommission in the earlier one as of the event given
}

// Deltas compares campaign c's population with campaign prev's, kind by
// kind, counting in the database rather than holding either population:
// prev's decisions are those in force after event asOf.
func Deltas(ctx context.Context, st *audit.Store, c, prev *Campaign, asOf int64) ([]KindDelta, error) {
	byKind := map[audit.Kind]*KindDelta{}
	var order []audit.Kind
	get := func(k audit.Kind) *KindDelta {
		if byKind[k] == nil {
			byKind[k] = &KindDelta{Kind: k}
			order = append(order, k)
		}
		return byKind[k]
	}
	scan := func(q string, set func(d *KindDelta, n, approved int), args ...any) error {
		rows, err := st.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("reconciling campaign %s with %s: %w", c.Name, prev.Name, err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var n, approved int
			if err := rows.Scan(&kind, &n, &approved); err != nil {
				return err
			}
			set(get(audit.Kind(kind)), n, approved)
		}
		return rows.Err()
	}
	if err := scan(`SELECT kind, count(*), 0 FROM campaign_items WHERE campaign_id = ? GROUP BY kind`,
		func(d *KindDelta, n, _ int) { d.Previous = n }, prev.ID); err != nil {
		return nil, err
	}
	if err := scan(`SELECT a.kind, count(*), 0 FROM campaign_items a WHERE a.campaign_id = ?
		AND NOT EXISTS (SELECT 1 FROM campaign_items b WHERE b.campaign_id = ? AND b.identity_id = a.identity_id) GROUP BY a.kind`,
		func(d *KindDelta, n, _ int) { d.Added = n }, c.ID, prev.ID); err != nil {
		return nil, err
	}
	if err := scan(`SELECT b.kind, count(*), count(CASE WHEN COALESCE((SELECT d.decision FROM campaign_decisions d
			WHERE d.campaign_id = b.campaign_id AND d.identity_id = b.identity_id AND d.seq <= ? ORDER BY d.seq DESC LIMIT 1), '') = ? THEN 1 END)
		FROM campaign_items b WHERE b.campaign_id = ?
		AND NOT EXISTS (SELECT 1 FROM campaign_items a WHERE a.campaign_id = ? AND a.identity_id = b.identity_id) GROUP BY b.kind`,
		func(d *KindDelta, n, approved int) { d.Removed, d.RemovedApproved = n, approved }, asOf, string(Decommission), prev.ID, c.ID); err != nil {
		return nil, err
	}
	out := make([]KindDelta, 0, len(order))
	for _, k := range order {
		out = append(out, *byKind[k])
	}
	return out, nil
}
