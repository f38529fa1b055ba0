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

// writeDecision records actor's decision d on item id of campaign c
// around nhi's checks (campaignstest.WriteAround).
func writeDecision(t *testing.T, f *fixture, c *campaigns.Campaign, actor, id string, d campaigns.Decision, reason string) int64 {
	t.Helper()
	seq, err := campaignstest.WriteAround(ctx, f.Store, actor, campaigns.DecidePayload{Campaign: c.Name, Items: []string{id}, Decision: d, Reason: reason})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// nhi refuses a decision on an item the reviewer owns or holds, under
// any alias (rules owner and holder, docs/people.md), and on PostgreSQL
// the database refuses it to a reviewer's session. One the log holds
// anyway — written around nhi by anyone who writes an evidence file, or
// on PostgreSQL by the tables' owner — is no second person's review:
// nhi verify names its event, as it names a self-approval, whether the
// owner was recorded when the campaign was created or by the time of the
// decision, or the holder is a name the directory gave the reviewer
// then. An owner recorded after the decision, or a name the directory
// learns after it, makes no problem: nhi could not have refused it.
// Before, verify passed every one of them.
func TestVerifyFailsASelfReviewWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		rita := audit.Person{Email: "rita@acme.test", GitHub: "carol", Status: audit.PersonActive, Aliases: []string{"rita"}}
		sam := audit.Person{Email: "sam@acme.test", Status: audit.PersonActive, Aliases: []string{"sam"}}
		if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita, sam}}, false); err != nil {
			t.Fatal(err)
		}
		atCreation, then, held := keyID("ops", "5"), keyID("api", "2"), keyID("web", "3") // web/3's holder is carol, rita's login
		ownedLater, learnedLater := keyID("api", "1"), keyID("web", "4")
		if _, err := f.Store.SetOwner(ctx, "admin", atCreation, "rita@acme.test"); err != nil {
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:github_deploy_key", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
		c := get(t, f, "q")
		if _, err := f.Store.SetOwner(ctx, "admin", then, "Rita"); err != nil {
			t.Fatal(err)
		}
		seqs := map[string]int64{}
		for _, d := range []struct{ actor, id string }{{"rita", atCreation}, {"rita@acme.test", then}, {"RITA@acme.test", held},
			{"rita@acme.test", ownedLater}, {"rita@acme.test", learnedLater}} {
			seqs[d.id] = writeDecision(t, f, c, d.actor, d.id, campaigns.Decommission, "")
		}
		// After the decisions: an owner recorded, a name learned.
		if _, err := f.Store.SetOwner(ctx, "admin", ownedLater, "rita"); err != nil {
			t.Fatal(err)
		}
		rita.Aliases = append(rita.Aliases, "alice") // web/4's holder
		if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
			t.Fatal(err)
		}
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("event %d (campaign.decide by rita) decides %s in campaign q, whose recorded owner when the campaign was created is rita@acme.test, the same person: nhi refuses such a decision (rule owner)", seqs[atCreation], atCreation),
			fmt.Sprintf("event %d (campaign.decide by rita@acme.test) decides %s in campaign q, whose recorded owner then is Rita (event ", seqs[then], then),
			fmt.Sprintf("event %d (campaign.decide by RITA@acme.test) decides %s in campaign q, whose holder according to the source is carol, the same person: nhi refuses such a decision (rule holder)", seqs[held], held),
		}
		if len(problems) != len(want) {
			t.Fatalf("verify after three self-reviews and two decisions nhi could not have refused: %d problems %q; want %d", len(problems), problems, len(want))
		}
		for i, w := range want {
			if !strings.Contains(problems[i], w) {
				t.Errorf("problem %d: %q; want it to say %q", i, problems[i], w)
			}
		}
		// The evidence report's check (campaigns.SelfReviews) names the
		// same three, by the same rules.
		srs, err := campaigns.ReadSelfReviews(ctx, f.Store, "q", 0)
		if err != nil {
			t.Fatal(err)
		}
		rules := map[string]string{atCreation: campaigns.RuleOwner, then: campaigns.RuleOwner, held: campaigns.RuleHolder}
		for _, it := range get(t, f, "q").Items {
			sr, self := srs.Of(seqs[it.ID], &it)
			if rule, ok := rules[it.ID]; self != ok || sr.Rule != rule {
				t.Errorf("the report's check of %s (event %d): %+v %v; want a self-review by rule %q: %v", it.ID, seqs[it.ID], sr, self, rule, ok)
			}
		}
	})
}

// An item whose repository was renamed after the campaign froze it is
// refused to the owner recorded since under its new ID (refusalNow), so
// a decision by her that the log holds anyway was written around nhi:
// verify and the evidence report's check name it as they name one by
// the owner recorded under the ID the item was frozen with, where
// before they read the owners under that ID alone and passed it.
func TestVerifyNamesASelfReviewOfARenamedItem(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := renamedCampaign(t, eng)
		old2, new2 := keyID("api", "2"), keyID("api-v2", "2")
		if _, err := f.Store.SetOwner(ctx, "lead@acme.test", new2, "rita"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", old2, campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Fatalf("nhi let rita decide %s, which she owns under %s: %v", old2, new2, err)
		}
		seq := writeDecision(t, f, get(t, f, "q"), "rita", old2, campaigns.Decommission, "")
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (campaign.decide by rita) decides %s in campaign q, whose recorded owner then, under %s (the ID a rename gave it), is rita (event ", seq, old2, new2)
		if len(problems) != 1 || !strings.Contains(problems[0], want) || !strings.Contains(problems[0], "the same person: nhi refuses such a decision (rule owner)") {
			t.Fatalf("verify after the renamed item's owner decided it: %q; want one problem saying %q", problems, want)
		}
		srs, err := campaigns.ReadSelfReviews(ctx, f.Store, "q", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range get(t, f, "q").Items {
			if it.ID != old2 {
				continue
			}
			if sr, self := srs.Of(seq, &it); !self || sr.Rule != campaigns.RuleOwner || !strings.Contains(sr.Whose, "under "+new2) {
				t.Errorf("the report's check of %s (event %d): %+v %v; want a self-review by rule owner, under %s", it.ID, seq, sr, self, new2)
			}
		}
	})
}
