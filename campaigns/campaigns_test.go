package campaigns_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/filter"
)

func create(t testing.TB, f *fixture, spec campaigns.Spec) *campaigns.Created {
	t.Helper()
	if spec.Due == "" {
		spec.Due = "2026-10-31"
	}
	if spec.Reviewers == nil && spec.ReviewerMap == nil {
		spec.Reviewers = []string{"rita", "sam"}
	}
	res, err := campaigns.Create(ctx, f.Store, "lead@acme.test", spec)
	if err != nil {
		t.Fatalf("create %s: %v", spec.Name, err)
	}
	return res
}

func get(t testing.TB, f *fixture, name string) *campaigns.Campaign {
	t.Helper()
	c, err := campaigns.Get(ctx, f.Store, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func item(t testing.TB, c *campaigns.Campaign, id string) *campaigns.Item {
	t.Helper()
	for i := range c.Items {
		if c.Items[i].ID == id {
			return &c.Items[i]
		}
	}
	t.Fatalf("campaign %s has no item %s", c.Name, id)
	return nil
}

func verifyOK(t testing.TB, f *fixture) {
	t.Helper()
	problems, err := campaigns.Verify(ctx, f.Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("Verify of an untouched file: %q", problems)
	}
	r, err := f.Store.Verify(ctx)
	if err != nil || !r.OK() {
		t.Fatalf("audit verify: %v %v", err, r.Problems)
	}
}

func TestCreateFreezesThePopulation(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		snap := f.Snapshot(t, nil, population()...)
		if _, err := f.Store.SetOwner(ctx, "lead@acme.test", keyID("api", "1"), "@Alice"); err != nil {
			t.Fatal(err)
		}
		res := create(t, f, campaigns.Spec{Name: "2026-Q4", Scope: "kind:deploy_key", Reviewers: []string{"rita", "sam", "tom"}})
		c := res.Campaign
		if c.Count != 6 || c.Status != campaigns.StatusOpen || c.SnapshotID != snap.ID || c.Scope != "kind:github_deploy_key" || c.Due != "2026-10-31" {
			t.Fatalf("campaign %+v", c)
		}
		if res.Event.Type != campaigns.EventCreate || res.Event.Actor != "lead@acme.test" {
			t.Fatalf("event %+v", res.Event)
		}
		var p campaigns.CreatePayload
		if err := json.Unmarshal(res.Event.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Count != 6 || p.Snapshot != snap.ID || p.SnapshotDigest != snap.Digest || len(p.PopulationDigest) != 64 ||
			p.PolicyDigest != audit.DefaultPolicy().Digest() || p.AsOf != snap.StartedAt.Format("2006-01-02T15:04:05Z") ||
			!slices.Equal(p.Reviewers, []string{"rita", "sam", "tom"}) {
			t.Fatalf("create payload %+v", p)
		}

		// Owner and findings are frozen: a later owner change or policy does not move them.
		if _, err := f.Store.SetOwner(ctx, "lead@acme.test", keyID("api", "2"), "zed"); err != nil {
			t.Fatal(err)
		}
		c = get(t, f, "2026-Q4")
		if len(c.Items) != 6 {
			t.Fatalf("%d items", len(c.Items))
		}
		k1, k2 := item(t, c, keyID("api", "1")), item(t, c, keyID("api", "2"))
		if k1.Owner != "@Alice" || k1.NaturalOwner != "alice" || k2.Owner != "" || k2.NaturalOwner != "bob" {
			t.Errorf("owners not frozen: %+v / %+v", k1, k2)
		}
		if len(k1.Findings) == 0 || k1.Permissions["contents"] != "read" || k1.State() != "pending" {
			t.Errorf("frozen item %+v", k1)
		}
		// Evenly and deterministically: two each, never to an owner.
		per := map[string]int{}
		for _, it := range c.Items {
			per[it.Reviewer]++
		}
		if per["rita"] != 2 || per["sam"] != 2 || per["tom"] != 2 {
			t.Errorf("assignment %v", per)
		}
		again := create(t, f, campaigns.Spec{Name: "again", Scope: "kind:deploy_key", Reviewers: []string{"rita", "sam", "tom"}})
		if again.Campaign.PopulationDigest == c.PopulationDigest {
			t.Error("a later owner change did not reach the next campaign's population")
		}
		c2 := get(t, f, "again")
		for i := range c.Items {
			if c.Items[i].Reviewer != c2.Items[i].Reviewer {
				t.Errorf("assignment is not deterministic: %s to %s then %s", c.Items[i].ID, c.Items[i].Reviewer, c2.Items[i].Reviewer)
			}
		}
		if c.Progress.Total != 6 || c.Progress.Pending != 6 || len(c.Progress.Reviewers) != 3 {
			t.Errorf("progress %+v", c.Progress)
		}
		verifyOK(t, f)
	})
}

func TestReviewersNeverGetWhatTheyOwn(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		// alice added two keys, carol one; alice and carol review.
		res := create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Reviewers: []string{"Alice", "carol"}})
		c := get(t, f, "q")
		for _, it := range c.Items {
			if strings.EqualFold(it.Reviewer, it.NaturalOwner) {
				t.Errorf("%s assigned to its owner %s", it.ID, it.Reviewer)
			}
		}
		if len(res.Unassigned) != 0 {
			t.Errorf("unassigned %v", res.Unassigned)
		}
		// A single reviewer who owns an item leaves it unassigned.
		res = create(t, f, campaigns.Spec{Name: "solo", Scope: "kind:deploy_key", Reviewers: []string{"alice"}})
		if !slices.Equal(res.Unassigned, []string{keyID("api", "1"), keyID("web", "4")}) {
			t.Errorf("unassigned %v", res.Unassigned)
		}
	})
}

