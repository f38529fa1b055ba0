package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// afterFactFixture is a store whose snapshot lists tess (tess-gh on
// GitHub) and uma-gh as members of team acme/ops, with a directory that
// knows tess by her login and uma by her e-mail alone, and campaign q
// (created by lead@acme.test, without --allow-admin-review) whose item
// ops/5 is owned by @acme/ops when it is created and api/2 by the time
// of the decisions.
func afterFactFixture(t *testing.T, eng campaignstest.Engine) (f *fixture, c *campaigns.Campaign, atCreation, then string) {
	t.Helper()
	f = newFixtureOn(t, eng)
	f.Principals = []audit.Principal{
		{Type: audit.PrincipalTeamMember, Scope: "acme/ops", Login: "tess-gh", Role: "member"},
		{Type: audit.PrincipalTeamMember, Scope: "acme/ops", Login: "uma-gh", Role: "member"},
	}
	f.Snapshot(t, nil, population()...)
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "tess@acme.test", GitHub: "tess-gh", Status: audit.PersonActive},
		{Email: "uma@acme.test", Status: audit.PersonActive},
		{Email: "lead@acme.test", Status: audit.PersonActive, Aliases: []string{"Lead"}},
		{Email: "rita@acme.test", Status: audit.PersonActive, Aliases: []string{"rita"}},
		{Email: "sam@acme.test", Status: audit.PersonActive, Aliases: []string{"sam"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	atCreation, then = keyID("ops", "5"), keyID("api", "2")
	if _, err := f.Store.SetOwner(ctx, "admin", atCreation, "@acme/ops"); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "kind:github_deploy_key"})
	if _, err := f.Store.SetOwner(ctx, "admin", then, "@Acme/Ops"); err != nil {
		t.Fatal(err)
	}
	return f, get(t, f, "q"), atCreation, then
}

// verifyNames checks that nhi verify names exactly the events want (by
// event, what its problem says) and that the evidence report's check
// (campaigns.SelfReviews) marks the same events of campaign name, each
// by rule rules[event], and no other.
func verifyNames(t *testing.T, f *fixture, name string, want map[int64]string, rules map[int64]string) {
	t.Helper()
	problems, err := campaigns.Verify(ctx, f.Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != len(want) {
		t.Errorf("verify: %d problems %q; want %d", len(problems), problems, len(want))
	}
	for seq, w := range want {
		prefix := fmt.Sprintf("event %d (", seq)
		found := false
		for _, p := range problems {
			if strings.HasPrefix(p, prefix) {
				found = true
				if !strings.Contains(p, w) {
					t.Errorf("verify says %q; want it to say %q", p, w)
				}
			}
		}
		if !found {
			t.Errorf("verify names no event %d; want %q (problems: %q)", seq, w, problems)
		}
	}
	srs, err := campaigns.ReadSelfReviews(ctx, f.Store, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[int64]string{}
	for _, it := range get(t, f, name).Items {
		for _, h := range it.History {
			if sr, self := srs.Of(h.Seq, &it); self {
				bySeq[h.Seq] = sr.Rule
			}
		}
	}
	if fmt.Sprint(bySeq) != fmt.Sprint(rules) {
		t.Errorf("the report's check marks %v (event: rule); want %v", bySeq, rules)
	}
}

// nhi refuses a decision on an item owned by a team the reviewer is a
// member of, by any alias, according to the campaign's snapshot (rule
// team-owner, docs/people.md). One the log holds anyway, written around
// nhi, is named by nhi verify and marked by the report's check, whether
// the team was the owner recorded when the campaign was created or by
// the time of the decision. Before, only the owner and holder rules were
// checked after the fact, and verify passed both.
func TestVerifyNamesATeamOwnersDecisionWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, atCreation, then := afterFactFixture(t, eng)
		first := writeDecision(t, f, c, "tess@acme.test", atCreation, campaigns.Decommission, "")
		second := writeDecision(t, f, c, "Tess-GH", then, campaigns.Decommission, "")
		verifyNames(t, f, "q", map[int64]string{
			first:  fmt.Sprintf("event %d (campaign.decide by tess@acme.test) decides %s in campaign q, whose recorded owner when the campaign was created is @acme/ops, a team whose members in the campaign's snapshot include tess-gh, a name of tess@acme.test then: nhi refuses such a decision (rule team-owner), so it was written around nhi, and it is no review by someone outside the owning team", first, atCreation),
			second: fmt.Sprintf("event %d (campaign.decide by Tess-GH) decides %s in campaign q, whose recorded owner then is @Acme/Ops (event ", second, then),
		}, map[int64]string{first: campaigns.RuleTeam, second: campaigns.RuleTeam})
	})
}

// A membership the evidence learns after the decision is no such
// problem: uma decided as uma@acme.test, which the directory then did not
// give the team's member uma-gh; it learned her login afterwards, when
// nhi could not have refused her.
func TestVerifyNamesNoTeamMembershipLearnedAfterTheDecision(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, atCreation, _ := afterFactFixture(t, eng)
		writeDecision(t, f, c, "uma@acme.test", atCreation, campaigns.Decommission, "")
		if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
			{Email: "uma@acme.test", GitHub: "uma-gh", Status: audit.PersonActive},
		}}, false); err != nil {
			t.Fatal(err)
		}
		verifyNames(t, f, "q", nil, map[int64]string{})
	})
}

