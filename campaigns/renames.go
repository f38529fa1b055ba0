package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// A repository renamed after a campaign froze its population gives the
// item's identity a new ID; the snapshot that saw it links the old ID to
// the new (audit's lineage.go; ARCHITECTURE.md, "Renames"). The item keeps
// the ID it was frozen under: that ID is the key of the evidence (the
// population digest, every decision event, the history). What a reviewer
// sees is the identity under its ID now, so a campaign matches either
// way, from one read of the links (small: renames are rare): the items by
// the ID their identity has now (Assignments, FilterReview: the TUI's
// rows and campaign:NAME), an item by any ID its identity had or has
// (loadItem: Decide, TransferItems, ApproveException), and each item's ID
// now (Get: Item.CurrentID). docs/campaigns.md, "Renamed repositories".

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
// it was frozen under, with the links ren of a transaction that reads c.
func currentOf(ctx context.Context, r reader, ren renames, c *Campaign, it *liveItem) (string, error) {
	cur, ok := ren[it.id]
	if !ok || cur == it.id {
		return "", nil
	}
	var n int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, c.ID, cur).Scan(&n); err != nil {
		return "", err
	}
	return ren.currentID(it.id, func(string) bool { return n > 0 }), nil
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
