package campaigns_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

func pat(n, owner, tokenID, expires string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, n), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "token " + tokenID, Scope: "acme", ExpiresAt: campaignstest.TimeP(expires),
		Attributes: map[string]string{"owner": owner, "token_id": tokenID},
	}
}

func ssoAuth(n, login string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubCredentialAuthorization, n), Kind: audit.KindGitHubCredentialAuthorization,
		Name: "personal access token of " + login, Scope: "acme", Attributes: map[string]string{"owner": login},
	}
}

// offboardFixture: alice left on 2026-09-30 (manager carol); she added
// two deploy keys, holds a PAT and an SSO authorization. dave holds
// nothing.
func offboardFixture(t *testing.T) *fixture {
	t.Helper()
	return offboardFixtureOn(t, campaignstest.SQLite)
}

// offboardFixtureOn is offboardFixture on engine eng.
func offboardFixtureOn(t *testing.T, eng campaignstest.Engine) *fixture {
	t.Helper()
	f := newFixtureOn(t, eng)
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
		{Email: "bob@acme.test", GitHub: "bob"},
		{Email: "carol@acme.test", GitHub: "carol"},
		{Email: "dave@acme.test", GitHub: "dave-x"},
		{Email: "lead@acme.test", GitHub: "lead"},
		{Email: "erin@acme.test", GitHub: "erin", Status: audit.PersonLeft, LeftAt: "2026-08-01"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	obs := append(population(), pat("7", "alice", "70", "2027-01-01T00:00:00Z"), ssoAuth("8", "alice"))
	obs[0].Attributes["fingerprint"] = "SHA256:old1"
	obs[3].Attributes["fingerprint"] = "SHA256:old4"
	f.Snapshot(t, nil, obs...)
	return f
}

func TestOffboardPerson(t *testing.T) {
	f := offboardFixture(t)
	st := f.Store
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "@ALICE"})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Campaign
	patID, ssoID := audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), audit.IdentityID("github", "acme", audit.KindGitHubCredentialAuthorization, "8")
	if c.Name != "offboard-alice-2026-09-30" || c.Count != 4 || !slices.Equal(c.Reviewers, []string{"carol@acme.test"}) || c.Due != "2026-10-15" {
		t.Fatalf("campaign: %s, %d items, reviewers %v, due %s", c.Name, c.Count, c.Reviewers, c.Due)
	}
	ob := res.Offboarding
	var why []string
	for _, it := range ob.Items {
		why = append(why, it.ID+"="+it.Relations[0].Kind)
	}
	want := []string{keyID("api", "1") + "=created", keyID("web", "4") + "=created", ssoID + "=holds", patID + "=holds"}
	slices.Sort(want)
	if ob.Kind != campaigns.OffboardPerson || ob.Person != "alice@acme.test" || ob.Effective != "2026-09-30" || !slices.Equal(why, want) {
		t.Errorf("offboarding: %+v\nwhy %v\nwant %v", ob, why, want)
	}
	if got, err := campaigns.OffboardingOf(ctx, st, c.Name); err != nil || got == nil || len(got.Items) != 4 || got.Seq != ob.Seq {
		t.Errorf("read back: %+v %v", got, err)
	}

	// Transfers: to someone active, never to a leaver or the leaver.
	for _, bad := range []struct{ to, says string }{
		{"alice", "is the person being offboarded"},
		{"erin@acme.test", "left on 2026-08-01"},
		{"zed", "not in the directory of people"},
	} {
		if _, err := campaigns.TransferItems(ctx, st, "carol@acme.test", c.Name, []string{keyID("api", "1")}, bad.to, ""); !errors.Is(err, campaigns.ErrBadTransfer) ||
			!strings.Contains(err.Error(), bad.says) {
			t.Errorf("transfer to %s: %v", bad.to, err)
		}
	}
	if _, err := campaigns.TransferItems(ctx, st, "carol@acme.test", c.Name, []string{keyID("api", "1")}, "bob", "bob runs api now"); err != nil {
		t.Fatal(err)
	}
	if o, _ := st.Identity(ctx, keyID("api", "1")); o.Owner != "bob@acme.test" {
		t.Errorf("owner after transfer: %q", o.Owner)
	}
	if _, err := campaigns.Decide(ctx, st, "carol@acme.test", c.Name, keyID("web", "4"), campaigns.Transfer, ""); !errors.Is(err, campaigns.ErrBadDecision) {
		t.Errorf("transfer through Decide: %v", err)
	}
	for id, d := range map[string]campaigns.Decision{keyID("web", "4"): campaigns.Rotate, patID: campaigns.Decommission, ssoID: campaigns.Decommission} {
		if _, err := campaigns.Decide(ctx, st, "carol@acme.test", c.Name, id, d, "alice left"); err != nil {
			t.Fatal(id, err)
		}
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", c.Name); err != nil {
		t.Fatal(err)
	}

	// Later: web/4 replaced (same title, new fingerprint), the PAT gone,
	// the SSO authorization still there.
	f.Clock.Set("2026-10-05T12:00:00Z")
	obs := population()
	obs[0].Attributes["fingerprint"] = "SHA256:old1"
	obs[3] = key("web", "9", "bob")
	obs[3].Name, obs[3].Attributes["fingerprint"] = "key-4", "SHA256:new4"
	obs[3].CreatedAt = campaignstest.TimeP("2026-10-04T09:00:00Z")
	f.Snapshot(t, nil, append(obs, ssoAuth("8", "alice"))...)
	rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", c.Name)
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	r := rs[0]
	if !slices.Equal(r.Transferred, []string{keyID("api", "1")}) || !slices.Equal(r.Rotated, []string{keyID("web", "4")}) ||
		!slices.Equal(r.Removed, []string{patID}) || !slices.Equal(r.StillPresent, []string{ssoID}) ||
		r.Access != "held" || !slices.Equal(r.AccessHeld, []string{ssoID}) || !r.Recorded {
		t.Errorf("verify: %+v", r)
	}
	if !strings.Contains(r.Detail[keyID("web", "4")], "replaced by "+keyID("web", "9")) {
		t.Errorf("rotation detail: %q", r.Detail[keyID("web", "4")])
	}
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
		t.Fatalf("verify the log: %v %v", problems, err)
	}
	// Why an identity is there is evidence: an edit shows.
	f.Exec(t, `UPDATE offboard_items SET relations = '[]' WHERE identity_id = ?`, patID)
	if problems, _ := campaigns.Verify(ctx, st); len(problems) != 1 || !strings.Contains(problems[0], "offboard_items") {
		t.Errorf("tampered: %v", problems)
	}
}

