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
	var rep struct {
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
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "<h3>Identities the scope could not judge</h3>\n<p><strong>1 identity</strong>") {
		t.Errorf("report.html has no section of the identities not judged: %v", err)
	}
	ok(t, "verify", "--report", dir, "--db", db)
	ok(t, "verify", "--report", dir)

	r = ok(t, "offboard", "--scope", "finding:overprivileged or name:admin", "--reviewer", "rita", "--db", db, "--as", "lead")
	if out := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(out, "so it is not in this offboarding, whether or not it is what it asks for") {
		t.Errorf("offboard --scope:\n%s", r.stdout)
	}
}
