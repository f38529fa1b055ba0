package campaigns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestRotationOnTheDayTheyLeft: alice left on 2026-09-30, at an hour nhi
// is not told. A secret updated at 09:00 that day, or a key replaced at
// 18:00, may have been rotated before she left, when she could still read
// the new one: not checked, saying so, where it was rotated because the
// check counted from 00:00 UTC of the day she left. One updated at
// 00:00 UTC the next day, or a key created the day after, is rotated; one
// last updated at 00:00 UTC of that day is not.
func TestRotationOnTheDayTheyLeft(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		st := f.Store
		if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
			{Email: "carol@acme.test", GitHub: "carol"},
			{Email: "lead@acme.test", GitHub: "lead"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		obs := append(population(), secret("ops", "DEPLOY_TOKEN"))
		obs[0].Attributes["fingerprint"], obs[3].Attributes["fingerprint"] = "SHA256:old1", "SHA256:old4"
		f.Snapshot(t, nil, obs...)
		npm, sentry, ops := obs[6].ID, obs[7].ID, obs[8].ID
		api1, web4 := keyID("api", "1"), keyID("web", "4")
		for _, id := range []string{npm, sentry, ops} {
			if _, err := st.SetOwner(ctx, "lead@acme.test", id, "alice@acme.test"); err != nil {
				t.Fatal(err)
			}
		}
		res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		name := res.Campaign.Name
		for _, id := range []string{npm, sentry, ops, api1, web4} {
			if _, err := campaigns.Decide(ctx, st, "carol@acme.test", name, id, campaigns.Rotate, "alice could read it"); err != nil {
				t.Fatal(id, err)
			}
		}
		if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
			t.Fatal(err)
		}

		f.Clock.Set("2026-10-05T12:00:00Z")
		later := append(population(), secret("ops", "DEPLOY_TOKEN"))
		later[6].RotatedAt = campaignstest.TimeP("2026-09-30T09:00:00Z") // on the day, before she left at 17:00
		later[7].RotatedAt = campaignstest.TimeP("2026-10-01T00:00:00Z") // as the day ended
		later[8].RotatedAt = campaignstest.TimeP("2026-09-30T00:00:00Z") // as the day began
		later[0] = key("api", "11", "carol")
		later[0].Name, later[0].Attributes["fingerprint"], later[0].CreatedAt = "key-1", "SHA256:new1", campaignstest.TimeP("2026-10-02T10:00:00Z")
		later[3] = key("web", "14", "carol")
		later[3].Name, later[3].Attributes["fingerprint"], later[3].CreatedAt = "key-4", "SHA256:new4", campaignstest.TimeP("2026-09-30T18:00:00Z")
		f.Snapshot(t, nil, later...)
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		r := rs[0]
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		if !slices.Equal(r.Rotated, sorted(sentry, api1)) || !slices.Equal(r.NotRotated, []string{ops}) || !slices.Equal(r.NotChecked, sorted(npm, web4)) {
			t.Errorf("rotated %v, not rotated %v, not checked %v\ndetail %v", r.Rotated, r.NotRotated, r.NotChecked, r.Detail)
		}
		for id, want := range map[string]string{
			npm:    "updated_at 2026-09-30T09:00:00Z, on 2026-09-30, the day they left, whose hour is not known: it may have come before they left",
			web4:   "created 2026-09-30T18:00:00Z, on 2026-09-30, the day they left, whose hour is not known",
			sentry: "updated_at 2026-10-01T00:00:00Z, after the end of 2026-09-30 (UTC), the day they left",
			ops:    "last rotated 2026-09-30T00:00:00Z, not after the end of 2026-09-30 (UTC), the day they left",
			api1:   "replaced by " + audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/11"),
		} {
			if got := r.Detail[id] + r.Why[id]; !strings.Contains(got, want) {
				t.Errorf("%s: %q, want %q", id, got, want)
			}
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 0 {
			t.Fatalf("verify the log: %v %v", problems, err)
		}
	})
}
