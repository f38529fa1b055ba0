package github_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// orgRoles is each organisation member's role as the snapshot keeps it:
// the first a principal was recorded with ("login role"), sorted.
func orgRoles(rec *recorder) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range rec.principals {
		if p.Type != audit.PrincipalMember || seen[strings.ToLower(p.Login)] {
			continue
		}
		seen[strings.ToLower(p.Login)] = true
		out = append(out, p.Login+" "+p.Role)
	}
	slices.Sort(out)
	return out
}

// memberGaps are the gaps of the organisation's member list.
func memberGaps(rec *recorder) []string {
	var out []string
	for _, g := range rec.gaps {
		if g.Endpoint == "GET /orgs/acme/members" {
			out = append(out, g.Reason)
		}
	}
	return out
}

// TestOwnersListCutShort: an owner the owners' list (role=admin) left
// out — a page cut short, a list that changed while it was paged — is
// not recorded as a member, since only role=member says who is not an
// owner; the list is held against GraphQL's count of the members, and
// what it lacks is a gap of the organisation's member list, the snapshot
// partial. Through REST alone there is no count: the roles recorded are
// still GitHub's, and nobody is recorded with a role no list gave.
func TestOwnersListCutShort(t *testing.T) {
	o := smallOrg()
	o.Admins = []string{"ann", "carol"}
	s := githubtest.NewServer(o, withSchema(t))
	defer s.Close()
	opts := ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client()}

	// Whole: every member with GitHub's role, no gap, one query counts.
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := orgRoles(rec), []string{"ann admin", "bob member", "carol admin", "dave member"}; !slices.Equal(got, want) {
		t.Errorf("whole lists: roles %q, want %q", got, want)
	}
	if g := memberGaps(rec); len(g) != 0 {
		t.Errorf("whole lists: member list gaps %q", g)
	}
	checkQueriesValid(t, s)

	s.ServeFewer("/orgs/acme/members?role=admin", 1) // carol, the last owner
	rec, err = runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := orgRoles(rec), []string{"ann admin", "bob member", "dave member"}; !slices.Equal(got, want) {
		t.Errorf("owners' list cut short: roles %q, want %q (carol, an owner it left out, never a member)", got, want)
	}
	want := "GitHub's GraphQL API counts 4 members of acme (organization.membersWithRole totalCount), but its owners' and members' lists (role=admin, role=member) gave 3, so they were not read whole"
	if g := memberGaps(rec); len(g) != 1 || !strings.HasPrefix(g[0], want) {
		t.Errorf("owners' list cut short: member list gaps %q, want one saying %q", g, want)
	}

	// Through REST alone: no count, no gap; still no role made up.
	ro := opts
	ro.RESTOnly = true
	rec, err = runWith(t, "acme", ro)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := orgRoles(rec), []string{"ann admin", "bob member", "dave member"}; !slices.Equal(got, want) {
		t.Errorf("REST only: roles %q, want %q", got, want)
	}
	if g := memberGaps(rec); len(g) != 0 {
		t.Errorf("REST only: member list gaps %q", g)
	}

	// GraphQL refuses the count: no gap, and the run says why, once.
	s2 := githubtest.NewServer(o)
	defer s2.Close()
	s2.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte("NhiMemberCount")) {
			return nil, false
		}
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"organization":{"membersWithRole":null}},"errors":[{"type":"FORBIDDEN","path":["organization","membersWithRole"],"message":"Resource not accessible by integration"}]}`))
		}, true
	})
	s2.ServeFewer("/orgs/acme/members?role=admin", 1)
	c, err := ghconn.NewConnector("acme", ghconn.Options{APIURL: s2.URL(), Token: s2.Token(), HTTPClient: s2.Client()})
	if err != nil {
		t.Fatal(err)
	}
	rec = &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if g := memberGaps(rec); len(g) != 0 {
		t.Errorf("count refused: member list gaps %q", g)
	}
	if got, want := orgRoles(rec), []string{"ann admin", "bob member", "dave member"}; !slices.Equal(got, want) {
		t.Errorf("count refused: roles %q, want %q", got, want)
	}
	_, notes := c.Server()
	said := 0
	for _, n := range notes {
		if strings.HasPrefix(n, "organization member list: GitHub's GraphQL API did not count the members (it answered Resource not accessible by integration), so the owners' and members' lists (GET /orgs/acme/members) were taken as far as their Link headers go") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the refused count said %d times, want once: %q", said, notes)
	}
}

// TestMemberCountBudgetSpent: GraphQL's budget is spent when the members'
// count, the run's first GraphQL query, is asked (a 403 saying so): the
// run does not wait for GraphQL's reset to count them, as it does not for
// a repository query; it says why the lists were not counted, and REST
// reads on, GraphQL off for the rest of the run.
func TestMemberCountBudgetSpent(t *testing.T) {
	o := smallOrg()
	reset := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC) // an hour after the clock's start
	_, opts, clock := clocked(t, o, withSchema(t), githubtest.WithHTTPFault(githubtest.FailTimes("/graphql", 1, http.StatusForbidden,
		http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Resource": {"graphql"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)}},
		`{"message":"API rate limit exceeded for installation ID 5150.","documentation_url":"https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api"}`)))
	var notes []string
	var mu sync.Mutex
	opts.Progress = func(p ghconn.Progress) {
		if p.Message != "" {
			mu.Lock()
			notes = append(notes, p.Message)
			mu.Unlock()
		}
	}
	c, err := ghconn.NewConnector("acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if waited := clock.Total(); waited >= time.Minute {
		t.Errorf("waited %s: for GraphQL's reset, to count the members", waited)
	}
	_, said := c.Server()
	said = append(said, notes...)
	counts := map[string]int{}
	for _, n := range said {
		for _, p := range []string{"organization member list: GitHub's GraphQL API did not count the members (POST /graphql: GitHub's GraphQL rate limit is spent)", "GraphQL is not used for the rest of this run"} {
			if strings.Contains(n, p) {
				counts[p]++
			}
		}
	}
	if len(counts) != 2 {
		t.Errorf("said %v, want the uncounted lists and GraphQL off: %q", counts, said)
	}
}
