package campaignstest

import (
	"context"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// WriteAround records actor's single decision p as nhi writes one — the
// campaign.decide event, each item's decision columns and its history
// row, in one transaction — without nhi's checks: what anyone who writes
// an evidence file can do, and on PostgreSQL the tables' owner with
// psql (a reviewer's session the database may refuse: the error is the
// write's). It returns the event's number.
func WriteAround(ctx context.Context, st *audit.Store, actor string, p campaigns.DecidePayload) (int64, error) {
	var seq int64
	err := st.Write(ctx, func(tx *audit.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = ?`, p.Campaign).Scan(&id); err != nil {
			return err
		}
		ev, err := tx.Append(ctx, actor, campaigns.EventDecide, p)
		if err != nil {
			return err
		}
		seq = ev.Seq
		at := ev.At.UTC().Format("2006-01-02T15:04:05.000000Z")
		for _, item := range p.Items {
			if _, err := tx.Exec(ctx, `UPDATE campaign_items SET decision = ?, reason = ?, decided_by = ?, decided_at = ?, decision_seq = ?, conflict = 0
				WHERE campaign_id = ? AND identity_id = ?`, string(p.Decision), p.Reason, actor, at, ev.Seq, id, item); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`, id, item, ev.Seq, string(p.Decision), p.Reason, actor, at, campaigns.ViaSingle); err != nil {
				return err
			}
		}
		return nil
	})
	return seq, err
}

// CloseAround closes campaign as nhi closes one — the campaign.close
// event, the campaign's row and its undecided items made no-response, in
// one transaction — without nhi's checks (the closer rule): what anyone
// who writes an evidence file can do. It returns the event's number.
func CloseAround(ctx context.Context, st *audit.Store, actor, campaign string) (int64, error) {
	var seq int64
	err := st.Write(ctx, func(tx *audit.Tx) error {
		var id int64
		p := campaigns.ClosePayload{Campaign: campaign}
		if err := tx.QueryRow(ctx, `SELECT c.id, count(CASE WHEN i.decision <> '' THEN 1 END), count(CASE WHEN i.decision = '' THEN 1 END)
			FROM campaigns c JOIN campaign_items i ON i.campaign_id = c.id WHERE c.name = ? GROUP BY c.id`, campaign).Scan(&id, &p.Decided, &p.NoResponse); err != nil {
			return err
		}
		ev, err := tx.Append(ctx, actor, campaigns.EventClose, p)
		if err != nil {
			return err
		}
		seq = ev.Seq
		at := ev.At.UTC().Format("2006-01-02T15:04:05.000000Z")
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET status = 'closed', closed_at = ?, closed_by = ?, close_seq = ? WHERE id = ?`, at, actor, ev.Seq, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE campaign_items SET decision = ?, reason = '', decided_by = '', decided_at = ?, decision_seq = ?
			WHERE campaign_id = ? AND decision = ''`, string(campaigns.NoResponse), at, ev.Seq, id)
		return err
	})
	return seq, err
}
