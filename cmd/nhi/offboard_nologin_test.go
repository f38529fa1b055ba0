package main

import (
	"context"
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
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k"}}
	token := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "fay-ci", Scope: "acme", CreatedAt: &created, Attributes: map[string]string{"owner": "fay-l", "token_id": "70"}}
	snapshot := func(create bool, obs ...audit.Observation) {
		t.Helper()
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
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
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
