package campaigns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// An owner recorded as nhi itself prints her ("Rita Jones
// <rita@acme.test>", her person by its address) or under a name the
// directory does not list but that reads as hers — her +tagged address,
// her address with a trailing dot, her login in full-width letters — is
// hers: she may not decide the item
// (rule owner), on either engine (on PostgreSQL such an item goes the
// long way rather than nhi_decide's one round trip), and the attempt is
// recorded. Another reviewer decides it; someone else's +tagged address
// does not stop her.
func TestOwnerReadingAsTheReviewer(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", Name: "Rita Jones", GitHub: "rita"},
			{Email: "sam@acme.test", Name: "Sam Lee", GitHub: "sam"},
			{Email: "lead@acme.test"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
		// A decision first, so the campaign is known to the one round trip.
		if _, err := campaigns.Decide(ctx, f.Store, "rita@acme.test", "q", audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN"), campaigns.Keep, "used"); err != nil {
			t.Fatal(err)
		}
		owners := map[string]string{
			keyID("api", "1"): "Rita Jones <rita@acme.test>",
			keyID("api", "2"): "rita+ops@acme.test",
			keyID("web", "3"): "RITA@acme.test.",
			keyID("web", "4"): "ｒｉｔａ",
			keyID("ops", "5"): "sam+ops@acme.test",
		}
		for id, owner := range owners {
			if _, err := f.Store.SetOwner(ctx, "lead@acme.test", id, owner); err != nil {
				t.Fatal(err)
			}
		}
		for id, owner := range owners {
			_, err := campaigns.Decide(ctx, f.Store, "rita@acme.test", "q", id, campaigns.Decommission, "")
			if strings.HasPrefix(owner, "sam") {
				if err != nil {
					t.Errorf("rita deciding the item of %s: %v", owner, err)
				}
				continue
			}
			var re *campaigns.RefusedError
			if !errors.As(err, &re) || !errors.Is(err, campaigns.ErrSelfReview) || re.Rule != campaigns.RuleOwner ||
				!strings.Contains(re.Detail, owner+", the recorded owner, ") || re.Event.Seq == 0 {
				t.Errorf("rita deciding the item %s owns: %v; want rule owner, recorded", owner, err)
			}
			if _, err := campaigns.Decide(ctx, f.Store, "sam@acme.test", "q", id, campaigns.Decommission, ""); err != nil {
				t.Errorf("sam deciding the item of %s: %v", owner, err)
			}
		}
		refused, err := campaigns.RefusedAttempts(ctx, f.Store, "q", 0)
		if err != nil || len(refused) != 4 {
			t.Errorf("%d refused attempts recorded, want 4: %v", len(refused), err)
		}
	})
}