// nhi refuses a decision by the campaign's creator, under any alias,
// unless the campaign was created with --allow-admin-review (rule
// creator). One written around nhi is named, by the same check in verify
// and the report. Before, verify passed it.
func TestVerifyNamesTheCreatorsDecisionWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, _, _ := afterFactFixture(t, eng)
		id := keyID("web", "4")
		seq := writeDecision(t, f, c, "Lead", id, campaigns.Keep, "still used")
		verifyNames(t, f, "q", map[int64]string{
			seq: fmt.Sprintf("event %d (campaign.decide by Lead) decides %s in campaign q, whose creator is lead@acme.test (event %d), the same person, and which was created without --allow-admin-review: nhi refuses such a decision (rule creator), so it was written around nhi, and the campaign's creator reviewed it herself", seq, id, c.CreateSeq),
		}, map[int64]string{seq: campaigns.RuleCreator})
	})
}

// A campaign created with --allow-admin-review lets its creator decide:
// her decision, even one written around nhi, is no problem.
func TestVerifyNamesNoCreatorDecisionWithAllowAdminReview(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		create(t, f, campaigns.Spec{Name: "admin", Scope: "kind:github_actions_secret", AllowAdminReview: true})
		c := get(t, f, "admin")
		writeDecision(t, f, c, "Lead", c.Items[0].ID, campaigns.Keep, "still used")
		verifyNames(t, f, "admin", nil, map[int64]string{})
	})
}

// nhi refuses an exception's approval by anyone the rules of who may
// not decide keep from the item (docs/campaigns.md, "Exceptions"): a
// member of its owning team (rule team-owner) and the campaign's creator
// (rule creator) as well as its owner or holder. One written around nhi
// approves nothing, and nhi verify names it, as it names one by the
// owner or holder. Before, approvals were checked after the fact under
// the owner, holder and approver rules alone: both read as approved, and
// verify passed them.
func TestVerifyNamesAnApprovalByATeamMemberOrTheCreator(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, atCreation, _ := afterFactFixture(t, eng)
		web4 := keyID("web", "4")
		kept := map[string]*campaigns.Outcome{}
		for _, id := range []string{atCreation, web4} {
			o, err := campaigns.Decide(ctx, f.Store, "sam", "q", id, campaigns.Keep, "needed by CI")
			if err != nil {
				t.Fatal(err)
			}
			kept[id] = o
		}
		if _, err := campaigns.ApproveException(ctx, f.Store, "tess@acme.test", "q", atCreation); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Fatalf("a member of the owning team approving through nhi: %v; want refused (rule team-owner)", err)
		}
		if _, err := campaigns.ApproveException(ctx, f.Store, "Lead", "q", web4); !errors.Is(err, campaigns.ErrSeparation) {
			t.Fatalf("the campaign's creator approving through nhi: %v; want refused (rule creator)", err)
		}
		byTeam := writeApproval(t, f.Store, "tess@acme.test", "q", atCreation, kept[atCreation].Event.Seq, kept[atCreation].ExceptionExpires)
		byCreator := writeApproval(t, f.Store, "Lead", "q", web4, kept[web4].Event.Seq, kept[web4].ExceptionExpires)
		xs, err := campaigns.Exceptions(ctx, f.Store, "q", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{atCreation, web4} {
			if x := xs[id]; x.State == campaigns.ExceptionApproved || x.ApprovedBy != "" {
				t.Errorf("%s: %s by %q; want it approved by no one", id, x.State, x.ApprovedBy)
			}
		}
		// Where the exceptions show, each says why it is not approved.
		for id, want := range map[string]string{
			atCreation: fmt.Sprintf("event %d's approval by tess@acme.test approves nothing: the item's recorded owner when the campaign was created is @acme/ops, a team whose members in the campaign's snapshot include tess-gh, a name of tess@acme.test then; nhi refuses such an approval (rule team-owner)", byTeam),
			web4:       fmt.Sprintf("event %d's approval by Lead approves nothing: the campaign's creator is lead@acme.test (event %d), the same person as Lead, and it was created without --allow-admin-review; nhi refuses such an approval (rule creator)", byCreator, c.CreateSeq),
		} {
			if n := xs[id].NotApproved; n == nil || n.String() != want {
				t.Errorf("%s's approval that approves nothing: %v\nwant %q", id, n, want)
			}
		}
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("event %d (decision.approve by tess@acme.test) approves the exception on %s in campaign q, whose recorded owner when the campaign was created is @acme/ops, a team whose members in the campaign's snapshot include tess-gh, a name of tess@acme.test then: nhi refuses such an approval (rule team-owner), so it was written around nhi, and it approves nothing", byTeam, atCreation),
			fmt.Sprintf("event %d (decision.approve by Lead) approves the exception on %s in campaign q, whose creator is lead@acme.test (event %d), the same person, and which was created without --allow-admin-review: nhi refuses such an approval (rule creator), so it was written around nhi, and it approves nothing", byCreator, web4, c.CreateSeq),
		}
		if len(problems) != len(want) {
			t.Fatalf("verify after a team member's and the creator's approvals: %q; want %d problems", problems, len(want))
		}
		for i, w := range want {
			if problems[i] != w {
				t.Errorf("problem %d: %q\nwant %q", i, problems[i], w)
			}
		}
	})
}

