package github_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// GitHub's GraphQL schema, as @octokit/graphql-schema ships it
// (schema.graphql, 1.2 MB), checks every query the connector sends: the
// fake validates each against it (githubtest.WithGraphQLSchema) and a
// test fails naming any that does not. Like the OpenAPI description
// (openapi_test.go) it stays out of the repository: NHI_GITHUB_GRAPHQL
// names a copy, or the test fetches it with npm into the user's cache
// where the network allows, and validates nothing otherwise (and with
// -short); TestGraphQLQueriesValidate then skips.

const octokitGraphQL = "@octokit/graphql-schema@15.26.1"

var (
	schemaOnce sync.Once
	schema     *ast.Schema
	schemaWhy  string // why there is none
)

// graphQLSchema is GitHub's schema, or nil with the reason it could not be had.
func graphQLSchema(t testing.TB) (*ast.Schema, string) {
	t.Helper()
	schemaOnce.Do(func() {
		path := os.Getenv("NHI_GITHUB_GRAPHQL")
		if path == "" {
			if testing.Short() {
				schemaWhy = "-short: GitHub's GraphQL schema is fetched only in full runs (or set NHI_GITHUB_GRAPHQL)"
				return
			}
			path, schemaWhy = fetchGraphQLSchema()
			if path == "" {
				return
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			schemaWhy = "NHI_GITHUB_GRAPHQL: " + err.Error()
			return
		}
		schema, err = loadSchema(string(b))
		if err != nil {
			schemaWhy = fmt.Sprintf("%s: %v", path, err)
		}
	})
	return schema, schemaWhy
}

// loadSchema reads GitHub's schema. Its published SDL defines two fields
// twice (EnterpriseOwnerInfo.repositoryDeployKeySetting…), which GitHub's
// own server tolerates and gqlparser refuses: the second definition of a
// field is dropped, as GitHub keeps the first.
func loadSchema(sdl string) (*ast.Schema, error) {
	doc, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "schema.graphql", Input: sdl})
	if err != nil {
		return nil, err
	}
	for _, d := range doc.Definitions {
		seen := map[string]bool{}
		d.Fields = slices.DeleteFunc(d.Fields, func(f *ast.FieldDefinition) bool {
			dup := seen[f.Name]
			seen[f.Name] = true
			return dup
		})
	}
	s, gerr := validator.ValidateSchemaDocument(doc)
	if gerr != nil {
		return nil, gerr
	}
	return s, nil
}

// fetchGraphQLSchema is schema.graphql's path in the user cache, fetched
// with `npm pack` the first time; "" and why when that cannot be done.
func fetchGraphQLSchema() (path, why string) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", "no cache directory for GitHub's GraphQL schema: " + err.Error()
	}
	dir := filepath.Join(cache, "nhi-test", strings.NewReplacer("@", "", "/", "-").Replace(octokitGraphQL))
	path = filepath.Join(dir, "schema.graphql")
	if _, err := os.Stat(path); err == nil {
		return path, ""
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "npm is not installed: cannot fetch GitHub's GraphQL schema (set NHI_GITHUB_GRAPHQL)"
	}
	tmp, err := os.MkdirTemp("", "nhi-graphql-schema-")
	if err != nil {
		return "", err.Error()
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", octokitGraphQL, "--pack-destination", tmp)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("cannot fetch %s (no network?): %v\n%s", octokitGraphQL, err, out)
	}
	tgz, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgz) != 1 {
		return "", fmt.Sprintf("npm pack left %v", tgz)
	}
	f, err := os.Open(tgz[0])
	if err != nil {
		return "", err.Error()
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", err.Error()
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Sprintf("%s has no schema.graphql: %v", tgz[0], err)
		}
		if h.Name != "package/schema.graphql" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err.Error()
		}
		out, err := os.CreateTemp(dir, "partial-*")
		if err != nil {
			return "", err.Error()
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return "", err.Error()
		}
		out.Close()
		if err := os.Rename(out.Name(), path); err != nil {
			return "", err.Error()
		}
		return path, ""
	}
}

