package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestFewerThanTotalCount: a list GitHub wraps ({"total_count": N, …})
// whose pages hold fewer than its total_count was not read whole: the
// identities that came are recorded, a gap of their kind says so, and the
// one that did not come is not checked in the next snapshot, never
// removed; a secret's repositories so cut short are not claimed, and
// the run is partial.
func TestFewerThanTotalCount(t *testing.T) {
	ctx := context.Background()
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil || snap.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}

	s.ServeFewer("/orgs/acme/installations", 1)                           // travis-ci, the last, does not come
	s.ServeFewer("/orgs/acme/actions/secrets/DEPLOY_KEY/repositories", 1) // nor the secret's one repository
	snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial {
		t.Errorf("second snapshot %s; want partial", snap.Status)
	}
	gaps := snap.Gaps
	want := map[string]audit.Kind{
		"GET /orgs/acme/installations":                           audit.KindGitHubAppInstallation,
		"GET /orgs/acme/actions/secrets/DEPLOY_KEY/repositories": audit.KindGitHubActionsSecret,
	}
	for _, g := range gaps {
		kind, ok := want[g.Endpoint]
		if !ok {
			t.Errorf("unexpected gap %+v", g)
			continue
		}
		delete(want, g.Endpoint)
		if g.Kind != kind || !strings.Contains(g.Reason, "total_count") || !strings.Contains(g.Reason, "not read whole") {
			t.Errorf("gap %+v", g)
		}
	}
	if len(want) > 0 {
		t.Errorf("no gap for %v", want)
	}

	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*audit.Identity{}
	for i := range ids {
		got[ids[i].ID] = &ids[i]
	}
	if id := got["github:acme:github_app_installation:101"]; id == nil || id.Status != audit.StatusActive {
		t.Errorf("renovate, which came: %+v", id)
	}
	if id := got["github:acme:github_app_installation:102"]; id == nil || id.Status != audit.StatusNotChecked {
		t.Errorf("travis-ci, which GitHub counted and did not send: %+v; want not-checked, never removed", id)
	}
	if id := got["github:acme:github_actions_secret:acme/DEPLOY_KEY"]; id == nil || id.Attributes["repositories"] != "" || id.Attributes["repository_count"] != "" {
		t.Errorf("DEPLOY_KEY's repositories, cut short, are claimed: %+v", id)
	}
}

// tokenOptions read s with its classic token, which GitHub's ETags are
// tied to from one run to the next (an App's installation token is new
// each run, and gets no 304).
func tokenOptions(s *githubtest.Server) ghconn.Options {
	return ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token()}
}

// installationsCutShort snapshots acme into st while GitHub's list of App
// installations leaves travis-ci out and still counts it, and checks that
// the snapshot says so: partial, a gap of its kind, travis-ci not
// checked, never removed.
func installationsCutShort(t *testing.T, st *audit.Store, s *githubtest.Server, cache connectors.Cache) {
	t.Helper()
	opts := tokenOptions(s)
	opts.Cache = cache
	c, err := ghconn.NewConnector("acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := connectors.Snapshot(context.Background(), st, c, "test")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range snap.Gaps {
		found = found || g.Endpoint == "GET /orgs/acme/installations" && g.Kind == audit.KindGitHubAppInstallation && strings.Contains(g.Reason, "(total_count)")
	}
	if snap.Status != audit.SnapshotPartial || !found {
		t.Errorf("snapshot %s, gaps %+v; want partial, with the installations' gap", snap.Status, snap.Gaps)
	}
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id.ID == "github:acme:github_app_installation:102" && id.Status != audit.StatusNotChecked {
			t.Errorf("travis-ci, which GitHub counted and did not send: %s; want not-checked, never removed", id.Status)
		}
	}
}

// TestFewerThanTotalCountReplayed: a page cut short that GitHub answers
// 304 Not Modified the next time is replayed from the request cache with
// the total_count it said, so the list is still not read whole: the same
// gap, travis-ci still not checked.
func TestFewerThanTotalCountReplayed(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, context.Background(), st, "acme", tokenOptions(s)); err != nil || len(snap.Gaps) != 2 { // no fine-grained PATs for a classic token
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}
	s.ServeFewer("/orgs/acme/installations", 1)
	installationsCutShort(t, st, s, st)
	s.ResetCounters()
	installationsCutShort(t, st, s, st)
	if n := s.NotModifiedTo("/orgs/acme/installations"); n != 1 {
		t.Errorf("the installations were answered 304 %d times; want once (the replay is what this tests)", n)
	}
}

// olderCache is the request cache as an nhi before pages kept their
// total_count wrote it (cache version 3, its pages without "total" and
// "items"), for a run that reads through it.
type olderCache struct{ st *audit.Store }

var cacheKeyVersion = regexp.MustCompile(`^github/[^ ]+ `)

func (o olderCache) CacheGet(ctx context.Context, key string) (string, []byte, bool, error) {
	return o.st.CacheGet(ctx, cacheKeyVersion.ReplaceAllString(key, "github/3 "))
}

func (o olderCache) CachePut(ctx context.Context, key, etag string, value []byte) error {
	var bundle map[string]any
	if err := json.Unmarshal(value, &bundle); err != nil {
		return err
	}
	pages, _ := bundle["pages"].(map[string]any)
	for _, p := range pages {
		page, _ := p.(map[string]any)["page"].(map[string]any)
		delete(page, "total")
		delete(page, "items")
	}
	value, err := json.Marshal(bundle)
	if err != nil {
		return err
	}
	return o.st.CachePut(ctx, cacheKeyVersion.ReplaceAllString(key, "github/3 "), etag, value)
}

