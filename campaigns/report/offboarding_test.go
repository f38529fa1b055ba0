package report_test

import (
	"bytes"
	"context"
	"path/filepath"
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
	// A second key she added, and a secret of a repository she could
	// write to (she could push a workflow that prints it).
	key2 := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/2"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy-stage", Scope: "acme/api", Attributes: map[string]string{"added_by": "ana", "fingerprint": "SHA256:k2"}}
	sec := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM"), Kind: audit.KindGitHubActionsSecret,
		Name: "NPM", Scope: "acme/api"}
	f.Principals = []audit.Principal{{Type: audit.PrincipalCollaborator, Scope: "acme/api", Login: "ana", Role: "write"}}
	f.Snapshot(t, nil, sec, key, pat, key2)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Campaign.Name
	if _, err := campaigns.Decide(ctx, st, "cleo@acme.test", name, key.ID, campaigns.Keep, "deploys prod until the migration"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.RotateReplacing(ctx, st, "cleo@acme.test", name, key2.ID, "she had it", "SHA256:new2"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.TransferItems(ctx, st, "cleo@acme.test", name, []string{sec.ID}, "lead", "lead runs the pipeline"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, st, name, report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	// The transfer is a decision, never pending: closed, nothing is.
	if s := r.Attestation.Summary; s.Transfer != 1 || s.Pending != 0 || s.Keep+s.Rotate+s.NoResponse != 3 ||
		!strings.Contains(r.Attestation.Statement, "4 identities were in scope: 3 decided (decommission, keep, rotate or transfer), 1 without response.") {
		t.Errorf("summary %+v\nstatement %q", s, r.Attestation.Statement)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Offboarding summary",
		"| 4 | 0 | 1 | 1 | 1 | 1 | 0 |",
		"Offboards person ana@acme.test, effective 2026-10-31",
		"4 identities: 0 done and proven, 4 remaining.",
		"Relationships found: created 2, holds 1, could-read 1 (4 identities).",
		"Access seen: acme/api (write collaborator ana, snapshot 1).",
		"Access revoked: not verified yet.",
		"| rotate, replacement SHA256:new2 2026-11-02",
		"| transfer to lead@acme.test 2026-11-02",
		"could-read: write access to acme/api, so a workflow they push can print it (ana, snapshot 1): rotate |",
		"| kept (deploys prod until the migration): created by the leaver; nobody accountable for it until it is transferred |",
		"| nobody decided it: a credential of the leaver's that may still work |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	// Grouped by relationship, strongest first, each item once.
	groups := []string{"### created (2)", "### holds (1)", "### could read (1)"}
	last := -1
	for _, g := range groups {
		i := strings.Index(md.String(), g)
		if i < last || strings.Count(md.String(), g) != 1 {
			t.Errorf("report.md: %q missing, repeated or out of order (%v)", g, groups)
		}
		last = i
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `<section id="offboarding">`) || !strings.Contains(html.String(), "a credential of the leaver&#39;s that may still work") {
		t.Errorf("report.html lacks the summary")
	}
	if !strings.Contains(html.String(), "<h3>could read (1)</h3>") || !strings.Contains(html.String(), `, replacement <span class="mono">SHA256:<wbr>new2</span>`) {
		t.Errorf("report.html lacks the groups or the replacement")
	}
	if r.Offboarding == nil || r.Offboarding.Remaining != 4 || r.Offboarding.Person != "ana@acme.test" || r.Offboarding.Items[3].Group != audit.RelCouldRead {
		t.Errorf("JSON summary: %+v", r.Offboarding)
	}
	// Its bundle agrees with itself: the summary reads back from
	// report.json into the same pages.
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := report.Export(ctx, st, name, dir, report.ExportOptions{Options: report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"}}); err != nil {
		t.Fatal(err)
	}
	selfConsistent(t, dir)
}

// TestOffboardingRelationshipsCountIdentities: the summary's
// "Relationships found" counts identities, not relations: a deploy key
// the leaver added in a repository she administered is found two ways
// (created, could-read), and so is a secret there (could-read, and she
// is its likeliest owner), each counted under both, once in the total the
// line gives; a token whose source names her twice (owner, login) holds
// once. The Markdown, the HTML and report.json say the same.
func TestOffboardingRelationshipsCountIdentities(t *testing.T) {
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
	sec := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM"), Kind: audit.KindGitHubActionsSecret,
		Name: "NPM", Scope: "acme/api"}
	pat := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "ana-ci", Scope: "acme", Attributes: map[string]string{"owner": "ana", "login": "ana", "token_id": "70"}}
	f.Principals = []audit.Principal{{Type: audit.PrincipalCollaborator, Scope: "acme/api", Login: "ana", Role: "admin"}}
	f.Snapshot(t, nil, key, sec, pat)
	res, err := campaigns.CreateOffboarding(ctx, st, "lead@acme.test", campaigns.OffboardSpec{Person: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, st, res.Campaign.Name, report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	const found = "created 1, holds 1, suggested 1, could-read 2 (3 identities, 2 of them found more than one way and counted under each)"
	var md, html bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 identities: 0 done and proven, 3 remaining.", "Relationships found: " + found + "."} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	if want := "<tr><th>Relationships found</th><td>" + found + "</td></tr>"; !strings.Contains(html.String(), want) {
		t.Errorf("report.html lacks %q", want)
	}
	o := r.Offboarding
	if o == nil || o.Related != 3 || o.Several != 2 || len(o.Relationships) != 4 || o.Relationships[3] != (report.RelationshipStat{Kind: audit.RelCouldRead, Count: 2}) {
		t.Errorf("JSON summary: %+v", o)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := report.Export(ctx, st, res.Campaign.Name, dir, report.ExportOptions{Options: report.Options{GeneratedAt: f.Clock.Now().Add(time.Hour), Tool: "nhi test"}}); err != nil {
		t.Fatal(err)
	}
	selfConsistent(t, dir)
}
