package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A population of more than one full batch of items (their prepared
// statement run again and again) is recorded the same on PostgreSQL as on
// SQLite: every item, the same population digest, and each verifies.
func TestCreateOfFullBatchesIsTheSameOnBothEngines(t *testing.T) {
	const n = 1234 // two full batches of 500 and a partial one
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
	}
	digests := map[campaignstest.Engine]string{}
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			f := newFixtureOn(t, eng)
			f.Snapshot(t, nil, obs...)
			res := create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
			c, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			if res.Campaign.Count != n || len(c.Items) != n || res.Assigned["rita"]+res.Assigned["sam"] != n {
				t.Fatalf("%d items counted, %d recorded, assigned %v; want %d", res.Campaign.Count, len(c.Items), res.Assigned, n)
			}
			if problems, err := campaigns.Verify(ctx, f.Store); err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			digests[eng] = c.PopulationDigest
		})
	}
	if len(digests) == 2 && digests[campaignstest.SQLite] != digests[campaignstest.Postgres] { // -short skips PostgreSQL
		t.Errorf("population digest %s on SQLite, %s on PostgreSQL", digests[campaignstest.SQLite], digests[campaignstest.Postgres])
	}
}

// On an evidence file Create inserts the items as it reads them, under
// the write lock; on PostgreSQL it reads them to a spool file first. Over
// the same file at the same time both record the same bytes: the
// campaign's row, every item (a carried-forward decision included) and
// the campaign.create event, its hash too.
func TestCreateRecordsTheSameBytesLockedOrSpooled(t *testing.T) {
	const n = 1234 // two full batches of 500 and a partial one
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
	}
	locked := newFixture(t)
	locked.Snapshot(t, nil, obs...)
	create(t, locked, campaigns.Spec{Name: "q1", Scope: "id:*"})
	if _, err := campaigns.DecideMatching(ctx, locked.Store, "rita", "q1", "id:*", campaigns.Keep, "still needed", false); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, locked.Store, "lead@acme.test", "q1"); err != nil {
		t.Fatal(err)
	}
	spooled := locked.Copy(t)
	spec := campaigns.Spec{Name: "q2", Scope: "id:*", CarryForward: "q1", Reviewers: []string{"rita", "sam", "tess"}}
	a := create(t, locked, spec)
	restore := campaigns.CreateSpooled()
	b := create(t, spooled, spec)
	restore()
	if a.Campaign.Count != n || a.Carried == 0 || a.Carried != b.Carried || fmt.Sprint(a.Assigned) != fmt.Sprint(b.Assigned) {
		t.Fatalf("locked: %d items, %d carried, assigned %v; spooled: %d carried, assigned %v; want %d items, some carried, the same",
			a.Campaign.Count, a.Carried, a.Assigned, b.Carried, b.Assigned, n)
	}
	dump := func(f *fixture) []string {
		var out []string
		for _, q := range []string{
			`SELECT * FROM campaigns WHERE name = 'q2'`,
			`SELECT * FROM campaign_items WHERE campaign_id = (SELECT id FROM campaigns WHERE name = 'q2') ORDER BY identity_id`,
			`SELECT seq, at, actor, type, payload, prev_hash, hash FROM events WHERE type = 'campaign.create' ORDER BY seq`,
		} {
			rows, err := f.Raw(t).Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%#v", vals))
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	got, want := dump(locked), dump(spooled)
	if len(got) != 1+n+2 {
		t.Fatalf("dumped %d rows, want the campaign, %d items and two create events", len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d differs:\nlocked:  %s\nspooled: %s", i, got[i], want[i])
		}
	}
	for _, f := range []*fixture{locked, spooled} {
		if problems, err := campaigns.Verify(ctx, f.Store); err != nil || len(problems) > 0 {
			t.Fatalf("verify: %v %v", problems, err)
		}
	}
}
