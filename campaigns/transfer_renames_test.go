package campaigns_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestTransferOfARenamedItem: an offboarding campaign froze a leaver's
// deploy key before its repository was renamed. A transfer by either ID
// records one decision on the item, under the ID the campaign froze, and
// the new owner under the ID the identity has now, where readers look
// (Identity by either ID shows it). The new owner, recorded under the new
// ID, may not transfer the item again by its old ID (self-review, as
// for any item); the remediation check after close finds each transfer
// held under the identity's ID now, and the log verifies.
func TestTransferOfARenamedItem(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		st := f.Store
		if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
			{Email: "bob@acme.test", GitHub: "bob"},
			{Email: "carol@acme.test", GitHub: "carol"},
			{Email: "lead@acme.test", GitHub: "lead"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		old1, new1 := keyID("api", "1"), keyID("api-v2", "1")
		old2, new2 := keyID("api", "2"), keyID("api-v2", "2")
		f.Snapshot(t, nil, lineageKey("api", "1", "alice"), lineageKey("api", "2", "alice"), key("web", "3", "bob"))
		res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		name := res.Campaign.Name
		if res.Campaign.Count != 2 {
			t.Fatalf("%d items; want alice's two keys", res.Campaign.Count)
		}
		f.Clock.Add(24 * time.Hour)
		f.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), lineageKey("api-v2", "2", "alice"), key("web", "3", "bob"))

		// By the ID now, and by the old one.
		for _, c := range []struct{ given, item, now string }{{new1, old1, new1}, {old2, old2, new2}} {
			outs, err := campaigns.TransferItems(ctx, st, "carol@acme.test", name, []string{c.given}, "bob", "bob runs api now")
			if err != nil {
				t.Fatalf("transfer of %s: %v", c.given, err)
			}
			if len(outs) != 1 || outs[0].Item != c.item || outs[0].Current != c.now || outs[0].Decision != campaigns.Transfer {
				t.Errorf("transfer of %s: %+v; want item %s, now %s", c.given, outs, c.item, c.now)
			}
			for _, id := range []string{c.item, c.now} {
				if x, err := st.Identity(ctx, id); err != nil || x.ID != c.now || x.Owner != "bob@acme.test" {
					t.Errorf("Identity(%s) after the transfer: %s owned by %q, %v; want %s owned by bob@acme.test", id, x.ID, x.Owner, err, c.now)
				}
			}
		}
		if _, err := campaigns.TransferItems(ctx, st, "bob@acme.test", name, []string{old1}, "carol", "mine to give"); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("bob, the owner now under %s, transferring %s: %v; want a self-review refusal", new1, old1, err)
		}
		c := get(t, f, name)
		if len(c.Items) != 2 || c.Progress.Decided != 2 {
			t.Fatalf("%d items, progress %+v; want 2 items, both decided", len(c.Items), c.Progress)
		}
		for _, id := range []string{old1, old2} {
			if it := item(t, c, id); it.Decision != campaigns.Transfer || len(it.History) != 1 || it.CurrentID == "" {
				t.Errorf("item %s: %s, %d decisions, now %q", id, it.Decision, len(it.History), it.CurrentID)
			}
		}
		if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
			t.Fatal(err)
		}
		f.Clock.Add(24 * time.Hour)
		f.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), lineageKey("api-v2", "2", "alice"), key("web", "3", "bob"))
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		if got := rs[0].Transferred; !slices.Equal(got, []string{old1, old2}) {
			t.Errorf("transferred %v (not: %v, %v); want both, held under their IDs now", got, rs[0].NotTransferred, rs[0].Detail)
		}
		verifyOK(t, f)
	})
}