func TestReviewerMap(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		m, err := campaigns.ReadReviewerMap(strings.NewReader("owner,reviewer\n# platform team\n@Alice, rita\nbob,sam\n\ncarol,carol\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m["alice"] != "rita" || m["bob"] != "sam" || len(m) != 3 {
			t.Fatalf("map %v", m)
		}
		for _, bad := range []string{"alice\n", "alice,rita\nALICE,sam\n", "alice,\n", "a,b,c\n"} {
			if _, err := campaigns.ReadReviewerMap(strings.NewReader(bad)); err == nil {
				t.Errorf("reviewer map %q accepted", bad)
			}
		}
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Reviewers: []string{"tom"}, ReviewerMap: m})
		c := get(t, f, "q")
		want := map[string]string{
			keyID("api", "1"): "rita", keyID("web", "4"): "rita", keyID("api", "2"): "sam",
			keyID("web", "3"): "tom", // carol may not review her own key: falls back
			keyID("ops", "5"): "tom", keyID("ops", "6"): "tom",
		}
		for _, it := range c.Items {
			if it.Reviewer != want[it.ID] {
				t.Errorf("%s assigned to %s, want %s", it.ID, it.Reviewer, want[it.ID])
			}
		}
		if !slices.Equal(c.Reviewers, []string{"tom", "rita", "sam"}) {
			t.Errorf("reviewers %v", c.Reviewers)
		}
	})
}

func TestCreateRefusals(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		_, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"r"}})
		if !errors.Is(err, campaigns.ErrNoSnapshot) {
			t.Fatalf("no snapshot: %v", err)
		}
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "taken", Scope: "id:*"})
		cases := []struct {
			name string
			spec campaigns.Spec
			want error
			says string
		}{
			{"bad name", campaigns.Spec{Name: "q 4", Scope: "id:*", Due: "2026-10-31"}, campaigns.ErrBadName, "letters, digits"},
			{"duplicate", campaigns.Spec{Name: "taken", Scope: "id:*", Due: "2026-10-31"}, campaigns.ErrExists, "unique"},
			{"bad due", campaigns.Spec{Name: "q", Scope: "id:*", Due: "31/10/2026"}, campaigns.ErrBadDue, "YYYY-MM-DD"},
			{"past due", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-09-30"}, campaigns.ErrBadDue, "before today"},
			{"empty scope", campaigns.Spec{Name: "q", Scope: "  ", Due: "2026-10-31"}, campaigns.ErrEmptyScope, "--scope"},
			{"scope matches nothing", campaigns.Spec{Name: "q", Scope: "kind:runner", Due: "2026-10-31"}, campaigns.ErrEmptyScope, "matches none of the 8"},
			{"no reviewer", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{" "}}, campaigns.ErrNoReviewer, "--reviewer"},
			{"carry from nothing", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", CarryForward: "nope"}, campaigns.ErrNotFound, "nope"},
			{"carry from open", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", CarryForward: "taken"}, campaigns.ErrOpen, "close taken first"},
		}
		for _, tc := range cases {
			if tc.spec.Reviewers == nil {
				tc.spec.Reviewers = []string{"rita"}
			}
			_, err := campaigns.Create(ctx, f.Store, "lead", tc.spec)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: %v; want %v saying %q", tc.name, err, tc.want, tc.says)
			}
		}
		// A scope that does not parse is a *filter.Error, with its caret.
		_, err = campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "ownr:alice", Due: "2026-10-31", Reviewers: []string{"r"}})
		var fe *filter.Error
		if !errors.As(err, &fe) || !strings.Contains(fe.Caret(), "^") || !strings.Contains(err.Error(), "ownr") {
			t.Errorf("bad scope: %v", err)
		}
		if cs, _ := campaigns.List(ctx, f.Store); len(cs) != 1 {
			t.Errorf("refused creations left %d campaigns", len(cs))
		}
	})
}

