package campaigns_test

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// people records a directory: alice (managed by mia), bob, carol, dave,
// mia and the admin who creates campaigns.
func people(t *testing.T, st *audit.Store) {
	t.Helper()
	in, err := audit.ReadPeopleCSV(strings.NewReader(`email,name,github,status,left_at,manager,aliases,signing_key
mia@acme.com,Mia,mia,active,,,,
alice@acme.com,Alice,alice,active,,mia@acme.com,alice-smith,
bob@acme.com,Bob,bob,active,,mia@acme.com,,
carol@acme.com,Carol,carol,active,,,,
dave@acme.com,Dave,dave,active,,,,
admin@acme.com,Admin,admin,active,,,,
`), "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPeople(ctx, "admin@acme.com", *in, false); err != nil {
		t.Fatal(err)
	}
}

func setPolicy(t *testing.T, st *audit.Store, yaml string) {
	t.Helper()
	p, err := audit.ParsePolicy([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPolicy(ctx, "admin@acme.com", p); err != nil {
		t.Fatal(err)
	}
}

// exceptionsQ4 is where the exceptions tests start: the directory
// (people), the policy in yaml, a snapshot of population() and the
// campaign Q4 over its deploy keys, reviewed by carol and dave.
func exceptionsQ4(t *testing.T, eng campaignstest.Engine, yaml string) *fixture {
	t.Helper()
	e := newFixtureOn(t, eng)
	people(t, e.Store)
	setPolicy(t, e.Store, yaml)
	e.Snapshot(t, nil, population()...)
	if _, err := campaigns.Create(ctx, e.Store, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31",
		Reviewers: []string{"carol@acme.com", "dave@acme.com"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func hasFinding(id *audit.Identity, rule string) (audit.Finding, bool) {
	i := slices.IndexFunc(id.Findings, func(f audit.Finding) bool { return f.Rule == rule })
	if i < 0 {
		return audit.Finding{}, false
	}
	return id.Findings[i], true
}

// A keep on an item with findings is an exception: it expires after the
// policy's exception_days, --until shortens it and may not lengthen it, and
// once expired the identity shows exception-expired and comes back in the
// next campaign, whatever that campaign's scope.
func TestExceptionsExpireAndComeBack(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_days: 30\n")
		st := e.Store
		// Longer than the policy allows: refused, nothing recorded.
		long := campaigns.ExceptUntil(ctx, day("2026-11-15"))
		if _, err := campaigns.Decide(long, st, "carol@acme.com", "Q4", keyID("api", "1"), campaigns.Keep, "needed by CI"); !errors.Is(err, campaigns.ErrUntilTooLong) ||
			!strings.Contains(err.Error(), "2026-10-31 or earlier") {
			t.Fatalf("--until past the policy: %v", err)
		}
		if _, err := campaigns.Decide(campaigns.ExceptUntil(ctx, day("2026-10-10")), st, "carol@acme.com", "Q4", keyID("api", "1"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrBadUntil) {
			t.Fatalf("--until on a decommission: %v", err)
		}
		o, err := campaigns.Decide(campaigns.ExceptUntil(ctx, day("2026-10-15")), st, "carol@acme.com", "Q4", keyID("api", "1"), campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		if o.ExceptionExpires != "2026-10-15" || o.ExceptionApproval {
			t.Errorf("outcome: expires %q, approval %v; want 2026-10-15 without approval", o.ExceptionExpires, o.ExceptionApproval)
		}
		// Default expiry: the policy's 30 days from the decision.
		if o, err = campaigns.Decide(ctx, st, "carol@acme.com", "Q4", keyID("ops", "5"), campaigns.Keep, "ops bastion"); err != nil {
			t.Fatal(err)
		}
		if o.ExceptionExpires != "2026-10-31" {
			t.Errorf("default expiry %q; want 2026-10-31 (30 days)", o.ExceptionExpires)
		}
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(xs) != 2 || xs[keyID("api", "1")].Expires != "2026-10-15" || xs[keyID("api", "1")].State != campaigns.ExceptionNotRequired ||
			xs[keyID("api", "1")].DecidedBy != "carol@acme.com" {
			t.Fatalf("exceptions: %+v", xs)
		}
		if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q4"); err != nil {
			t.Fatal(err)
		}

		// A snapshot before the expiry: nothing lapsed.
		e.Clock.Set("2026-10-14T09:00:00Z")
		e.Snapshot(t, nil, population()...)
		id, err := st.Identity(ctx, keyID("api", "1"))
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); ok {
			t.Fatalf("exception-expired before the expiry: %+v", f)
		}
		// After it: the finding names who kept it, where, and when it ended.
		e.Clock.Set("2026-10-16T09:00:00Z")
		e.Snapshot(t, nil, population()...)
		if id, err = st.Identity(ctx, keyID("api", "1")); err != nil {
			t.Fatal(err)
		}
		f, ok := hasFinding(&id, audit.RuleExceptionExpired)
		if !ok || f.Message != "exception kept by carol@acme.com in campaign Q4 (event "+strconv.FormatInt(xs[keyID("api", "1")].Seq, 10)+") expired on 2026-10-15" || f.Severity != "high" {
			t.Fatalf("finding %+v (ok %v)", f, ok)
		}
		if id, err = st.Identity(ctx, keyID("ops", "5")); err != nil {
			t.Fatal(err)
		}
		if _, ok := hasFinding(&id, audit.RuleExceptionExpired); ok {
			t.Errorf("ops/5's exception runs to 2026-10-31, yet it shows expired")
		}

		// The next campaign reviews secrets only, yet the lapsed key comes back.
		res, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q1", Scope: "kind:github_actions_secret", Due: "2026-12-31",
			Reviewers: []string{"carol@acme.com", "dave@acme.com"}, CarryForward: "Q4"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Returned, []string{keyID("api", "1")}) || res.Campaign.Count != 3 || res.Carried != 0 {
			t.Fatalf("returned %v, count %d, carried %d; want the lapsed key back among 2 secrets, nothing carried", res.Returned, res.Campaign.Count, res.Carried)
		}
		// Deciding it again (keep, a new exception) ends the lapse.
		if _, err := campaigns.Decide(ctx, st, "dave@acme.com", "Q1", keyID("api", "1"), campaigns.Keep, "still needed; ticket SEC-12"); err != nil {
			t.Fatal(err)
		}
		if id, err = st.Identity(ctx, keyID("api", "1")); err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); ok {
			t.Errorf("a new exception, yet still: %+v", f)
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) > 0 {
			t.Errorf("verify: %v %v", problems, err)
		}
	})
}

// Where the policy requires it, a second person approves an exception: not
// the reviewer (under any alias), nor anyone the separation rules keep
// from the item; each refusal is a decision.refused event. An exception
// still unapproved when its campaign closes lapses at the close.
func TestExceptionApproval(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		api1, web4 := keyID("api", "1"), keyID("web", "4")
		o, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", api1, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		if !o.ExceptionApproval || o.ExceptionExpires != "2026-12-30" {
			t.Errorf("outcome: %+v; want approval required, 90 days", o)
		}
		if _, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", web4, campaigns.Keep, "web deploys"); err != nil {
			t.Fatal(err)
		}
		// The identities its close can change, in ID order, as many as asked.
		for limit, want := range map[int][]string{0: {api1, web4}, 1: {api1}} {
			if got, err := campaigns.ExceptionIDs(ctx, st, "Q4", limit); err != nil || !slices.Equal(got, want) {
				t.Errorf("ExceptionIDs limit %d: %v %v, want %v", limit, got, err, want)
			}
		}
		for _, c := range []struct {
			actor, id, rule string
			err             error
		}{
			{"carol@acme.com", api1, campaigns.RuleApprover, campaigns.ErrSeparation},
			{"alice-smith", api1, campaigns.RuleHolder, campaigns.ErrSelfReview}, // alice added the key, under another alias
			{"admin@acme.com", api1, campaigns.RuleCreator, campaigns.ErrSeparation},
		} {
			_, err := campaigns.ApproveException(ctx, st, c.actor, "Q4", c.id)
			var re *campaigns.RefusedError
			if !errors.As(err, &re) || re.Rule != c.rule || !errors.Is(err, c.err) || re.Event.Seq == 0 {
				t.Errorf("%s approving %s: %v; want rule %s, recorded", c.actor, c.id, err, c.rule)
			}
		}
		if _, err := campaigns.ApproveException(ctx, st, "bob@acme.com", "Q4", keyID("api", "2")); !errors.Is(err, campaigns.ErrNoException) {
			t.Errorf("approving a pending item: %v", err)
		}
		a, err := campaigns.ApproveException(ctx, st, "mia@acme.com", "Q4", api1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ApproveException(ctx, st, "bob@acme.com", "Q4", api1); !errors.Is(err, campaigns.ErrApproved) {
			t.Errorf("a second approval: %v", err)
		}
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.ApprovedBy != "mia@acme.com" || x.ApproveSeq != a.Event.Seq || x.State != campaigns.ExceptionApproved {
			t.Errorf("api/1: %+v", x)
		}
		if x := xs[web4]; x.State != campaigns.ExceptionAwaiting {
			t.Errorf("web/4: %+v; want awaiting approval", x)
		}
		// As of the approval's event minus one, it was not approved yet.
		if before, err := campaigns.Exceptions(ctx, st, "Q4", a.Event.Seq-1); err != nil || before[api1].State != campaigns.ExceptionAwaiting {
			t.Errorf("as of event %d: %+v %v", a.Event.Seq-1, before[api1], err)
		}
		refused, err := campaigns.RefusedAttempts(ctx, st, "Q4", 0)
		if err != nil || len(refused) != 3 || refused[0].Action != "approve" {
			t.Errorf("refused attempts: %+v %v", refused, err)
		}
		if _, err := campaigns.Close(ctx, st, "bob@acme.com", "Q4"); err != nil {
			t.Fatal(err)
		}
		e.Clock.Set("2026-10-20T09:00:00Z")
		e.Snapshot(t, nil, population()...)
		id, err := st.Identity(ctx, web4)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); !ok || !strings.Contains(f.Message, "was never approved") {
			t.Errorf("web/4 closed unapproved: %+v", id.Findings)
		}
		if id, err = st.Identity(ctx, api1); err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); ok {
			t.Errorf("api/1 approved until 2026-12-30, yet: %+v", f)
		}
	})
}

