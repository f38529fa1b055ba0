package campaigns

import (
	"context"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/audit"
)

// Reading a campaign for nhi campaign show without holding its items
// (issue 21: a campaign of a million items): Show reads the campaign as
// Get does, but for its items, its progress counted without holding them;
// an ItemReader gives the items as Get would, one at a time, as often as
// the caller asks (a table sized over its rows reads them twice).

// Show returns campaign name as Get does, without its items: its
// progress (counted as List's, loadProgress), its no-response rule and the
// attempts a separation rule refused.
func Show(ctx context.Context, st *audit.Store, name string) (*Campaign, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	if c.Progress, err = loadProgress(ctx, st, c); err != nil {
		return nil, err
	}
	if c.Refused, err = RefusedAttempts(ctx, st, c.Name, 0); err != nil {
		return nil, err
	}
	if _, err := readCreation(ctx, st, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ItemReader gives a campaign's items as Get would, one at a time, as
// often as asked (Each): what it adds to each item's row — the ID its
// identity has now, its escalation and carried ID, whether the snapshot
// that verified it was taken after the due date — is read once, by
// NewItemReader; what its snapshot did not read is looked up for each
// batch of items as it is read (batchNotRead).
type ItemReader struct {
	c        *Campaign
	carried  map[string]string
	renamed  map[string]string
	notRead  map[string][]audit.NotRead // of the batch being given
	inBatch  map[string]struct{}        // the IDs of that batch
	esc      map[string]Escalation
	afterDue map[int64]bool
	// decoded is how many findings and permissions texts each cursor
	// shares between the items it decodes (0: the cursor's default).
	decoded int
	// pendingOnly has Each give the pending items alone, each without
	// its History (nil) and what its snapshot did not read (NotRead,
	// nil), which remind's reminders do not say: the cursor reads
	// neither the decided items nor the history (openItemCursor), and
	// the observations' marks of what was not read, read from a batch's
	// first ID to its last, are not read at all (issue 21: a campaign
	// with few items left pending paid the whole read).
	pendingOnly bool
}

// NewItemReader reads what Each adds to the items of c (as Show
// returned it).
func NewItemReader(ctx context.Context, st *audit.Store, c *Campaign) (*ItemReader, error) {
	r := &ItemReader{c: c}
	created, err := createPayload(ctx, st, c)
	if err != nil {
		return nil, err
	}
	r.carried = created.CarriedAs
	ren, err := readRenames(ctx, st)
	if err != nil {
		return nil, err
	}
	if r.renamed, err = itemRenames(ctx, st, c.ID, ren); err != nil {
		return nil, err
	}
	r.notRead, r.inBatch = map[string][]audit.NotRead{}, map[string]struct{}{}
	if c.NoResponse.On == OnNoResponseEscalate {
		if r.esc, err = escalations(ctx, st, c.Name, 0); err != nil {
			return nil, err
		}
	}
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	r.afterDue = make(map[int64]bool, len(snaps))
	for i := range snaps {
		r.afterDue[snaps[i].ID] = pastDue(c.Due, snaps[i].StartedAt)
	}
	return r, nil
}

// Each calls fn with each item in ID order, with its history, read
// through a cursor a batch at a time (the pending items alone, without
// it, for a reader with pendingOnly). The item is fn's only during the
// call: the cursor reuses it.
func (r *ItemReader) Each(ctx context.Context, st *audit.Store, fn func(*Item) error) error {
	return r.each(ctx, st, nil, fn)
}

// EachOf calls fn with each item whose ID ids lists, as Each does, in ID
// order; ids is in the database's order of IDs (as a read of the
// campaign's items ORDER BY identity_id gives them), and an ID that is
// none of the campaign's items is passed over. It reads them a batch of
// IDs at a time, each looked up by its key: for a caller that wants a
// few of the items, or a group of them, and not every one.
func (r *ItemReader) EachOf(ctx context.Context, st *audit.Store, ids []string, fn func(*Item) error) error {
	for start := 0; start < len(ids); start += streamBatch {
		batch := ids[start:min(start+streamBatch, len(ids))]
		if !slices.ContainsFunc(batch, func(id string) bool { return !utf8.ValidString(id) }) {
			list, err := json.Marshal(batch)
			if err != nil {
				return err
			}
			if err := r.each(ctx, st, &itemsIn{list: list}, fn); err != nil {
				return err
			}
			continue
		}
		// JSON would carry an ID that is not UTF-8 as another (U+FFFD in
		// place of its bytes), finding no item: an ID at a time.
		for _, id := range batch {
			if err := r.each(ctx, st, &itemsIn{id: id, one: true}, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// each is Each over the items only names (nil: every item).
func (r *ItemReader) each(ctx context.Context, st *audit.Store, only *itemsIn, fn func(*Item) error) error {
	cur, err := openItemCursor(ctx, st, r.c, only, r.pendingOnly)
	if err != nil {
		return err
	}
	defer cur.close()
	cur.decoded = r.decoded
	b := &Batch{}
	for {
		more, err := cur.next(b)
		if err != nil {
			return err
		}
		if !r.pendingOnly { // else r.notRead stays empty: each NotRead nil
			var named []byte // the batch's IDs as only names them, to look up by key
			if only != nil && !only.one {
				named = only.list
			}
			if err := r.batchNotRead(ctx, st, b.Items, named); err != nil {
				return err
			}
			// That read went through the batch's observations on another
			// connection, beside the open cursor, and left the process's
			// page cache full: the cursor's join would read its inner
			// pages from the file again for every item (a million items,
			// 1,409,000 read calls; docs/performance.md, "One page cache
			// for the process"). Without the cache given back the read is
			// as right, only slower.
			_ = st.ReleasePageCache(ctx)
		}
		for i := range b.Items {
			it := &b.Items[i]
			r.complete(it)
			if err := fn(it); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// Of gives the items ids names, in that order, as Each would give them
// (an ID that is no item of the campaign is left out): what a preview
// lists of a bulk decision, a few items, read without the rest.
func (r *ItemReader) Of(ctx context.Context, st *audit.Store, ids []string) ([]Item, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	history, err := loadHistory(ctx, st, r.c.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(ids))
	for _, id := range ids {
		l, err := loadItemByID(ctx, st, r.c, id)
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue
		}
		it, err := l.frozen.item()
		if err != nil {
			return nil, err
		}
		l.fill(&it, history)
		if err := r.batchNotRead(ctx, st, []Item{it}, nil); err != nil {
			return nil, err
		}
		r.complete(&it)
		out = append(out, it)
	}
	return out, nil
}

// batchNotRead reads what the snapshots did not read of items, a batch
// in the database's order of IDs (as the item cursor gives them), into
// r.notRead in place of the last batch's: the markers of the IDs from
// its first to its last, of those IDs alone (a campaign of a few of a
// snapshot's identities finds others between them); or, where named
// holds the IDs the batch was read by (EachOf: a sample's items, which
// lie far apart), those looked up by key.
func (r *ItemReader) batchNotRead(ctx context.Context, st *audit.Store, items []Item, named []byte) error {
	clear(r.notRead)
	clear(r.inBatch)
	if len(items) == 0 {
		return nil
	}
	for i := range items {
		r.inBatch[items[i].ID] = struct{}{}
	}
	in := func(id string) bool { _, ok := r.inBatch[id]; return ok }
	if named != nil {
		return st.NotReadAmong(ctx, r.c.snapshotIDs(), named, in, r.notRead)
	}
	return st.NotReadBetween(ctx, r.c.snapshotIDs(), items[0].ID, items[len(items)-1].ID, in, r.notRead)
}

// notReadHeld, when set (a test), is given what each item's snapshot did
// not read of it, as complete gives it the item: a test counts how many
// the reader holds at once.
var notReadHeld func(nr []audit.NotRead)

// complete gives it what the reader knows of the campaign beside its
// row: the ID it has now, what its snapshot did not read, the decision
// it carries, its escalation, and whether it was verified after the due
// date.
func (r *ItemReader) complete(it *Item) {
	it.CurrentID = r.renamed[it.ID]
	it.NotRead = r.notRead[it.ID]
	if notReadHeld != nil && it.NotRead != nil {
		notReadHeld(it.NotRead)
	}
	it.CarriedAs = r.carried[it.ID]
	if x, ok := r.esc[it.ID]; ok {
		it.Escalated = &x
	}
	it.VerifiedAfterDue = r.afterDue[it.VerifiedSnapshot]
}
