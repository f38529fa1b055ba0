package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// POST /graphql for the organisation's people, in GraphQL's wire format
// (an HTTP 200 with {"data": ..., "errors": [...]}, as GitHub answers
// even a refused field): organization.membersWithRole (login, name,
// email, organizationVerifiedDomainEmails) and
// organization.samlIdentityProvider.externalIdentities (samlIdentity
// nameId and emails, user login), paginated by cursor. Other queries get
// a GraphQL error. Kept in its own file: a general GraphQL endpoint for
// repository data may join it.

type gqlPeopleRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

type gqlPeopleError struct {
	Type    string   `json:"type,omitempty"`
	Path    []string `json:"path,omitempty"`
	Message string   `json:"message"`
}

var gqlFirst = regexp.MustCompile(`\bfirst:\s*(\d+)`)

func (s *Server) graphqlPeopleRoute(m *http.ServeMux) {
	m.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		var req gqlPeopleRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
			writeRaw(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "Problems parsing JSON"))
			return
		}
		org, _ := req.Variables["org"].(string)
		after, _ := req.Variables["after"].(string)
		first := 100
		if mm := gqlFirst.FindStringSubmatch(req.Query); mm != nil {
			first, _ = strconv.Atoi(mm[1])
		}
		if first < 1 || first > 100 {
			gqlAnswer(w, nil, gqlPeopleError{Type: "ARGUMENT_LIMIT", Message: "The requested page size must be between 1 and 100."})
			return
		}
		if !strings.EqualFold(org, s.org.Login) {
			gqlAnswer(w, map[string]any{"organization": nil}, gqlPeopleError{Type: "NOT_FOUND", Path: []string{"organization"},
				Message: fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", org)})
			return
		}
		lo := cursorOffset(after)
		switch {
		case strings.Contains(req.Query, "membersWithRole"):
			var nodes []any
			for _, login := range s.org.Members {
				p := s.profile(login)
				n := map[string]any{"login": login, "name": nil, "email": "", "organizationVerifiedDomainEmails": []string{}}
				if p.Name != "" {
					n["name"] = p.Name
				}
				n["email"] = p.Email // GitHub: "" when the member shows none
				if p.VerifiedEmails != nil {
					n["organizationVerifiedDomainEmails"] = p.VerifiedEmails
				}
				nodes = append(nodes, n)
			}
			gqlAnswer(w, map[string]any{"organization": map[string]any{"membersWithRole": connection(nodes, lo, first)}})
		case strings.Contains(req.Query, "samlIdentityProvider"):
			if v := viewOf(r); v != nil && v.Member {
				gqlAnswer(w, map[string]any{"organization": map[string]any{"samlIdentityProvider": nil}}, gqlPeopleError{Type: "FORBIDDEN",
					Path: []string{"organization", "samlIdentityProvider"}, Message: "Resource not accessible: you must be an organization owner"})
				return
			}
			if !s.org.SAML {
				gqlAnswer(w, map[string]any{"organization": map[string]any{"samlIdentityProvider": nil}})
				return
			}
			var nodes []any
			for _, id := range s.org.SAMLIdentities {
				emails := []any{}
				for _, e := range id.Emails {
					emails = append(emails, map[string]any{"value": e, "primary": len(emails) == 0, "type": "work"})
				}
				var user any
				if id.Login != "" {
					user = map[string]any{"login": id.Login}
				}
				nodes = append(nodes, map[string]any{"samlIdentity": map[string]any{"nameId": id.NameID, "emails": emails}, "user": user})
			}
			gqlAnswer(w, map[string]any{"organization": map[string]any{"samlIdentityProvider": map[string]any{"externalIdentities": connection(nodes, lo, first)}}})
		default:
			gqlAnswer(w, nil, gqlPeopleError{Message: "this fake answers organization.membersWithRole and organization.samlIdentityProvider only"})
		}
	})
}

func (s *Server) profile(login string) Profile {
	for _, p := range s.org.Profiles {
		if strings.EqualFold(p.Login, login) {
			return p
		}
	}
	return Profile{Login: login}
}

// connection is one page of a GraphQL connection: nodes and pageInfo.
func connection(nodes []any, lo, first int) map[string]any {
	lo = min(lo, len(nodes))
	hi := min(lo+first, len(nodes))
	page := nodes[lo:hi]
	if page == nil {
		page = []any{}
	}
	info := map[string]any{"hasNextPage": hi < len(nodes), "endCursor": nil}
	if hi > lo {
		info["endCursor"] = base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(hi)))
	}
	return map[string]any{"pageInfo": info, "nodes": page, "totalCount": len(nodes)}
}

func cursorOffset(after string) int {
	b, err := base64.StdEncoding.DecodeString(after)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// gqlAnswer writes GraphQL's answer: HTTP 200 with data and, when any,
// errors.
func gqlAnswer(w http.ResponseWriter, data any, errs ...gqlPeopleError) {
	body := map[string]any{"data": data}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, body)
}