func TestPartialSnapshotNeedsConsent(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		complete := f.Snapshot(t, nil, population()...)
		gap := audit.Gap{Endpoint: "GET /repos/acme/ops/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/ops", Status: 403, Reason: "needs admin on acme/ops"}
		partial := f.Snapshot(t, []audit.Gap{gap}, population()[:4]...)
		_, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"r"}})
		if !errors.Is(err, campaigns.ErrPartial) || !strings.Contains(err.Error(), "--allow-partial") || !strings.Contains(err.Error(), "could not read 1 endpoint;") ||
			!strings.Contains(err.Error(), fmt.Sprintf("--snapshot %d", complete.ID)) || !strings.Contains(err.Error(), "GET /repos/acme/ops/keys") {
			t.Fatalf("partial: %v", err)
		}
		res := create(t, f, campaigns.Spec{Name: "partial", Scope: "id:*", AllowPartial: true})
		if res.Campaign.SnapshotID != partial.ID || res.Campaign.Count != 4 {
			t.Errorf("allow-partial: %+v", res.Campaign)
		}
		var p campaigns.CreatePayload
		json.Unmarshal(res.Event.Payload, &p)
		if p.SnapshotStatus != audit.SnapshotPartial {
			t.Errorf("payload does not say the snapshot was partial: %+v", p)
		}
		res = create(t, f, campaigns.Spec{Name: "complete", Scope: "id:*", SnapshotID: complete.ID})
		if res.Campaign.SnapshotID != complete.ID || res.Campaign.Count != 8 {
			t.Errorf("--snapshot: %+v", res.Campaign)
		}
	})
}