func TestOffboardRefusals(t *testing.T) {
	f := offboardFixture(t)
	st := f.Store
	for _, c := range []struct {
		spec campaigns.OffboardSpec
		err  error
		says string
	}{
		{campaigns.OffboardSpec{Person: "alise"}, audit.ErrUnknownPerson, "did you mean"},
		{campaigns.OffboardSpec{Person: "alice", Effective: "2026-10-02"}, campaigns.ErrBadEffective, "after today (2026-10-01)"},
		{campaigns.OffboardSpec{Person: "bob"}, campaigns.ErrNoReviewer, "has no manager"},
		{campaigns.OffboardSpec{Person: "alice", Reviewers: []string{"alice@acme.test"}}, campaigns.ErrSeparation, "being offboarded"},
		{campaigns.OffboardSpec{Person: "alice", Reviewers: []string{"erin"}}, campaigns.ErrNoReviewer, "left on 2026-08-01"},
	} {
		if _, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", c.spec); !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v", c.spec, err)
		}
	}
	if list, _ := campaigns.List(ctx, st); len(list) != 0 {
		t.Errorf("refusals wrote %d campaigns", len(list))
	}
	// Nothing left behind is evidence too: an empty campaign.
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "dave-x", Reviewers: []string{"carol"}, Effective: "2026-10-01"})
	if err != nil || res.Campaign.Count != 0 || res.Campaign.Name != "offboard-dave-x-2026-10-01" {
		t.Fatalf("empty: %+v %v", res, err)
	}
	// A system: every identity in scope.
	sys, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Scope: "scope:acme/ops", Reviewers: []string{"carol"}})
	if err != nil || sys.Campaign.Count != 2 || sys.Offboarding.Kind != campaigns.OffboardSystem || sys.Campaign.Name != "offboard-acme-ops-2026-10-01" {
		t.Fatalf("system: %+v %v", sys, err)
	}
	if _, err := campaigns.TransferItems(ctx, st, "carol@acme.test", sys.Campaign.Name, []string{keyID("ops", "5")}, "bob", ""); err != nil {
		t.Errorf("transfer in a system's campaign: %v", err)
	}
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
		t.Fatalf("verify the log: %v %v", problems, err)
	}
}

