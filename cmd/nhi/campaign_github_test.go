package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// tinyOrg has four deploy keys in three repositories.
func tinyOrg() *githubtest.Org {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	key := func(id int64, title, addedBy string) githubtest.DeployKey {
		return githubtest.DeployKey{ID: id, Title: title, Key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsIbpOgzEZjWRcssewgth8JVm1KU6lMQG3xkJFEOZo7",
			ReadOnly: true, Verified: true, Enabled: true, CreatedAt: t0, AddedBy: addedBy}
	}
	repo := func(id int64, name string, keys ...githubtest.DeployKey) *githubtest.Repo {
		return &githubtest.Repo{ID: id, Name: name, Private: true, DefaultBranch: "main", CreatedAt: t0, PushedAt: t0, DeployKeys: keys}
	}
	return &githubtest.Org{
		Login: "acme", ID: 1, Name: "Acme", CreatedAt: t0, Members: []string{"ana", "ben"}, Admins: []string{"ana"},
		Repos: []*githubtest.Repo{
			repo(11, "api", key(101, "deploy-prod", "ana"), key(102, "ci", "ben")),
			repo(12, "web", key(103, "netlify", "ana")),
			repo(13, "ops", key(104, "ansible", "ben")),
		},
	}
}

func deployKeyID(repoKey string) string {
	return audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repoKey)
}

// Approved deploy keys are deleted in the organisation, one is not, and
// one lives where the next snapshot cannot read: the real connector reads
// the fake API, and verification tells the three apart.
func TestRemediationAgainstGitHubOrg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "nhi.db")
	srv := githubtest.NewServer(tinyOrg())
	defer srv.Close()
	snapshot := func() *audit.Snapshot {
		t.Helper()
		st, err := audit.Open(ctx, db, audit.OpenOptions{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		conn, err := ghconn.NewFromToken(srv.URL(), srv.Token(), "acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := connectors.Snapshot(ctx, st, conn, "test")
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	first := snapshot()

	// The campaign was created two months ago and was due a month ago: the
	// store clock says so, the binary then runs on today's.
	past := time.Now().UTC().AddDate(0, -2, 0)
	dueDate := past.AddDate(0, 1, 0).Format("2006-01-02")
	st, err := audit.Open(ctx, db, audit.OpenOptions{Now: func() time.Time { return past }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = campaigns.Create(ctx, st, "lead@acme.test", campaigns.Spec{
		Name: "q", Scope: "kind:deploy_key", Due: dueDate, Reviewers: []string{"rita"},
		SnapshotID: first.ID, AllowPartial: first.Status == audit.SnapshotPartial,
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"api/101", "api/102", "web/103", "ops/104"} {
		ok(t, "decide", "q", deployKeyID(k), "decommission", "--db", db, "--as", "rita")
	}
	ok(t, "campaign", "close", "q", "--yes", "--db", db, "--as", "lead@acme.test")
	refused(t, 1, "no snapshot of github/acme since", "campaign", "verify", "q", "--db", db, "--as", "rita")

	// api/101 and web/103 are deleted; api/102 is not; ops cannot be read.
	srv.Mutate(func(o *githubtest.Org) {
		o.Repo("api").DeployKeys = o.Repo("api").DeployKeys[1:]
		o.Repo("web").DeployKeys = nil
	})
	srv.Fail("/repos/acme/ops/keys", 403)
	second := snapshot()
	if second.Status != audit.SnapshotPartial || !slices.ContainsFunc(second.Gaps, func(g audit.Gap) bool { return g.Scope == "acme/ops" }) {
		t.Fatalf("second snapshot %s, gaps %+v", second.Status, second.Gaps)
	}

	r := ok(t, "campaign", "verify", "q", "--db", db, "--as", "rita", "--json")
	var each []struct { // one per source/account: here, the one organisation
		Removed      []string `json:"removed"`
		StillPresent []string `json:"still_present"`
		NotChecked   []string `json:"not_checked"`
		Overdue      []string `json:"overdue"`
		Snapshot     int64    `json:"snapshot"`
		Recorded     bool     `json:"recorded"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &each); err != nil || len(each) != 1 {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	got := each[0]
	if !slices.Equal(got.Removed, []string{deployKeyID("api/101"), deployKeyID("web/103")}) ||
		!slices.Equal(got.StillPresent, []string{deployKeyID("api/102")}) ||
		!slices.Equal(got.NotChecked, []string{deployKeyID("ops/104")}) ||
		!slices.Equal(got.Overdue, []string{deployKeyID("api/102")}) || got.Snapshot != second.ID || !got.Recorded {
		t.Fatalf("campaign verify: %+v", got)
	}
	s := show(t, db, "q")
	for id, want := range map[string]string{"api/101": "removed", "api/102": "still-present", "ops/104": "not-checked"} {
		if it := s.item(t, deployKeyID(id)); it.Verification == nil || *it.Verification != want {
			t.Errorf("%s: verification %v, want %s", id, it.Verification, want)
		}
	}
	text := ok(t, "campaign", "show", "q", "--db", db).stdout
	if !strings.Contains(text, "OVERDUE") {
		t.Errorf("show does not mark the overdue key:\n%s", text)
	}

	// The snapshot command's hook: the next snapshot verifies by itself
	// (ben finally removed api/102; ops is readable again).
	srv.Mutate(func(o *githubtest.Org) { o.Repo("api").DeployKeys = nil })
	srv.ClearFaults()
	third := snapshot()
	st, err = audit.Open(ctx, db, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := campaigns.VerifyAfterSnapshot(ctx, st, "nhi snapshot", third.ID)
	st.Close()
	if err != nil || len(rs) != 1 || len(rs[0].Removed) != 3 || len(rs[0].StillPresent) != 1 || !rs[0].Recorded {
		t.Fatalf("after snapshot: %+v %v", rs, err)
	}
	if text := ok(t, "campaign", "verify", "q", "--db", db, "--as", "rita").stdout; !strings.Contains(text, "Already recorded") {
		t.Errorf("verify after the hook:\n%s", text)
	}
	if r := ok(t, "verify", "--db", db); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify:\n%s", r.stdout)
	}
}
