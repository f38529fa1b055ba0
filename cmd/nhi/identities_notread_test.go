package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// TestIdentitiesSayWhatWasNotRead: two AWS roles, one read whole and
// granted nothing, one whose policies, trust policy and last use were not
// read. nhi identities says "not read" in its LAST USED and FINDINGS
// cells, --json lists each thing not read (not_read: what, marker, why)
// beside the empty permissions, and -o csv names them (not_read), where
// the table showed "-" for both, which reads as no finding, and the
// JSON's empty permissions read as none.
func TestIdentitiesSayWhatWasNotRead(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Now().UTC().AddDate(0, 0, -20)
	used := created.AddDate(0, 0, 10)
	role := func(name string, attrs map[string]string) audit.Observation {
		return audit.Observation{ID: audit.IdentityID("aws", "111111111111", audit.KindAWSIAMRole, name), Kind: audit.KindAWSIAMRole,
			Name: name, Scope: "111111111111", CreatedAt: &created, LastUsedAt: &used, Attributes: attrs}
	}
	unread := role("unread", map[string]string{audit.AttrPoliciesUnknown: "true", audit.AttrTrustUnknown: "true", audit.AttrLastUseUnknown: "true"})
	unread.LastUsedAt = nil
	recordSnapshot(t, db, true, nil, role("bare", nil), unread)
	for _, r := range []audit.Observation{role("bare", nil), unread} {
		ok(t, "owner", "set", r.ID, "ops@acme.test", "--db", db, "--as", "lead") // owned: no orphaned finding
	}

	table := ok(t, "identities", "--db", db).stdout
	for _, l := range strings.Split(table, "\n") {
		switch {
		case strings.Contains(l, " unread "):
			if f := strings.Fields(l); strings.Count(l, "not read") != 2 || f[len(f)-1] != "read" {
				t.Errorf("the unread role's LAST USED and FINDINGS say not read: %q", l)
			}
		case strings.Contains(l, " bare "):
			if strings.Contains(l, "not read") {
				t.Errorf("the role read whole says not read: %q", l)
			}
		}
	}

	var ids []struct {
		Name        string            `json:"name"`
		Permissions map[string]string `json:"permissions"`
		NotRead     []audit.NotRead   `json:"not_read"`
	}
	if err := json.Unmarshal([]byte(ok(t, "identities", "--json", "--db", db).stdout), &ids); err != nil || len(ids) != 2 {
		t.Fatalf("--json: %v %+v", err, ids)
	}
	for _, id := range ids {
		var what []string
		for _, n := range id.NotRead {
			what = append(what, n.What+"/"+n.Marker)
			if n.Why == "" {
				t.Errorf("%s: not_read %s says no why", id.Name, n.What)
			}
		}
		want := map[string]string{"bare": "", "unread": "permissions/policies_unknown trust/trust_unknown last_used/last_used_unknown"}[id.Name]
		if got := strings.Join(what, " "); got != want || id.NotRead == nil {
			t.Errorf("--json: %s's not_read %q (%v), want %q", id.Name, got, id.NotRead, want)
		}
	}

	recs, err := csv.NewReader(strings.NewReader(ok(t, "identities", "-o", "csv", "--db", db).stdout)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv: %v %v", err, recs)
	}
	col := len(recs[0]) - 1
	if recs[0][col] != "not_read" {
		t.Fatalf("csv header: %v", recs[0])
	}
	for _, r := range recs[1:] {
		want := map[string]string{"bare": "", "unread": "permissions trust last_used"}[r[2]]
		if r[col] != want {
			t.Errorf("csv: %s's not_read %q, want %q", r[2], r[col], want)
		}
	}
}

// TestReportSaysPermissionsNotRead: a campaign's evidence report lists
// the permissions each item was frozen with; of a role whose policies
// were not read (policies_unknown) it says "not read", or of one read in
// part that what it lists is not all, in population.csv and report.json,
// where the cell was empty, which an auditor reads as granted nothing.
func TestReportSaysPermissionsNotRead(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	role := func(name string, perms, attrs map[string]string) audit.Observation {
		return audit.Observation{ID: audit.IdentityID("aws", "111111111111", audit.KindAWSIAMRole, name), Kind: audit.KindAWSIAMRole,
			Name: name, Scope: "111111111111", CreatedAt: &created, LastUsedAt: &created, Permissions: perms, Attributes: attrs}
	}
	unknown := map[string]string{audit.AttrPoliciesUnknown: "true"}
	recordSnapshot(t, db, true, nil, role("bare", nil, nil), role("unread", nil, unknown), role("part", map[string]string{"s3-read": "attached"}, unknown))
	ok(t, "campaign", "create", "roles", "--scope", "kind:aws_iam_role", "--due", "2099-12-31", "--reviewer", "rita", "--db", db, "--as", "lead")
	dir := filepath.Join(t.TempDir(), "bundle")
	ok(t, "export", "roles", "--out", dir, "--db", db, "--as", "lead")
	want := map[string]string{"bare": "", "unread": "not read (policies_unknown)", "part": "s3-read:attached; not read whole (policies_unknown)"}

	f, err := os.Open(filepath.Join(dir, "population.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("population.csv: %v %v", err, recs)
	}
	name, perms := slices.Index(recs[0], "name"), slices.Index(recs[0], "permissions")
	for _, r := range recs[1:] {
		if r[perms] != want[r[name]] {
			t.Errorf("population.csv: %s's permissions %q, want %q", r[name], r[perms], want[r[name]])
		}
	}
	var rep struct {
		Register []struct {
			Name        string `json:"name"`
			Permissions string `json:"permissions"`
		} `json:"decision_register"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Register) != 3 {
		t.Fatalf("report.json: %v %+v", err, rep.Register)
	}
	for _, r := range rep.Register {
		if r.Permissions != want[r.Name] {
			t.Errorf("report.json: %s's permissions %q, want %q", r.Name, r.Permissions, want[r.Name])
		}
	}
	ok(t, "verify", "--report", dir, "--db", db)
}
