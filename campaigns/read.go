package campaigns

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// List returns every campaign, oldest first, with its progress (no items).
func List(ctx context.Context, st *audit.Store) ([]Campaign, error) {
	out, err := listRows(ctx, st)
	if err != nil {
		return nil, err
	}
	for i := range out {
		p, err := loadProgress(ctx, st, &out[i])
		if err != nil {
			return nil, err
		}
		out[i].Progress = p
	}
	return out, nil
}

// listRows is every campaign's row, oldest first, as List gives them but
// without their progress: what a caller that resolves a name or lists
// the names reads (issue 21: each such read counted the progress of a
// campaign of a million items for nothing).
func listRows(ctx context.Context, r reader) ([]Campaign, error) {
	rows, err := r.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id`)
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

// Names lists every campaign's name, oldest first as List gives them,
// from the campaigns' rows alone: what resolves --campaign's name and
// completes one in a shell, where List counted each campaign's progress.
func Names(ctx context.Context, st *audit.Store) ([]string, error) {
	names, err := readNames(ctx, st, "id")
	if err != nil {
		return nil, fmt.Errorf("reading campaigns: %w", err)
	}
	return names, nil
}

// progressRead, when set (by a test), is told of each campaign whose
// progress is counted (TestNamesReadNoProgress).
var progressRead func(campaignID int64)

// loadProgress is progress over c's items: the items grouped by what
// progress reads of them, each group once, in the order of its first
// item, so reviewers come in the order progress gives them. List reads
// no item (issue 21: a campaign of a million items was read whole for
// `nhi campaign list`, shell completion and the review UI's :campaigns).
// SQLite groups rows only through its sorter, and sorted all the items
// to find a handful of groups (most of `nhi campaign list` at a
// million); there the items are read in the primary key's order and
// grouped here instead (progressGroupsInOrder). PostgreSQL groups them
// in a hash, with no sort of the items, and sends the groups alone.
func loadProgress(ctx context.Context, r reader, c *Campaign) (Progress, error) {
	if progressRead != nil {
		progressRead(c.ID)
	}
	var groups []itemGroup
	var err error
	if st, ok := r.(*audit.Store); ok && !st.Remote() {
		groups, err = progressGroupsInOrder(ctx, st, c.ID)
	} else {
		groups, err = progressGroupsBySQL(ctx, r, c.ID)
	}
	if err != nil {
		return Progress{}, fmt.Errorf("reading campaign progress: %w", err)
	}
	return progressOf(c, groups), nil
}

// progressGroupsBySQL is campaign campaignID's items grouped by the
// database, in the order of each group's first item.
func progressGroupsBySQL(ctx context.Context, r reader, campaignID int64) ([]itemGroup, error) {
	rows, err := r.Query(ctx, `SELECT reviewer, decision, carried <> '', decided_by, conflict, count(*)
		FROM campaign_items WHERE campaign_id = ?
		GROUP BY reviewer, decision, carried <> '', decided_by, conflict
		ORDER BY min(identity_id)`, campaignID)
	if err != nil {
		return nil, err
	}
	return scanGroups(rows)
}

// scanGroups reads and closes rows of the groups progressGroupsBySQL's
// query gives: reviewer, decision, whether carried, decider, conflict,
// the count.
func scanGroups(rows *sql.Rows) ([]itemGroup, error) {
	defer rows.Close()
	var groups []itemGroup
	for rows.Next() {
		var g itemGroup
		var carried bool
		if err := rows.Scan(&g.item.reviewer, &g.item.decision, &carried, &g.item.decidedBy, &g.item.conflict, &g.n); err != nil {
			return nil, err
		}
		if carried {
			g.item.carried = "carried" // progress asks only whether it is
		}
		groups = append(groups, g)
	}
	return groups, rows.Err()
}

// progressKey is, for each item, what progress reads of it in one text:
// its reviewer, decision and decider, each ended by a unit separator
// (0x1f), then whether it is carried and its conflict, as 0 or 1. Two
// items share a key exactly when they share a group of
// progressGroupsBySQL's, unless a text holds a separator, which the
// key's count of them shows (parseProgressKey). Concatenated by SQLite
// with no function call, which costs more than the text (issue 21).
const progressKey = `reviewer || '` + keySep + `' || decision || '` + keySep + `' || decided_by || '` + keySep + `' || (carried <> '') || conflict`

const keySep = audit.PackSep // as eachItemPage counts them

// progressGroupsInOrder is what progressGroupsBySQL answers, read in the
// primary key's order (campaign_id, identity_id), which needs no sort:
// the first item of a group in that order is the one whose ID is its
// min(identity_id), so groups in the order they first come are in the
// order of their first item. The items come a page at a time
// (eachItemPage), an item's key looked up in a map of the groups
// without a copy. Should a reviewer, decision or decider hold a
// separator, the keys could merge two groups, and the database groups
// the items instead.
func progressGroupsInOrder(ctx context.Context, st *audit.Store, campaignID int64) ([]itemGroup, error) {
	var groups []itemGroup
	group := map[string]int{} // key → index in groups
	err := eachItemPage(ctx, st, campaignID, progressKey, 3, func(page string, ok bool, _ string) error {
		if !ok {
			return errSeparator
		}
		for key := range strings.SplitSeq(page, pageRowSep) {
			if i, ok := group[key]; ok {
				groups[i].n++
				continue
			}
			key = strings.Clone(key) // not the page it is part of
			it, ok, err := parseProgressKey(key)
			if err != nil {
				return err
			}
			if !ok {
				return errSeparator
			}
			group[key] = len(groups)
			groups = append(groups, itemGroup{it, 1})
		}
		return nil
	})
	if errors.Is(err, errSeparator) {
		return progressGroupsBySQL(ctx, st, campaignID)
	}
	return groups, err
}

// errSeparator is a text of a packed read that holds a separator.
var errSeparator = errors.New("a text holds a separator")

// parseProgressKey is the item a progressKey was made of, with what
// progress reads of it; not ok when a text of it held a separator. A
// conflict other than 0 or 1 is an error, as progressGroupsBySQL's
// scan of it into a bool.
func parseProgressKey(key string) (it liveItem, ok bool, err error) {
	f := strings.Split(key, keySep)
	if len(f) != 4 {
		return it, false, nil
	}
	flags := f[3] // carried, then conflict
	if len(flags) != 2 || flags[0] != '0' && flags[0] != '1' || flags[1] != '0' && flags[1] != '1' {
		return it, false, fmt.Errorf("item key %q: carried and conflict are not 0 or 1", key)
	}
	it.conflict = flags[1] == '1'
	if flags[0] == '1' {
		it.carried = "carried" // progress asks only whether it is
	}
	it.reviewer, it.decision, it.decidedBy = f[0], Decision(f[1]), f[2]
	return it, true, nil
}

// itemGroup is n items alike in all progress reads of them.
type itemGroup struct {
	item liveItem
	n    int
}

// Load returns one campaign without its items, their progress or
// history: its row (its snapshots among it) and its no-response rule. A
// caller that may not need the items asks this first; Get reads them.
func Load(ctx context.Context, st *audit.Store, name string) (*Campaign, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	if _, err := readCreation(ctx, st, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ItemIDs lists the IDs of campaign name's items that start with prefix,
// in ID order as Get gives them, at most limit of them (0: every one):
// what a shell completes after nhi decide NAME. It reads the items' IDs
// alone, a row at a time, where Get holds every item with its history
// (issue 21: a campaign of a million items).
func ItemIDs(ctx context.Context, st *audit.Store, name, prefix string, limit int) ([]string, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	rows, err := st.Query(ctx, `SELECT identity_id FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		ids = append(ids, id)
		if limit > 0 && len(ids) == limit {
			return ids, nil
		}
	}
	return ids, rows.Err()
}

