package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// TestCampaignTermsWithNoCampaignPicked: with no campaign picked, the
// table's filter answers campaign:, decision: and reviewer: as nhi
// identities does (docs/filter.md): campaign:NAME is that campaign's
// population, read when the filter names it, the filter waiting for it
// meanwhile; decision: reads the one campaign the filter names, kept up
// to date as others decide; a name that is no campaign, or decision:
// with no campaign to read, is the filter's error in the prompt. Before,
// each of them listed "no match" over a file whose campaign held every
// identity. On both engines.
func TestCampaignTermsWithNoCampaignPicked(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctx := context.Background()
			path := evidenceOn(t, eng)
			past, _ := reviewOn(t, path) // Q1: the actions secrets, reviewed by testActor
			if _, err := campaigns.Create(ctx, past, "lead@example.com", campaigns.Spec{
				Name: "Q2-keys", Scope: "kind:github_deploy_key or kind:github_webhook", Due: testNow.AddDate(0, 0, 30).Format("2006-01-02"),
				Reviewers: []string{"bob@example.com"}, AllowPartial: true,
			}); err != nil {
				t.Fatal(err)
			}
			m := openUnpicked(t, path, &countingReviewer{})
			look := func() { drain(t, m, func() tea.Msg { return watchTickMsg{} }) }
			look()
			shown := func() []string {
				var out []string
				for _, i := range m.ids.table.Rows() {
					out = append(out, m.st.pop.id(i))
				}
				slices.Sort(out)
				return out
			}
			// What nhi identities --filter EXPR lists: the campaigns
			// package's review over the file's identities, active ones
			// unless the filter says otherwise.
			cli := func(expr string) []string {
				f, err := filter.Parse(expr, audit.Vocabulary)
				if err != nil {
					t.Fatal(err)
				}
				r, err := campaigns.FilterReview(ctx, past, testActor, "", f)
				if err != nil {
					t.Fatal(err)
				}
				ids, err := past.Identities(ctx)
				if err != nil {
					t.Fatal(err)
				}
				env := &filter.Env{Now: clock(), Review: r}
				var out []string
				for i := range ids {
					if filter.Active(f, audit.Vocabulary).Match(&ids[i], env) {
						out = append(out, ids[i].ID)
					}
				}
				slices.Sort(out)
				return out
			}
			all := shown()

			// campaign:q1 waits for the campaigns and Q1's items, showing
			// every row meanwhile, then lists Q1's population.
			cmd := m.ids.setFilter("campaign:q1")
			if m.ids.filterErr == nil || !strings.Contains(m.ids.filterErr.Msg, "waits for the campaign's items") || !slices.Equal(shown(), all) {
				t.Fatalf("before Q1's items are read: %v, %d rows of %d", m.ids.filterErr, len(shown()), len(all))
			}
			drain(t, m, cmd)
			if b := bottom(m.View()); !strings.Contains(b, "The filter campaign:q1 applies now") {
				t.Errorf("once Q1's items are in, the flash says %q", b)
			}
			want := cli("campaign:q1")
			if len(want) == 0 || len(want) == len(all) || !slices.Equal(shown(), want) {
				t.Fatalf("campaign:q1 lists %d rows, nhi identities %d (of %d)", len(shown()), len(want), len(all))
			}

			// A name that is no campaign: said, the rows kept (ctrl+u
			// left every row).
			press(t, m, "/", "ctrl+u", "campaign:zzz")
			if v := ansi.Strip(m.View()); !strings.Contains(v, `no such campaign "zzz" (campaigns: Q1, Q2-keys)`) || !slices.Equal(shown(), all) {
				t.Fatalf("campaign:zzz, %d rows:\n%s", len(shown()), v)
			}
			// decision: with no campaign to read.
			press(t, m, "ctrl+u", "decision:pending")
			if v := ansi.Strip(m.View()); !strings.Contains(v, "no campaign in view: decision: and reviewer: terms read one campaign") || !slices.Equal(shown(), all) {
				t.Fatalf("decision:pending with no campaign in view, %d rows:\n%s", len(shown()), v)
			}
			press(t, m, "esc")
			if !slices.Equal(shown(), all) || len(m.st.others) != 0 {
				t.Fatalf("esc: %d rows, %d campaigns' items held; want every row, none", len(shown()), len(m.st.others))
			}

			// decision: reads the one campaign named, and follows what
			// another reviewer decides in it.
			const expr = "campaign:Q1 decision:pending reviewer:me"
			press(t, m, "/", expr, "enter")
			if want := cli(expr); len(want) < 2 || !slices.Equal(shown(), want) {
				t.Fatalf("%s lists %d rows, nhi identities %d", expr, len(shown()), len(want))
			}
			if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, cli(expr)[0], campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
			look()
			if want := cli(expr); !slices.Equal(shown(), want) {
				t.Fatalf("after a decision elsewhere %s lists %d rows, nhi identities %d", expr, len(shown()), len(want))
			}
			// Bob's campaign, by his name.
			press(t, m, "/", "ctrl+u", "campaign:q2-keys reviewer:bob*", "enter")
			if want := cli("campaign:q2-keys reviewer:bob*"); len(want) == 0 || !slices.Equal(shown(), want) {
				t.Fatalf("campaign:q2-keys reviewer:bob* lists %d rows, nhi identities %d", len(shown()), len(want))
			}
			if _, held := m.st.others["q1"]; held || len(m.st.others) != 1 {
				t.Errorf("the items held are of %d campaigns (Q1 among them: %v); want Q2-keys' alone", len(m.st.others), held)
			}
		})
	}
}

// TestCampaignTermsWhoseItemsFail: a campaign whose items cannot be read
// leaves the filter in force, and the prompt says why, never "no match".
func TestCampaignTermsWhoseItemsFail(t *testing.T) {
	path := evidenceOn(t, "sqlite")
	reviewOn(t, path)
	r := &failingItems{err: errors.New("connection reset by peer")}
	m := openUnpicked(t, path, &r.countingReviewer)
	m.st.reviewer = r
	rows := m.ids.table.Len()
	press(t, m, "/", "campaign:q1")
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "Items of Q1 not read: connection reset by peer") || m.ids.table.Len() != rows || m.ids.filterText != "" {
		t.Fatalf("a failed read of Q1's items: %d rows of %d, filter %q:\n%s", m.ids.table.Len(), rows, m.ids.filterText, v)
	}
}

// failingItems is a reviewer whose items cannot be read.
type failingItems struct {
	countingReviewer
	err error
}

func (r *failingItems) Items(context.Context, string, string) (map[string]filter.Item, error) {
	return nil, r.err
}

func (r *failingItems) EachItem(context.Context, string, string, func(int), func(string, filter.Item)) error {
	return r.err
}

// openUnpicked opens the TUI on path as testActor, read-only, through r,
// with no campaign picked.
func openUnpicked(t *testing.T, path string, r *countingReviewer) *Model {
	t.Helper()
	return openOn(t, path, r, func(st *audit.Store) Store { return st }, "")
}
