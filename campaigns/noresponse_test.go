package campaigns_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// Escalation: items still pending --escalate-after days after creation go
// to the reviewer's manager, else to the fallback reviewer, never to
// someone the separation rules keep from the item; each move is an event
// in the item's trail, an item moves once, and remind lists the items per
// whoever should decide them now.
func TestNoResponseEscalates(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		people(t, st)
		e.Snapshot(t, nil, population()...)
		spec := campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31", Reviewers: []string{"alice-smith", "carol"},
			OnNoResponse: campaigns.OnNoResponseEscalate, FallbackReviewer: "dave",
			ReviewerMap: map[string]string{"dave": "carol"}} // ops/5, added by dave, goes to carol, who has no manager
		if _, err := campaigns.Create(ctx, st, "admin@acme.com", spec); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []campaigns.Spec{
			{Name: "x1", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"carol"}, OnNoResponse: "ignore"},
			{Name: "x2", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"carol"}, OnNoResponse: "keep", EscalateAfter: 3},
			{Name: "x3", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"carol"}, OnNoResponse: "escalate", FallbackReviewer: "nobody@acme.com"},
		} {
			if _, err := campaigns.Create(ctx, st, "admin@acme.com", bad); err == nil {
				t.Errorf("%s: created with on-no-response %q, fallback %q, after %d", bad.Name, bad.OnNoResponse, bad.FallbackReviewer, bad.EscalateAfter)
			}
		}
		c, err := campaigns.Get(ctx, st, "Q4")
		if err != nil {
			t.Fatal(err)
		}
		if c.NoResponse.On != "escalate" || c.NoResponse.EscalateAfter != 7 || c.NoResponse.FallbackReviewer != "dave@acme.com" {
			t.Fatalf("rule: %+v", c.NoResponse)
		}
		assigned := map[string]string{}
		for _, it := range c.Items {
			assigned[it.ID] = it.Reviewer
		}
		// One of alice's items is decided before the escalation.
		var decided string
		for _, it := range c.Items {
			if it.Reviewer == "alice@acme.com" {
				decided = it.ID
				break
			}
		}
		if _, err := campaigns.Decide(ctx, st, "alice@acme.com", "Q4", decided, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(6 * 24 * time.Hour)
		if _, err := campaigns.Escalate(ctx, st, "admin@acme.com", "Q4"); !errors.Is(err, campaigns.ErrNotYet) || !strings.Contains(err.Error(), "from 2026-10-08T12:00:00Z") {
			t.Fatalf("escalate on day 6: %v", err)
		}
		e.Clock.Add(2 * 24 * time.Hour)
		res, err := campaigns.Escalate(ctx, st, "admin@acme.com", "Q4")
		if err != nil {
			t.Fatal(err)
		}
		for id, r := range assigned {
			var want string
			switch {
			case id == decided:
				continue
			case id == keyID("ops", "5") && r == "carol@acme.com": // dave added it: the fallback may not take it
				if !strings.Contains(res.Stuck[id], "fallback reviewer dave@acme.com may not decide it (rule holder)") {
					t.Errorf("%s: stuck %q", id, res.Stuck[id])
				}
				continue
			case r == "alice@acme.com":
				want = "mia@acme.com" // alice's manager
			default:
				want = "dave@acme.com" // carol has no manager
			}
			if !slices.Contains(res.Moved[want], id) {
				t.Errorf("%s (reviewer %s) not moved to %s: %v", id, r, want, res.Moved)
			}
		}
		if len(res.Stuck) != 1 {
			t.Errorf("stuck: %v; want ops/5 alone", res.Stuck)
		}
		if again, err := campaigns.Escalate(ctx, st, "admin@acme.com", "Q4"); err != nil || len(again.Events) != 0 {
			t.Errorf("a second run moved items again: %+v %v", again, err)
		}
		rs, given := remind(t, st, "Q4")
		var who []string
		for _, r := range rs {
			who = append(who, r.Reviewer)
		}
		want := []string{"dave@acme.com", "mia@acme.com"}
		if len(res.Stuck) > 0 {
			want = append([]string{"carol@acme.com"}, want...)
		}
		if !slices.Equal(who, want) {
			t.Errorf("remind: %v", who)
		}
		// Each reminder's items are the campaign's pending items whose
		// assignee (after escalations) it names, as Get gives them, but
		// for their history and what their snapshot did not read, which
		// remind does not read (ItemReader.pendingOnly).
		whole, err := campaigns.Get(ctx, st, "Q4")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			var want, got []campaigns.Item
			for _, it := range whole.Items {
				if it.Decision == campaigns.Pending && it.Assignee() == r.Reviewer {
					it.History, it.NotRead = nil, nil
					want = append(want, it)
				}
			}
			got = given[r.Reviewer]
			if r.Pending != len(want) || !reflect.DeepEqual(got, want) {
				t.Errorf("reminder of %s: %d pending, %d items given; want the %d of Get", r.Reviewer, r.Pending, len(got), len(want))
			}
		}
		// mia decides an escalated item: it is her assignment now.
		var mias string
		for _, r := range rs {
			if r.Reviewer == "mia@acme.com" {
				mias = given[r.Reviewer][0].ID
			}
		}
		if _, err := campaigns.Decide(ctx, st, "mia@acme.com", "Q4", mias, campaigns.Keep, "still used by the release job"); err != nil {
			t.Fatal(err)
		}
		if c, err = campaigns.Get(ctx, st, "Q4"); err != nil {
			t.Fatal(err)
		}
		for _, it := range c.Items {
			if it.ID == mias && (!it.Assigned() || it.Escalated == nil || it.Escalated.From != "alice@acme.com") {
				t.Errorf("%s: assigned %v, escalated %+v", it.ID, it.Assigned(), it.Escalated)
			}
		}
		trail, err := campaigns.Trail(ctx, st, mias)
		if err != nil || len(trail) < 2 || trail[0].What != "escalated to mia@acme.com" {
			t.Errorf("trail: %+v %v", trail, err)
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) > 0 {
			t.Errorf("verify: %v %v", problems, err)
		}
	})
}

// keep and decommission: the items stay no-response, and the close
// records the rule that says what they come to.
func TestNoResponseRuleAtClose(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		e.Snapshot(t, nil, population()...)
		if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31",
			Reviewers: []string{"rita"}, OnNoResponse: campaigns.OnNoResponseDecommission}); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Escalate(ctx, st, "lead", "Q4"); !errors.Is(err, campaigns.ErrNoResponseRule) {
			t.Errorf("escalate under decommission: %v", err)
		}
		res, err := campaigns.Close(ctx, st, "lead", "Q4")
		if err != nil {
			t.Fatal(err)
		}
		if res.NoResponse != 6 || res.Rule.On != campaigns.OnNoResponseDecommission || res.Rule.Outcome() != "decommission by rule" {
			t.Errorf("close: %+v", res)
		}
		var on string
		if err := st.QueryRow(ctx, `SELECT json_extract(payload, '$.on_no_response') FROM events WHERE seq = ?`, res.Event.Seq).Scan(&on); err != nil || on != "decommission" {
			t.Errorf("close event: %q %v", on, err)
		}
		c, err := campaigns.Get(ctx, st, "Q4")
		if err != nil || c.Items[0].Decision != campaigns.NoResponse {
			t.Errorf("item 0: %+v %v", c.Items[0], err)
		}
	})
}