func TestDecideRules(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		if _, err := f.Store.SetOwner(ctx, "lead", keyID("ops", "6"), "@Erin"); err != nil {
			t.Fatal(err)
		}
		sec := audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN")
		if _, err := f.Store.SetOwner(ctx, "lead", sec, "@acme/platform"); err != nil { // no owner is a finding (orphaned)
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita", "sam"}})
		c := get(t, f, "q")
		k1 := item(t, c, keyID("api", "1"))

		decide := func(actor, id string, d campaigns.Decision, reason string) (*campaigns.Outcome, error) {
			return campaigns.Decide(ctx, f.Store, actor, "q", id, d, reason)
		}
		refusals := []struct {
			actor, id string
			d         campaigns.Decision
			reason    string
			want      error
			says      string
		}{
			{"alice", keyID("api", "1"), campaigns.Decommission, "", campaigns.ErrSelfReview, "rule holder: alice is the holder"}, // natural owner
			{"ALICE", keyID("api", "1"), campaigns.Keep, "x", campaigns.ErrSelfReview, "rule holder"},                             // case
			{"@alice", keyID("api", "1"), campaigns.Keep, "x", campaigns.ErrSelfReview, "rule holder"},                            // login form
			{"erin", keyID("ops", "6"), campaigns.Keep, "x", campaigns.ErrSelfReview, "rule owner: @Erin is the recorded owner"},  // recorded owner @Erin
			{"rita", keyID("api", "1"), campaigns.Keep, "", campaigns.ErrReasonRequired, "stale"},                                 // findings need a reason
			{"rita", keyID("api", "1"), campaigns.Rotate, " ", campaigns.ErrReasonRequired, "--reason"},                           // blank is no reason
			{"rita", "github:acme:github_deploy_key:zzz/9", campaigns.Keep, "x", campaigns.ErrNotInCampaign, "zzz"},               // not in the population
			{"rita", keyID("api", "1"), "approve", "", campaigns.ErrBadDecision, "decommission, keep or rotate"},
		}
		for _, r := range refusals {
			if _, err := decide(r.actor, r.id, r.d, r.reason); !errors.Is(err, r.want) || !strings.Contains(err.Error(), r.says) {
				t.Errorf("%s deciding %s %s: %v; want %v saying %q", r.actor, r.id, r.d, err, r.want, r.says)
			}
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "nope", keyID("api", "1"), campaigns.Keep, "x"); !errors.Is(err, campaigns.ErrNotFound) {
			t.Errorf("unknown campaign: %v", err)
		}
		// An owner recorded after creation counts too.
		if _, err := f.Store.SetOwner(ctx, "lead", keyID("ops", "5"), "frank@acme.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := decide("Frank@acme.test", keyID("ops", "5"), campaigns.Keep, "x"); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("owner recorded after creation decided: %v", err)
		}

		// Decommission needs no reason; keep without findings neither.
		o, err := decide(k1.Reviewer, keyID("api", "1"), campaigns.Decommission, "")
		if err != nil || !o.Assigned || o.Conflict || o.Previous != campaigns.Pending {
			t.Fatalf("decommission: %+v %v", o, err)
		}
		if _, err := decide("rita", sec, campaigns.Keep, ""); err != nil {
			t.Errorf("keep without findings: %v", err)
		}
		// The same reviewer changes their mind: no conflict.
		if o, err = decide(k1.Reviewer, keyID("api", "1"), campaigns.Keep, "still used by the deploy job"); err != nil || o.Conflict {
			t.Fatalf("change: %+v %v", o, err)
		}
		// Someone else, not the assigned reviewer, changes it: allowed, recorded.
		o, err = decide("Vic", keyID("api", "1"), campaigns.Rotate, "key shared with a contractor")
		if err != nil || o.Assigned || !o.Conflict || o.PreviousBy != k1.Reviewer || o.Previous != campaigns.Keep {
			t.Fatalf("override: %+v %v", o, err)
		}
		c = get(t, f, "q")
		k1 = item(t, c, keyID("api", "1"))
		if k1.Decision != campaigns.Rotate || k1.DecidedBy != "Vic" || k1.Reason != "key shared with a contractor" || !k1.Conflict || k1.Assigned() || k1.DecidedAt == nil {
			t.Errorf("item after override: %+v", k1)
		}
		if len(k1.History) != 3 || k1.History[0].Decision != campaigns.Decommission || k1.History[2].Actor != "Vic" || k1.History[1].Via != campaigns.ViaSingle {
			t.Errorf("history %+v", k1.History)
		}
		if c.Progress.Conflicts != 1 || c.Progress.Decided != 2 {
			t.Errorf("progress %+v", c.Progress)
		}
		var vic *campaigns.ReviewerProgress
		for i := range c.Progress.Reviewers {
			if c.Progress.Reviewers[i].Reviewer == "Vic" {
				vic = &c.Progress.Reviewers[i]
			}
		}
		if vic == nil || vic.DecidedForOthers != 1 || vic.Assigned != 0 {
			t.Errorf("decisions outside assignment not counted: %+v", c.Progress.Reviewers)
		}
		listCountsAsGet(t, f)
		verifyOK(t, f)
	})
}