// withSchema makes a server validate GraphQL queries when the schema is at hand.
func withSchema(t testing.TB) githubtest.Option {
	s, _ := graphQLSchema(t)
	return githubtest.WithGraphQLSchema(s)
}

// checkQueriesValid fails the test with every query s got that did not
// validate against GitHub's schema.
func checkQueriesValid(t *testing.T, s *githubtest.Server) {
	t.Helper()
	for _, q := range s.GraphQLInvalid() {
		t.Errorf("a GraphQL query does not validate against GitHub's schema: %s", q)
	}
}

// evidence is what a run recorded, in an order that does not depend on
// the order it was read in.
type evidence struct {
	obs        []audit.Observation
	principals []string
	gaps       []string
	reads      []string
}

func evidenceOf(rec *recorder) evidence {
	var e evidence
	e.obs = slices.Clone(rec.obs)
	slices.SortFunc(e.obs, func(a, b audit.Observation) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range rec.principals {
		e.principals = append(e.principals, fmt.Sprintf("%+v", p))
	}
	for _, g := range rec.gaps {
		e.gaps = append(e.gaps, fmt.Sprintf("%+v", g))
	}
	for _, r := range rec.reads {
		kinds := slices.Clone(r.Kinds)
		slices.Sort(kinds)
		e.reads = append(e.reads, fmt.Sprintf("%s %v %v", r.Scope, kinds, r.Children))
	}
	for _, l := range [][]string{e.principals, e.gaps, e.reads} {
		slices.Sort(l)
	}
	return e
}

// sameEvidence fails unless both runs recorded the same identities,
// attributes and all, principals, gaps and scopes read.
func sameEvidence(t *testing.T, what string, rest, gql evidence) {
	t.Helper()
	if len(rest.obs) != len(gql.obs) {
		t.Errorf("%s: %d identities through REST, %d with GraphQL", what, len(rest.obs), len(gql.obs))
	}
	for i := range min(len(rest.obs), len(gql.obs)) {
		if !reflect.DeepEqual(rest.obs[i], gql.obs[i]) {
			t.Errorf("%s: through REST\n%+v\nwith GraphQL\n%+v", what, rest.obs[i], gql.obs[i])
			break
		}
	}
	for _, l := range []struct {
		name      string
		rest, gql []string
	}{{"principals", rest.principals, gql.principals}, {"gaps", rest.gaps, gql.gaps}, {"scopes read", rest.reads, gql.reads}} {
		if !slices.Equal(l.rest, l.gql) {
			onlyREST, onlyGQL := difference(l.rest, l.gql), difference(l.gql, l.rest)
			t.Errorf("%s: %s differ (%d through REST, %d with GraphQL); only through REST: %.600v; only with GraphQL: %.600v",
				what, l.name, len(l.rest), len(l.gql), onlyREST, onlyGQL)
		}
	}
}

func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// edgeOrg is the sample organisation of 130 repositories (two queries)
// with what does not fit one query's page: a repository with 120
// environments, one with 130 direct collaborators, one with 12 rulesets,
// one whose ruleset has 11 bypass actors, CODEOWNERS over 1 MB (which
// GraphQL truncates) and a directory called CODEOWNERS.
func edgeOrg() *githubtest.Org {
	o := githubtest.SampleOrg(130)
	var held []*githubtest.Repo // repositories that hold an identity: context is read for them
	for _, r := range o.Repos {
		if len(r.DeployKeys) > 0 {
			held = append(held, r)
		}
	}
	r := held[0]
	for i := range 120 {
		r.Environments = append(r.Environments, githubtest.Environment{ID: int64(90000 + i), Name: fmt.Sprintf("env-%03d", i), CreatedAt: githubtest.Reference, UpdatedAt: githubtest.Reference})
	}
	r = held[1]
	for i := range 130 {
		r.Collaborators = append(r.Collaborators, githubtest.Collaborator{Login: fmt.Sprintf("contractor-%03d", i), RoleName: []string{"admin", "write", "read"}[i%3]})
	}
	r = held[2]
	for i := range 12 {
		r.Rulesets = append(r.Rulesets, githubtest.Ruleset{ID: int64(7000 + i), Name: fmt.Sprintf("rule-%d", i), Enforcement: "active",
			BypassActors: []githubtest.BypassActor{{ActorType: "DeployKey", BypassMode: "always"}}})
	}
	r = held[3]
	set := githubtest.Ruleset{ID: 7100, Name: "crowded", Enforcement: "evaluate"}
	for i := range 11 {
		set.BypassActors = append(set.BypassActors, githubtest.BypassActor{ActorType: "Integration", ActorID: int64(500 + i), BypassMode: "always"})
	}
	set.BypassActors = append(set.BypassActors, githubtest.BypassActor{ActorType: "DeployKey", BypassMode: "pull_request"})
	r.Rulesets = append(r.Rulesets, set)
	held[4].CodeOwners = &githubtest.CodeOwners{Path: "CODEOWNERS", Content: "* @" + o.Login + "/platform\n" + strings.Repeat("# padding\n", 110_000)}
	held[5].CodeOwners = &githubtest.CodeOwners{Path: ".github/CODEOWNERS", Dir: true}
	return o
}

// checkOverflow: with GraphQL, REST read exactly what did not fit a
// query in edgeOrg, and nothing else of those repositories' four reads.
func checkOverflow(t *testing.T, s *githubtest.Server, o *githubtest.Org) {
	t.Helper()
	var held []string
	for _, r := range o.Repos {
		if len(r.DeployKeys) > 0 {
			held = append(held, "/repos/"+o.Login+"/"+r.Name)
		}
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{held[0] + "/environments", 2}, // 120: two pages
		{held[1] + "/collaborators", 2},
		{held[2] + "/rulesets", 1},
		{held[3] + "/rulesets", 1},
		{held[4] + "/contents/.github/CODEOWNERS", 1}, // truncated: REST's raw read, from the first location
		{held[4] + "/contents/CODEOWNERS", 1},
		{held[5] + "/contents/.github/CODEOWNERS", 0}, // a directory: GraphQL said so
		{held[6] + "/environments", 0},
		{held[6] + "/collaborators", 0},
		{held[6] + "/rulesets", 0},
		{held[6] + "/contents/.github/CODEOWNERS", 0},
	} {
		if n := s.RequestsTo(c.path); n != c.want {
			t.Errorf("with GraphQL, %d REST requests to %s, want %d", n, c.path, c.want)
		}
	}
}

// TestGraphQLMatchesREST snapshots the sample organisation both ways,
// through REST alone and with GraphQL, as a classic token, as an App, as
// a token that sees some repositories, on GitHub Enterprise Server and
// with a repository renamed, and with what does not fit a query: the
// identities, every attribute, the principals, the gaps and the scopes
// read are the same.
func TestGraphQLMatchesREST(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []githubtest.Option
		app   bool
		token string
		setup func(*githubtest.Server)
	}{
		{name: "classic token"},
		{name: "app", app: true},
		{name: "token that sees some repositories", token: "github_pat_some",
			opts: []githubtest.Option{githubtest.WithViewer(githubtest.Viewer{Token: "github_pat_some", Repos: []string{"api", "web"}})}},
		{name: "GHES", app: true, opts: []githubtest.Option{githubtest.WithGHES("3.19.0", true)}},
		{name: "renamed repository", setup: func(s *githubtest.Server) {
			s.Mutate(func(o *githubtest.Org) { o.Repos[3].Name += "-renamed" })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := edgeOrg()
			if tc.token != "" {
				// A viewer sees repositories by name: give it two that exist.
				tc.opts[0] = githubtest.WithViewer(githubtest.Viewer{Token: tc.token, Repos: []string{o.Repos[0].Name, o.Repos[7].Name}})
			}
			s := githubtest.NewServer(o, append([]githubtest.Option{withApp(t), withSchema(t)}, tc.opts...)...)
			defer s.Close()
			if tc.setup != nil {
				tc.setup(s)
			}
			var got [2]evidence
			for i, restOnly := range []bool{true, false} {
				opts := ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token(), RESTOnly: restOnly}
				if tc.app {
					opts = appOptions(t, s)
					opts.RESTOnly = restOnly
				}
				if tc.token != "" {
					opts.Token = tc.token
				}
				s.ResetCounters()
				c, err := ghconn.NewConnector(githubtest.SampleLogin, opts)
				if err != nil {
					t.Fatal(err)
				}
				rec := &recorder{}
				if err := c.Run(context.Background(), rec); err != nil {
					t.Fatalf("REST only %v: %v", restOnly, err)
				}
				got[i] = evidenceOf(rec)
				st := c.Stats()
				if st.RESTPoints != s.RESTPoints() || st.GraphQLPoints != s.GraphQLPoints() {
					t.Errorf("REST only %v: the run counted %d REST and %d GraphQL points, the server charged %d and %d",
						restOnly, st.RESTPoints, st.GraphQLPoints, s.RESTPoints(), s.GraphQLPoints())
				}
				if !restOnly && tc.name == "classic token" {
					checkOverflow(t, s, o)
				}
				switch {
				case restOnly && s.GraphQLRequests() != 0:
					t.Errorf("REST only: %d GraphQL queries sent", s.GraphQLRequests())
				case !restOnly && s.GraphQLRequests() == 0:
					t.Error("no GraphQL query sent")
				}
			}
			checkQueriesValid(t, s)
			sameEvidence(t, tc.name, got[0], got[1])
			if len(got[0].obs) < 20 {
				t.Errorf("only %d identities read", len(got[0].obs))
			}
		})
	}
}