func day(s string) time.Time { return campaignstest.Time(s + "T00:00:00Z") }

// The standing exceptions are read through the kept items' index
// (campaigns' step 3; on PostgreSQL the history's keep rows, step 11)
// and are exactly those the query before it found,
// which grouped every decided item by identity for the newest campaign
// that decided it: across a closed campaign (an approved keep, one never
// approved, an undone keep, a keep without findings, a decommission,
// no-responses) and an open one created after it that decides some of
// those identities again and leaves others pending.
func TestStandingExceptionsMatchScan(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		people(t, st)
		setPolicy(t, st, "version: 1\nexception_approval: required\n")
		e.Snapshot(t, nil, population()...)
		api1, api2, web3, web4, ops5, ops6 := keyID("api", "1"), keyID("api", "2"), keyID("web", "3"), keyID("web", "4"), keyID("ops", "5"), keyID("ops", "6")
		npm := audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN")
		decide := func(actor, campaign, id string, d campaigns.Decision) *campaigns.Outcome {
			t.Helper()
			o, err := campaigns.Decide(ctx, st, actor, campaign, id, d, "reviewed")
			if err != nil {
				t.Fatalf("%s %s in %s: %v", d, id, campaign, err)
			}
			return o
		}
		create := func(name string) {
			t.Helper()
			if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-10-31",
				Reviewers: []string{"carol@acme.com", "dave@acme.com"}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.SetOwner(ctx, "admin@acme.com", npm, "bob@acme.com"); err != nil { // owned: no findings
			t.Fatal(err)
		}
		create("Q1")
		decide("carol@acme.com", "Q1", api1, campaigns.Keep)
		decide("dave@acme.com", "Q1", web3, campaigns.Keep)
		undone := decide("carol@acme.com", "Q1", web4, campaigns.Keep)
		if _, err := campaigns.Undo(ctx, st, "carol@acme.com", "Q1", undone.Event.Seq); err != nil {
			t.Fatal(err)
		}
		decide("carol@acme.com", "Q1", ops5, campaigns.Keep)
		decide("carol@acme.com", "Q1", ops6, campaigns.Keep)
		decide("carol@acme.com", "Q1", api2, campaigns.Decommission)
		if o := decide("carol@acme.com", "Q1", npm, campaigns.Keep); o.ExceptionExpires != "" {
			t.Fatalf("a keep without findings is an exception: %+v", o)
		}
		if _, err := campaigns.ApproveException(ctx, st, "mia@acme.com", "Q1", api1); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q1"); err != nil {
			t.Fatal(err)
		}
		create("Q2")
		decide("carol@acme.com", "Q2", ops5, campaigns.Decommission)
		decide("carol@acme.com", "Q2", ops6, campaigns.Keep)
		decide("carol@acme.com", "Q2", api2, campaigns.Keep)

		got, err := campaigns.StandingExceptions(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want, err := campaigns.StandingExceptionsByScan(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got, want, func(a, b audit.Exception) bool { return a.Until.Equal(b.Until) && a.Lapsed == b.Lapsed }) {
			t.Errorf("standing exceptions:\n%v\nthe query before the index:\n%v", got, want)
		}
		for id, campaign := range map[string]string{api1: "Q1", web3: "Q1", ops6: "Q2", api2: "Q2"} {
			if x, ok := got[id]; !ok || !strings.Contains(x.Lapsed, "campaign "+campaign+" ") {
				t.Errorf("%s: %+v; want the exception of %s", id, x, campaign)
			}
		}
		if len(got) != 4 {
			t.Errorf("%d standing exceptions, want 4 (not %s, decommissioned since; not %s, undone; not %s, without findings): %v", len(got), ops5, web4, npm, got)
		}
		if !strings.Contains(got[web3].Lapsed, "never approved") {
			t.Errorf("web/3, unapproved at Q1's close: %q", got[web3].Lapsed)
		}
		// Q1's kept items with findings, whatever Q2 decided since: not
		// web/4, whose keep was undone, nor the secret without findings.
		kept := []string{api1, ops5, ops6, web3}
		slices.Sort(kept)
		if ids, err := campaigns.ExceptionIDs(ctx, st, "Q1", 0); err != nil || !slices.Equal(ids, kept) {
			t.Errorf("ExceptionIDs of Q1: %v %v, want %v", ids, err, kept)
		}
	})
}