func TestBulkDecisions(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "3"), campaigns.Keep, "prod deploys"); err != nil {
			t.Fatal(err)
		}
		bulk := func(actor, filter string, d campaigns.Decision, reason string, all bool) (*campaigns.BulkOutcome, error) {
			return campaigns.DecideMatching(ctx, f.Store, actor, "q", filter, d, reason, all)
		}
		if _, err := bulk("sam", "kind:deploy_key", campaigns.Decommission, "", false); !errors.Is(err, campaigns.ErrReasonRequired) {
			t.Errorf("bulk without reason: %v", err)
		}
		if _, err := bulk("sam", "", campaigns.Decommission, "x", false); !errors.Is(err, campaigns.ErrEmptyScope) {
			t.Errorf("bulk without filter: %v", err)
		}
		var fe *filter.Error
		if _, err := bulk("sam", "kind:", campaigns.Decommission, "x", false); !errors.As(err, &fe) {
			t.Errorf("bulk with a bad filter: %v", err)
		}
		// alice owns two deploy keys: skipped; web/3 is decided: skipped.
		o, err := bulk("alice", "kind:deploy_key", campaigns.Decommission, "never used, owners left", false)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{keyID("api", "2"), keyID("ops", "5"), keyID("ops", "6")}
		if !slices.Equal(o.Items, want) || !slices.Equal(o.SkippedOwn, []string{keyID("api", "1"), keyID("web", "4")}) ||
			o.SkippedDecided != 1 || o.NotAssigned != 3 || o.Event.Type != campaigns.EventDecide {
			t.Fatalf("bulk %+v", o)
		}
		var p campaigns.DecidePayload
		json.Unmarshal(o.Event.Payload, &p)
		if p.Filter != "kind:github_deploy_key" || !slices.Equal(p.Items, want) || p.Reason != "never used, owners left" {
			t.Errorf("bulk payload %+v", p)
		}
		// Nothing undecided left for alice: a clear refusal.
		if _, err := bulk("alice", "kind:deploy_key", campaigns.Decommission, "again", false); !errors.Is(err, campaigns.ErrNothingMatched) || !strings.Contains(err.Error(), "2 matching items are yours") {
			t.Errorf("bulk over nothing: %v", err)
		}
		// decision: terms see the current decisions; --include-decided changes decided ones.
		o, err = bulk("sam", "decision:decommission scope:acme/ops", campaigns.Keep, "runbook needs them", true)
		if err != nil || !slices.Equal(o.Items, []string{keyID("ops", "5"), keyID("ops", "6")}) || o.Conflicts != 2 {
			t.Fatalf("include decided: %+v %v", o, err)
		}
		// Time terms count from the campaign's as-of moment; owner: reads the frozen owner.
		o, err = bulk("sam", "decision:pending rotated>1y", campaigns.Rotate, "rotate old keys", false)
		if err != nil || !slices.Equal(o.Items, []string{keyID("api", "1"), keyID("web", "4")}) {
			t.Fatalf("time filter: %+v %v", o, err)
		}
		c := get(t, f, "q")
		if it := item(t, c, keyID("api", "2")); it.History[0].Via != campaigns.ViaBulk || it.Reason != "never used, owners left" {
			t.Errorf("bulk history %+v", it)
		}
		verifyOK(t, f)
	})
}

func TestCloseMakesNoResponse(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"})
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("api", "2"), campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
		f.Clock.Set("2026-11-02T08:00:00Z")
		c := get(t, f, "q")
		if !c.Overdue(f.Store.Now()) {
			t.Error("open campaign past its due date is not overdue")
		}
		cl, err := campaigns.Close(ctx, f.Store, "lead", "q")
		if err != nil || cl.Decided != 1 || cl.NoResponse != 5 || cl.Event.Type != campaigns.EventClose {
			t.Fatalf("close %+v %v", cl, err)
		}
		c = get(t, f, "q")
		if c.Status != campaigns.StatusClosed || c.ClosedBy != "lead" || c.ClosedAt == nil || c.Overdue(f.Store.Now()) {
			t.Errorf("closed campaign %+v", c)
		}
		for _, it := range c.Items {
			if it.ID != keyID("api", "2") && (it.Decision != campaigns.NoResponse || it.DecidedBy != "" || it.State() != "no-response") {
				t.Errorf("undecided item after close: %+v", it)
			}
		}
		if c.Progress.NoResponse != 5 || c.Progress.ByDecision[campaigns.Decommission] != 1 {
			t.Errorf("progress %+v", c.Progress)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("api", "1"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrClosed) {
			t.Errorf("decide after close: %v", err)
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); !errors.Is(err, campaigns.ErrClosed) {
			t.Errorf("close twice: %v", err)
		}
		verifyOK(t, f)
	})
}

