package campaigns_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A single decision on PostgreSQL is read, checked and written by one
// server function in one round trip (nhi_decide) once the campaign and
// the directory are known; whatever that function cannot prove — a rule
// that refuses, the same decision again, a missing reason, a directory
// changed meanwhile, a name outside ASCII — goes the way it went before.
// The same decisions and refusals, made once that way and once the long
// way (every read under the lock), give the same outcomes, the same
// errors and the same chain, event for event.
func TestDecisionInOneRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against a real PostgreSQL server")
	}
	var oneTrip []string
	defer campaigns.OneTripDecided(func() { oneTrip = append(oneTrip, "") })()
	fast := decisionScenario(t)
	fastTrips := len(oneTrip)
	restore := campaigns.DecideLocked()
	oneTrip = nil
	long := decisionScenario(t)
	restore()

	if len(oneTrip) != 0 {
		t.Errorf("%d decisions made in one round trip with every decision sent the long way", len(oneTrip))
	}
	// The accepted decisions after the first, which reads the campaign
	// and the directory; the one after the directory changed is refused.
	if fastTrips != 5 {
		t.Errorf("%d decisions made in one round trip; want 5", fastTrips)
	}
	if len(fast) != len(long) {
		t.Fatalf("%d steps against %d", len(fast), len(long))
	}
	for i := range fast {
		if fast[i] != long[i] {
			t.Errorf("step %d:\none round trip: %s\nthe long way:  %s", i, fast[i], long[i])
		}
	}
}

// decisionScenario decides and refuses on a new PostgreSQL store and
// returns what each step gave, and at the end the log's head.
func decisionScenario(t *testing.T) []string {
	t.Helper()
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Principals = []audit.Principal{{Type: audit.PrincipalTeamMember, Scope: "acme/platform", Login: "tess", Role: "member"}}
	f.Snapshot(t, nil, population()...)
	sec := audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN")
	for id, owner := range map[string]string{keyID("ops", "6"): "@Erin", sec: "@acme/platform", keyID("web", "3"): "Élodie"} {
		if _, err := f.Store.SetOwner(ctx, "lead", id, owner); err != nil {
			t.Fatal(err)
		}
	}
	people := func(ritaAliases ...string) {
		t.Helper()
		if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", GitHub: "rita", Status: audit.PersonActive, Aliases: ritaAliases},
			{Email: "sam@acme.test", GitHub: "sam", Status: audit.PersonActive},
		}}, false); err != nil {
			t.Fatal(err)
		}
	}
	people("rita-alt")
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita", "sam"}})

	var got []string
	decide := func(actor, id string, d campaigns.Decision, reason string) {
		o, err := campaigns.Decide(ctx, f.Store, actor, "q", id, d, reason)
		if o != nil {
			ev := o.Event
			got = append(got, fmt.Sprintf("%s %s %s: event %d %s %s %s; %s by %q reviewer %q assigned %v conflict %v exception %q %v",
				actor, d, id, ev.Seq, ev.At.UTC().Format("15:04:05.000000"), ev.Actor, ev.Payload,
				o.Previous, o.PreviousBy, o.Reviewer, o.Assigned, o.Conflict, o.ExceptionExpires, o.ExceptionApproval))
		} else {
			got = append(got, fmt.Sprintf("%s %s %s: %v", actor, d, id, err))
		}
	}
	decide("rita", keyID("api", "2"), campaigns.Decommission, "")     // reads the campaign and the directory
	decide("rita-alt", keyID("api", "2"), campaigns.Decommission, "") // the same again, under an alias
	// Refused by a rule, or needing what only the long way says.
	decide("alice", keyID("api", "1"), campaigns.Decommission, "")   // the holder
	decide("@ALICE", keyID("api", "1"), campaigns.Keep, "x")         // the holder, another form
	decide("erin", keyID("ops", "6"), campaigns.Keep, "x")           // the recorded owner, @Erin
	decide("tess", sec, campaigns.Keep, "x")                         // a member of the owning team
	decide("élodie", keyID("web", "3"), campaigns.Decommission, "")  // the owner, outside ASCII
	decide("lead@acme.test", keyID("api", "2"), campaigns.Keep, "x") // the campaign's creator
	decide("rita", keyID("api", "1"), campaigns.Keep, "")            // findings need a reason
	decide("rita", "github:acme:github_deploy_key:zzz/9", campaigns.Keep, "x")
	// Accepted.
	decide("rita", keyID("api", "1"), campaigns.Keep, "still used") // an exception
	decide("sam", keyID("api", "1"), campaigns.Rotate, "shared")    // a conflict
	decide("rita", keyID("web", "4"), campaigns.Decommission, "")
	decide("rita-alt", keyID("api", "2"), campaigns.Keep, "x") // rita under an alias: no conflict
	// dave, the holder of ops/5, becomes one of rita's names.
	people("rita-alt", "dave")
	decide("rita", keyID("ops", "5"), campaigns.Decommission, "")
	decide("rita", keyID("ops", "6"), campaigns.Decommission, "")
	if _, err := campaigns.Close(ctx, f.Store, "vic", "q"); err != nil {
		got = append(got, fmt.Sprint("close: ", err))
	}
	decide("rita", keyID("web", "4"), campaigns.Keep, "x")

	verifyOK(t, f)
	// Every event from the first decision on, refusals included, and
	// each item's state and history.
	rows, err := f.Store.Query(ctx, `SELECT seq, at, actor, type, payload FROM events WHERE seq >= (SELECT min(seq) FROM campaign_decisions) ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		var at, actor, typ, payload string
		if err := rows.Scan(&seq, &at, &actor, &typ, &payload); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("event %d %s %s %s %s", seq, at, actor, typ, payload))
	}
	rows.Close()
	for _, it := range get(t, f, "q").Items {
		got = append(got, fmt.Sprintf("item %s: %s %q by %s conflict %v history %+v", it.ID, it.Decision, it.Reason, it.DecidedBy, it.Conflict, it.History))
	}
	for _, g := range got {
		t.Log(strings.TrimSpace(g))
	}
	return got
}
