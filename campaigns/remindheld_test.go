package campaigns_test

import (
	"testing"
	"time"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// Remind holds no ID of the pending items it lists (issue 21: it kept
// every pending item's ID, by assignee, 968,050 of them at a million):
// of 3,000 pending items, alice's and carol's, escalated to alice's
// manager and the fallback reviewer, the IDs Remind reads are counted,
// as read, while it reads them; each reminder still gives its own items,
// as many as it counts, in ID order, each escalated from its reviewer.
func TestRemindHoldsNoIDOfItsPendingItems(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		const n = 3000
		f := newFixtureOn(t, eng)
		people(t, f.Store)
		f.Snapshot(t, nil, keys(n, "ana")...)
		spec := campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"alice", "carol"},
			OnNoResponse: campaigns.OnNoResponseEscalate, FallbackReviewer: "dave"}
		if _, err := campaigns.Create(ctx, f.Store, "admin@acme.com", spec); err != nil {
			t.Fatal(err)
		}
		f.Clock.Add(8 * 24 * time.Hour)
		if _, err := campaigns.Escalate(ctx, f.Store, "admin@acme.com", "q"); err != nil {
			t.Fatal(err)
		}
		var held benchmem.Held[byte] // each pending item's ID, as read
		restore := campaigns.RemindHeld(func(id string) { benchmem.AddString(&held, id) })
		_, rs, err := campaigns.Remind(ctx, f.Store, "q")
		restore()
		if err != nil {
			t.Fatal(err)
		}
		defer campaigns.RemoveReminders(rs)
		t.Logf("%d of %d held at most", held.Most(), held.Given())
		if held.Given() != n {
			t.Fatalf("Remind read %d pending items; want %d", held.Given(), n)
		}
		if held.Most() > 50 {
			t.Errorf("Remind held %d of the %d pending IDs it read at once; want a few at most", held.Most(), held.Given())
		}
		from := map[string]string{"dave@acme.com": "carol@acme.com", "mia@acme.com": "alice@acme.com"}
		total := 0
		for i := range rs {
			r := &rs[i]
			if from[r.Reviewer] == "" {
				t.Fatalf("a reminder for %q; want dave's and mia's", r.Reviewer)
			}
			var last string
			got := 0
			err := r.Items(ctx, f.Store, func(it *campaigns.Item) error {
				if it.ID <= last || it.Escalated == nil || it.Escalated.From != from[r.Reviewer] {
					t.Fatalf("%s's item %s after %s, escalated %+v", r.Reviewer, it.ID, last, it.Escalated)
				}
				last = it.ID
				got++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != r.Pending || got == 0 {
				t.Errorf("%s's reminder gave %d items, counts %d", r.Reviewer, got, r.Pending)
			}
			total += got
		}
		if len(rs) != 2 || total != n {
			t.Errorf("%d reminders of %d items; want 2 of %d", len(rs), total, n)
		}
	})
}
