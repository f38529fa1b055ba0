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
	m, ok := s.teamLogins(r.PathValue("team"))
	if !ok {
		notFound(w)
		return
	}
	m = m[:max(0, len(m)-s.servedFewer(r.URL.Path))] // ServeFewer: GraphQL still counts them
	page(s, w, r, m, "", func(login *string) any { return s.user(*login, userID(*login), "User") })
}

// gqlOrganization is the organisation as GraphQL's Organization, as far
// as a team's members are asked (Organization.team, Team.members: the
// logins GET /orgs/{org}/teams/{team_slug}/members lists, child teams'
// included, counted whole whatever ServeFewer cuts from the REST list);
// a team GitHub does not have is null, as on GitHub.
func (s *Server) gqlOrganization() *gqlNode {
	return &gqlNode{typ: "Organization", implements: []string{"Node", "Actor"}, field: func(name string, args map[string]any) (any, *gqlErr) {
		switch name {
		case "__typename":
			return "Organization", nil
		case "login":
			return s.org.Login, nil
		case "team":
			slug, _ := args["slug"].(string)
			members, ok := s.teamLogins(slug)
			if !ok {
				return nil, nil
			}
			return &gqlNode{typ: "Team", implements: []string{"Node"}, field: func(name string, args map[string]any) (any, *gqlErr) {
				switch name {
				case "__typename":
					return "Team", nil
				case "slug":
					return strings.ToLower(slug), nil
				case "members":
					var items []gqlEdge
					for _, m := range members {
						items = append(items, gqlEdge{node: obj("User", map[string]any{"login": m, "id": nodeID("U", userID(m)), "databaseId": userID(m)}, "Node", "Actor")})
					}
					return gqlConnection("TeamMemberConnection", items, args, 0)
				}
				return nil, &gqlErr{Message: "this fake does not answer Team." + name}
			}}, nil
		}
		return nil, &gqlErr{Message: "this fake does not answer Organization." + name + " outside nhi people sync github's queries"}
	}}
}

// teamLogins are the members of the team slug, and whether the
// organisation has it (a team with access to a repository exists,
// members or not).
func (s *Server) teamLogins(slug string) ([]string, bool) {
	for _, t := range s.org.Teams {
		if strings.EqualFold(t.Slug, slug) {
			return t.Members, true
		}
	}
	for _, rp := range s.org.Repos {
		for _, t := range rp.Teams {
			if strings.EqualFold(t.Slug, slug) {
				return nil, true
			}
		}
	}
	return nil, false
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
