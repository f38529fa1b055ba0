package campaigns_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// EachAssignment, which on SQLite reads a campaign's items a page of
// 4,096 at a time packed into one text, gives every item once, as the
// table holds it, on both engines: past two pages, items with and
// without findings, decided or not, the actor's marked Mine, and IDs
// that hold the packed read's separators (char(31) between an item's
// columns, char(30) between items), whose pages are read a column at a
// time. Assignments, which keeps what it reads, gives the same.
func TestEachAssignmentGivesEveryItemAsTheTableHoldsIt(t *testing.T) {
	const n = 2*4096 + 7
	var obs []audit.Observation
	var owned []audit.OwnerSet // secrets with an owner: no findings
	for i := range n {
		repo := fmt.Sprintf("repo-%04d", i/7)
		switch i {
		case 4100:
			repo = "repo\x1fcolumns"
		case 8190:
			repo = "repo\x1erows"
		}
		if i%3 == 0 {
			obs = append(obs, secret(repo, fmt.Sprintf("S%d", i)))
			if i < 300 || i >= 1000 && i < 1300 {
				owned = append(owned, audit.OwnerSet{Identity: obs[i].ID, Owner: "olga"})
			}
		} else {
			obs = append(obs, key(repo, fmt.Sprint(i), "user"))
		}
	}
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			f := newFixtureOn(t, eng)
			f.Snapshot(t, nil, obs...)
			if _, err := f.Store.SetOwners(ctx, "lead@acme.test", owned); err != nil {
				t.Fatal(err)
			}
			create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
			if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "q", "scope:acme/repo-00*", campaigns.Keep, "checked", false); err != nil {
				t.Fatal(err)
			}
			want := map[string]campaigns.Assignment{}
			rows, err := f.Store.Query(ctx, `SELECT identity_id, reviewer, decision, CASE WHEN findings <> '[]' THEN 1 ELSE 0 END FROM campaign_items
				WHERE campaign_id = (SELECT id FROM campaigns WHERE name = 'q')`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				var a campaigns.Assignment
				if err := rows.Scan(&id, &a.Reviewer, &a.Decision, &a.Findings); err != nil {
					t.Fatal(err)
				}
				a.Mine = a.Reviewer == "rita"
				want[id] = a
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			if len(want) != n {
				t.Fatalf("the table holds %d items, want %d", len(want), n)
			}
			kinds := map[string]int{}
			for id, a := range want {
				kinds[fmt.Sprintf("findings=%v decided=%v mine=%v", a.Findings, a.Decision != campaigns.Pending, a.Mine)]++
				if id == "" {
					t.Fatal("an item with no ID")
				}
			}
			if len(kinds) != 8 {
				t.Fatalf("the items are not of every kind the test asks of: %v", kinds)
			}

			got := map[string]campaigns.Assignment{}
			expected := -1
			err = campaigns.EachAssignment(ctx, f.Store, "q", "rita", func(n int) { expected = n }, func(id string, a campaigns.Assignment) {
				if _, twice := got[id]; twice {
					t.Errorf("item %q given twice", id)
				}
				got[id] = a
			})
			if err != nil {
				t.Fatal(err)
			}
			if expected != n {
				t.Errorf("expected %d items, want %d", expected, n)
			}
			if !maps.Equal(got, want) {
				t.Errorf("EachAssignment gave %d items, not the table's %d as it holds them", len(got), len(want))
				for id, a := range want {
					if got[id] != a {
						t.Errorf("  %q: %+v, want %+v", id, got[id], a)
					}
				}
			}
			as, err := campaigns.Assignments(ctx, f.Store, "q", "rita")
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(as, want) {
				t.Errorf("Assignments gave %d items, not the table's %d as it holds them", len(as), len(want))
			}
		})
	}
}