// TestGraphQLCost: the points GraphQL charged are what GitHub's formula
// gives for the connector's query (13 for 100 repositories: one request
// each for environments, rulesets and collaborators, and one per ruleset
// asked for its bypass actors, over 100), a query names at most 100
// repositories, the fake, computing the cost from the query itself,
// agrees with what the run counted, and GraphQL cut a first snapshot's
// REST points by a third or more (the bar for building it).
func TestGraphQLCost(t *testing.T) {
	o := githubtest.SampleOrg(250)
	s := githubtest.NewServer(o, withSchema(t))
	defer s.Close()
	c, err := ghconn.NewConnector(githubtest.SampleLogin, ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token(), RESTOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	restOnly := c.Stats().RESTPoints
	if got, want := s.Requests(), minRESTRequests(o, false); got != want {
		t.Errorf("through REST alone: %d requests, the fewest are %d", got, want)
	}
	s.ResetCounters()
	c, err = ghconn.NewConnector(githubtest.SampleLogin, ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Requests(), minRequests(o, false); got != want {
		t.Errorf("with GraphQL: %d requests, the fewest are %d", got, want)
	}
	if rest := c.Stats().RESTPoints; 3*rest > 2*restOnly {
		t.Errorf("with GraphQL %d REST points, through REST alone %d: less than a third saved", rest, restOnly)
	} else {
		t.Logf("REST points %d through REST alone, %d with GraphQL (%.0f%% fewer), and %d GraphQL points", restOnly, rest, 100-100*float64(rest)/float64(restOnly), c.Stats().GraphQLPoints)
	}
	checkQueriesValid(t, s)
	st := c.Stats()
	// And one for each team whose member list was read, its members
	// counted, and one counting the organisation's members.
	teams := teamListsRead(s, o)
	if teams == 0 || st.GraphQLQueries != 3+teams+1 || s.GraphQLRequests() != 3+teams+1 {
		t.Errorf("%d GraphQL queries counted, %d received; want 3 for 250 repositories, %d for their teams and 1 for the members", st.GraphQLQueries, s.GraphQLRequests(), teams)
	}
	// 100 and 100 repositories: 1,300 requests each, 13 points; 50: 650,
	// 6.5, rounded to 7; a team's count, 1; the members' count, 1.
	if want := 13 + 13 + 7 + teams + 1; st.GraphQLPoints != want || s.GraphQLPoints() != want {
		t.Errorf("GraphQL points: counted %d, charged %d; want %d", st.GraphQLPoints, s.GraphQLPoints(), want)
	}
}

// TestGraphQLQueriesValidate: every GraphQL query nhi sends — the
// repositories' and those of nhi people sync github — validates against
// GitHub's published schema.
func TestGraphQLQueriesValidate(t *testing.T) {
	if _, why := graphQLSchema(t); why != "" {
		t.Skip(why)
	}
	s := githubtest.NewServer(githubtest.SampleOrg(20), withSchema(t))
	defer s.Close()
	c, err := ghconn.NewConnector(githubtest.SampleLogin, ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadPeople(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.GraphQLRequests(); n < 3 {
		t.Errorf("%d GraphQL queries: want the repositories' and the people's", n)
	}
	checkQueriesValid(t, s)

	// And the check itself: a query with a field GitHub does not have is refused.
	bad := githubtest.NewServer(githubtest.SampleOrg(1), withSchema(t))
	defer bad.Close()
	req, _ := http.NewRequest(http.MethodPost, bad.URL()+"graphql", strings.NewReader(`{"query":"query { viewer { login nhiNoSuchField } }"}`))
	req.Header.Set("Authorization", "Bearer "+bad.Token())
	resp, err := bad.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if inv := bad.GraphQLInvalid(); len(inv) != 1 || !strings.Contains(inv[0], "nhiNoSuchField") {
		t.Errorf("an invalid query was not caught: %q", inv)
	}
}

// TestGraphQLFaults: whatever goes wrong with a GraphQL query, the run
// records what a run through REST alone records, and goes on: a server
// error, a timeout or the node limit is asked again as two queries of
// half the repositories; a field GitHub refuses for one repository (its
// REST twin's fault) is read through REST, which records the gap with
// the permission it needs; a spent GraphQL budget, a query refused as
// invalid (an older GitHub Enterprise Server's schema) or a refused POST
// /graphql turns GraphQL off for the rest of the run, and says so once.
func TestGraphQLFaults(t *testing.T) {
	const org = githubtest.SampleLogin
	once := func(status int, body string) githubtest.HTTPFault {
		return githubtest.FailTimes("/graphql", 1, status, nil, body)
	}
	sample := githubtest.SampleOrg(30)
	someRepo := sample.Repos[0].Name
	for _, r := range sample.Repos {
		if len(r.DeployKeys) > 0 {
			someRepo = r.Name // context (collaborators) is read for it
			break
		}
	}
	for _, tc := range []struct {
		name    string
		fault   githubtest.HTTPFault
		fail    string // a REST path that fails 403, and its GraphQL twin with it
		queries int    // GraphQL queries sent, 0: any
		off     bool   // GraphQL is turned off for the run
		whole   bool   // REST reads someRepo whole
	}{
		{name: "502", fault: once(http.StatusBadGateway, `{"message":"Server Error"}`), queries: 3},
		{name: "timeout", fault: hangOnce("/graphql"), queries: 3},
		{name: "node limit", fault: once(http.StatusOK, `{"errors":[{"type":"MAX_NODE_LIMIT_EXCEEDED","message":"By the time this query traverses to the bypassActors connection, it is requesting up to 600,000 possible nodes which exceeds the maximum limit of 500,000."}]}`), queries: 3},
		{name: "cut short", fault: once(http.StatusOK, `{"data":{"r0":{"environments":`), queries: 3},
		{name: "rate limited", fault: once(http.StatusOK, `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`), queries: 1, off: true},
		{name: "rate limited (403)", fault: githubtest.FailTimes("/graphql", 1, http.StatusForbidden,
			http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Resource": {"graphql"}, "X-Ratelimit-Reset": {"1893456000"}},
			`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api"}`), queries: 1, off: true},
		{name: "invalid on this server", fault: once(http.StatusOK, `{"errors":[{"path":["fragment NhiRepository","rulesets"],"extensions":{"code":"undefinedField","typeName":"Repository","fieldName":"rulesets"},"locations":[{"line":3,"column":3}],"message":"Field 'rulesets' doesn't exist on type 'Repository'"}]}`), queries: 1, off: true},
		{name: "POST /graphql refused", fault: once(http.StatusForbidden, `{"message":"Resource not accessible by integration"}`), queries: 1, off: true},
		{name: "collaborators refused", fail: "/repos/" + org + "/" + someRepo + "/collaborators", queries: 1},
		{name: "repository hidden", fail: "/repos/" + org + "/" + someRepo, queries: 1, whole: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]evidence
			for i, restOnly := range []bool{true, false} {
				s := githubtest.NewServer(githubtest.SampleOrg(30), withSchema(t))
				if tc.fault != nil && !restOnly {
					s.AddHTTPFault(onRepoQueries(tc.fault))
				}
				if tc.fail != "" {
					s.Fail(tc.fail, http.StatusForbidden)
				}
				var notes []string
				opts := ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token(), RESTOnly: restOnly,
					RequestTimeout: 2 * time.Second, Clock: githubtest.NewFakeClock(githubtest.Reference),
					Progress: func(p ghconn.Progress) {
						if p.Message != "" {
							notes = append(notes, p.Message)
						}
					}}
				rec, err := runWith(t, org, opts)
				s.Close()
				if err != nil {
					t.Fatalf("REST only %v: the run ended: %v", restOnly, err)
				}
				got[i] = evidenceOf(rec)
				if restOnly {
					continue
				}
				checkQueriesValid(t, s)
				// And the members' count, asked before any repository; with
				// GraphQL on, one for each team whose members are read.
				want := tc.queries + 1
				if !tc.off {
					want += teamListsRead(s, sample)
				}
				if tc.queries > 0 && s.GraphQLRequests() != want {
					t.Errorf("%d GraphQL queries, want %d", s.GraphQLRequests(), want)
				}
				said := 0
				for _, n := range notes {
					if strings.Contains(n, "GraphQL is not used for the rest of this run") {
						said++
					}
				}
				if want := map[bool]int{true: 1, false: 0}[tc.off]; said != want {
					t.Errorf("said %d times that GraphQL is off, want %d: %q", said, want, notes)
				}
				if envs := s.RequestsTo("/repos/" + org + "/" + someRepo + "/environments"); (tc.off || tc.whole) != (envs > 0) {
					t.Errorf("%d REST requests for %s's environments (GraphQL off: %v, the repository read through REST: %v)", envs, someRepo, tc.off, tc.whole)
				}
			}
			sameEvidence(t, tc.name, got[0], got[1])
			if tc.fail != "" && len(got[1].gaps) == 0 {
				t.Error("the refusal left no gap")
			}
		})
	}
}

// onRepoQueries applies fault to GraphQL's repository queries alone, not
// to the count of the organisation's members asked before them.
func onRepoQueries(fault githubtest.HTTPFault) githubtest.HTTPFault {
	return func(r *http.Request) (func(http.ResponseWriter), bool) {
		if strings.HasSuffix(r.URL.Path, "/graphql") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !bytes.Contains(body, []byte("NhiRepositories")) {
				return nil, false
			}
		}
		return fault(r)
	}
}

// hangOnce answers nothing to the first request under pathPrefix until
// the client gives up; later ones are answered.
func hangOnce(pathPrefix string) githubtest.HTTPFault {
	var mu sync.Mutex
	done := false
	return func(r *http.Request) (func(http.ResponseWriter), bool) {
		mu.Lock()
		defer mu.Unlock()
		if done || !strings.HasPrefix(r.URL.Path, pathPrefix) {
			return nil, false
		}
		done = true
		return func(http.ResponseWriter) {
			// A server notices a client gone only once it has read the body.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, true
	}
}
