package campaigns

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// exceptionsNow returns the exceptions of campaign as the tables stand at
// event head, the log's head read before, reading only its kept items
// with findings (campaign_items_kept, campaigns' step 3; on PostgreSQL
// through their history's keep rows, as ExceptionIDs does), where
// GetAsOf read every item with its history (issue 21: nhi exception
// list of a campaign of a million items held them all). ok is false
// when the log grew during the read: the caller then reads as of head
// the long way, as GetAsOf would have.
func exceptionsNow(ctx context.Context, st *audit.Store, campaign string, head int64) (_ map[string]*Exception, ok bool, _ error) {
	c, err := load(ctx, st, campaign)
	if err != nil {
		return nil, false, err
	}
	if c.CreateSeq > head {
		return nil, false, fmt.Errorf("campaign %s was created by event %d, after event %d", c.Name, c.CreateSeq, head)
	}
	q := `SELECT identity_id, findings, reason, decided_by, COALESCE(decided_at, ''), COALESCE(decision_seq, 0) FROM campaign_items
		WHERE campaign_id = ? AND decision = '` + string(Keep) + `' AND findings <> '[]' ORDER BY identity_id` // campaign_items_kept's literals
	if st.Remote() { // the items with a keep in their history (standingQueryFromHistory)
		q = `SELECT i.identity_id, i.findings, i.reason, i.decided_by, COALESCE(i.decided_at, ''), COALESCE(i.decision_seq, 0)
		FROM ` + keptInHistory + ` k JOIN campaign_items i ON i.campaign_id = k.campaign_id AND i.identity_id = k.identity_id
		WHERE k.campaign_id = ? AND i.decision = '` + string(Keep) + `' AND i.findings <> '[]' ORDER BY i.identity_id`
	}
	rows, err := st.Query(ctx, q, c.ID)
	if err != nil {
		return nil, false, fmt.Errorf("reading the exceptions of %s: %w", audit.Printable(c.Name), err)
	}
	defer rows.Close()
	out := map[string]*Exception{}
	for rows.Next() {
		x := &Exception{Campaign: c.Name, CampaignClosedAt: c.ClosedAt}
		var findings, at string
		if err := rows.Scan(&x.ID, &findings, &x.Reason, &x.DecidedBy, &at, &x.Seq); err != nil {
			return nil, false, err
		}
		// An exception is a keep on an item that had findings, as decoded:
		// a text other than "[]" that holds none ("null") is not one.
		var fs []audit.Finding
		if err := json.Unmarshal([]byte(findings), &fs); err != nil {
			return nil, false, fmt.Errorf("item %s: findings: %w", x.ID, err)
		}
		if len(fs) == 0 {
			continue
		}
		if t, ok := parseAt(at); ok {
			x.DecidedAt = t
		}
		out[x.ID] = x
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	rows.Close()
	// Nothing appended since head, during the read included (a write
	// appends an event in the same transaction): the tables are the log
	// as of head.
	now, err := st.LogHead(ctx)
	if err != nil {
		return nil, false, err
	}
	if now.Seq != head {
		return nil, false, nil
	}
	if len(out) == 0 {
		return out, true, nil
	}
	ren, err := renamesAsOf(ctx, st, head)
	if err != nil {
		return nil, false, err
	}
	renamed, err := itemRenames(ctx, st, c.ID, ren)
	if err != nil {
		return nil, false, err
	}
	for id, cur := range renamed {
		if x := out[id]; x != nil {
			x.CurrentID = cur
		}
	}
	if err := fillExceptions(ctx, st, c.Name, out, head); err != nil {
		return nil, false, err
	}
	return out, true, nil
}
