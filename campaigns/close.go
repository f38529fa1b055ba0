package campaigns

import (
	"context"
	"errors"
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
	// Rule is the campaign's no-response rule, which says what the
	// no-response items come to.
	Rule NoResponseRule
}

// Close ends a campaign: its decisions become final, and every item still
// undecided (pending, or carried but unconfirmed) becomes no-response —
// flagged in the report, never approved. It refuses an actor the
// directory of people, read in its transaction, marks left
// (ErrActorLeft).
func Close(ctx context.Context, st *audit.Store, actor, name string) (*Closed, error) {
	var out *Closed
	err := st.Write(ctx, func(tx *audit.Tx) error {
		c, err := loadOpen(ctx, tx, name)
		if err != nil {
			return err
		}
		// A leaver closes nothing, even from a command started (its
		// question asked) before they left: the directory as it is now,
		// as for a decision.
		if err := refuseLeaverIn(ctx, tx, actor, "close a campaign"); err != nil {
			return err
		}
		if !c.AllowAdminReview {
			if r, err := closerRefusal(ctx, tx, c, actor); err != nil || r != nil {
				if r != nil {
					return &RefusedError{Refusal: *r, Campaign: c.Name, Actor: actor}
				}
				return err
			}
		}
		out = &Closed{}
		if err := tx.QueryRow(ctx, `SELECT
			count(CASE WHEN decision <> '' THEN 1 END), count(CASE WHEN decision = '' THEN 1 END), count(CASE WHEN decision = '' AND carried <> '' THEN 1 END)
			FROM campaign_items WHERE campaign_id = ?`, c.ID).Scan(&out.Decided, &out.NoResponse, &out.CarriedUnconfirmed); err != nil {
			return err
		}
		rule, err := noResponseRule(ctx, tx, c)
		if err != nil {
			return err
		}
		out.Rule = rule
		p := ClosePayload{Campaign: c.Name, Decided: out.Decided, NoResponse: out.NoResponse}
		if rule.On == OnNoResponseKeep || rule.On == OnNoResponseDecommission {
			p.OnNoResponse = rule.On
		}
		ev, err := tx.Append(ctx, actor, EventClose, p)
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
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return nil, recordRefusal(ctx, st, actor, "close", re, nil)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// closerRefusal refuses the close to someone who decided items of the
// campaign: who closes attests the review, and may not have taken part in
// it (separation of duties), unless the campaign allows admin review.
func closerRefusal(ctx context.Context, tx *audit.Tx, c *Campaign, actor string) (*Refusal, error) {
	sep, err := newSeparation(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT actor, count(*) FROM campaign_decisions WHERE campaign_id = ? AND via <> ? GROUP BY actor`, c.ID, ViaUndo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var who string
		var k int
		if err := rows.Scan(&who, &k); err != nil {
			return nil, err
		}
		if sep.same(who, actor) {
			n += k
		}
	}
	if err := rows.Err(); err != nil || n == 0 {
		return nil, err
	}
	return &Refusal{RuleCloser, fmt.Sprintf("%s decided %s of it; someone who did not review closes it, unless the campaign was created with --allow-admin-review", audit.Printable(actor), audit.Counted(n, "item", "items"))}, nil
}

// ClosePreview is what closing a campaign would do, as the close command
// shows it before asking: the counts, and the first undecided items.
type ClosePreview struct {
	// Campaign is the campaign's row, with its no-response rule; its
	// Items and Progress are not read.
	Campaign *Campaign
	Total    int
	// Decided counts the items with a decision other than no-response
	// (Progress.Decided).
	Decided int
	// Undecided counts the items that closing makes no-response.
	Undecided int
	// First is the first undecided items in ID order, at most as many as
	// asked, each with its decision history and escalation.
	First []Item
}

// PreviewClose reads what Close would make no-response, without reading
// every item: the counts come from SQL, and only the first n undecided
// items are read whole (issue 21: Get held a million items to show ten).
func PreviewClose(ctx context.Context, st *audit.Store, name string, n int) (*ClosePreview, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	if c.NoResponse, err = noResponseRule(ctx, st, c); err != nil {
		return nil, err
	}
	// The counts as List and Get count them (progress): the decided,
	// and the undecided, carried or not, that closing makes no-response.
	prog, err := loadProgress(ctx, st, c)
	if err != nil {
		return nil, err
	}
	p := &ClosePreview{Campaign: c, Total: prog.Total, Decided: prog.Decided, Undecided: prog.Pending + prog.Carried}
	if n <= 0 || p.Undecided == 0 {
		return p, nil
	}
	rows, err := st.Query(ctx, `SELECT `+frozenColumns+`, `+stateColumns+` FROM campaign_items WHERE campaign_id = ? AND decision = ''
		ORDER BY identity_id LIMIT ?`, c.ID, n)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	live, err := scanItems(rows, n)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(live))
	for i := range live {
		ids[i] = live[i].id
	}
	history, err := loadHistory(ctx, st, c.ID, ids)
	if err != nil {
		return nil, err
	}
	var esc map[string]Escalation
	if c.NoResponse.On == OnNoResponseEscalate {
		if esc, err = escalations(ctx, st, c.Name, 0); err != nil {
			return nil, err
		}
	}
	for i := range live {
		l := &live[i]
		it, err := l.frozen.item()
		if err != nil {
			return nil, err
		}
		l.fill(&it, history)
		if x, ok := esc[l.id]; ok {
			it.Escalated = &x
		}
		p.First = append(p.First, it)
	}
	return p, nil
}

// refuseLeaverIn refuses actor when the directory of people, read in
// tx, marks their person left (audit.ErrActorLeft): a command started
// (its question asked) before they left writes nothing in their name,
// and nhi verify names one the log holds anyway (verify_leaver.go).
func refuseLeaverIn(ctx context.Context, tx *audit.Tx, actor, what string) error {
	dir, err := tx.People(ctx)
	if err != nil {
		return err
	}
	return dir.RefuseLeaver(actor, what)
}
