package github_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestRenamedRepository: renaming a repository keeps its identities. Its
// immutable ID anchors them, so the next snapshot links each new ID to the
// old one: owners and notes follow, the old ID resolves, campaign
// verification finds a decommissioned key still present, diff shows a
// rename (no removal, nothing new), and the evidence file still verifies.
func TestRenamedRepository(t *testing.T) {
	ctx := context.Background()
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	first, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	oldKey := "github:acme:github_deploy_key:api/201"
	oldEnv := "github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN"
	if _, err := st.SetOwner(ctx, "lead", oldKey, "platform-team"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddNotes(ctx, "lead", []string{oldEnv}, "asked bob, ticket SEC-12"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q4", Scope: "kind:deploy_key", Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "rita", "q4", oldKey, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead", "q4"); err != nil {
		t.Fatal(err)
	}

	s.Mutate(func(o *githubtest.Org) { o.Repo("api").Name = "api-v2" })
	second, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	newKey := "github:acme:github_deploy_key:api-v2/201"
	newEnv := "github:acme:github_actions_secret:acme/api-v2/production/DEPLOY_TOKEN"

	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]audit.Identity{}
	for _, it := range ids {
		byID[it.ID] = it
		if it.Scope == "acme/api" || strings.HasPrefix(it.Scope, "acme/api/") {
			t.Errorf("%s still listed under the old name (%s)", it.ID, it.Status)
		}
	}
	if k := byID[newKey]; k.Owner != "platform-team" || k.Status != audit.StatusActive || k.Change != audit.ChangeChanged {
		t.Errorf("renamed key: owner %q, status %s, change %q", k.Owner, k.Status, k.Change)
	}
	if got, err := st.Identity(ctx, oldKey); err != nil || got.ID != newKey || got.Owner != "platform-team" {
		t.Errorf("the old ID resolves to %s (owner %q), %v", got.ID, got.Owner, err)
	}
	if notes, err := st.Notes(ctx, newEnv); err != nil || len(notes) != 1 || notes[0].Text != "asked bob, ticket SEC-12" {
		t.Errorf("notes of the renamed secret: %+v %v", notes, err)
	}

	d, err := st.Diff(ctx, first.ID, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Removed != 0 || d.New != 0 || d.NotSeen != 0 {
		t.Errorf("diff: %d removed, %d new, %d not seen; want none: %+v", d.Removed, d.New, d.NotSeen, d.Changes)
	}
	renamed := 0
	for _, c := range d.Changes {
		if len(c.Details) > 0 && strings.HasPrefix(c.Details[0], "renamed: was ") {
			renamed++
		}
	}
	if renamed != countScope(t, st, second.ID, "acme/api-v2") || renamed == 0 {
		t.Errorf("%d identities shown renamed: %+v", renamed, d.Changes)
	}

	r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, st, "lead", "q4"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.StillPresent) != 1 || r.StillPresent[0] != oldKey || len(r.Removed) != 0 {
		t.Errorf("verify after the rename: removed %v, still present %v, not checked %v", r.Removed, r.StillPresent, r.NotChecked)
	}
	// The first snapshot's population, as a campaign froze it: the old IDs
	// are not removed, they go on under the new name.
	in, err := st.IdentitiesInSnapshot(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range in {
		if it.ID == oldKey && it.Status != audit.StatusActive {
			t.Errorf("%s in the first snapshot: %s %q; want active", it.ID, it.Status, it.StatusReason)
		}
	}
	if v, err := st.Verify(ctx); err != nil || !v.OK() {
		t.Errorf("verify: %+v %v", v, err)
	}
}

func countScope(t *testing.T, st *audit.Store, snapshotID int64, scope string) int {
	t.Helper()
	var n int
	if err := st.QueryRow(context.Background(), `SELECT count(*) FROM observations WHERE snapshot_id = ? AND (scope = ? OR scope LIKE ? || '/%')`, snapshotID, scope, scope).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestApprovedTokenRequest: a PAT request decided decommission and then
// approved is the same token, now granted: verification finds it still
// present, as the grant, not removed.
func TestApprovedTokenRequest(t *testing.T) {
	ctx := context.Background()
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if _, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil {
		t.Fatal(err)
	}
	request := "github:acme:github_pat_request:81"
	if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q4", Scope: "kind:pat_request", Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "rita", "q4", request, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead", "q4"); err != nil {
		t.Fatal(err)
	}
	// An owner approves it anyway: grant 73 of token 9100.
	s.Mutate(func(o *githubtest.Org) {
		r := o.PATRequests[0]
		o.PATRequests = nil
		o.FineGrainedPATs = append(o.FineGrainedPATs, githubtest.FineGrainedPAT{ID: 73, Owner: r.Owner, TokenID: r.TokenID, TokenName: r.TokenName,
			RepositorySelection: r.RepositorySelection, Permissions: r.Permissions, AccessGrantedAt: at("2026-11-01T00:00:00Z")})
	})
	if _, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil {
		t.Fatal(err)
	}
	r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, st, "lead", "q4"))
	if err != nil {
		t.Fatal(err)
	}
	grant := "github:acme:github_fine_grained_pat:73"
	if len(r.StillPresent) != 1 || len(r.Removed) != 0 || r.As[request] != grant {
		t.Errorf("removed %v, still present %v as %v", r.Removed, r.StillPresent, r.As)
	}
	if it, err := st.Identity(ctx, request); err != nil || it.ID != grant {
		t.Errorf("the request's ID resolves to %s, %v", it.ID, err)
	}
}

