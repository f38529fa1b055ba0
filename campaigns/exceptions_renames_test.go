package campaigns_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestExceptionFollowsRenames: an exception granted on an identity under
// the ID it had before its repository was renamed stands for the
// identity under its ID now: once it expires the identity shows
// exception-expired (by either ID), the finding naming the ID it was kept
// under, and it comes back in the next campaign whatever that campaign's
// scope; a decision on it there, under its new ID, ends the lapse as one
// under an unchanged ID does.
func TestExceptionFollowsRenames(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		people(t, st)
		setPolicy(t, st, "version: 1\nexception_days: 30\n")
		old1, new1 := keyID("api", "1"), keyID("api-v2", "1")
		e.Snapshot(t, nil, lineageKey("api", "1", "alice"), secret("web", "SENTRY_DSN"))
		if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31",
			Reviewers: []string{"carol@acme.com"}}); err != nil {
			t.Fatal(err)
		}
		o, err := campaigns.Decide(campaigns.ExceptUntil(ctx, day("2026-10-15")), st, "carol@acme.com", "Q4", old1, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q4"); err != nil {
			t.Fatal(err)
		}
		lapsed := func(id string) (audit.Finding, bool) {
			t.Helper()
			x, err := st.Identity(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if x.ID != new1 {
				t.Fatalf("Identity(%s) is %s; want %s", id, x.ID, new1)
			}
			return hasFinding(&x, audit.RuleExceptionExpired)
		}

		// Renamed before the expiry: nothing lapsed.
		e.Clock.Set("2026-10-14T09:00:00Z")
		e.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), secret("web", "SENTRY_DSN"))
		if f, ok := lapsed(new1); ok {
			t.Fatalf("exception-expired before the expiry: %+v", f)
		}
		// The TUI re-derives the row of its ID now after a close.
		if ids, err := campaigns.ExceptionIDs(ctx, st, "Q4", 0); err != nil || !slices.Equal(ids, []string{new1}) {
			t.Errorf("ExceptionIDs of Q4: %v %v; want %s, its ID now", ids, err, new1)
		}
		// After it: by either ID, naming the ID it was kept under.
		e.Clock.Set("2026-10-16T09:00:00Z")
		e.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), secret("web", "SENTRY_DSN"))
		want := "exception kept by carol@acme.com in campaign Q4 (event " + strconv.FormatInt(o.Event.Seq, 10) + ", as " + old1 + ") expired on 2026-10-15"
		for _, id := range []string{new1, old1} {
			if f, ok := lapsed(id); !ok || f.Message != want {
				t.Errorf("Identity(%s): exception-expired %v, %q; want %q", id, ok, f.Message, want)
			}
		}
		// The next campaign reviews secrets only, yet the lapsed key comes
		// back, under its ID now.
		res, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q1", Scope: "kind:github_actions_secret", Due: "2026-12-31",
			Reviewers: []string{"dave@acme.com"}, CarryForward: "Q4"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Returned, []string{new1}) || res.Campaign.Count != 2 || res.Carried != 0 {
			t.Fatalf("returned %v, count %d, carried %d; want %s back beside the secret, nothing carried", res.Returned, res.Campaign.Count, res.Carried, new1)
		}
		// Decided there under its new ID: the old exception no longer stands.
		if _, err := campaigns.Decide(ctx, st, "dave@acme.com", "Q1", new1, campaigns.Decommission, "CI moved to OIDC"); err != nil {
			t.Fatal(err)
		}
		if f, ok := lapsed(new1); ok {
			t.Errorf("decided again in Q1, yet still: %+v", f)
		}
		verifyOK(t, e)
	})
}