// TestOlderCacheEntryNotReplayed: what an nhi before pages kept their
// total_count left in the request cache is not replayed on a 304: its
// pages say no count, so a list cut short would pass for whole, and
// travis-ci, which GitHub counted and did not send, would be removed.
func TestOlderCacheEntryNotReplayed(t *testing.T) {
	s := githubtest.NewServer(smallOrg())
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, context.Background(), st, "acme", tokenOptions(s)); err != nil || len(snap.Gaps) != 2 { // no fine-grained PATs for a classic token
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}
	s.ServeFewer("/orgs/acme/installations", 1)
	installationsCutShort(t, st, s, olderCache{st}) // what the older nhi cached
	installationsCutShort(t, st, s, st)             // this one, after it
}

// TestGraphQLFewerThanTotalCount: a GraphQL connection that ends (no next
// page) with fewer items than its totalCount was not read whole, as a
// REST list short of its total_count is not: each is a gap of its part
// of the repository, the snapshot is partial, and the environment secret
// whose environment did not come is not checked, never removed. What did
// come is used; REST is not asked instead.
func TestGraphQLFewerThanTotalCount(t *testing.T) {
	ctx := context.Background()
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil || snap.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}

	s.ServeFewer("/repos/acme/api/environments", 1)  // production, the only one
	s.ServeFewer("/repos/acme/api/collaborators", 2) // dave (write) and bob (triage)
	s.ServeFewer("/repos/acme/api/rulesets/21", 1)   // release-tags's one bypass actor
	s.ResetCounters()
	snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial {
		t.Errorf("second snapshot %s; want partial", snap.Status)
	}
	want := map[string]audit.Kind{
		"the environments of acme/api number 1 (totalCount), but it gave 0":                                 audit.KindGitHubActionsSecret,
		"the direct collaborators of acme/api number 3 (totalCount), but it gave 1":                         "",
		`the actors who may bypass ruleset "release-tags" of acme/api number 1 (totalCount), but it gave 0`: "",
	}
	for _, g := range snap.Gaps {
		found := false
		for says, kind := range want {
			if strings.Contains(g.Reason, says) {
				found = true
				delete(want, says)
				if g.Endpoint != "POST /graphql" || g.Kind != kind || g.Scope != "acme/api" || !strings.Contains(g.Reason, "not read whole") {
					t.Errorf("gap %+v", g)
				}
			}
		}
		if !found {
			t.Errorf("unexpected gap %+v", g)
		}
	}
	if len(want) > 0 {
		t.Errorf("no gap saying %v", want)
	}
	if n := s.RequestsTo("/repos/acme/api/environments") + s.RequestsTo("/repos/acme/api/collaborators"); s.GraphQLRequests() == 0 || n != 0 {
		t.Errorf("%d GraphQL queries, %d REST requests for api's environments and collaborators; want GraphQL alone", s.GraphQLRequests(), n)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, id := range ids {
		if id.ID == "github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN" {
			seen = true
			if id.Status != audit.StatusNotChecked {
				t.Errorf("DEPLOY_TOKEN, whose environment GitHub counted and did not give: %s; want not-checked, never removed", id.Status)
			}
		}
	}
	if !seen {
		t.Error("no DEPLOY_TOKEN in the evidence file")
	}
}

// TestFewerWhilePaged: a list that loses items while it is paged, before
// the page being read, moves items GitHub still holds onto the pages
// already read: 150 secrets, 30 of the first page's removed before the
// second is asked, and the second page holds the last 20 of 120, so the
// 30 that moved up were never seen. Its pages' counts (150, then 120)
// say so: the list was not read whole, and the secrets not seen are not
// checked, never removed.
func TestFewerWhilePaged(t *testing.T) {
	ctx := context.Background()
	o := smallOrg()
	o.Secrets = nil
	for i := range 150 {
		o.Secrets = append(o.Secrets, githubtest.Secret{Name: fmt.Sprintf("S%03d", i), Visibility: "all",
			CreatedAt: o.CreatedAt, UpdatedAt: o.CreatedAt})
	}
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s)); err != nil || snap.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot: %+v, %v", snap, err)
	}
	var once sync.Once
	s.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if r.URL.Path == "/orgs/acme/actions/secrets" && r.URL.Query().Get("page") == "2" {
			once.Do(func() { s.Mutate(func(o *githubtest.Org) { o.Secrets = o.Secrets[30:] }) })
		}
		return nil, false
	})
	snap, _, err := snapshot(t, ctx, st, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	gap := false
	for _, g := range snap.Gaps {
		gap = gap || g.Endpoint == "GET /orgs/acme/actions/secrets" && strings.Contains(g.Reason, "not read whole")
	}
	if snap.Status != audit.SnapshotPartial || !gap {
		t.Errorf("snapshot %s, gaps %+v; want partial, with the secrets' gap", snap.Status, snap.Gaps)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if strings.HasPrefix(id.ID, "github:acme:github_actions_secret:acme/S1") && id.Status == audit.StatusRemoved {
			t.Errorf("%s, which GitHub still holds and moved onto a page already read, is removed", id.ID)
		}
	}
}
