package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// An offboarding's reviewer may not transfer a leaver's identity to
// herself, under any alias: she would own what she reviewed, which the
// owner rule refuses for every other decision (docs/offboarding.md).
// It is refused as a self-review is, saying whom to ask, and recorded
// as a decision.refused event naming every item; nothing else is
// written. Before, carol transferred alice's key to @carol and became
// its owner, by her own decision. Another person may transfer it to her.
func TestOffboardReviewerMayNotTransferToHerself(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := offboardFixtureOn(t, eng)
		st := f.Store
		res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice@acme.test", Reviewers: []string{"carol@acme.test", "bob"}})
		if err != nil {
			t.Fatal(err)
		}
		c := get(t, f, res.Campaign.Name)
		var mine []string // carol's items
		for _, it := range c.Items {
			if it.Reviewer == "carol@acme.test" {
				mine = append(mine, it.ID)
			}
		}
		if len(mine) == 0 {
			t.Fatalf("carol reviews none of %s items: %+v", c.Name, c.Items)
		}
		id := mine[0]
		_, err = campaigns.TransferItems(ctx, st, "carol@acme.test", c.Name, mine, "@carol", "I run it now")
		var re *campaigns.RefusedError
		if !errors.As(err, &re) || !errors.Is(err, campaigns.ErrSelfReview) || re.Rule != campaigns.RuleOwner {
			t.Fatalf("carol transferring to herself: %v; want refused by rule owner", err)
		}
		for _, want := range []string{"carol@acme.test may not decide " + id, "the transfer names carol@acme.test as the new owner, who is carol@acme.test: you would own what you reviewed",
			"ask another reviewer (bob@acme.test) to transfer it to you", "the attempt is recorded"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		refused, err := campaigns.RefusedAttempts(ctx, st, c.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(refused) != 1 || refused[0].Rule != campaigns.RuleOwner || refused[0].Action != string(campaigns.Transfer) || len(refused[0].Items) != len(mine) {
			t.Errorf("refused attempts: %+v; want one transfer refused by rule owner, naming her %d items", refused, len(mine))
		}
		if o, err := st.Identity(ctx, id); err != nil || o.Owner != "" {
			t.Errorf("owner of %s after the refused transfer: %q %v; want none recorded", id, o.Owner, err)
		}
		for _, it := range get(t, f, c.Name).Items {
			if it.Decision != campaigns.Pending {
				t.Errorf("%s decided after the refused transfer: %s", it.ID, it.Decision)
			}
		}
		// bob may transfer it to her.
		if _, err := campaigns.TransferItems(ctx, st, "bob@acme.test", c.Name, []string{id}, "carol", "carol runs it now"); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Identity(ctx, id); o.Owner != "carol@acme.test" {
			t.Errorf("owner after bob's transfer: %q", o.Owner)
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
			t.Fatalf("verify after bob's transfer to carol: %q %v", problems, err)
		}

		// One written around nhi (anyone who writes an evidence file; on
		// PostgreSQL carol with psql, as the database does not read a
		// transfer's new owner) fails nhi verify, naming the event.
		var other string
		for _, it := range c.Items {
			if it.ID != id {
				other = it.ID
			}
		}
		seq, err := campaignstest.WriteAround(ctx, st, "carol@acme.test", campaigns.DecidePayload{Campaign: c.Name, Items: []string{other}, Decision: campaigns.Transfer, Reason: "mine now", To: "carol@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (campaign.decide by carol@acme.test) transfers %s in campaign %s to carol@acme.test, the same person: nhi refuses such a transfer (rule owner)", seq, other, c.Name)
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify after a transfer to herself written around nhi: %q; want one problem saying %q", problems, want)
		}
		// The evidence report's check (campaigns.SelfReviews) names the
		// same transfer, and not bob's.
		srs, err := campaigns.ReadSelfReviews(ctx, st, c.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range get(t, f, c.Name).Items {
			for _, h := range it.History {
				sr, self := srs.Of(h.Seq, &it)
				if wantSelf := h.Seq == seq; self != wantSelf || self && (!sr.Transfer || sr.Whose != "new owner is carol@acme.test") {
					t.Errorf("the report's check of event %d on %s: %+v %v; want a self-review %v", h.Seq, it.ID, sr, self, wantSelf)
				}
			}
		}
	})
}
