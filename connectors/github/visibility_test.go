package github_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// visibleOrg is 20 repositories, each with one deploy key: 10 of them are
// the ones a limited credential sees.
func visibleOrg() (*githubtest.Org, []string) {
	o := &githubtest.Org{Login: "acme", ID: 1, Name: "Acme", Members: []string{"ann"}, Admins: []string{"ann"}}
	var some []string
	for i := range 20 {
		r := &githubtest.Repo{ID: int64(100 + i), Name: fmt.Sprintf("repo-%02d", i), DefaultBranch: "main", Private: i%3 != 0,
			DeployKeys: []githubtest.DeployKey{{ID: int64(1000 + i), Title: fmt.Sprintf("key-%02d", i), Key: testKey, ReadOnly: true, CreatedAt: at("2024-01-01T00:00:00Z")}}}
		o.Repos = append(o.Repos, r)
		if i%2 == 0 {
			some = append(some, r.Name)
		}
	}
	return o, some
}

func keyID(repo string, id int) string {
	return audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, fmt.Sprintf("%s/%d", repo, id))
}

func statusOf(t *testing.T, st *audit.Store) map[string]audit.Identity {
	t.Helper()
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]audit.Identity{}
	for _, it := range ids {
		m[it.ID] = it
	}
	return m
}

// TestLimitedCredential: a token that sees 10 of the organisation's 20
// repositories makes a partial snapshot that says so; nothing in the 10 it
// cannot see is claimed removed, by identity status, diff or campaign
// verification, while a key really removed where it looked is; a later
// snapshot with an owner's token settles what the limited one could not.
func TestLimitedCredential(t *testing.T) {
	ctx := context.Background()
	o, some := visibleOrg()
	const limited = "github_pat_limited"
	s := githubtest.NewServer(o, githubtest.WithViewer(githubtest.Viewer{Token: limited, Repos: some}))
	defer s.Close()
	st, _ := tempStore(t)
	opts := func(token string) ghconn.Options {
		return ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: token}
	}

	// A classic token never reads fine-grained PATs (three gaps), but an
	// owner's sees every repository.
	first, _, err := snapshot(t, ctx, st, "acme", opts(s.Token()))
	if err != nil || first.Counts[audit.KindGitHubDeployKey] != 20 || len(first.Gaps) != 3 || hasGap(first, "not visible") {
		t.Fatalf("owner's snapshot: %v %+v", err, first)
	}
	// Decommission a key the limited token cannot see, and one it can.
	hidden, seen := keyID("repo-01", 1001), keyID("repo-02", 1002)
	if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q4", Scope: "kind:deploy_key", AllowPartial: true, Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{hidden, seen} {
		if _, err := campaigns.Decide(ctx, st, "rita", "q4", id, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Close(ctx, st, "lead", "q4"); err != nil {
		t.Fatal(err)
	}
	// repo-02's key really goes.
	s.Mutate(func(o *githubtest.Org) { o.Repo("repo-02").DeployKeys = nil })

	second, _, err := snapshot(t, ctx, st, "acme", opts(limited))
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != audit.SnapshotPartial || len(second.Gaps) != 4 ||
		!strings.HasPrefix(second.Gaps[3].Reason, "10 of 20 repositories are not visible to this credential") {
		t.Fatalf("limited snapshot: %s, gaps %+v", second.Status, second.Gaps)
	}
	st2 := statusOf(t, st)
	if it := st2[seen]; it.Status != audit.StatusRemoved {
		t.Errorf("the key removed where the limited token looked: %s %q", it.Status, it.StatusReason)
	}
	if it := st2[hidden]; it.Status != audit.StatusNotChecked || !strings.Contains(it.StatusReason, "10 of 20 repositories are not visible") {
		t.Errorf("a key the limited token cannot see: %s %q", it.Status, it.StatusReason)
	}
	notChecked := 0
	for _, it := range st2 {
		if it.Status == audit.StatusNotChecked {
			notChecked++
		}
	}
	if notChecked != 10 {
		t.Errorf("%d identities not checked; want the 10 of the unseen repositories", notChecked)
	}
	d, err := st.Diff(ctx, first.ID, second.ID)
	if err != nil || d.Removed != 1 || d.NotSeen != 10 {
		t.Errorf("diff: %v, %d removed, %d not seen; want 1 and 10", err, d.Removed, d.NotSeen)
	}
	r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, st, "lead", "q4"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.Removed, r.NotChecked) != fmt.Sprint([]string{seen}, []string{hidden}) || !strings.Contains(r.Why[hidden], "not visible to this credential") {
		t.Errorf("verify: removed %v, not checked %v (%v)", r.Removed, r.NotChecked, r.Why)
	}

	// The owner's token, after repo-03 was deleted: the whole organisation
	// is visible, so its key is removed too.
	s.Mutate(func(o *githubtest.Org) { o.Repos = append(o.Repos[:3:3], o.Repos[4:]...) })
	third, _, err := snapshot(t, ctx, st, "acme", opts(s.Token()))
	if err != nil || len(third.Gaps) != 3 {
		t.Fatalf("third snapshot: %v %+v", err, third)
	}
	st3 := statusOf(t, st)
	if it := st3[keyID("repo-03", 1003)]; it.Status != audit.StatusRemoved {
		t.Errorf("a key of a deleted repository, the whole organisation visible: %s %q", it.Status, it.StatusReason)
	}
	if it := st3[hidden]; it.Status != audit.StatusActive {
		t.Errorf("the key the limited token could not see, seen again: %s", it.Status)
	}
}

