package github_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// teamMembers are the team_member principals a run recorded, "team login".
func teamMembers(rec *recorder) []string {
	var out []string
	for _, p := range rec.principals {
		if p.Type == audit.PrincipalTeamMember {
			out = append(out, p.Scope+" "+p.Login)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestTeamMembers: the members of the teams that may own an identity are
// read once a run — the repository's admin and maintain teams, the teams
// its CODEOWNERS names, the teams given as owners — and no other team's;
// a refused list is a gap naming the team.
func TestTeamMembers(t *testing.T) {
	o := smallOrg()
	o.Teams = []githubtest.Team{
		{Slug: "platform", Members: []string{"ann", "bob"}},
		{Slug: "sre", Members: []string{"carol"}},
		{Slug: "security", Members: []string{"dave"}},  // pull only: owns nothing
		{Slug: "payments", Members: []string{"erin"}},  // owner of an org secret
		{Slug: "marketing", Members: []string{"fred"}}, // nothing at all
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	rec, err := runWith(t, "acme", ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client(), OwnerTeams: []string{"@acme/payments", "@other/payments"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/payments erin", "acme/platform ann", "acme/platform bob", "acme/sre carol"}
	if got := teamMembers(rec); !slices.Equal(got, want) {
		t.Errorf("team members %v, want %v", got, want)
	}
	// platform is named by two repositories and CODEOWNERS: read once.
	if n := s.RequestsTo("/orgs/acme/teams/platform/members"); n != 1 {
		t.Errorf("platform's members read %d times, want once", n)
	}
	for _, team := range []string{"security", "marketing"} {
		if n := s.RequestsTo("/orgs/acme/teams/" + team + "/members"); n != 0 {
			t.Errorf("%s's members read though it owns nothing", team)
		}
	}
	// CODEOWNERS names @acme/docs, which does not exist: a note, not a gap.
	for _, g := range rec.gaps {
		if strings.Contains(g.Endpoint, "/teams/") {
			t.Errorf("gap %+v", g)
		}
	}

	// Refused: a gap naming the team, and the run goes on.
	s2 := githubtest.NewServer(o)
	defer s2.Close()
	s2.Fail("/orgs/acme/teams/sre/members", http.StatusForbidden)
	rec, err = run(t, s2, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var refused []audit.Gap
	for _, g := range rec.gaps {
		if strings.Contains(g.Endpoint, "/teams/") {
			refused = append(refused, g)
		}
	}
	if len(refused) != 1 || refused[0].Endpoint != "GET /orgs/acme/teams/sre/members" || refused[0].Status != 403 || !strings.Contains(refused[0].Reason, "read:org") {
		t.Errorf("gaps for a refused team: %+v", refused)
	}
	if got := teamMembers(rec); !slices.Equal(got, []string{"acme/platform ann", "acme/platform bob"}) {
		t.Errorf("team members with sre refused: %v", got)
	}
}

// TestReadPeople: members and roles from REST, names and verified e-mails
// and SAML identities from GraphQL, paginated past 100.
func TestReadPeople(t *testing.T) {
	o := smallOrg()
	for i := range 150 {
		o.Members = append(o.Members, "member-"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+strings.Repeat("0", i/26))
	}
	o.Profiles = []githubtest.Profile{{Login: "bob", Name: "Bob B", Email: "bob@mail.example", VerifiedEmails: []string{"bob@acme.example"}}}
	o.SAMLIdentities = []githubtest.SAMLIdentity{{NameID: "ann@acme.example", Emails: []string{"ann@acme.example"}, Login: "ann"}}
	last := o.Members[len(o.Members)-1]
	o.SAMLIdentities = append(o.SAMLIdentities, githubtest.SAMLIdentity{NameID: "late@acme.example", Login: last})
	for i := range 120 {
		o.SAMLIdentities = append(o.SAMLIdentities, githubtest.SAMLIdentity{NameID: "unlinked" + strings.Repeat("z", i) + "@acme.example"})
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	got := readPeople(t, s)
	if !got.Complete || got.SAML != "read" || len(got.Unread) != 0 || len(got.Members) != len(o.Members) {
		t.Fatalf("complete %v, SAML %q, unread %v, %d members", got.Complete, got.SAML, got.Unread, len(got.Members))
	}
	by := map[string]ghconn.OrgMember{}
	for _, m := range got.Members {
		by[m.Login] = m
	}
	if ann := by["ann"]; ann.Role != "admin" || ann.SAMLNameID != "ann@acme.example" || !slices.Equal(ann.SAMLEmails, []string{"ann@acme.example"}) {
		t.Errorf("ann: %+v", ann)
	}
	if bob := by["bob"]; bob.Role != "member" || bob.Name != "Bob B" || bob.Email != "bob@mail.example" || !slices.Equal(bob.VerifiedEmails, []string{"bob@acme.example"}) {
		t.Errorf("bob: %+v", bob)
	}
	if m := by[last]; m.SAMLNameID != "late@acme.example" {
		t.Errorf("the SAML identity on the second page was not read: %+v", m)
	}
	// GET /orgs, two member lists of 2 pages at most, GraphQL: 2 pages each.
	if n := s.RequestsTo("/graphql"); n != 4 {
		t.Errorf("%d GraphQL requests, want 4 (two pages of each query)", n)
	}
}