// nhi refuses the close of a campaign created without
// --allow-admin-review to anyone who decided items of it, under any alias
// (rule closer, docs/people.md). One the log holds anyway, written around
// nhi, is named by nhi verify; a campaign created with
// --allow-admin-review may be closed by one of its deciders. Before, the
// closer rule was checked at the door only, and verify passed the close.
func TestVerifyNamesACloseByADecider(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		var first int64
		for _, id := range []string{keyID("web", "4"), keyID("web", "3")} {
			o, err := campaigns.Decide(ctx, f.Store, "sam@acme.test", "q", id, campaigns.Keep, "needed by CI")
			if err != nil {
				t.Fatal(err)
			}
			if first == 0 {
				first = o.Event.Seq
			}
		}
		if _, err := campaigns.Close(ctx, f.Store, "sam", "q"); !errors.Is(err, campaigns.ErrSeparation) {
			t.Fatalf("a decider closing through nhi: %v; want refused (rule closer)", err)
		}
		seq, err := campaignstest.CloseAround(ctx, f.Store, "sam", "q")
		if err != nil {
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "admin", Scope: "kind:github_actions_secret", AllowAdminReview: true})
		admin := get(t, f, "admin")
		if _, err := campaigns.Decide(ctx, f.Store, "sam", "admin", admin.Items[0].ID, campaigns.Keep, "still used"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaignstest.CloseAround(ctx, f.Store, "sam", "admin"); err != nil {
			t.Fatal(err)
		}
		verifyNames(t, f, "q", map[int64]string{
			seq: fmt.Sprintf("event %d (campaign.close by sam) closes campaign q, of which the same person decided 2 items (the first in event %d), and which was created without --allow-admin-review: nhi refuses such a close (rule closer), so it was written around nhi, and someone who took part in the review closed it", seq, first),
		}, map[int64]string{})
	})
}

// nhi refuses a decision on an item whose owner or holder is a name the
// directory lists for no one but that reads as one of the reviewer's — a
// +tagged address, a trailing dot, lookalike letters (the look-alike
// check, docs/people.md). One the log holds anyway, written around nhi,
// is named by nhi verify and marked by the report's check, judged with
// the directory as it stood then; a name that reads as someone else's
// is no problem. Before, the look-alike check was nhi's at the door
// only, and verify passed it.
func TestVerifyNamesADecisionOnANameThatReadsAsTheReviewers(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, _, _ := afterFactFixture(t, eng)
		hers, sams := keyID("web", "3"), keyID("web", "4")
		owned, err := f.Store.SetOwner(ctx, "admin", hers, "Rita+ops@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Store.SetOwner(ctx, "admin", sams, "sam+ops@acme.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", hers, campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Fatalf("nhi let rita decide %s, owned by a name that reads as hers: %v", hers, err)
		}
		seq := writeDecision(t, f, c, "rita", hers, campaigns.Decommission, "")
		writeDecision(t, f, c, "rita", sams, campaigns.Decommission, "")
		verifyNames(t, f, "q", map[int64]string{
			seq: fmt.Sprintf("event %d (campaign.decide by rita) decides %s in campaign q, whose recorded owner then is Rita+ops@acme.test (event %d), which names no one in the directory then and reads as rita@acme.test, a name of rita then: nhi refuses such a decision (rule owner), so it was written around nhi, and it is no second person's review", seq, hers, owned.Seq),
		}, map[int64]string{seq: campaigns.RuleOwner})
	})
}

// A person the directory of people marks left may not decide (docs/
// people.md, "The actor is a person"): nhi refuses it in the decision's
// own transaction. One the log holds anyway, written around nhi, is
// named by nhi verify, judged with the directory as it stood at the
// decision: one made before the person left is no problem. Before,
// verify passed it.
func TestVerifyNamesALeaversDecisionWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, _, _ := afterFactFixture(t, eng)
		before := writeDecision(t, f, c, "rita", keyID("web", "3"), campaigns.Keep, "still used")
		if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", Status: audit.PersonLeft, LeftAt: "2026-09-30", Aliases: []string{"rita"}},
		}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "4"), campaigns.Keep, "still used"); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver deciding through nhi: %v; want refused", err)
		}
		seq := writeDecision(t, f, c, "rita", keyID("web", "4"), campaigns.Keep, "still used")
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (campaign.decide by rita) decides 1 item in campaign q, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's decision, so it was written around nhi, and no one who could still act made it", seq)
		if len(problems) != 1 || problems[0] != want {
			t.Errorf("verify after a leaver's decision (and hers of event %d, before she left): %q\nwant [%q]", before, problems, want)
		}
	})
}
