package campaigns_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A reviewer map names owners by any alias the directory knows: rows
// written with e-mails (alice@acme.com) or other aliases (alice-smith)
// find the identities the source says GitHub logins hold (alice), and its
// reviewers are stored as the person.
func TestReviewerMapResolvesAliases(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		people(t, st)
		e.Snapshot(t, nil, population()...)
		m, err := campaigns.ReadReviewerMap(strings.NewReader("owner,reviewer\nalice-smith,mia\nbob@acme.com,carol\n"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31",
			Reviewers: []string{"dave"}, ReviewerMap: m})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			keyID("api", "1"): "mia@acme.com", keyID("web", "4"): "mia@acme.com", // added by alice
			keyID("api", "2"): "carol@acme.com", // added by bob
			keyID("web", "3"): "dave@acme.com", keyID("ops", "6"): "dave@acme.com",
			keyID("ops", "5"): "", // dave added it and is the only other reviewer
		}
		c, err := campaigns.Get(ctx, st, "Q4")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range c.Items {
			if it.Reviewer != want[it.ID] {
				t.Errorf("%s assigned to %q, want %q", it.ID, it.Reviewer, want[it.ID])
			}
		}
		if len(res.Unassigned) != 1 {
			t.Errorf("unassigned: %v", res.Unassigned)
		}
		// Two aliases of one person mapped to different reviewers: refused.
		m2, err := campaigns.ReadReviewerMap(strings.NewReader("alice,mia\nalice@acme.com,carol\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q5", Scope: "id:*", Due: "2026-10-31",
			Reviewers: []string{"dave"}, ReviewerMap: m2}); err == nil || !strings.Contains(err.Error(), "are the same person (alice@acme.com)") {
			t.Errorf("conflicting aliases: %v", err)
		}
	})
}
