package campaigns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// TestRotationOfAPATWhoseExpiryWasNotReported: a fine-grained PAT whose
// expiry its source left unsaid (an import's empty expires_at:
// expires_unknown) and that names no token_id is not "the same token_id
// and expiry (none)", not rotated, after the person left: whether it was
// regenerated is not known, and the check says why.
func TestRotationOfAPATWhoseExpiryWasNotReported(t *testing.T) {
	f := newFixture(t)
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
		{Email: "carol@acme.test", GitHub: "carol"},
		{Email: "lead@acme.test", GitHub: "lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	unsaid := audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "release token", Scope: "acme", Attributes: map[string]string{"owner": "alice", audit.AttrExpiryUnknown: "true"},
	}
	f.Snapshot(t, nil, append(population(), unsaid)...)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	if _, err := campaigns.Decide(ctx, st, "carol@acme.test", name, unsaid.ID, campaigns.Rotate, "alice held it"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set("2026-10-05T12:00:00Z")
	f.Snapshot(t, nil, append(population(), unsaid)...)
	rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	r := rs[0]
	if slices.Contains(r.NotRotated, unsaid.ID) || !slices.Contains(r.NotChecked, unsaid.ID) || !strings.Contains(r.Why[unsaid.ID], audit.AttrExpiryUnknown) {
		t.Errorf("not rotated %v, not checked %v, detail %q; want it not checked, its expiry not reported", r.NotRotated, r.NotChecked, r.Why[unsaid.ID])
	}
}
