package campaigns

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// A filter's campaign terms over a stream of identities in ID order (nhi
// identities --filter) read each campaign's items through a cursor in
// the same order, advanced as the identities pass: a merge join, so what
// is held is the item at the cursor, not the campaign (issue 21: the
// whole campaign as a map of items cost 760 B an identity at 100k, GBs
// at a million). The items of renamed identities, which a listing shows
// under the ID their identity has now (renames.go), are read up front,
// as few as the renames.

// reviewHeld, when set (by a test), is given the ID of each item the
// cursors read, as read (TestOrderedReviewHoldsTheItemAtTheCursor).
var reviewHeld func(id string)

// OrderedReview is FilterReview's answer for a caller that asks of the
// identities in ascending ID order, byte by byte (audit.Store's
// StreamIdentities on SQLite): each campaign's items are read through a
// cursor in that order as the IDs asked pass them. An ID asked below one
// asked before is looked up by its key: the answer is the same, at a
// query each (PostgreSQL's order of identities follows the database's
// collation). Close it when the read is done; it returns the first error
// a cursor met, after which every item was answered as outside the
// campaign.
type OrderedReview struct {
	ctx     context.Context
	st      *audit.Store
	inView  string
	cursors map[string]*itemMerge // lower-case campaign name → its cursor
	err     error
	// OutOfOrder counts the IDs asked below one asked before, each
	// looked up by its key.
	OutOfOrder int
}

// itemMerge is one campaign's side of the merge: its items in ID order,
// the cursor at the first not below the ID last asked.
type itemMerge struct {
	campaignID int64
	rows       *sql.Rows
	at         string      // the item at the cursor
	item       filter.Item // its answer
	has        bool        // a row is at the cursor; false past the last
	asked      string      // the ID last asked
	askedAny   bool
	// moved are the items whose identity has another ID now, under that
	// ID; frozen is the IDs they were frozen under, which no identity
	// listed answers to (underCurrentIDs).
	moved  map[string]filter.Item
	frozen map[string]bool
	mine   *mineOf
}

// FilterReviewInOrder is FilterReview for a caller that asks in ID order
// (OrderedReview): the same campaigns, errors and answers. It returns
// nil when f reads no campaign.
func FilterReviewInOrder(ctx context.Context, st *audit.Store, actor, inView string, f *filter.Filter) (*OrderedReview, error) {
	view, list, err := filterCampaigns(ctx, st, inView, f)
	if err != nil || list == nil {
		return nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	ren, err := readRenames(ctx, st)
	if err != nil {
		return nil, err
	}
	mine := newMineOf(actor, dir)
	r := &OrderedReview{ctx: ctx, st: st, inView: view, cursors: map[string]*itemMerge{}}
	for key, c := range list {
		m := &itemMerge{campaignID: c.ID, mine: mine}
		r.cursors[key] = m
		if err := m.readRenamed(ctx, st, ren); err != nil {
			r.Close()
			return nil, err
		}
		order := `identity_id`
		if st.Remote() {
			order = `identity_id COLLATE "C"` // byte by byte, as Go compares
		}
		m.rows, err = st.Query(ctx, `SELECT identity_id, reviewer, decision FROM campaign_items WHERE campaign_id = ? ORDER BY `+order, c.ID)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("reading campaign items: %w", err)
		}
		if err := m.next(); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// readRenamed reads the items of the campaign whose identity has
// another ID now (movedItems).
func (m *itemMerge) readRenamed(ctx context.Context, st *audit.Store, ren renames) (err error) {
	m.moved, m.frozen, err = movedItems(ren, func(id string) (filter.Item, bool, error) { return m.lookup(ctx, st, id) })
	return err
}

// lookup reads item id of the campaign by its key.
func (m *itemMerge) lookup(ctx context.Context, st *audit.Store, id string) (filter.Item, bool, error) {
	a, ok, err := assignmentOf(ctx, st, m.campaignID, id, m.mine)
	if !ok || err != nil {
		return filter.Item{}, false, err
	}
	return a.filterItem(), true, nil
}

// next moves the cursor to the next item.
func (m *itemMerge) next() error {
	if !m.rows.Next() {
		m.has = false
		if err := m.rows.Err(); err != nil {
			return fmt.Errorf("reading campaign items: %w", err)
		}
		return nil
	}
	var a Assignment
	if err := m.rows.Scan(&m.at, &a.Reviewer, &a.Decision); err != nil {
		m.has = false
		return fmt.Errorf("reading campaign items: %w", err)
	}
	if reviewHeld != nil {
		reviewHeld(m.at)
	}
	a.Mine = m.mine.of(a.Reviewer)
	m.item, m.has = a.filterItem(), true
	return nil
}

// Item answers as FilterReview's would: identity id's item in the
// campaign named, or in the campaign in view when campaign is "".
func (r *OrderedReview) Item(campaign, id string) (filter.Item, bool) {
	if campaign == "" {
		campaign = r.inView
	}
	m := r.cursors[campaign] // filter passes names in lower case
	if m == nil || r.err != nil {
		return filter.Item{}, false
	}
	if it, ok := m.moved[id]; ok {
		return it, true
	}
	if m.frozen[id] {
		return filter.Item{}, false
	}
	if m.askedAny && id < m.asked {
		r.OutOfOrder++
		it, ok, err := m.lookup(r.ctx, r.st, id)
		if err != nil {
			r.err = err
			return filter.Item{}, false
		}
		return it, ok
	}
	m.asked, m.askedAny = id, true
	for m.has && m.at < id {
		if err := m.next(); err != nil {
			r.err = err
			return filter.Item{}, false
		}
	}
	if m.has && m.at == id {
		return m.item, true
	}
	return filter.Item{}, false
}

// Close closes the cursors and returns the first error one met.
func (r *OrderedReview) Close() error {
	if r == nil {
		return nil
	}
	for _, m := range r.cursors {
		if m.rows != nil {
			m.rows.Close()
		}
	}
	return r.err
}

// filterCampaigns are the campaigns f reads, by lower-case name, and the
// key of the one in view: FilterReview's checks (see there). list is nil
// when f reads none. The campaigns are their rows, without progress,
// which no filter reads (issue 21: nhi identities --filter campaign:X
// counted every campaign's items before reading them).
func filterCampaigns(ctx context.Context, st *audit.Store, inView string, f *filter.Filter) (view string, list map[string]*Campaign, err error) {
	named := f.Campaigns()
	if inView == "" && f.NeedsCampaign() {
		if len(named) != 1 {
			all, err := listRows(ctx, st)
			if err != nil {
				return "", nil, err
			}
			return "", nil, fmt.Errorf("%w: decision: and reviewer: terms read one campaign: pass --campaign NAME or add campaign:NAME to the filter (%s)",
				ErrNoCampaignInView, campaignNames(all))
		}
		inView = named[0]
	}
	if inView == "" && len(named) == 0 {
		return "", nil, nil
	}
	all, err := listRows(ctx, st)
	if err != nil {
		return "", nil, err
	}
	list = map[string]*Campaign{}
	for _, name := range append([]string{inView}, named...) {
		if name == "" {
			continue
		}
		var c *Campaign
		for i := range all {
			if strings.EqualFold(all[i].Name, name) {
				c = &all[i]
			}
		}
		if c == nil {
			return "", nil, fmt.Errorf("%w %q (%s)", ErrNotFound, audit.Printable(name), campaignNames(all))
		}
		key := strings.ToLower(c.Name)
		if name == inView {
			view = key
		}
		list[key] = c
	}
	return view, list, nil
}
