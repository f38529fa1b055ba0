package campaigns_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// The reads that no longer hold the campaign give, on both engines, what
// they gave from the campaign read whole: exception list's exceptions
// (the kept items with findings, read alone) those of GetAsOf at the
// head; sample's items Sample's over Get's; remind's each reviewer's
// pending items of Get, in ID order.
func TestCampaignReadsByPartAreTheWholeCampaigns(t *testing.T) {
	const n = 2100 // past a batch of 2,048 IDs
	var obs []audit.Observation
	for i := range n {
		if i%3 == 0 {
			obs = append(obs, secret(fmt.Sprintf("repo-%04d", i/7), fmt.Sprintf("S%d", i))) // no findings: its keep is no exception
		} else {
			obs = append(obs, key(fmt.Sprintf("repo-%04d", i/7), fmt.Sprint(i), fmt.Sprintf("user%d", i%13)))
		}
	}
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			f := newFixtureOn(t, eng)
			f.Snapshot(t, nil, obs...)
			create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
			for _, d := range []struct {
				who, filter string
				d           campaigns.Decision
			}{{"rita", "scope:acme/repo-00*", campaigns.Keep}, {"sam", "scope:acme/repo-01*", campaigns.Keep}, {"rita", "scope:acme/repo-02*", campaigns.Decommission}} {
				if _, err := campaigns.DecideMatching(ctx, f.Store, d.who, "q", d.filter, d.d, "checked", false); err != nil {
					t.Fatal(err)
				}
			}
			head, err := f.Store.LogHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a, err := campaigns.GetAsOf(ctx, f.Store, "q", head.Seq)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := a.Exceptions(ctx, f.Store)
			if err != nil {
				t.Fatal(err)
			}
			xs, err := campaigns.Exceptions(ctx, f.Store, "q", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(xs) == 0 || !reflect.DeepEqual(xs, whole) {
				t.Errorf("%d exceptions read alone, %d of the campaign read whole, or they differ", len(xs), len(whole))
			}

			c, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 25, n + 5} {
				want := campaigns.Sample(c.Items, size, "seed")
				_, got, err := campaigns.SampleOf(ctx, f.Store, "q", size, "seed")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("sample of %d: %d drawn, %d of the campaign read whole, or they differ", size, len(got), len(want))
				}
			}

			rs, given := remind(t, f.Store, "q")
			pending := map[string][]campaigns.Item{}
			for _, it := range c.Items {
				if it.Decision == campaigns.Pending {
					pending[it.Assignee()] = append(pending[it.Assignee()], it)
				}
			}
			if len(rs) != len(pending) {
				t.Fatalf("%d reminders, %d reviewers with pending items", len(rs), len(pending))
			}
			for _, r := range rs {
				got := given[r.Reviewer]
				if want := pending[r.Reviewer]; r.Pending != len(want) || !reflect.DeepEqual(got, want) {
					t.Errorf("reminder of %s: %d pending, %d items given; want the %d of the campaign read whole", r.Reviewer, r.Pending, len(got), len(want))
				}
			}
		})
	}
}

// An ID that is not UTF-8 (an evidence file keeps the bytes a source
// gave; PostgreSQL's text refuses them) is read back by sample and remind
// too, though a JSON list of IDs would carry it as another.
func TestCampaignReadsByPartFindAnIDThatIsNotUTF8(t *testing.T) {
	f := newFixture(t)
	odd := key("repo-\xff", "1", "user1")
	f.Snapshot(t, nil, key("repo-a", "0", "user0"), odd, key("repo-b", "2", "user2"))
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	_, drawn, err := campaigns.SampleOf(ctx, f.Store, "q", 3, "seed")
	if err != nil || len(drawn) != 3 {
		t.Fatalf("sample of 3: %d drawn, %v", len(drawn), err)
	}
	rs, items := remind(t, f.Store, "q")
	if len(rs) != 1 {
		t.Fatalf("remind: %d reminders", len(rs))
	}
	var given []string
	for _, it := range items[rs[0].Reviewer] {
		given = append(given, it.ID)
	}
	if len(given) != 3 || given[2] != odd.ID { // 0xff after every ASCII byte
		t.Errorf("remind gave %q; want the three items, %q among them", given, odd.ID)
	}
}