func TestCarryForward(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q3", Scope: "id:*"})
		keep := func(id string) {
			t.Helper()
			if _, err := campaigns.Decide(ctx, f.Store, "rita", "q3", id, campaigns.Keep, "deploys production"); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{keyID("api", "2"), keyID("web", "3"), keyID("ops", "5"), keyID("ops", "6")} {
			keep(id)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q3", keyID("web", "4"), campaigns.Rotate, "rotate it"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q3"); err != nil {
			t.Fatal(err)
		}

		// Next quarter: api/2 unchanged; web/3 gained write; ops/5 got an owner;
		// ops/6 unchanged; web/4 was rotate (never carried); api/1 no-response.
		// Before the keeps' exceptions expire (90 days): an expired one is not
		// carried (TestExceptionsExpireAndComeBack).
		f.Clock.Set("2026-12-15T09:00:00Z")
		obs := population()
		for i := range obs {
			switch obs[i].ID {
			case keyID("web", "3"):
				obs[i].Permissions = map[string]string{"contents": "write"}
			}
		}
		if _, err := f.Store.SetOwner(ctx, "lead", keyID("ops", "5"), "dave@acme.test"); err != nil {
			t.Fatal(err)
		}
		f.Snapshot(t, nil, obs...)
		res := create(t, f, campaigns.Spec{Name: "q4", Scope: "id:*", Due: "2027-01-31", CarryForward: "q3"})
		if res.Carried != 2 {
			t.Fatalf("carried %d, want 2", res.Carried)
		}
		c := get(t, f, "q4")
		for _, it := range c.Items {
			carried := it.ID == keyID("api", "2") || it.ID == keyID("ops", "6")
			if carried != (it.Carried == campaigns.Keep) || carried != (it.State() == "carried") {
				t.Errorf("%s: carried %q state %s", it.ID, it.Carried, it.State())
			}
			if carried && it.CarriedReason != "deploys production" {
				t.Errorf("%s: carried reason %q", it.ID, it.CarriedReason)
			}
		}
		if c.Progress.Carried != 2 || c.CarriedFrom != "q3" {
			t.Errorf("progress %+v from %q", c.Progress, c.CarriedFrom)
		}
		listCountsAsGet(t, f)
		// Confirmation is a bulk action with a reason; bob may not confirm his own key.
		if _, err := campaigns.ConfirmCarried(ctx, f.Store, "sam", "q4", "", ""); !errors.Is(err, campaigns.ErrReasonRequired) {
			t.Errorf("confirm without reason: %v", err)
		}
		o, err := campaigns.ConfirmCarried(ctx, f.Store, "bob", "q4", "", "unchanged since Q3 review")
		if err != nil || !slices.Equal(o.Items, []string{keyID("ops", "6")}) || !slices.Equal(o.SkippedOwn, []string{keyID("api", "2")}) || o.Event.Type != campaigns.EventConfirm {
			t.Fatalf("confirm %+v %v", o, err)
		}
		c = get(t, f, "q4")
		if it := item(t, c, keyID("ops", "6")); it.Decision != campaigns.Keep || it.DecidedBy != "bob" || it.Reason != "unchanged since Q3 review" || it.History[0].Via != campaigns.ViaConfirm {
			t.Errorf("confirmed %+v", it)
		}
		// The unconfirmed carried item becomes no-response at close.
		cl, err := campaigns.Close(ctx, f.Store, "lead", "q4")
		if err != nil || cl.CarriedUnconfirmed != 1 {
			t.Fatalf("close %+v %v", cl, err)
		}
		c = get(t, f, "q4")
		if it := item(t, c, keyID("api", "2")); it.Decision != campaigns.NoResponse {
			t.Errorf("carried, unconfirmed at close: %+v", it)
		}
		verifyOK(t, f)
	})
}

func TestSampleIsReproducible(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
		c := get(t, f, "q")
		a := campaigns.Sample(c.Items, 3, "audit-2026")
		rev := slices.Clone(c.Items)
		slices.Reverse(rev)
		b := campaigns.Sample(rev, 3, "audit-2026")
		if len(a) != 3 {
			t.Fatalf("sample of %d", len(a))
		}
		for i := range a {
			if a[i].Item.ID != b[i].Item.ID || a[i].Rank != i+1 {
				t.Fatalf("same seed, different sample: %v vs %v", a[i], b[i])
			}
			// The documented key: SHA-256(seed ‖ 0x00 ‖ id).
			if a[i].Key != campaigns.SampleKey("audit-2026", a[i].Item.ID) || len(a[i].Key) != 64 {
				t.Errorf("key %s", a[i].Key)
			}
			if i > 0 && a[i-1].Key > a[i].Key {
				t.Error("sample not in key order")
			}
		}
		if got := campaigns.SampleKey("s", "id"); got != "6a021aba03cebf110a88497c79b7b716662017a4c4d216c8f2fe0b89a62eea40" {
			t.Errorf("SampleKey(s, id) = %s", got)
		}
		if all := campaigns.Sample(c.Items, 100, "x"); len(all) != len(c.Items) {
			t.Errorf("oversized sample has %d items", len(all))
		}
	})
}