// Rotate decisions of an ordinary campaign are checked too: a secret
// whose updated_at moved after the campaign's snapshot is rotated, one
// that did not is not, and one whose repository was not read is not
// checked.
func TestRotateVerifiedInReviewCampaign(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		st := f.Store
		f.Snapshot(t, nil, population()...)
		if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q", Scope: "kind:actions_secret", Due: "2026-10-31", Reviewers: []string{"rita"}}); err != nil {
			t.Fatal(err)
		}
		npm, sentry := audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN"), audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "web/SENTRY_DSN")
		for _, id := range []string{npm, sentry} {
			if _, err := campaigns.Decide(ctx, st, "rita", "q", id, campaigns.Rotate, "rotate quarterly"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := campaigns.Close(ctx, st, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		f.Clock.Set("2026-10-10T00:00:00Z")
		obs := population()
		obs[6].RotatedAt = campaignstest.TimeP("2026-10-09T00:00:00Z")
		f.Snapshot(t, nil, obs...)
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead", "q")
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		r := rs[0]
		if !slices.Equal(r.Rotated, []string{npm}) || !slices.Equal(r.NotRotated, []string{sentry}) || r.Access != "" ||
			!strings.Contains(r.Detail[sentry], "last rotated 2026-09-01T00:00:00Z, not after 2026-10-01T12:00:00Z") {
			t.Errorf("rotation: %+v", r)
		}
		s, err := campaigns.Get(ctx, st, "q")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range s.Items {
			if want := map[string]string{npm: campaigns.Rotated, sentry: campaigns.NotRotated}[it.ID]; it.Verification != want {
				t.Errorf("%s: verification %q, want %q", it.ID, it.Verification, want)
			}
		}
		// A snapshot that cannot read web's secrets claims nothing about them.
		f.Clock.Set("2026-10-12T00:00:00Z")
		f.Snapshot(t, []audit.Gap{{Endpoint: "GET /repos/acme/web/actions/secrets", Kind: audit.KindGitHubActionsSecret, Scope: "acme/web", Status: 403, Reason: "no access"}}, obs[:6]...)
		rs, err = campaigns.VerifyRemediation(ctx, st, "lead", "q")
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		r = rs[0]
		if !slices.Equal(r.NotChecked, []string{sentry}) || !slices.Equal(r.Removed, []string{npm}) {
			t.Errorf("with a gap: %+v", r)
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
			t.Fatalf("verify the log: %v %v", problems, err)
		}
	})
}

// A rotate decision on a deploy key may name the replacement: verification
// then wants that exact key in the repository and the old one gone, and
// says which part failed; a key under the same title is not enough.
func TestRotateWithNamedReplacement(t *testing.T) {
	f := offboardFixture(t)
	st := f.Store
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	api1, web4 := keyID("api", "1"), keyID("web", "4")
	patID := audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7")
	for _, bad := range []struct{ id, replacement, says string }{
		{patID, "SHA256:x", "only a deploy key is replaced"},
		{api1, "api/1", "is the key being rotated"},
		{api1, "1", "is the key being rotated"},
		{api1, api1, "is the key being rotated"},
		{api1, "a key with spaces", "name the new key by its ID"},
	} {
		if _, err := campaigns.RotateReplacing(ctx, st, "carol@acme.test", name, bad.id, "alice left", bad.replacement); !errors.Is(err, campaigns.ErrBadReplacement) ||
			!strings.Contains(err.Error(), bad.says) {
			t.Errorf("%s replaced by %q: %v", bad.id, bad.replacement, err)
		}
	}
	o, err := campaigns.RotateReplacing(ctx, st, "carol@acme.test", name, api1, "alice left", " SHA256:new1 ")
	if err != nil {
		t.Fatal(err)
	}
	var p campaigns.DecidePayload
	if err := json.Unmarshal(o.Event.Payload, &p); err != nil || p.Replacement != "SHA256:new1" || p.Decision != campaigns.Rotate {
		t.Errorf("decision event: %+v %v", p, err)
	}
	if _, err := campaigns.RotateReplacing(ctx, st, "carol@acme.test", name, web4, "alice left", "9"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	verify := func(at string, obs ...audit.Observation) *campaigns.Remediation {
		t.Helper()
		f.Clock.Set(at)
		f.Snapshot(t, nil, obs...)
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		return &rs[0]
	}
	withFP := func(o audit.Observation, title, fp string) audit.Observation {
		o.Name, o.Attributes["fingerprint"] = title, fp
		return o
	}
	// First: the named key is there but so is the old one; the old web
	// key is gone, and a key with its title is there, but not the one named.
	obs := population()
	obs[0].Attributes["fingerprint"] = "SHA256:old1"
	obs[3] = withFP(key("web", "8", "bob"), "key-4", "SHA256:new4")
	r := verify("2026-10-05T12:00:00Z", append(obs, withFP(key("api", "10", "bob"), "key-1b", "SHA256:new1"))...)
	if !slices.Equal(r.NotRotated, []string{api1, web4}) || len(r.Rotated) != 0 {
		t.Errorf("first check: %+v", r)
	}
	if d := r.Detail[api1]; !strings.Contains(d, "the named replacement "+keyID("api", "10")+" is there, but the old key (fingerprint SHA256:old1) is still present") {
		t.Errorf("api/1: %q", d)
	}
	if d := r.Detail[web4]; !strings.Contains(d, "the old key is gone, but the named replacement 9 is not in acme/web") {
		t.Errorf("web/4: %q", d)
	}
	// Then both are done: the named keys are there, the old ones gone.
	obs = population()
	obs[0] = withFP(key("api", "10", "bob"), "key-1b", "SHA256:new1")
	obs[3] = withFP(key("web", "9", "bob"), "key-4", "SHA256:new4")
	r = verify("2026-10-06T12:00:00Z", obs...)
	if !slices.Equal(r.Rotated, []string{api1, web4}) || !strings.Contains(r.Detail[api1], "replaced by the named key "+keyID("api", "10")+" (fingerprint SHA256:new1)") ||
		!strings.Contains(r.Detail[web4], "replaced by the named key "+keyID("web", "9")) {
		t.Errorf("second check: %+v", r)
	}
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
		t.Fatalf("verify the log: %v %v", problems, err)
	}
}

