package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// An offboarding campaign's report opens with its summary: who left and
// when, why each identity was there, and what remains with its risk — here
// a kept key and a token nobody decided.
func TestOffboardingSummary(t *testing.T) {
	ctx := context.Background()
	f := campaignstest.New(t, "2026-11-02T10:00:00Z")
	st := f.Store
	if _, err := st.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		{Email: "ana@acme.test", GitHub: "ana", Status: audit.PersonLeft, LeftAt: "2026-10-31", Manager: "cleo@acme.test"},
		{Email: "cleo@acme.test", GitHub: "cleo"},
		{Email: "lead@acme.test", GitHub: "lead"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy-prod", Scope: "acme/api", Attributes: map[string]string{"added_by": "ana", "fingerprint": "SHA256:k"}}
	pat := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "ana-ci", Scope: "acme", Attributes: map[string]string{"owner": "ana", "token_id": "70"}}
	f.Snapshot(t, nil, key, pat)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	if _, err := campaigns.Decide(ctx, st, "cleo@acme.test", name, key.ID, campaigns.Keep, "deploys prod until the migration"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, st, name, report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Offboarding summary",
		"Offboards person ana@acme.test, effective 2026-10-31",
		"2 identities: 0 done and proven, 2 remaining.",
		"Relationships found: created 1, holds 1.",
		"Access revoked: not verified yet.",
		"| kept (deploys prod until the migration): created by the leaver; nobody accountable for it until it is transferred |",
		"| nobody decided it: a credential of the leaver's that may still work |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `<section id="offboarding">`) || !strings.Contains(html.String(), "a credential of the leaver&#39;s that may still work") {
		t.Errorf("report.html lacks the summary")
	}
	if r.Offboarding == nil || r.Offboarding.Remaining != 2 || r.Offboarding.Person != "ana@acme.test" {
		t.Errorf("JSON summary: %+v", r.Offboarding)
	}
}
