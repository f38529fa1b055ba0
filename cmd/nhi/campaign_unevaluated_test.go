package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// TestCampaignCreateSaysWhatTheScopeCouldNotJudge: two AWS roles, one
// whose policies were not read (policies_unknown). A campaign of the
// risky ones (finding:overprivileged) cannot say whether the unread role
// is one: nhi campaign create warns with the count and what to do, nhi
// campaign show and --json carry it, and the exported report's population
// section says it, where the campaign left the role out in silence and
// read as covering every risky identity. nhi offboard --scope warns too.
func TestCampaignCreateSaysWhatTheScopeCouldNotJudge(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	role := func(name string, perms, attrs map[string]string) audit.Observation {
		return audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindAWSIAMRole, name), Kind: audit.KindAWSIAMRole,
			Name: name, Scope: "acme", CreatedAt: &created, LastUsedAt: &created, Permissions: perms, Attributes: attrs}
	}
	recordSnapshot(t, db, true, nil,
		role("admin", map[string]string{"*": "admin"}, nil),
		role("unread", nil, map[string]string{audit.AttrPoliciesUnknown: "true"}))
	r := ok(t, "campaign", "create", "risky", "--scope", "finding:overprivileged or name:admin", "--due", "2099-12-31", "--reviewer", "rita", "--db", db, "--as", "lead")
	out := strings.Join(strings.Fields(r.stdout), " ")
	if want := "Warning: the scope could not judge 1 identity of the snapshots reviewed: what it asks of it was not read (an AWS role's policies or trust policy, a last use, an import's empty cell: policies_unknown, trust_unknown, last_used_unknown, tags_unknown, expires_unknown, rotated_unknown), so it is not in this campaign, whether or not it is what it asks for; give the credential what it lacks (or the file what it leaves out) and snapshot again, then create the campaign again"; !strings.Contains(out, want) {
		t.Errorf("create: want %q in\n%s", want, r.stdout)
	}
	show := strings.Join(strings.Fields(ok(t, "campaign", "show", "risky", "--db", db).stdout), " ")
	if want := "not judged 1 identity of the snapshots reviewed the scope could not judge when the campaign was created"; !strings.Contains(show, want) {
		t.Errorf("show: want %q in\n%s", want, show)
	}
	var j struct {
		Count       int `json:"count"`
		Unevaluated int `json:"unevaluated"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "risky", "--json", "--db", db).stdout), &j); err != nil || j.Count != 1 || j.Unevaluated != 1 {
		t.Errorf("show --json: %+v %v", j, err)
	}

	dir := filepath.Join(t.TempDir(), "bundle")
	ok(t, "export", "risky", "--out", dir, "--db", db, "--as", "lead")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "### Identities the scope could not judge\n\n**1 identity** of the snapshots reviewed could not be judged by the scope"; !strings.Contains(string(md), want) {
		t.Errorf("report.md: want %q", want)
	}
	// The claims that the campaign lists every credential read in scope
	// say what it could not judge, in every format the report has.
	notListed := "Not listed: 1 identity of the snapshots reviewed that the scope could not judge, what it asks of it not read, so nobody reviewed it here, in scope or not (population section, Identities the scope could not judge)."
	for _, claim := range []string{"Every non-human credential nhi read in the accounts in scope is listed", "This campaign reviews the application and system accounts nhi read in scope"} {
		i := strings.Index(string(md), claim)
		if line, _, _ := strings.Cut(string(md)[max(i, 0):], "\n"); i < 0 || !strings.Contains(line, notListed) {
			t.Errorf("report.md: the claim %q says nothing of the identity the scope could not judge:\n%s", claim, line)
		}
	}
	var rep struct {
		Attestation struct {
			Controls []struct {
				ID  string `json:"id"`
				How string `json:"how"`
			} `json:"controls"`
		} `json:"attestation"`
		Population struct {
			Unevaluated int `json:"unevaluated"`
		} `json:"population"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Population.Unevaluated != 1 {
		t.Errorf("report.json: %+v %v", rep.Population, err)
	}
	for _, c := range rep.Attestation.Controls {
		if said := strings.Contains(c.How, notListed); said != (c.ID == "CC6.2" || c.ID == "7.2.5.1") {
			t.Errorf("report.json: control %s: %q", c.ID, c.How)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "<h3>Identities the scope could not judge</h3>\n<p><strong>1 identity</strong>") {
		t.Errorf("report.html has no section of the identities not judged: %v", err)
	}
	if n := strings.Count(string(html), "Not listed: 1 identity of the snapshots reviewed that the scope could not judge"); n != 2 {
		t.Errorf("report.html: %d controls say what the scope could not judge, want 2 (CC6.2, 7.2.5.1)", n)
	}
	ok(t, "verify", "--report", dir, "--db", db)
	ok(t, "verify", "--report", dir)

	r = ok(t, "offboard", "--scope", "finding:overprivileged or name:admin", "--reviewer", "rita", "--db", db, "--as", "lead")
	if out := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(out, "so it is not in this offboarding, whether or not it is what it asks for") {
		t.Errorf("offboard --scope:\n%s", r.stdout)
	}
}
