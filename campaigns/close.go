package campaigns

import (
	"context"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// Closed is what Close did.
type Closed struct {
	Event      audit.Event
	Decided    int
	NoResponse int // undecided items, now no-response
	// CarriedUnconfirmed counts the no-response items that had a carried
	// decision nobody confirmed.
	CarriedUnconfirmed int
}

// Close ends a campaign: its decisions become final, and every item still
// undecided (pending, or carried but unconfirmed) becomes no-response —
// flagged in the report, never approved.
func Close(ctx context.Context, st *audit.Store, actor, name string) (*Closed, error) {
	var out *Closed
	err := st.Write(ctx, func(tx *audit.Tx) error {
		c, err := loadOpen(ctx, tx, name)
		if err != nil {
			return err
		}
		out = &Closed{}
		if err := tx.QueryRow(ctx, `SELECT
			COALESCE(sum(decision <> ''), 0), COALESCE(sum(decision = ''), 0), COALESCE(sum(decision = '' AND carried <> ''), 0)
			FROM campaign_items WHERE campaign_id = ?`, c.ID).Scan(&out.Decided, &out.NoResponse, &out.CarriedUnconfirmed); err != nil {
			return err
		}
		ev, err := tx.Append(ctx, actor, EventClose, ClosePayload{Campaign: c.Name, Decided: out.Decided, NoResponse: out.NoResponse})
		if err != nil {
			return err
		}
		out.Event = ev
		at := formatAt(ev.At)
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET status = 'closed', closed_at = ?, closed_by = ?, close_seq = ? WHERE id = ?`,
			at, actor, ev.Seq, c.ID); err != nil {
			return fmt.Errorf("closing %s: %w", c.Name, err)
		}
		// What itemState.close does, for every undecided item at once.
		if _, err := tx.Exec(ctx, `UPDATE campaign_items SET decision = ?, reason = '', decided_by = '', decided_at = ?, decision_seq = ?
			WHERE campaign_id = ? AND decision = ''`, string(NoResponse), at, ev.Seq, c.ID); err != nil {
			return fmt.Errorf("closing %s: %w", c.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
