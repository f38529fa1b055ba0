package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// failedRunIn records a run of source/account in db that failed with why.
func failedRunIn(t *testing.T, db, source, account, why string) {
	t.Helper()
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: source, Account: account, APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if snap, err := w.Finish(ctx, errors.New(why)); err != nil || snap.Status != audit.SnapshotFailed {
		t.Fatalf("a failed run: %+v %v", snap, err)
	}
}

// TestCampaignCreateSaysWhatWasNotRead: github/acme's newest run failed
// after the snapshot the campaign takes, and aws/123456789012 was never
// read. nhi campaign create warns of each and says what to do, --json and
// nhi campaign show carry them, and the exported report's population
// section lists them and its CC6.2 claim says not every account was read,
// where create said nothing and the report claimed every credential of
// the accounts in scope was listed.
func TestCampaignCreateSaysWhatWasNotRead(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k"}}
	recordSnapshot(t, db, true, nil, key)
	failedRunIn(t, db, "github", "acme", "GET /orgs/acme/repos: 401 Bad credentials")
	failedRunIn(t, db, "aws", "123456789012", "sts:AssumeRole: AccessDenied")
	r := ok(t, "campaign", "create", "q4", "--scope", "id:*", "--due", "2099-12-31", "--reviewer", "rita", "--db", db, "--as", "lead")
	out := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		"Warning: aws/123456789012 was never read (its run, snapshot 3, started ",
		"failed: sts:AssumeRole: AccessDenied): none of its identities are in this campaign, so the population is smaller than the estate; read it again once what stopped it is put right (nhi snapshots show 3 says what: a permission the credential lacks, say), then create the campaign again",
		"Warning: the newest run of github/acme (snapshot 2, started ",
		") failed: GET /orgs/acme/repos: 401 Bad credentials: this campaign holds what snapshot 1 read of it, not what is there now; read it again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("create: want %q in\n%s", want, r.stdout)
		}
	}
	r = ok(t, "campaign", "show", "q4", "--db", db)
	show := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		"not read aws/123456789012 was never read when the campaign was created (its run, snapshot 3, failed: sts:AssumeRole: AccessDenied): none of its identities are in it",
		"not read github/acme: its newest run when the campaign was created (snapshot 2) failed: GET /orgs/acme/repos: 401 Bad credentials; the population holds snapshot 1's read of it",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show: want %q in\n%s", want, r.stdout)
		}
	}
	var j struct {
		NotRead []struct {
			Source   string `json:"source"`
			Attempt  int64  `json:"attempt"`
			Snapshot int64  `json:"snapshot"`
		} `json:"not_read"`
	}
	r = ok(t, "campaign", "show", "q4", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || len(j.NotRead) != 2 || j.NotRead[0].Source != "aws" || j.NotRead[0].Snapshot != 0 ||
		j.NotRead[1].Attempt != 2 || j.NotRead[1].Snapshot != 1 {
		t.Errorf("show --json: %+v %v", j.NotRead, err)
	}

	dir := filepath.Join(t.TempDir(), "bundle")
	ok(t, "export", "q4", "--out", dir, "--db", db, "--as", "lead")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### Accounts not read",
		"| aws / 123456789012 | 3, started ",
		"never read: none of its identities are in the population",
		"the population holds snapshot 1's older read of it, not what was there when the campaign was created",
		"Not every account in scope was read when the campaign was created",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md: want %q", want)
		}
	}
	var rep struct {
		Population struct {
			AccountsNotRead []struct {
				Source, Status, Reason string
				Snapshot               int64
			} `json:"accounts_not_read"`
		} `json:"population"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Population.AccountsNotRead) != 2 || rep.Population.AccountsNotRead[1].Snapshot != 1 ||
		rep.Population.AccountsNotRead[0].Reason != "sts:AssumeRole: AccessDenied" {
		t.Errorf("report.json: %+v %v", rep.Population.AccountsNotRead, err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "<h3>Accounts not read</h3>") {
		t.Errorf("report.html has no section of the accounts not read: %v", err)
	}
	// The bundle rebuilds from the log, and checks against itself.
	ok(t, "verify", "--report", dir, "--db", db)
	ok(t, "verify", "--report", dir)
}

// TestCampaignShowSaysPartial: a campaign over one partial snapshot says
// so in nhi campaign show's scope line, as it does for several, where it
// named the snapshot alone and read as a whole one.
func TestCampaignShowSaysPartial(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "deploy", Scope: "acme/api", CreatedAt: &created, Attributes: map[string]string{"fingerprint": "SHA256:k"}}
	recordSnapshot(t, db, true, []audit.Gap{{Endpoint: "GET /repos/acme/web/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/web", Status: 403, Reason: "no access"}}, key)
	ok(t, "campaign", "create", "q4", "--scope", "id:*", "--due", "2099-12-31", "--reviewer", "rita", "--allow-partial", "--db", db, "--as", "lead")
	r := ok(t, "campaign", "show", "q4", "--db", db)
	if !strings.Contains(r.stdout, "(snapshot 1, partial, as of ") {
		t.Errorf("show of a campaign over a partial snapshot:\n%s", r.stdout)
	}
}
