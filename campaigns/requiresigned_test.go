package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
		seq, err := campaignstest.WriteAround(ctx, f.Store, "rita", campaigns.DecidePayload{Campaign: "q", Items: []string{id}, Decision: campaigns.Keep, Reason: "needed"})
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
