package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestVerifyAccessWithoutALogin: a leaver the directory knows by e-mail
// alone, who still holds a token under a login nhi was never told: campaign
// verify says her access was not checked, and why, never that it was
// revoked.
func TestVerifyAccessWithoutALogin(t *testing.T) {
	t.Parallel()
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
	e := campaignstest.Open(t, db, create)
	defer e.Store.Close()
	e.Snapshot(t, gaps, obs...)
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
	for _, want := range []string{"Of 2 people in the directory, 1 leaver owns, created or holds 1 identity; 1 of them not checked by their source's newest snapshot",
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

// TestOverdueOnASnapshotsWord: a campaign due a month ago, verified today
// against a snapshot taken before its due date that still showed a key:
// campaign verify, show and --json call the key still present, not
// overdue (it may have gone on the due day), as the report does; a
// snapshot taken after the due date that still shows it makes it overdue.
func TestOverdueOnASnapshotsWord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "nhi.db")
	past := time.Now().UTC().AddDate(0, -2, 0)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	k := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k"}}
	at := func(when time.Time) *audit.Store {
		t.Helper()
		st, err := audit.Open(ctx, db, audit.OpenOptions{Create: true, Now: func() time.Time { return when }})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	snapshotAt := func(when time.Time) {
		t.Helper()
		st := at(when)
		defer st.Close()
		w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Record(k); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	snapshotAt(past)
	st := at(past)
	_, err := campaigns.Create(ctx, st, "lead@acme.test", campaigns.Spec{Name: "q", Scope: "kind:deploy_key",
		Due: past.AddDate(0, 1, 0).Format("2006-01-02"), Reviewers: []string{"rita"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	ok(t, "decide", "q", k.ID, "decommission", "--db", db, "--as", "rita")
	ok(t, "campaign", "close", "q", "--yes", "--db", db, "--as", "lead@acme.test")
	check := func(when string, overdue bool) {
		t.Helper()
		var vs []struct {
			StillPresent []string `json:"still_present"`
			Overdue      []string `json:"overdue"`
		}
		if err := json.Unmarshal([]byte(ok(t, "campaign", "verify", "q", "--json", "--db", db, "--as", "lead@acme.test").stdout), &vs); err != nil || len(vs) != 1 ||
			len(vs[0].StillPresent) != 1 || (len(vs[0].Overdue) == 1) != overdue {
			t.Errorf("%s: campaign verify: %+v %v; want still present, overdue %v", when, vs, err, overdue)
		}
		var shown struct {
			Items []struct {
				ID      string `json:"id"`
				Overdue bool   `json:"overdue"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "q", "--json", "--db", db).stdout), &shown); err != nil || len(shown.Items) != 1 || shown.Items[0].Overdue != overdue {
			t.Errorf("%s: campaign show --json: %+v %v; want overdue %v", when, shown.Items, err, overdue)
		}
		if text := ok(t, "campaign", "show", "q", "--db", db).stdout; strings.Contains(text, "OVERDUE") != overdue {
			t.Errorf("%s: campaign show, OVERDUE wanted %v:\n%s", when, overdue, text)
		}
	}
	snapshotAt(past.AddDate(0, 0, 10)) // before the due date: still there
	check("snapshot before the due date", false)
	snapshotAt(time.Now().UTC()) // after it: still there
	check("snapshot after the due date", true)
}

// TestOffboardSaysWhatWasNotRead: the leaver's GitHub organisation was
// read, but its newest run failed, and the AWS account's only run failed:
// nhi offboard warns of both, saying what the campaign holds of each (an
// older read, nothing), and --json lists them, where it said nothing and
// an account never read was silently out of the population.
func TestOffboardSaysWhatWasNotRead(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k", "added_by": "ana"}}
	recordSnapshot(t, db, true, nil, key)
	failed := func(source, account string) {
		t.Helper()
		st, err := audit.Open(ctx, db, audit.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: source, Account: account, APIURL: "http://127.0.0.1/", ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if snap, err := w.Finish(ctx, errors.New("connection refused")); err != nil || snap.Status != audit.SnapshotFailed {
			t.Fatalf("a failed run: %+v %v", snap, err)
		}
	}
	failed("github", "acme")
	failed("aws", "123456789012")
	ok(t, "people", "import", writeFile(t, "people.csv", `email,name,github,status,left_at,manager
ana@acme.test,Ana,ana,left,2026-01-30,carol@acme.test
carol@acme.test,Carol,carol,active,,
lead@acme.test,Lead,lead,active,,
`), "--db", db, "--as", "carol@acme.test")
	r := ok(t, "offboard", "ana", "--db", db, "--as", "lead@acme.test")
	for _, want := range []string{
		"Warning: aws/123456789012 was never read (its run, snapshot 3, started ",
		"failed): nothing of it is in this campaign, and what they left there is not known.",
		"Warning: the newest run of github/acme (snapshot 2, started ",
		"failed: this campaign holds what snapshot 1 read of it, not what they left there since.",
	} {
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), want) {
			t.Errorf("offboard: want %q in\n%s", want, r.stdout)
		}
	}
	var j struct {
		NotRead []struct {
			Source   string `json:"source"`
			Attempt  int64  `json:"attempt"`
			Status   string `json:"status"`
			Snapshot *int64 `json:"snapshot"`
		} `json:"not_read"`
	}
	r = ok(t, "offboard", "ana", "--name", "again", "--json", "--db", db, "--as", "lead@acme.test")
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || len(j.NotRead) != 2 || j.NotRead[0].Source != "aws" || j.NotRead[0].Snapshot != nil ||
		j.NotRead[1].Attempt != 2 || j.NotRead[1].Status != "failed" || j.NotRead[1].Snapshot == nil || *j.NotRead[1].Snapshot != 1 {
		t.Errorf("offboard --json: %+v %v\n%s", j.NotRead, err, r.stdout)
	}
}

// TestOffboardCountsIdentities: nhi offboard's count line counts, for
// each relationship, the identities it found, as the report's
// "Relationships found" does: a token whose source names the leaver as
// owner and as login holds once, where it was "holds 2" of 3 identities,
// and the identities found more than one way (a key she added where she
// was an admin: created and could-read) are said to be counted under each.
func TestOffboardCountsIdentities(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", Attributes: map[string]string{"fingerprint": "SHA256:k", "added_by": "ana"}}
	sec := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM"), Kind: audit.KindGitHubActionsSecret,
		Name: "NPM", Scope: "acme/api"}
	pat := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubFineGrainedPAT, "7"), Kind: audit.KindGitHubFineGrainedPAT,
		Name: "ana-ci", Scope: "acme", Attributes: map[string]string{"owner": "ana", "login": "ana", "token_id": "70"}}
	e := campaignstest.Open(t, db, true)
	e.Principals = []audit.Principal{{Type: audit.PrincipalCollaborator, Scope: "acme/api", Login: "ana", Role: "admin"}}
	e.Snapshot(t, nil, key, sec, pat)
	e.Store.Close()
	ok(t, "people", "import", writeFile(t, "people.csv", `email,name,github,status,left_at,manager
ana@acme.test,Ana,ana,left,2026-01-30,carol@acme.test
carol@acme.test,Carol,carol,active,,
lead@acme.test,Lead,lead,active,,
`), "--db", db, "--as", "carol@acme.test")
	r := ok(t, "offboard", "ana", "--db", db, "--as", "lead@acme.test")
	want := "  3 identities: created 1, holds 1, suggested 1, could-read 2 (2 of them found more than one way and counted under each)\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("offboard: want %q in\n%s", want, r.stdout)
	}
}
