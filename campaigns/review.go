package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Assignment is one item of a campaign as a reviewer's queue sees it: who
// reviews it and what was decided.
type Assignment struct {
	Reviewer string   // "" when no eligible reviewer could be assigned
	Mine     bool     // Reviewer is the actor asked about, under any alias
	Decision Decision // Pending while undecided
	// Findings says the item had findings when the campaign froze it, so
	// keep and rotate need a reason (planDecision).
	Findings bool
}

// Assignments are the items of a campaign by identity ID, with Mine set
// for actor's (under any alias the directory of people knows). An item
// whose identity has another ID now (its repository renamed since the
// campaign froze it: renames.go) is under that ID, where the identity is
// listed; Decide takes either.
func Assignments(ctx context.Context, st *audit.Store, campaign, actor string) (map[string]Assignment, error) {
	c, err := load(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	return assignments(ctx, st, c.ID, actor, dir)
}

// DecisionsSince is what Assignments would answer now that differs from
// what it answered once the log's head was event since, when only
// decisions can differ: the current decision of every item of campaign
// decided, confirmed or undone after event since and up to event upTo
// (the head the caller read), under the ID Assignments lists it by.
// types are the kinds of event in that range when the caller has read
// them (audit.Store.EventTypesTo); nil reads them here. ok is false when
// the log holds another kind of event since — one that can change who
// reviews an item, whose it is (the directory), its ID or the
// campaign's state — and then only Assignments answers. A TUI open on a
// campaign reads its items again each time another reviewer decides;
// read whole, a campaign of 10,000 items cost the server about 6 ms and
// the TUI 17 ms of CPU each time, forty open TUIs doubled what a
// decision cost the server
// (BenchmarkConcurrentDecisions/postgres-reviewers-tuis), and at a
// million items each read would take seconds.
func DecisionsSince(ctx context.Context, st *audit.Store, campaign string, since, upTo int64, types []string) (changed map[string]Decision, ok bool, err error) {
	if since <= 0 || upTo < since {
		return nil, false, nil
	}
	if types == nil {
		if types, err = st.EventTypesSince(ctx, since); err != nil {
			return nil, false, err
		}
	}
	for _, t := range types {
		switch t {
		case EventDecide, EventConfirm, EventUndo, EventVerify, audit.EventOwnerSet:
		default:
			return nil, false, nil
		}
	}
	rows, err := st.Query(ctx, decisionsSinceQuery, campaign, since, upTo, campaign)
	if err != nil {
		return nil, false, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	changed = map[string]Decision{}
	for rows.Next() {
		var id string
		var d Decision
		if err := rows.Scan(&id, &d); err != nil {
			return nil, false, fmt.Errorf("reading campaign items: %w", err)
		}
		changed[id] = d
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("reading campaign items: %w", err)
	}
	if len(changed) == 0 {
		return changed, true, nil
	}
	changed, err = underCurrentIDs(ctx, st, changed)
	return changed, err == nil, err
}

// decisionsSinceQuery is DecisionsSince's read: the items of the
// campaign named (its ID found in the same statement) that its history
// has rows for in a range of the log. The range is closed at both ends
// so that PostgreSQL's plan for any range, the one it keeps for a
// statement after its fifth run, finds those rows through the
// history's index by event and each item by its key: with "seq > $2"
// alone that plan guessed a third of the history and read every item
// of the campaign (4 ms at 10,000 items where 0.5 ms;
// TestDecisionsSinceKeepsToTheIndex).
const decisionsSinceQuery = `SELECT identity_id, decision FROM campaign_items
	WHERE campaign_id = (SELECT id FROM campaigns WHERE name = ?) AND identity_id IN
	(SELECT identity_id FROM campaign_decisions WHERE seq > ? AND seq <= ? AND campaign_id = (SELECT id FROM campaigns WHERE name = ?))`

// mineOf says whether a reviewer is the actor, asking the directory once
// a reviewer (most items share a few): an item's Mine, for reviewer:me.
type mineOf struct {
	actor string
	dir   *audit.Directory
	known map[string]bool
}

func newMineOf(actor string, dir *audit.Directory) *mineOf {
	return &mineOf{actor: actor, dir: dir, known: map[string]bool{}}
}

func (m *mineOf) of(reviewer string) bool {
	if reviewer == "" || m.actor == "" {
		return false
	}
	v, ok := m.known[reviewer]
	if !ok {
		v = m.dir.Same(reviewer, m.actor)
		m.known[strings.Clone(reviewer)] = v // reviewer may be part of a page of items (eachItemRow)
	}
	return v
}

func assignments(ctx context.Context, st *audit.Store, campaignID int64, actor string, dir *audit.Directory) (map[string]Assignment, error) {
	out := map[string]Assignment{}
	err := eachAssignment(ctx, st, campaignID, actor, dir, func(id string, a Assignment) {
		a.Reviewer = strings.Clone(a.Reviewer)
		out[strings.Clone(id)] = a
	})
	return out, err
}

// EachAssignment gives each item of campaign to yield, under the ID
// Assignments lists it by, telling expect first how many the campaign
// froze (about as many as will come): a caller that keeps the items in
// a form of its own holds no map of them all first (issue 21: opening
// the review UI on a campaign of a million items, that map was 150 MB
// of pointers the collector scanned while the table loaded). id and
// a.Reviewer may be parts of a page of the read: what yield keeps of
// them it clones (strings.Clone), or it keeps the page.
func EachAssignment(ctx context.Context, st *audit.Store, campaign, actor string, expect func(n int), yield func(id string, a Assignment)) error {
	c, err := load(ctx, st, campaign)
	if err != nil {
		return err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return err
	}
	expect(c.Count)
	return eachAssignment(ctx, st, c.ID, actor, dir, yield)
}

// eachAssignment reads the items of campaign campaignID (eachItemRow).
// The items of renamed identities are read up front by their key, as
// few as the renames (movedItems), and given last under the ID their
// identity has now.
func eachAssignment(ctx context.Context, st *audit.Store, campaignID int64, actor string, dir *audit.Directory, yield func(id string, a Assignment)) error {
	ren, err := readRenames(ctx, st)
	if err != nil {
		return err
	}
	mine := newMineOf(actor, dir)
	moved, frozen, err := movedItems(ren, func(id string) (Assignment, bool, error) {
		return assignmentOf(ctx, st, campaignID, id, mine)
	})
	if err != nil {
		return err
	}
	err = eachItemRow(ctx, st, campaignID, func(id string, a Assignment) {
		if frozen[id] {
			return
		}
		a.Mine = mine.of(a.Reviewer)
		yield(id, a)
	})
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	for id, a := range moved {
		yield(id, a)
	}
	return nil
}

// assignmentOf reads item id of campaign campaignID by its key; ok is
// false when the campaign has no such item.
func assignmentOf(ctx context.Context, st *audit.Store, campaignID int64, id string, mine *mineOf) (a Assignment, ok bool, err error) {
	err = st.QueryRow(ctx, `SELECT reviewer, decision, CASE WHEN findings <> '[]' THEN 1 ELSE 0 END FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`,
		campaignID, id).Scan(&a.Reviewer, &a.Decision, &a.Findings)
	if errors.Is(err, sql.ErrNoRows) {
		return Assignment{}, false, nil
	}
	if err != nil {
		return Assignment{}, false, fmt.Errorf("reading campaign items: %w", err)
	}
	a.Mine = mine.of(a.Reviewer)
	return a, true, nil
}

// itemsPage is how many items a query of eachItemPage reads.
const itemsPage = 4096

// pageQuery reads a page of a campaign's items after an ID, in ID
// order: how many, each one's text (the SQL expression packed) joined by
// char(30), and the page's last ID. The driver's cost is per row and per
// column (a lock and a look-up in the C library's map of locks for
// each), and a page of 4,096 items is one row of one column for it:
// read a row a column at a time, a million items took 1.3 CPU-s of the
// driver's alone (issue 21). SQLite keeps the subquery's order for
// group_concat, an aggregate other than count, min or max.
func pageQuery(packed string) string {
	return `SELECT count(*), group_concat(r, char(30)), max(id) FROM (
	SELECT identity_id AS id, ` + packed + ` AS r
	FROM campaign_items WHERE campaign_id = ? AND identity_id > ? ORDER BY identity_id LIMIT ` + strconv.Itoa(itemsPage) + `)`
}

// pageRowSep is char(30), which pageQuery joins a page's items with.
const pageRowSep = "\x1e"

// eachItemPage reads campaign campaignID's items on SQLite a page at a
// time, in ID order, each item one text of the SQL expression packed,
// seps separators (audit.PackSep) between its columns. fn is given each
// page's texts joined by pageRowSep, ok; or, for a page one of whose
// texts holds a separator of either kind, not ok and the ID the page
// comes after, for the caller to read it otherwise (or stop: fn's
// error ends the read). The next page is read while fn has this one, on
// a connection of its own: SQLite's part and the caller's each take a
// core (issue 21: the review UI waits for a campaign's items before its
// first rows).
func eachItemPage(ctx context.Context, st *audit.Store, campaignID int64, packed string, seps int, fn func(page string, ok bool, after string) error) error {
	type page struct {
		text, after string
		n           int
		err         error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		q := pageQuery(packed)
		for after := ""; ; {
			var p page
			var text, last sql.NullString
			p.err = st.QueryRow(ctx, q, campaignID, after).Scan(&p.n, &text, &last)
			p.text, p.after = text.String, after
			select {
			case pages <- p:
			case <-ctx.Done():
				return
			}
			if p.err != nil || p.n == 0 {
				return
			}
			after = last.String
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if p.n == 0 {
			return nil
		}
		ok := strings.Count(p.text, pageRowSep) == p.n-1 && strings.Count(p.text, audit.PackSep) == seps*p.n
		if err := fn(p.text, ok, p.after); err != nil {
			return err
		}
	}
	return ctx.Err() // the pages stopped short: only a cancel stops them
}

// itemsRowQuery reads what eachItemRow packs a column at a time: on
// PostgreSQL, every item at once; on SQLite, a page one of whose texts
// holds a separator of the packed read.
const itemsRowQuery = `SELECT identity_id, reviewer, decision, CASE WHEN findings <> '[]' THEN 1 ELSE 0 END FROM campaign_items WHERE campaign_id = ? AND identity_id > ?`

// eachItemRow calls fn with each item of campaign campaignID as the
// table holds it (Mine unset), in no order the caller may rely on. On
// SQLite it reads the items a page at a time, packed (eachItemPage); id
// and a.Reviewer are then parts of the page's text, a.Decision not
// (decisionNamed).
func eachItemRow(ctx context.Context, st *audit.Store, campaignID int64, fn func(id string, a Assignment)) error {
	if st.Remote() {
		return eachItemUnpacked(ctx, st, itemsRowQuery, fn, campaignID, "")
	}
	packed := audit.Packed(`identity_id`, `reviewer`, `decision`, `findings <> '[]'`)
	return eachItemPage(ctx, st, campaignID, packed, 3, func(page string, ok bool, after string) error {
		if !ok {
			// A text holds a separator: this page a column at a time.
			return eachItemUnpacked(ctx, st, itemsRowQuery+` ORDER BY identity_id LIMIT `+strconv.Itoa(itemsPage), fn, campaignID, after)
		}
		for row := range strings.SplitSeq(page, pageRowSep) {
			var id, decision string
			var a Assignment
			findings, _ := audit.CutPacked(row, &id, &a.Reviewer, &decision) // counted
			a.Decision, a.Findings = decisionNamed(decision), findings == "1"
			fn(id, a)
		}
		return nil
	})
}

// decisionNamed is the decision d names, not the page of items d is
// part of (eachItemRow): the constant, for every decision nhi makes.
func decisionNamed(d string) Decision {
	for _, c := range []Decision{Pending, Decommission, Keep, Rotate, NoResponse, Transfer} {
		if string(c) == d {
			return c
		}
	}
	return Decision(strings.Clone(d))
}

// eachItemUnpacked runs query, which selects what itemsRowQuery does,
// with args, and calls fn with each row.
func eachItemUnpacked(ctx context.Context, st *audit.Store, query string, fn func(id string, a Assignment), args ...any) error {
	rows, err := st.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Assignment
		if err := rows.Scan(&id, &a.Reviewer, &a.Decision, &a.Findings); err != nil {
			return err
		}
		fn(id, a)
	}
	return rows.Err()
}

// movedItems are the items of a campaign whose identity has another ID
// now, under that ID, as lookup reads each by its key, and frozen the
// IDs they were frozen under, which no identity listed answers to: an
// item frozen under an old ID whose ID now is no item of the campaign
// answers to the ID now (of two such, the one frozen under the greater
// ID) and not to its own (renames.currentID).
func movedItems[T any](ren renames, lookup func(id string) (T, bool, error)) (moved map[string]T, frozen map[string]bool, err error) {
	from := map[string]string{} // the frozen ID of each moved item
	for old, cur := range ren {
		if old == cur {
			continue
		}
		it, ok, err := lookup(old)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		if _, isItem, err := lookup(cur); err != nil {
			return nil, nil, err
		} else if isItem {
			continue
		}
		if moved == nil {
			moved, frozen = map[string]T{}, map[string]bool{}
		}
		frozen[old] = true
		if f, taken := from[cur]; !taken || old > f {
			moved[cur], from[cur] = it, old
		}
	}
	return moved, frozen, nil
}

// underCurrentIDs moves each item whose identity has another ID now
// under that ID (renames.go): a map as small as the renames is read, and
// only the renamed items are touched.
func underCurrentIDs[T any](ctx context.Context, r reader, items map[string]T) (map[string]T, error) {
	ren, err := readRenames(ctx, r)
	if err != nil {
		return nil, err
	}
	isItem := func(id string) bool { _, ok := items[id]; return ok }
	moved := map[string]string{}
	for old := range ren {
		if _, ok := items[old]; ok {
			if cur := ren.currentID(old, isItem); cur != "" {
				moved[old] = cur
			}
		}
	}
	for old, cur := range moved {
		items[cur] = items[old]
		delete(items, old)
	}
	return items, nil
}

// ErrNoCampaignInView is a filter with decision: or reviewer: terms and no
// campaign to read them in.
var ErrNoCampaignInView = errors.New("no campaign in view")

// FilterReview is the campaign context of filter f for actor
// (filter.Env.Review): the items of the campaign in view and of every
// campaign f names. inView is the campaign decision: and reviewer: read
// ("": the one campaign f names, if it names exactly one). A name that is
// no campaign of the file is an error, and so is a filter that needs a
// campaign in view when there is none: both say what to write instead.
// It holds every item of each campaign read; a caller that asks in ID
// order reads them through cursors instead (FilterReviewInOrder).
func FilterReview(ctx context.Context, st *audit.Store, actor, inView string, f *filter.Filter) (filter.Review, error) {
	view, list, err := filterCampaigns(ctx, st, inView, f)
	if err != nil || list == nil {
		return nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	r := &review{inView: view, items: map[string]map[string]filter.Item{}}
	for key, c := range list {
		items := make(map[string]filter.Item, c.Count)
		err := eachAssignment(ctx, st, c.ID, actor, dir, func(id string, a Assignment) {
			if reviewHeld != nil {
				reviewHeld(id)
			}
			a.Reviewer = strings.Clone(a.Reviewer) // not the page of items it is part of
			items[strings.Clone(id)] = a.filterItem()
		})
		if err != nil {
			return nil, err
		}
		r.items[key] = items
	}
	return r, nil
}

func (a Assignment) filterItem() filter.Item {
	d := string(a.Decision)
	if a.Decision == Pending {
		d = "pending"
	}
	return filter.Item{Reviewer: a.Reviewer, Mine: a.Mine, Decision: d}
}

func campaignNames(list []Campaign) string {
	if len(list) == 0 {
		return "the file has no campaign yet"
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = audit.Printable(c.Name)
	}
	return "campaigns: " + strings.Join(names, ", ")
}

// review is a filter.Review over items read from the file: lower-case
// campaign name → identity ID → item.
type review struct {
	inView string
	items  map[string]map[string]filter.Item
}

func (r *review) Item(campaign, id string) (filter.Item, bool) {
	if campaign == "" {
		campaign = r.inView
	}
	it, ok := r.items[campaign][id] // filter passes names in lower case
	return it, ok
}