// A repository with two keys under one title (two machines of one CI),
// one of them the leaver's: once hers is gone, the other, there all
// along, is not its replacement. Hers is removed; a key under that title
// created after she left is one.
func TestRotateNotCreditedToAKeyThatWasThere(t *testing.T) {
	f := newFixture(t)
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
		{Email: "carol@acme.test", GitHub: "carol"},
		{Email: "lead@acme.test", GitHub: "lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	titled := func(n, addedBy, fp, created string) audit.Observation {
		k := key("web", n, addedBy)
		k.Name, k.Attributes["fingerprint"], k.CreatedAt = "ci", fp, campaignstest.TimeP(created)
		return k
	}
	hers, twin := titled("4", "alice", "SHA256:a", "2024-01-02T03:04:05Z"), titled("5", "bob", "SHA256:b", "2025-03-01T00:00:00Z")
	f.Snapshot(t, nil, hers, twin)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	if _, err := campaigns.Decide(ctx, st, "carol@acme.test", name, hers.ID, campaigns.Rotate, "alice had it"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	verify := func(at string, obs ...audit.Observation) *campaigns.Remediation {
		t.Helper()
		f.Clock.Set(at)
		f.Snapshot(t, nil, obs...)
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		return &rs[0]
	}
	r := verify("2026-10-05T12:00:00Z", twin)
	if len(r.Rotated) != 0 || !slices.Equal(r.RotateRemoved(), []string{hers.ID}) {
		t.Errorf("her key gone, its twin still there: rotated %v (%q), removed %v; want removed, no replacement", r.Rotated, r.Detail[hers.ID], r.Removed)
	}
	fresh := titled("6", "carol", "SHA256:c", "2026-10-06T09:00:00Z")
	r = verify("2026-10-07T12:00:00Z", twin, fresh)
	if !slices.Equal(r.Rotated, []string{hers.ID}) || !strings.Contains(r.Detail[hers.ID], "replaced by "+fresh.ID) {
		t.Errorf("a new key under the title: rotated %v (%q)", r.Rotated, r.Detail[hers.ID])
	}
}

// A leaver the directory knows by e-mail alone: nhi cannot tell her
// tokens from anyone's (GitHub names their holder by login), so her
// access is not checked, never revoked, though a token is still there.
func TestAccessOfALeaverWithoutALogin(t *testing.T) {
	f := newFixture(t)
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "fay@acme.test", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test", Aliases: []string{"fay.lind@acme.test"}},
		{Email: "carol@acme.test", GitHub: "carol"},
		{Email: "lead@acme.test", GitHub: "lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	hers := pat("7", "fay-l", "70", "2027-01-01T00:00:00Z") // her login, which the directory does not name
	f.Snapshot(t, nil, key("api", "1", ""), hers)
	if _, err := st.SetOwner(ctx, "lead@acme.test", keyID("api", "1"), "fay@acme.test"); err != nil {
		t.Fatal(err)
	}
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "fay@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	if _, err := campaigns.Decide(ctx, st, "carol@acme.test", name, keyID("api", "1"), campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set("2026-10-05T12:00:00Z")
	f.Snapshot(t, nil, hers)
	rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	r := rs[0]
	if !slices.Equal(r.Removed, []string{keyID("api", "1")}) || r.Access != campaigns.NotChecked || !strings.Contains(r.Detail["access"], "no GitHub login") {
		t.Errorf("removed %v, access %q (%q); want the key removed, access not checked for want of a login", r.Removed, r.Access, r.Detail["access"])
	}
}
