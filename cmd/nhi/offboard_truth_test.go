package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// TestVerifyAccessWithoutALogin: a leaver the directory knows by e-mail
// alone, who still holds a token under a login nhi was never told: campaign
// verify says her access was not checked, and why, never that it was
// revoked.
func TestVerifyAccessWithoutALogin(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k"}}
	token := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "fay-ci", Scope: "acme", CreatedAt: &created, Attributes: map[string]string{"owner": "fay-l", "token_id": "70"}}
	snapshot := func(create bool, obs ...audit.Observation) { recordSnapshot(t, db, create, nil, obs...) }
	snapshot(true, key, token)
	ok(t, "people", "import", writeFile(t, "people.csv", `email,name,github,status,left_at,manager
fay@acme.test,Fay Lind,,left,2026-01-30,carol@acme.test
carol@acme.test,Carol,carol,active,,
lead@acme.test,Lead,lead,active,,
`), "--db", db, "--as", "lead@acme.test")
	ok(t, "owner", "set", key.ID, "fay@acme.test", "--db", db, "--as", "lead@acme.test")
	ok(t, "offboard", "fay@acme.test", "--name", "fay", "--db", db, "--as", "lead@acme.test")
	ok(t, "decide", "fay", key.ID, "decommission", "--db", db, "--as", "carol@acme.test")
	ok(t, "campaign", "close", "fay", "--yes", "--db", db, "--as", "lead@acme.test")
	snapshot(false, token)
	r := ok(t, "campaign", "verify", "fay", "--db", db, "--as", "lead@acme.test")
	if !strings.Contains(r.stdout, "Access not checked: the directory names no GitHub login for fay@acme.test") || strings.Contains(r.stdout, "Access revoked") {
		t.Errorf("verify:\n%s", r.stdout)
	}
}

// recordSnapshot records obs and gaps as a finished snapshot of
// github/acme in the evidence file db (created when create is set).
func recordSnapshot(t *testing.T, db string, create bool, gaps []audit.Gap, obs ...audit.Observation) {
	t.Helper()
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{Create: create})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gaps {
		if err := w.Gap(g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPendingLeaverBehindAGap: the newest snapshot could not read the
// organisation's fine-grained tokens, one of them a leaver's: offboard
// --pending still lists her, and says the token was not checked, where
// it said no leaver still held anything.
func TestPendingLeaverBehindAGap(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	token := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "ana-ci", Scope: "acme", CreatedAt: &created, Attributes: map[string]string{"owner": "ana", "token_id": "70"}}
	recordSnapshot(t, db, true, nil, token)
	ok(t, "people", "import", writeFile(t, "people.csv", `email,name,github,status,left_at,manager
ana@acme.test,Ana,ana,left,2026-01-30,carol@acme.test
carol@acme.test,Carol,carol,active,,
`), "--db", db, "--as", "carol@acme.test")
	recordSnapshot(t, db, false, []audit.Gap{{Endpoint: "GET /orgs/acme/personal-access-tokens", Kind: audit.KindGitHubFineGrainedPAT, Scope: "acme",
		Status: 403, Reason: "needs a GitHub App installation token"}})
	r := ok(t, "offboard", "--pending", "--db", db)
	for _, want := range []string{"1 leaver with 1 identity (of 2 people in the directory); 1 of them not checked by their source's newest snapshot",
		"NOT CHECKED", "Ana <ana@acme.test>  2026-01-30  1           1            0     0        1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("offboard --pending: want %q in\n%s", want, r.stdout)
		}
	}
	var js []struct {
		Count      int `json:"count"`
		NotChecked int `json:"not_checked"`
	}
	if err := json.Unmarshal([]byte(ok(t, "offboard", "--pending", "--json", "--db", db).stdout), &js); err != nil || len(js) != 1 || js[0].Count != 1 || js[0].NotChecked != 1 {
		t.Errorf("offboard --pending --json: %+v %v", js, err)
	}
}
