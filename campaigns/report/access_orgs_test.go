package report_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// A leaver with tokens in two GitHub organisations, and a third where she
// held none but added a deploy key, kept: the later snapshot of one shows hers gone, the other's
// still lists one. The report never says her access is revoked, whichever
// organisation was verified last; it does once every organisation's newest
// snapshot shows none, the third's too, though nothing there was decided.
func TestOffboardingAccessAcrossOrganisations(t *testing.T) {
	campaignstest.Engines(t, testOffboardingAccessAcrossOrganisations)
}

func testOffboardingAccessAcrossOrganisations(t *testing.T, eng campaignstest.Engine) {
	ctx := context.Background()
	f := campaignstest.NewOn(t, eng, "2026-11-02T10:00:00Z")
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "ana@acme.test", GitHub: "ana", Status: audit.PersonLeft, LeftAt: "2026-10-31", Manager: "cleo@acme.test"},
		{Email: "cleo@acme.test", GitHub: "cleo"},
		{Email: "lead@acme.test", GitHub: "lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	pat := func(org string) audit.Observation {
		return audit.Observation{ID: audit.IdentityID("github", org, audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
			Name: "ana-ci", Scope: org, Attributes: map[string]string{"owner": "ana", "token_id": "70"}}
	}
	inOrg := func(org string) { f.Source.Account = org }
	inOrg("acme")
	f.Snapshot(t, nil, pat("acme"))
	inOrg("labs")
	f.Snapshot(t, nil, pat("labs"))
	other := audit.Observation{ID: audit.IdentityID("github", "oss", audit.KindGitHubDeployKey, "site/3"), Kind: audit.KindGitHubDeployKey,
		Name: "pages", Scope: "oss/site", Attributes: map[string]string{"added_by": "ana", "fingerprint": "SHA256:p"}}
	inOrg("oss")
	f.Snapshot(t, nil, other)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	for _, org := range []string{"acme", "labs"} {
		if _, err := campaigns.Decide(ctx, st, "cleo@acme.test", name, pat(org).ID, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Decide(ctx, st, "cleo@acme.test", name, other.ID, campaigns.Keep, "publishes the site"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	f.Clock.Add(24 * time.Hour)
	inOrg("acme")
	f.Snapshot(t, nil, pat("acme")) // still there
	inOrg("labs")
	f.Snapshot(t, nil) // gone
	inOrg("oss")
	f.Snapshot(t, nil, other)
	verify := func() (recorded int) {
		t.Helper()
		rs, err := campaigns.VerifyRemediation(ctx, st, "lead@acme.test", name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			t.Logf("%s/%s: access %q %v, recorded %v", r.Snapshot.Source, r.Snapshot.Account, r.Access, r.AccessHeld, r.Recorded)
			if r.Recorded {
				recorded++
			}
		}
		return recorded
	}
	access := func() *report.Offboarding {
		t.Helper()
		r, err := report.Build(ctx, st, name, report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Offboarding
	}
	if n := verify(); n != 3 {
		t.Errorf("%d results recorded, want one per organisation", n)
	}
	if o := access(); o.AccessRevoked != "held" || len(o.AccessHeld) != 1 || o.AccessHeld[0] != pat("acme").ID {
		t.Errorf("access: %q, held %v (event %d); want held, the acme token", o.AccessRevoked, o.AccessHeld, o.AccessEvent)
	}
	// acme's token goes: now every organisation shows none.
	f.Clock.Add(24 * time.Hour)
	inOrg("acme")
	f.Snapshot(t, nil)
	if n := verify(); n != 1 {
		t.Errorf("%d results recorded, want acme's alone (labs and oss were recorded for their newest snapshots)", n)
	}
	if o := access(); o.AccessRevoked != "revoked" || len(o.AccessHeld) != 0 {
		t.Errorf("access: %q, held %v (event %d); want revoked", o.AccessRevoked, o.AccessHeld, o.AccessEvent)
	}
	// oss is read again: its access-only event is the newest that says
	// revoked, one of the campaign's events in the bundle's integrity
	// section; and the bundle agrees with itself.
	f.Clock.Add(24 * time.Hour)
	inOrg("oss")
	f.Snapshot(t, nil, other)
	if n := verify(); n != 1 {
		t.Errorf("%d results recorded, want oss's alone", n)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	ex, err := report.Export(ctx, st, name, dir, report.ExportOptions{Options: report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := ex.Report; !slices.ContainsFunc(r.Integrity.CampaignEvents, func(e report.EventRef) bool { return e.Seq == r.Offboarding.AccessEvent }) {
		t.Errorf("access event %d is not among the campaign's events %v", r.Offboarding.AccessEvent, r.Integrity.CampaignEvents)
	}
	selfConsistent(t, dir)
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) > 0 {
		t.Errorf("nhi verify: %v %v", problems, err)
	}
}