// EachItemKey calls fn with each item of campaign c in ID order, its
// reviewer and decision as the items' table holds them, and nothing else
// of it: what nhi campaign show -o id needs. One statement reads them, so
// one state of the table, as the item reader's cursor would; but not the
// rest of each item, its history or what its snapshot did not read
// (issue 21: at a million items that full read took 13–15 s for a list
// of IDs).
func EachItemKey(ctx context.Context, st *audit.Store, c *Campaign, fn func(id, reviewer string, d Decision) error) error {
	rows, err := st.Query(ctx, `SELECT identity_id, reviewer, decision FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`, c.ID)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, reviewer string
		var d Decision
		if err := rows.Scan(&id, &reviewer, &d); err != nil {
			return fmt.Errorf("reading campaign items: %w", err)
		}
		if err := fn(id, reviewer, d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	return nil
}

// Get returns one campaign with its items in ID order, each with its
// decision history.
func Get(ctx context.Context, st *audit.Store, name string) (*Campaign, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	live, err := loadItems(ctx, st, c.ID)
	if err != nil {
		return nil, err
	}
	c.Progress = progress(c, live)
	history, err := loadHistory(ctx, st, c.ID, nil)
	if err != nil {
		return nil, err
	}
	ren, err := readRenames(ctx, st)
	if err != nil {
		return nil, err
	}
	isItem := func(id string) bool {
		_, found := slices.BinarySearchFunc(live, id, func(l liveItem, id string) int { return strings.Compare(l.id, id) })
		return found
	}
	c.Items = make([]Item, len(live))
	for i := range live {
		l := &live[i]
		it, err := l.frozen.item()
		if err != nil {
			return nil, err
		}
		l.fill(&it, history)
		if len(ren) > 0 {
			it.CurrentID = ren.currentID(it.ID, isItem)
		}
		c.Items[i] = it
	}
	notRead, err := st.NotReadInSnapshots(ctx, c.snapshotIDs())
	if err != nil {
		return nil, err
	}
	for i := range c.Items {
		c.Items[i].NotRead = notRead[c.Items[i].ID]
	}
	if err := markVerifiedAfterDue(ctx, st, c); err != nil {
		return nil, err
	}
	if c.Refused, err = RefusedAttempts(ctx, st, c.Name, 0); err != nil {
		return nil, err
	}
	if _, err := readCreation(ctx, st, c); err != nil {
		return nil, err
	}
	if c.NoResponse.On == OnNoResponseEscalate {
		esc, err := escalations(ctx, st, c.Name, 0)
		if err != nil {
			return nil, err
		}
		for i := range c.Items {
			if x, ok := esc[c.Items[i].ID]; ok {
				c.Items[i].Escalated = &x
			}
		}
	}
	return c, nil
}

// loadHistory reads the decision history of a campaign's items, by
// identity ID: of every item, or of those ids names when it is not nil.
func loadHistory(ctx context.Context, st *audit.Store, campaignID int64, ids []string) (map[string][]Change, error) {
	q, args := `SELECT identity_id, seq, decision, reason, actor, at, via, undoes FROM campaign_decisions
		WHERE campaign_id = ?`, []any{campaignID}
	if ids != nil {
		list, err := json.Marshal(ids)
		if err != nil {
			return nil, err
		}
		q, args = q+` AND identity_id IN (SELECT value FROM json_each(?))`, append(args, string(list))
	}
	rows, err := st.Query(ctx, q+` ORDER BY identity_id, seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", err)
	}
	defer rows.Close()
	out := map[string][]Change{}
	for rows.Next() {
		var id, at string
		var ch Change
		if err := rows.Scan(&id, &ch.Seq, &ch.Decision, &ch.Reason, &ch.Actor, &at, &ch.Via, &ch.Undoes); err != nil {
			return nil, err
		}
		ch.At, _ = parseAt(at)
		out[id] = append(out[id], ch)
	}
	return out, rows.Err()
}

// progress counts items by state and by reviewer, reviewers in the
// campaign's order, then any other assignee, then "" (no eligible reviewer).
func progress(c *Campaign, items []liveItem) Progress {
	groups := make([]itemGroup, len(items))
	for i := range items {
		groups[i] = itemGroup{items[i], 1}
	}
	return progressOf(c, groups)
}

// progressOf is progress over c's items given as groups of alike items,
// in the order of their first item.
func progressOf(c *Campaign, groups []itemGroup) Progress {
	p := Progress{ByDecision: map[Decision]int{}}
	byReviewer := map[string]*ReviewerProgress{}
	var order []string
	get := func(r string) *ReviewerProgress {
		k := normActor(r)
		if rp := byReviewer[k]; rp != nil {
			return rp
		}
		rp := &ReviewerProgress{Reviewer: r}
		byReviewer[k] = rp
		order = append(order, k)
		return rp
	}
	for _, r := range c.Reviewers {
		get(r)
	}
	for _, g := range groups {
		it, n := &g.item, g.n
		p.Total += n
		rp := get(it.reviewer)
		rp.Assigned += n
		switch it.decision {
		case Pending:
			rp.Pending += n
			if it.carried != "" {
				p.Carried += n
			} else {
				p.Pending += n
			}
		case NoResponse:
			p.NoResponse += n
		default:
			p.Decided += n
			rp.Decided += n
			if it.reviewer == "" || !sameActor(it.decidedBy, it.reviewer) {
				rp.DecidedByOthers += n
				get(it.decidedBy).DecidedForOthers += n
			}
		}
		if it.decision != Pending {
			p.ByDecision[it.decision] += n
		}
		if it.conflict {
			p.Conflicts += n
		}
	}
	// "" (no eligible reviewer) last, if anything landed there.
	slices.SortStableFunc(order, func(a, b string) int {
		switch {
		case a == "" && b != "":
			return 1
		case b == "" && a != "":
			return -1
		}
		return 0
	})
	for _, k := range order {
		p.Reviewers = append(p.Reviewers, *byReviewer[k])
	}
	return p
}

// Sample draws size items of a campaign for an external auditor, the same
// ones for the same seed, by an algorithm anyone can reproduce:
//
//  1. for every item, key = hex(SHA-256(seed ‖ 0x00 ‖ identity ID)), with
//     seed and ID as UTF-8 bytes (in a shell: printf '%s\0%s' "$SEED" "$ID" | sha256sum);
//  2. sort the items by key, ties (never seen in practice) by identity ID;
//  3. take the first size items (all of them if size exceeds the population).
//
// The result is in that order. A different seed gives an independent sample;
// the same seed over the same frozen population gives the same sample.
func Sample(items []Item, size int, seed string) []SampleItem {
	keyed := make([]SampleItem, len(items))
	for i := range items {
		keyed[i] = SampleItem{Key: SampleKey(seed, items[i].ID), Item: items[i]}
	}
	slices.SortFunc(keyed, func(a, b SampleItem) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Item.ID, b.Item.ID)
	})
	if size < len(keyed) {
		keyed = keyed[:max(size, 0)]
	}
	for i := range keyed {
		keyed[i].Rank = i + 1
	}
	return keyed
}

// SampleKey is an item's sort key in Sample: hex(SHA-256(seed ‖ 0x00 ‖ id)).
func SampleKey(seed, id string) string {
	h := sha256.New()
	h.Write([]byte(seed))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))
}

// SampleItem is one drawn item, with its rank and sort key.
type SampleItem struct {
	Rank int
	Key  string
	Item Item
}

// markVerifiedAfterDue sets each verified item's VerifiedAfterDue: was the
// snapshot that verified it taken after c's due date? Overdue is that
// snapshot's word, as campaign verify and the report say it.
func markVerifiedAfterDue(ctx context.Context, st *audit.Store, c *Campaign) error {
	if !slices.ContainsFunc(c.Items, func(it Item) bool { return it.VerifiedSnapshot != 0 }) {
		return nil
	}
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return err
	}
	after := map[int64]bool{}
	for i := range snaps {
		after[snaps[i].ID] = pastDue(c.Due, snaps[i].StartedAt)
	}
	for i := range c.Items {
		c.Items[i].VerifiedAfterDue = after[c.Items[i].VerifiedSnapshot]
	}
	return nil
}
