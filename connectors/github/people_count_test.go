package github_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// The member list (GET /orgs/{org}/members) is a bare array GitHub does
// not count: it is held against the count GitHub's GraphQL API gives
// (organization.membersWithRole totalCount) and the logins it shows, so a
// list that ends early is not read as whole and nobody is said to have
// left (docs/people.md).

// peopleOrg150 is smallOrg with 150 members more (two REST pages, two
// GraphQL pages), each with a verified e-mail, and SAML identities for
// ann and the last member.
func peopleOrg150() *githubtest.Org {
	o := smallOrg()
	for i := range 150 {
		o.Members = append(o.Members, fmt.Sprintf("member-%03d", i))
	}
	for _, m := range o.Members {
		o.Profiles = append(o.Profiles, githubtest.Profile{Login: m, VerifiedEmails: []string{m + "@acme.example"}})
	}
	o.SAML = true
	o.SAMLIdentities = []githubtest.SAMLIdentity{
		{NameID: "ann@acme.example", Login: "ann"},
		{NameID: "member-149@acme.example", Login: "member-149"},
	}
	return o
}

func readPeople(t *testing.T, s *githubtest.Server) *ghconn.OrgPeople {
	t.Helper()
	c, err := ghconn.NewConnector("acme", ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadPeople(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func logins(p *ghconn.OrgPeople) []string {
	var out []string
	for _, m := range p.Members {
		out = append(out, m.Login)
	}
	return out
}

// onFirstGraphQL changes the organisation when the first GraphQL query
// arrives: between the REST member list and the profiles query.
func onFirstGraphQL(s *githubtest.Server, change func(*githubtest.Org)) {
	var once sync.Once
	s.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if strings.HasSuffix(r.URL.Path, "/graphql") {
			once.Do(func() { s.Mutate(change) })
		}
		return nil, false
	})
}

// TestReadPeopleFewerThanCounted: a member list that ends with fewer
// logins than GraphQL counts, or without one GraphQL shows, is not
// complete, and says both; a member who left between the two reads
// claims nothing.
func TestReadPeopleFewerThanCounted(t *testing.T) {
	all := len(peopleOrg150().Members)

	// The member list's last page ends one short, its Link chain whole.
	s := githubtest.NewServer(peopleOrg150(), withSchema(t))
	defer s.Close()
	s.ServeFewer("/orgs/acme/members", 1)
	got := readPeople(t, s)
	want := fmt.Sprintf("GET /orgs/acme/members: GitHub's GraphQL API counts %d members (organization.membersWithRole totalCount), but the member list gave %d, so it was not read whole; run again", all, all-1)
	if got.Complete || len(got.Unread) != 1 || !strings.HasPrefix(got.Unread[0], want) {
		t.Errorf("a member list one short: complete %v, unread %q; want not complete and %q", got.Complete, got.Unread, want)
	}
	// What came is used: 153 members, their profiles and SAML identities.
	if len(got.Members) != all-1 || got.SAML != "read" || got.Members[0].VerifiedEmails == nil {
		t.Errorf("%d members, SAML %q, first %+v", len(got.Members), got.SAML, got.Members[0])
	}
	checkQueriesValid(t, s)

	// A member joins between the two reads: the list looks short, and
	// nothing is claimed this time.
	s = githubtest.NewServer(peopleOrg150())
	defer s.Close()
	onFirstGraphQL(s, func(o *githubtest.Org) { o.Members = append(o.Members, "newcomer") })
	got = readPeople(t, s)
	if got.Complete || len(got.Unread) != 1 || !strings.Contains(got.Unread[0], fmt.Sprintf("counts %d members (organization.membersWithRole totalCount), but the member list gave %d", all+1, all)) {
		t.Errorf("a member joined between the reads: complete %v, unread %q", got.Complete, got.Unread)
	}

	// A member leaves between them: the list holds more than the count,
	// and is whole.
	s = githubtest.NewServer(peopleOrg150())
	defer s.Close()
	onFirstGraphQL(s, func(o *githubtest.Org) {
		o.Members = slices.DeleteFunc(o.Members, func(m string) bool { return m == "bob" })
	})
	got = readPeople(t, s)
	if !got.Complete || len(got.Unread) != 0 || !slices.Contains(logins(got), "bob") {
		t.Errorf("a member left between the reads: complete %v, unread %q", got.Complete, got.Unread)
	}

	// The list ends one short and a member leaves between the reads: the
	// count matches what came, but GraphQL shows the member it left out.
	s = githubtest.NewServer(peopleOrg150())
	defer s.Close()
	s.ServeFewer("/orgs/acme/members", 1) // member-149, the last
	onFirstGraphQL(s, func(o *githubtest.Org) {
		o.Members = slices.DeleteFunc(o.Members, func(m string) bool { return m == "bob" })
	})
	got = readPeople(t, s)
	want = "GET /orgs/acme/members: GitHub's GraphQL API shows 1 member the member list did not give (member-149), so it was not read whole"
	if got.Complete || len(got.Unread) != 1 || !strings.HasPrefix(got.Unread[0], want) {
		t.Errorf("one short and one gone: complete %v, unread %q; want %q", got.Complete, got.Unread, want)
	}
}

// TestReadPeopleGraphQLFewerThanCounted: the profiles or the SAML
// identities ending short of their totalCount are said, what came is
// used, and the member list, whole, stays complete.
func TestReadPeopleGraphQLFewerThanCounted(t *testing.T) {
	all := len(peopleOrg150().Members)
	s := githubtest.NewServer(peopleOrg150())
	defer s.Close()
	s.ServeFewer("/graphql/organization/membersWithRole", 1) // member-149's profile
	got := readPeople(t, s)
	want := fmt.Sprintf("members' roles, names and e-mails: GitHub's GraphQL API counted %d members (totalCount), but gave %d, so the roles, names and e-mails of 1 member were not read", all, all-1)
	if !got.Complete || len(got.Unread) != 1 || !strings.HasPrefix(got.Unread[0], want) {
		t.Errorf("profiles one short: complete %v, unread %q; want complete and %q", got.Complete, got.Unread, want)
	}
	by := map[string]ghconn.OrgMember{}
	for _, m := range got.Members {
		by[m.Login] = m
	}
	if len(by["member-148"].VerifiedEmails) != 1 || by["member-149"].VerifiedEmails != nil || by["member-149"].SAMLNameID != "member-149@acme.example" {
		t.Errorf("member-148 %+v, member-149 %+v", by["member-148"], by["member-149"])
	}

	s = githubtest.NewServer(peopleOrg150())
	defer s.Close()
	s.ServeFewer("/graphql/organization/samlIdentityProvider/externalIdentities", 1) // member-149's
	got = readPeople(t, s)
	want = "SAML identities: GitHub's GraphQL API counted 2 (totalCount), but gave 1, so 1 identity was not read: the members they belong to are synced without their SAML NameID and e-mails"
	if !got.Complete || got.SAML == "read" || len(got.Unread) != 1 || !strings.HasPrefix(got.Unread[0], want) {
		t.Errorf("SAML one short: complete %v, SAML %q, unread %q; want %q", got.Complete, got.SAML, got.Unread, want)
	}
	for _, m := range got.Members {
		if m.Login == "ann" && m.SAMLNameID != "ann@acme.example" {
			t.Errorf("the SAML identity that came was not used: %+v", m)
		}
	}
}

// TestTeamMembersFewerThanCounted: a team's member list (a bare array)
// with fewer members than GraphQL's Team.members totalCount is a gap
// naming the team and both numbers, the members that came recorded;
// through REST alone, or with the count refused, the list is taken as it
// came and the run says once that it was not counted.
func TestTeamMembersFewerThanCounted(t *testing.T) {
	o := smallOrg()
	o.Teams = []githubtest.Team{{Slug: "platform", Members: []string{"ann", "bob"}}, {Slug: "sre", Members: []string{"carol"}}}
	teamGaps := func(rec *recorder) []string {
		var out []string
		for _, g := range rec.gaps {
			if strings.Contains(g.Endpoint, "/teams/") {
				out = append(out, fmt.Sprintf("%s %d %s", g.Endpoint, g.Status, g.Reason))
			}
		}
		return out
	}
	s := githubtest.NewServer(o, withSchema(t))
	defer s.Close()
	s.ServeFewer("/orgs/acme/teams/platform/members", 1) // bob
	c, err := ghconn.NewConnector("acme", ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	want := "GET /orgs/acme/teams/platform/members 200 GitHub's GraphQL API counts 2 members of team @acme/platform (Team.members totalCount), but its member list gave 1, so it was not read whole; run again"
	if got := teamGaps(rec); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("team gaps %q, want %q", got, want)
	}
	if got := teamMembers(rec); !slices.Equal(got, []string{"acme/platform ann", "acme/sre carol"}) {
		t.Errorf("team members %v: want what came", got)
	}
	checkQueriesValid(t, s)

	// Through REST alone there is no count: the list is taken as it came.
	rec, err = runWith(t, "acme", ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client(), RESTOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := teamGaps(rec); len(got) != 0 {
		t.Errorf("REST only: team gaps %q", got)
	}

	// GraphQL refuses the count (an error for the team field): no gap,
	// and one note for the run.
	s2 := githubtest.NewServer(o)
	defer s2.Close()
	s2.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte("NhiTeamCount")) {
			return nil, false
		}
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"organization":{"team":null}},"errors":[{"type":"FORBIDDEN","path":["organization","team"],"message":"Resource not accessible by integration"}]}`))
		}, true
	})
	s2.ServeFewer("/orgs/acme/teams/platform/members", 1)
	c, err = ghconn.NewConnector("acme", ghconn.Options{APIURL: s2.URL(), Token: s2.Token(), HTTPClient: s2.Client()})
	if err != nil {
		t.Fatal(err)
	}
	rec = &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if got := teamGaps(rec); len(got) != 0 {
		t.Errorf("count refused: team gaps %q", got)
	}
	_, notes := c.Server()
	said := 0
	for _, n := range notes {
		if strings.HasPrefix(n, "team member lists: GitHub's GraphQL API did not count a team's members (it answered Resource not accessible by integration)") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the refused count said %d times, want once: %q", said, notes)
	}
}

// roles lists each member's login and role, as ReadPeople gave them ("-"
// for none said).
func roles(p *ghconn.OrgPeople) []string {
	var out []string
	for _, m := range p.Members {
		r := m.Role
		if r == "" {
			r = "-"
		}
		out = append(out, m.Login+" "+r)
	}
	return out
}

// TestReadPeopleOwnersListCutShort: who owns the organisation is the role
// on each edge of GraphQL's membersWithRole, a connection counted, never
// REST's owners' list, a bare array: an owner a short owners' list left
// out is still an owner, never a member. A member whose role GraphQL did
// not give (a page it left out, the query refused, a null role) has no
// role said, and Unread says so.
func TestReadPeopleOwnersListCutShort(t *testing.T) {
	o := smallOrg()
	o.Admins = []string{"ann", "dave"}
	s := githubtest.NewServer(o, withSchema(t))
	defer s.Close()
	whole := []string{"ann admin", "bob member", "carol member", "dave admin"}
	got := readPeople(t, s)
	if r := roles(got); !got.Complete || len(got.Unread) != 0 || !slices.Equal(r, whole) {
		t.Errorf("whole: complete %v, unread %q, roles %q; want %q", got.Complete, got.Unread, r, whole)
	}
	checkQueriesValid(t, s)

	// The owners' list ends one short (dave, the last owner), its Link
	// chain whole: dave is still an owner.
	s.ServeFewer("/orgs/acme/members?role=admin", 1)
	got = readPeople(t, s)
	if r := roles(got); !got.Complete || len(got.Unread) != 0 || !slices.Equal(r, whole) {
		t.Errorf("owners' list cut short: complete %v, unread %q, roles %q; want %q (dave an owner, never a member)", got.Complete, got.Unread, r, whole)
	}

	// GraphQL's connection ends one short (dave's edge): his role is not
	// said, nor taken for "member".
	s = githubtest.NewServer(o)
	defer s.Close()
	s.ServeFewer("/graphql/organization/membersWithRole", 1)
	got = readPeople(t, s)
	want := "members' roles, names and e-mails: GitHub's GraphQL API counted 4 members (totalCount), but gave 3, so the roles, names and e-mails of 1 member were not read"
	if r := roles(got); !got.Complete || len(got.Unread) != 1 || !strings.HasPrefix(got.Unread[0], want) ||
		!slices.Equal(r, []string{"ann admin", "bob member", "carol member", "dave -"}) {
		t.Errorf("GraphQL one short: complete %v, unread %q, roles %q; want dave's role unsaid and %q", got.Complete, got.Unread, r, want)
	}

	// GraphQL refuses the query: nobody's role is said.
	s = githubtest.NewServer(o)
	defer s.Close()
	s.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case bytes.Contains(body, []byte("NhiMembers")):
			return func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) }, true
		}
		return nil, false
	})
	got = readPeople(t, s)
	want = "members' roles, names and e-mails: not read: GitHub answered 403"
	if r := roles(got); len(got.Unread) < 1 || !strings.HasPrefix(got.Unread[0], want) ||
		!slices.Equal(r, []string{"ann -", "bob -", "carol -", "dave -"}) {
		t.Errorf("GraphQL refused: unread %q, roles %q; want nobody's role said and %q", got.Unread, r, want)
	}

	// GraphQL gives bob's role as null (the schema lets it): his is not
	// said, and Unread names him.
	s = githubtest.NewServer(o)
	defer s.Close()
	s.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte("NhiMembers")) {
			return nil, false
		}
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			edge := func(login, role string) string {
				return `{"role":` + role + `,"node":{"login":"` + login + `","name":null,"email":"","organizationVerifiedDomainEmails":[]}}`
			}
			_, _ = w.Write([]byte(`{"data":{"organization":{"membersWithRole":{"totalCount":4,"pageInfo":{"hasNextPage":false,"endCursor":"Y3Vyc29yOnYyOjQ="},"edges":[` +
				edge("ann", `"ADMIN"`) + "," + edge("bob", "null") + "," + edge("carol", `"MEMBER"`) + "," + edge("dave", `"ADMIN"`) + `]}}}}`))
		}, true
	})
	got = readPeople(t, s)
	want = "members' roles: GitHub's GraphQL API gave no role (ADMIN or MEMBER) for 1 member (bob), so whether they own the organisation is not said"
	if r := roles(got); !got.Complete || len(got.Unread) < 1 || !strings.HasPrefix(got.Unread[0], want) ||
		!slices.Equal(r, []string{"ann admin", "bob -", "carol member", "dave admin"}) {
		t.Errorf("a null role: complete %v, unread %q, roles %q; want bob's unsaid and %q", got.Complete, got.Unread, r, want)
	}
}
