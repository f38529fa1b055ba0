package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
)

// eachCampaignEvent calls fn with each event of type typ of campaign (""
// for every campaign) up to event upTo (0 for all), oldest first, its
// payload decoded into a P: the one read of the log the campaign's
// approvals, escalations and refused attempts share. what names them in
// an error reading the log.
func eachCampaignEvent[P any](ctx context.Context, r reader, typ, campaign string, upTo int64, what string,
	fn func(seq int64, at, actor string, p *P) error) error {
	q := `SELECT seq, at, actor, payload FROM events WHERE type = ?`
	args := []any{typ}
	if campaign != "" {
		q += ` AND json_extract(payload, '$.campaign') = ?`
		args = append(args, campaign)
	}
	if upTo > 0 {
		q += ` AND seq <= ?`
		args = append(args, upTo)
	}
	rows, err := r.Query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var at, actor, payload string
		if err := rows.Scan(&seq, &at, &actor, &payload); err != nil {
			return err
		}
		var p P
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return fmt.Errorf("event %d (%s): %w", seq, typ, err)
		}
		if err := fn(seq, at, actor, &p); err != nil {
			return err
		}
	}
	return rows.Err()
}