// TestDecidingAgainWritesNothing: the same reviewer deciding the same item
// the same way again gets "already decided" and no event; a new reason, a
// new decision or another reviewer is a new event.
func TestDecidingAgainWritesNothing(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"})
		k2 := keyID("api", "2")
		first, err := campaigns.Decide(ctx, f.Store, "rita", "q", k2, campaigns.Keep, "build bot")
		if err != nil {
			t.Fatal(err)
		}
		head, _ := f.Store.LogHead(ctx)
		for _, reason := range []string{"", "build bot"} {
			_, err := campaigns.Decide(ctx, f.Store, "rita", "q", k2, campaigns.Keep, reason)
			var same *campaigns.AlreadyDecidedError
			if !errors.As(err, &same) || same.Seq != first.Event.Seq || !strings.Contains(err.Error(), "already decided keep by you at ") {
				t.Errorf("keep again (reason %q): %v, want already decided by event %d", reason, err, first.Event.Seq)
			}
		}
		if now, _ := f.Store.LogHead(ctx); now.Seq != head.Seq {
			t.Errorf("deciding again wrote events %d..%d", head.Seq+1, now.Seq)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", k2, campaigns.Keep, "build bot; ticket SEC-9"); err != nil {
			t.Errorf("a new reason is a new decision: %v", err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "sam", "q", k2, campaigns.Keep, "build bot"); err != nil {
			t.Errorf("another reviewer agreeing is a new decision: %v", err)
		}
	})
}

func TestUndoIsACompensatingEvent(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"})
		k2, k5 := keyID("api", "2"), keyID("ops", "5")
		d1, err := campaigns.Decide(ctx, f.Store, "rita", "q", k2, campaigns.Keep, "build bot")
		if err != nil {
			t.Fatal(err)
		}
		d2, err := campaigns.Decide(ctx, f.Store, "rita", "q", k2, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Undo(ctx, f.Store, "rita", "q", d1.Event.Seq); !errors.Is(err, campaigns.ErrCannotUndo) || !strings.Contains(err.Error(), "later decision") {
			t.Errorf("undo of a replaced decision: %v", err)
		}
		if _, err := campaigns.Undo(ctx, f.Store, "bob", "", d2.Event.Seq); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("owner undoing: %v", err)
		}
		u, err := campaigns.Undo(ctx, f.Store, "rita", "q", d2.Event.Seq)
		if err != nil || u.Restored[k2] != campaigns.Keep || u.Event.Type != campaigns.EventUndo {
			t.Fatalf("undo: %+v %v", u, err)
		}
		it := item(t, get(t, f, "q"), k2)
		if it.Decision != campaigns.Keep || it.Reason != "build bot" || it.DecidedAt == nil || len(it.History) != 3 ||
			it.History[2].Via != campaigns.ViaUndo || it.History[2].Undoes != d2.Event.Seq || it.Conflict {
			t.Errorf("after undo: %+v", it)
		}
		if _, err := campaigns.Undo(ctx, f.Store, "rita", "q", u.Event.Seq); !errors.Is(err, campaigns.ErrCannotUndo) {
			t.Errorf("undo of an undo: %v", err)
		}
		// Undone twice: the answer names the undo and who did it (issue 15:
		// it said "event 0, by ").
		want := fmt.Sprintf("already undone by event %d (by rita at ", u.Event.Seq)
		if _, err := campaigns.Undo(ctx, f.Store, "rita", "q", d2.Event.Seq); !errors.Is(err, campaigns.ErrCannotUndo) || !strings.Contains(err.Error(), want) {
			t.Errorf("undo of an undone decision: %v, want it to say %q", err, want)
		}
		// Undo the first decision too, by someone else: pending again, a conflict.
		if _, err := campaigns.Undo(ctx, f.Store, "sam", "q", d1.Event.Seq); err != nil {
			t.Fatal(err)
		}
		it = item(t, get(t, f, "q"), k2)
		if it.State() != "pending" || it.DecidedBy != "" || it.DecidedAt != nil || !it.Conflict || len(it.History) != 4 {
			t.Errorf("after second undo: %+v", it)
		}
		// A bulk decision is undone as a whole.
		b, err := campaigns.DecideMatching(ctx, f.Store, "sam", "q", "scope:acme/ops", campaigns.Decommission, "unused", false)
		if err != nil {
			t.Fatal(err)
		}
		if u, err = campaigns.Undo(ctx, f.Store, "sam", "q", b.Event.Seq); err != nil || len(u.Items) != 2 {
			t.Fatalf("bulk undo %+v %v", u, err)
		}
		decided := func(d map[string]campaigns.Decision) int {
			n := 0
			for _, v := range d {
				if v != campaigns.Pending {
					n++
				}
			}
			return n
		}
		if d, _ := campaigns.Decisions(ctx, f.Store, "q"); decided(d) != 0 || len(d) != 6 {
			t.Errorf("decisions after undoing everything: %v", d)
		}
		// DecideEach: all or none.
		if _, err := campaigns.DecideEach(ctx, f.Store, "dave", "q", []string{k2, k5}, campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("DecideEach with an owned item: %v", err)
		}
		if d, _ := campaigns.Decisions(ctx, f.Store, "q"); decided(d) != 0 || len(d) != 6 {
			t.Errorf("a refused DecideEach recorded %v", d)
		}
		outs, err := campaigns.DecideEach(ctx, f.Store, "rita", "q", []string{k2, k5}, campaigns.Decommission, "")
		if err != nil || len(outs) != 2 || outs[0].Event.Seq+1 != outs[1].Event.Seq {
			t.Fatalf("DecideEach %+v %v", outs, err)
		}
		if d, _ := campaigns.Decisions(ctx, f.Store, "q"); d[k2] != campaigns.Decommission || d[k5] != campaigns.Decommission || decided(d) != 2 || len(d) != 6 {
			t.Errorf("Decisions %v", d)
		}
		verifyOK(t, f)
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Undo(ctx, f.Store, "rita", "q", outs[0].Event.Seq); !errors.Is(err, campaigns.ErrClosed) {
			t.Errorf("undo after close: %v", err)
		}
		verifyOK(t, f)
	})
}

