package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A campaign created with --require-signed takes no unsigned decision
// through nhi (rule unsigned), and its report says every decision had to
// be signed. A decision written around nhi — the event, the item and its
// history row, as nhi writes them, unsigned: anyone who writes an
// evidence file can, and on PostgreSQL a reviewer with psql on her own
// items — is consistent with every table, and nhi verify passed it; it
// now fails it, naming the event, as it fails a signature deleted or
// changed (docs/people.md, "Signed decisions").
func TestVerifyFailsAnUnsignedDecisionWhereSignaturesAreRequired(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}, RequireSigned: true})
		c := get(t, f, "q")
		id := c.Items[0].ID
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Keep, "needed"); !errors.Is(err, campaigns.ErrSignature) {
			t.Fatalf("an unsigned decision through nhi: %v; want ErrSignature", err)
		}
		var seq int64
		err := f.Store.Write(ctx, func(tx *audit.Tx) error {
			ev, err := tx.Append(ctx, "rita", campaigns.EventDecide, campaigns.DecidePayload{Campaign: "q", Items: []string{id}, Decision: campaigns.Keep, Reason: "needed"})
			if err != nil {
				return err
			}
			seq = ev.Seq
			at := ev.At.UTC().Format("2006-01-02T15:04:05.000000Z")
			if _, err := tx.Exec(ctx, `UPDATE campaign_items SET decision = ?, reason = ?, decided_by = ?, decided_at = ?, decision_seq = ?, conflict = 0
				WHERE campaign_id = ? AND identity_id = ?`, "keep", "needed", "rita", at, ev.Seq, c.ID, id); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`, c.ID, id, ev.Seq, "keep", "needed", "rita", at, campaigns.ViaSingle)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (campaign.decide by rita) decides in campaign q, which requires signed decisions, and is not signed", seq)
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify after an unsigned decision in q: %q; want one problem saying %q", problems, want)
		}
	})
}