// TestRenamedWhileReading: a repository renamed after the list was read
// answers its old name with 301 to /repositories/{id}/…, as GitHub does;
// the connector follows it within the API and reads everything, and says
// so once.
func TestRenamedWhileReading(t *testing.T) {
	var s *githubtest.Server
	var once sync.Once
	s = githubtest.NewServer(smallOrg(), withApp(t), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if strings.HasPrefix(r.URL.Path, "/repos/acme/api/") {
			once.Do(func() { s.Mutate(func(o *githubtest.Org) { o.Repo("api").Name = "api-v2" }) })
		}
		return 0, "", false
	}))
	defer s.Close()
	opts := appOptions(t, s)
	var mu sync.Mutex
	var messages []string
	opts.Progress = func(p ghconn.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Message != "" {
			messages = append(messages, p.Message)
		}
	}
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps %v", rec.gapEndpoints())
	}
	if k := rec.kinds(); !reflect.DeepEqual(k, smallOrg().Counts()) {
		t.Errorf("kinds %v, served %v", k, smallOrg().Counts())
	}
	if n := s.RequestsTo("/repositories/1001/keys"); n != 1 {
		t.Errorf("%d requests to /repositories/1001/keys", n)
	}
	moved := 0
	for _, m := range messages {
		if strings.Contains(m, "moved (301): followed to /repositories/1001/") {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("the run did not say it followed a move: %q", messages)
	}
}

// TestRedirectOffTheAPI: a redirect that leaves the API is not followed
// (the token would go with it); the run stops naming the endpoint.
func TestRedirectOffTheAPI(t *testing.T) {
	h := http.Header{}
	h.Set("Location", "https://evil.example/repositories/1001/keys")
	s := githubtest.NewServer(smallOrg(), githubtest.WithHTTPFault(githubtest.FailTimes("/repos/acme/api/keys", -1, http.StatusMovedPermanently, h, `{"message":"Moved Permanently"}`)))
	defer s.Close()
	_, err := run(t, s, "acme")
	if err == nil || !strings.Contains(err.Error(), "GET /repos/acme/api/keys") || !strings.Contains(err.Error(), "leaves the API") {
		t.Errorf("err = %v", err)
	}
}