// A decision is prepared before the write lock is taken; when another
// reviewer decides the same item in between, the decision is made again
// under the lock, so it still records the conflict and what it replaced,
// as deciding one after the other would. The same holds when the owner
// changes in between: the separation rules see the new owner. On an
// evidence file there is nothing to prepare: reads under SQLite's write
// lock are no round trips, and preparing first made 40 reviewers' p95
// three times as long (BenchmarkConcurrentDecisions), so a decision takes
// the lock first.
func TestDecisionPreparedBeforeTheLock(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
		id := keyID("api", "1")

		if eng == campaignstest.SQLite {
			prepared := false
			defer campaigns.BeforeDecideLock(func() { prepared = true })()
			if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
			if prepared {
				t.Error("on an evidence file a decision was prepared before the write lock; want it made under the lock")
			}
			verifyOK(t, f)
			return
		}

		var meanwhile func()
		defer campaigns.BeforeDecideLock(func() {
			if m := meanwhile; m != nil {
				meanwhile = nil // the decision made meanwhile is prepared the same way
				m()
			}
		})()
		meanwhile = func() {
			if _, err := campaigns.Decide(ctx, f.Store, "sam", "q", id, campaigns.Keep, "sam's"); err != nil {
				t.Fatal(err)
			}
		}
		o, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if meanwhile != nil {
			t.Fatal("the decision was not prepared before the lock: its reads failed, and it went the long way at once")
		}
		if o.Previous != campaigns.Keep || o.PreviousBy != "sam" || !o.Conflict {
			t.Errorf("rita's decision after sam's: previous %q by %q, conflict %v; want keep by sam, a conflict", o.Previous, o.PreviousBy, o.Conflict)
		}
		if it := item(t, get(t, f, "q"), id); it.Decision != campaigns.Decommission || !it.Conflict || len(it.History) != 2 {
			t.Errorf("the item: %q, conflict %v, %d changes; want decommission, a conflict, 2 changes", it.Decision, it.Conflict, len(it.History))
		}

		// rita becomes the owner of another item while her decision on it
		// is being prepared: she may no longer decide it.
		other := keyID("api", "2")
		meanwhile = func() {
			if _, err := f.Store.SetOwner(ctx, "lead", other, "rita"); err != nil {
				t.Fatal(err)
			}
		}
		_, err = campaigns.Decide(ctx, f.Store, "rita", "q", other, campaigns.Decommission, "")
		if !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("rita deciding an item she came to own meanwhile: %v; want ErrSelfReview", err)
		}
		if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
			t.Fatalf("verify: %v %v", err, r.Problems)
		}
	})
}

// listCountsAsGet: the progress campaigns.List counts in the database
// (without reading an item) is, for every campaign, the progress Get
// counts over the items it reads: totals, per decision, and per reviewer
// in the same order.
func listCountsAsGet(t *testing.T, f *fixture) {
	t.Helper()
	list, err := campaigns.List(ctx, f.Store)
	if err != nil || len(list) == 0 {
		t.Fatalf("list: %d campaigns, %v", len(list), err)
	}
	for _, c := range list {
		whole := get(t, f, c.Name)
		if !reflect.DeepEqual(c.Progress, whole.Progress) {
			t.Errorf("campaign %s: list counts\n%+v\nget counts\n%+v", c.Name, c.Progress, whole.Progress)
		}
	}
}
