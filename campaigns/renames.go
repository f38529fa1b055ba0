package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// A repository renamed after a campaign froze its population gives the
// item's identity a new ID; the snapshot that saw it links the old ID to
// the new (audit's lineage.go; ARCHITECTURE.md, "Renames"). The item keeps
// the ID it was frozen under: that ID is the key of the evidence (the
// population digest, every decision event, the history). What a reviewer
// sees is the identity under its ID now, so a campaign matches either
// way, with no work per item beyond a lookup in a map as small as the
// renames (renames are rare): the items by the ID their identity has now
// (Assignments, FilterReview: the TUI's rows and campaign:NAME), an item
// by any ID its identity had or has (loadItem, reading the links only when
// the ID given is no item's: Decide, TransferItems, ApproveException),
// and each item's ID now (Get, EachAsOf: Item.CurrentID). A decision reads
// the owner under both IDs (currentOf, refusalNow). Across campaigns,
// carry-forward matches an item of the earlier campaign frozen under any
// ID the identity had (carryForward), and a standing exception kept under
// an old ID stands for the identity under its ID now (followRenames),
// both through lineages. docs/campaigns.md, "Renamed repositories".

// renames are the links as one read saw them: an old ID -> the ID it
// continues as now (renames of renames followed).
type renames map[string]string

func readRenames(ctx context.Context, r reader) (renames, error) {
	a, err := r.Aliases(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading renames: %w", err)
	}
	return renames(a), nil
}

// currentID is the ID the identity of item id has now, when it is not
// id: its successor's, unless isItem says that ID is an item of the
// campaign too (a repository renamed and renamed back: each item stands
// for itself, and none is counted twice); "" otherwise.
func (r renames) currentID(id string, isItem func(string) bool) string {
	if cur, ok := r[id]; ok && cur != id && !isItem(cur) {
		return cur
	}
	return ""
}

// lineage is every other ID of the identity id names: the ID it has now
// and every ID that continues as that one, in no order.
func (r renames) lineage(id string) []string {
	cur, ok := r[id]
	if !ok {
		cur = id
	}
	var out []string
	if cur != id {
		out = append(out, cur)
	}
	for old, c := range r {
		if c == cur && old != id {
			out = append(out, old)
		}
	}
	return out
}

// lineages are the renames grouped by the ID each identity has now, so
// others costs a look-up per ID where lineage reads every rename: a
// create's carry-forward asks for every item of its population.
type lineages struct {
	ren    renames
	groups map[string][]string // ID now -> it and every ID that continues as it, in ID order
}

func (r renames) lineages() *lineages {
	l := &lineages{ren: r, groups: map[string][]string{}}
	for old, cur := range r {
		if len(l.groups[cur]) == 0 {
			l.groups[cur] = append(l.groups[cur], cur)
		}
		if old != cur {
			l.groups[cur] = append(l.groups[cur], old)
		}
	}
	for _, ids := range l.groups {
		slices.Sort(ids)
	}
	return l
}

// others is lineage(id): every other ID of the identity id names, in ID
// order; none when it was never renamed. A nil l has none.
func (l *lineages) others(id string) []string {
	if l == nil {
		return nil
	}
	cur, ok := l.ren[id]
	if !ok {
		cur = id
	}
	g := l.groups[cur]
	if len(g) == 0 {
		return nil
	}
	out := make([]string, 0, len(g)-1)
	for _, x := range g {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// renamedItem is the ID of the item of campaign campaignID whose identity
// id names under another ID (the ID it has now, or one it had); "" when
// none is. The first by ID, should there be more than one, so the same
// ID always names the same item.
func renamedItem(ctx context.Context, r reader, campaignID int64, id string) (string, error) {
	ren, err := readRenames(ctx, r)
	if err != nil {
		return "", err
	}
	ids := ren.lineage(id)
	if len(ids) == 0 {
		return "", nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return "", err
	}
	var item string
	err = r.QueryRow(ctx, `SELECT identity_id FROM campaign_items WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))
		ORDER BY identity_id LIMIT 1`, campaignID, string(list)).Scan(&item)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return item, err
}

// ownerNow is the owner recorded now under cur, the ID item it's identity
// has now ("" when it was not renamed, or no owner is recorded under it):
// the separation rules refuse its owner under either ID (refusalNow).
func ownerNow(ctx context.Context, tx *audit.Tx, cur string) (string, error) {
	if cur == "" {
		return "", nil
	}
	return tx.Owner(ctx, cur)
}

// currentOf is the ID item it's identity has now, "" when it keeps the ID
// it was frozen under (or that ID is an item of c too: renames.currentID),
// as transaction tx sees the renames: a probe of their key, so a decision
// on an item never renamed reads one row more at most.
func currentOf(ctx context.Context, tx *audit.Tx, c *Campaign, it *liveItem) (string, error) {
	cur, err := tx.CurrentID(ctx, it.id)
	if err != nil || cur == it.id {
		return "", err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, c.ID, cur).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	return cur, nil
}

// refusalNow is refusal for item it, whose owner recorded now is owner
// under the ID it was frozen with and now under the ID its identity has
// now (renamed; "" otherwise): the owner a reviewer sees refuses as the
// one recorded under the old ID does.
func (s *separation) refusalNow(it *frozen, owner, now, actor string) *Refusal {
	if r := s.refusal(it, owner, actor); r != nil || now == "" || now == owner {
		return r
	}
	return s.refusal(it, now, actor)
}

// renamesAsOf are the renames as the log stood after event seq: links a
// snapshot made whose snapshot.record event came after seq are left out,
// so a report rebuilt as of an earlier event names no later rename.
func renamesAsOf(ctx context.Context, st *audit.Store, seq int64) (renames, error) {
	later := map[int64]bool{}
	rows, err := st.Query(ctx, `SELECT payload FROM events WHERE type = ? AND seq > ?`, audit.EventSnapshotRecord, seq)
	if err != nil {
		return nil, fmt.Errorf("reading renames: %w", err)
	}
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			rows.Close()
			return nil, err
		}
		var r struct {
			Snapshot int64 `json:"snapshot"`
		}
		if err := json.Unmarshal([]byte(payload), &r); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading renames: a snapshot.record: %w", err)
		}
		later[r.Snapshot] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = st.Query(ctx, `SELECT id, current, snapshot_id FROM identity_aliases`)
	if err != nil {
		return nil, fmt.Errorf("reading renames: %w", err)
	}
	defer rows.Close()
	next := map[string]string{}
	for rows.Next() {
		var id, cur string
		var snap int64
		if err := rows.Scan(&id, &cur, &snap); err != nil {
			return nil, err
		}
		if !later[snap] {
			next[id] = cur
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Renames of renames followed, as audit's Aliases does.
	return renames(audit.FollowAliases(next)), nil
}

// itemRenames maps each item of campaign campaignID whose identity has
// another ID now, in the renames ren, to that ID: one query, over the
// renamed IDs only, so a campaign of a million items is not read for it.
func itemRenames(ctx context.Context, r reader, campaignID int64, ren renames) (map[string]string, error) {
	if len(ren) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, 2*len(ren))
	for old, cur := range ren {
		ids = append(ids, old, cur)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := r.Query(ctx, `SELECT identity_id FROM campaign_items WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))`, campaignID, string(list))
	if err != nil {
		return nil, fmt.Errorf("reading renamed items: %w", err)
	}
	defer rows.Close()
	items := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		items[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id := range items {
		if cur := ren.currentID(id, func(x string) bool { return items[x] }); cur != "" {
			out[id] = cur
		}
	}
	return out, nil
}
