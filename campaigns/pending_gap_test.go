package campaigns_test

import (
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// A leaver's token in a place the newest snapshot could not read (its
// fine-grained tokens answered 403): it may well still work, so she is
// still pending, and the count says it was not checked; a gap never reads
// as "nothing left".
func TestPendingLeaverBehindAGap(t *testing.T) {
	f := newFixture(t)
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
		{Email: "carol@acme.test", GitHub: "carol"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	tok := pat("7", "alice", "70", "2027-01-01T00:00:00Z")
	f.Snapshot(t, nil, tok, key("web", "3", "carol"))
	f.Clock.Add(24 * time.Hour)
	f.Snapshot(t, []audit.Gap{{Endpoint: "GET /orgs/acme/personal-access-tokens", Kind: audit.KindGitHubFineGrainedPAT, Scope: "acme", Status: 403, Reason: "needs a GitHub App installation token"}},
		key("web", "3", "carol"))
	leavers, _, _, err := campaigns.PendingLeavers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(leavers) != 1 || leavers[0].Person.Email != "alice@acme.test" || leavers[0].Count != 1 || leavers[0].NotChecked != 1 {
		t.Fatalf("pending: %+v; want alice with her token", leavers)
	}
}
