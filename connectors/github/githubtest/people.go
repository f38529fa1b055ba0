package githubtest

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
)

// What GitHub shows of an organisation's people beyond their logins: the
// profiles and SAML identities the GraphQL API answers (graphql_people.go)
// and the members of its teams (GET /orgs/{org}/teams/{team_slug}/members).

// Profile is what a member's GitHub profile shows: a public name and
// e-mail, and the member's e-mails on the organisation's verified domains.
type Profile struct {
	Login          string   `json:"login"`
	Name           string   `json:"name,omitempty"`
	Email          string   `json:"email,omitempty"`
	VerifiedEmails []string `json:"verified_emails,omitempty"`
}

// SAMLIdentity is an external identity of the organisation's SAML identity
// provider, linked to a GitHub login ("" for one not linked yet).
type SAMLIdentity struct {
	NameID string   `json:"name_id"`
	Emails []string `json:"emails,omitempty"`
	Login  string   `json:"login,omitempty"`
}

// Team is a team of the organisation and its members' logins (with those
// of its child teams, as GitHub lists them by default).
type Team struct {
	Slug    string   `json:"slug"`
	Members []string `json:"members"`
}

// teamMembers serves GET /orgs/{org}/teams/{team_slug}/members: the
// members as simple users; a team that does not exist is a 404, as on
// GitHub.
func (s *Server) teamMembers(w http.ResponseWriter, r *http.Request, o *Org) {
	slug := r.PathValue("team")
	for i := range o.Teams {
		if t := &o.Teams[i]; strings.EqualFold(t.Slug, slug) {
			m := t.Members[:max(0, len(t.Members)-s.servedFewer(r.URL.Path))] // ServeFewer
			page(s, w, r, m, "", func(login *string) any { return s.user(*login, userID(*login), "User") })
			return
		}
	}
	// A team with access to a repository exists, members or not.
	for _, rp := range o.Repos {
		for _, t := range rp.Teams {
			if strings.EqualFold(t.Slug, slug) {
				page(s, w, r, []string(nil), "", func(login *string) any { return s.user(*login, userID(*login), "User") })
				return
			}
		}
	}
	notFound(w)
}

// sampleTeams gives the sample's teams (those repositories grant access
// to, and docs-writers, which CODEOWNERS names) a few members each, drawn
// from their own source so the rest of the sample is as before.
func (g *gen) sampleTeams() {
	r := rand.New(rand.NewPCG(sampleSeed, 13))
	for _, slug := range append(slices.Clone(teams), "docs-writers") {
		t := Team{Slug: slug}
		for range 3 + r.IntN(5) {
			if m := g.member(r); !slices.Contains(t.Members, m) {
				t.Members = append(t.Members, m)
			}
		}
		g.org.Teams = append(g.org.Teams, t)
	}
}