// TestCredentialsThatCannotProveTheWhole: an App installed on selected
// repositories, and a member's token that is not told the private count,
// make partial snapshots that say why, and a deleted repository's
// identities are not claimed removed.
func TestCredentialsThatCannotProveTheWhole(t *testing.T) {
	ctx := context.Background()
	o, some := visibleOrg()
	key, _ := testAppKey(t)
	app := githubtest.App{ID: testAppID, Slug: testAppSlug, InstallationID: testInstall, PublicKey: &key.PublicKey,
		Permissions: map[string]string{"administration": "read"}, Repos: some}
	const member = "ghp_member"
	s := githubtest.NewServer(o, githubtest.WithApp(app),
		githubtest.WithViewer(githubtest.Viewer{Token: member, Scopes: "repo, read:org", Member: true}))
	defer s.Close()

	st, _ := tempStore(t)
	snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial || snap.Counts[audit.KindGitHubDeployKey] != 10 || !hasGap(snap, "10 of 20 repositories are not visible to this credential: the GitHub App is installed on 10 selected repositories only") {
		t.Errorf("App on selected repositories: %s, %d identities, gaps %+v", snap.Status, snap.Total(), snap.Gaps)
	}

	st, _ = tempStore(t)
	if snap, _, err = snapshot(t, ctx, st, "acme", ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: member}); err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial || snap.Counts[audit.KindGitHubDeployKey] != 20 || !hasGap(snap, "GitHub did not tell this credential how many private repositories") {
		t.Errorf("member's token: %s, %d identities, gaps %+v", snap.Status, snap.Total(), snap.Gaps)
	}
	s.Mutate(func(o *githubtest.Org) { o.Repos = o.Repos[1:] })
	if _, _, err = snapshot(t, ctx, st, "acme", ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: member}); err != nil {
		t.Fatal(err)
	}
	if it, err := st.Identity(ctx, keyID("repo-00", 1000)); err != nil || it.Status != audit.StatusNotChecked {
		t.Errorf("a deleted repository's key, read by a member's token: %s, %v", it.Status, err)
	}
}

func hasGap(snap *audit.Snapshot, reason string) bool {
	for _, g := range snap.Gaps {
		if strings.Contains(g.Reason, reason) {
			return true
		}
	}
	return false
}

// TestUnseenRepositoriesNamed: an App installed on selected repositories
// cannot list the others, but org-level answers it may read (a secret's,
// a token's, a runner group's repositories) name some; the coverage gap
// names those, and says how many cannot be named.
func TestUnseenRepositoriesNamed(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	s.SetAppRepos([]string{"api"})
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	var coverage []string
	for _, g := range rec.gaps {
		if g.Coverage() {
			coverage = append(coverage, g.Reason)
		}
	}
	// acme is named by the Copilot agent secret and release-bot's token;
	// empty by nothing.
	want := "2 of 3 repositories are not visible to this credential: the GitHub App is installed on 1 selected repositories only; other answers name 1 of them: acme (the other 1 cannot be named with this credential)"
	if len(coverage) != 1 || !strings.HasPrefix(coverage[0], want) {
		t.Errorf("coverage gaps %q\nwant one starting %q", coverage, want)
	}
}
