package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// POST /graphql, the one GraphQL route: every query is parsed (and, with
// [WithGraphQLSchema], validated against GitHub's schema), its cost and
// nodes computed as GitHub does and charged to GraphQL's own rate limit;
// repository queries are answered in graphql_repos.go. Here: the
// organisation's people, in GraphQL's wire format
// (an HTTP 200 with {"data": ..., "errors": [...]}, as GitHub answers
// even a refused field): organization.membersWithRole (login, name,
// email, organizationVerifiedDomainEmails, as nodes or as edges with each
// member's role, ADMIN for the organisation's Admins) and
// organization.samlIdentityProvider.externalIdentities (samlIdentity
// nameId and emails, user login), paginated by cursor, each with its
// totalCount when the query asks it. Other queries get a GraphQL error;
// organization.team (a team's members, counted) is answered with the
// repositories in graphql_repos.go.
// [Server.ServeFewer] cuts either connection, named
// "/graphql/organization/membersWithRole" and
// "/graphql/organization/samlIdentityProvider/externalIdentities", while
// its totalCount still counts what it left out.

type gqlPeopleRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables"`
}

type gqlPeopleError struct {
	Type    string   `json:"type,omitempty"`
	Path    []string `json:"path,omitempty"`
	Message string   `json:"message"`
}

var gqlFirst = regexp.MustCompile(`\bfirst:\s*(\d+)`)

func (s *Server) graphqlRoute(m *http.ServeMux) {
	m.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		var req gqlPeopleRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
			writeRaw(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "Problems parsing JSON"))
			return
		}
		doc, op, errs := s.parseGraphQL(req)
		if len(errs) > 0 {
			// GitHub answers a query it will not run with errors and no data.
			gqlWrite(w, nil, errs)
			return
		}
		cost, nodes := graphqlCost(doc, op, req.Variables)
		if nodes > MaxGraphQLNodes {
			gqlWrite(w, nil, []gqlErr{{Type: "MAX_NODE_LIMIT_EXCEEDED", Message: fmt.Sprintf("This query requests up to %d possible nodes which exceeds the maximum limit of %d.", nodes, MaxGraphQLNodes)}})
			return
		}
		if s.chargeGraphQL(w.Header(), cost) {
			gqlWrite(w, nil, []gqlErr{{Type: "RATE_LIMITED", Message: "API rate limit exceeded for user ID 1."}})
			return
		}
		for _, sel := range op.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && f.Name == "organization" && !selects(f.SelectionSet, "team") {
				s.graphqlPeople(w, r, req, f, selects(op.SelectionSet, "rateLimit"), cost)
				return
			}
		}
		s.graphqlRepos(w, r, doc, op, req.Variables, cost)
	})
}

// parseGraphQL parses req's query and, with [WithGraphQLSchema], validates
// it and its variables against GitHub's schema; a query that does not is
// remembered ([Server.GraphQLInvalid]) and answered with its errors.
func (s *Server) parseGraphQL(req gqlPeopleRequest) (*ast.QueryDocument, *ast.OperationDefinition, []gqlErr) {
	fail := func(msgs ...gqlErr) (*ast.QueryDocument, *ast.OperationDefinition, []gqlErr) {
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString(m.Message + "; ")
		}
		s.mu.Lock()
		s.gqlInvalid = append(s.gqlInvalid, strings.TrimSuffix(b.String(), "; ")+"\n"+req.Query)
		s.mu.Unlock()
		return nil, nil, msgs
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: req.Query})
	if err != nil {
		return fail(gqlErr{Message: err.Error(), Extensions: map[string]any{"code": "parseError"}})
	}
	if s.gqlSchema != nil {
		var out []gqlErr
		for _, e := range validator.ValidateWithRules(s.gqlSchema, doc, nil) {
			out = append(out, gqlErr{Message: e.Message, Extensions: map[string]any{"code": e.Rule}})
		}
		if len(out) > 0 {
			return fail(out...)
		}
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Query {
		return fail(gqlErr{Message: "this fake runs one query operation a request", Extensions: map[string]any{"code": "operationNotFound"}})
	}
	if s.gqlSchema != nil {
		if _, err := validator.VariableValues(s.gqlSchema, op, req.Variables); err != nil {
			return fail(gqlErr{Message: err.Error(), Extensions: map[string]any{"code": "variableMismatch"}})
		}
	}
	return doc, op, nil
}

// graphqlPeople answers the queries of nhi people sync github, and the
// snapshot's count of the members (membersWithRole's totalCount); org is
// the query's organization field, rateLimit whether the query asks
// Query.rateLimit, cost what it cost.
func (s *Server) graphqlPeople(w http.ResponseWriter, r *http.Request, req gqlPeopleRequest, org *ast.Field, rateLimit bool, cost int) {
	gqlAnswer := func(w http.ResponseWriter, data map[string]any, errs ...gqlPeopleError) {
		if rateLimit && data != nil {
			data["rateLimit"] = map[string]any{"cost": cost}
		}
		gqlAnswer(w, data, errs...)
	}
	login, _ := req.Variables["org"].(string)
	after, _ := req.Variables["after"].(string)
	first := 100
	if mm := gqlFirst.FindStringSubmatch(req.Query); mm != nil {
		first, _ = strconv.Atoi(mm[1])
	}
	if first < 1 || first > 100 {
		gqlAnswer(w, nil, gqlPeopleError{Type: "ARGUMENT_LIMIT", Message: "The requested page size must be between 1 and 100."})
		return
	}
	if !strings.EqualFold(login, s.org.Login) {
		gqlAnswer(w, map[string]any{"organization": nil}, gqlPeopleError{Type: "NOT_FOUND", Path: []string{"organization"},
			Message: fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login)})
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
		fewer := s.servedFewer("/graphql/organization/membersWithRole")
		conn := connection(nodes, lo, first, fewer, selects(org.SelectionSet, "membersWithRole", "totalCount"))
		if selects(org.SelectionSet, "membersWithRole", "edges") {
			// OrganizationMemberEdge: the member's role beside them.
			edges := []any{}
			for _, n := range conn["nodes"].([]any) {
				role := "MEMBER"
				if s.isAdmin(n.(map[string]any)["login"].(string)) {
					role = "ADMIN"
				}
				edges = append(edges, map[string]any{"role": role, "node": n})
			}
			conn["edges"] = edges
		}
		if !selects(org.SelectionSet, "membersWithRole", "nodes") {
			delete(conn, "nodes") // GitHub answers what the query asks
		}
		gqlAnswer(w, map[string]any{"organization": map[string]any{"membersWithRole": conn}})
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
		fewer := s.servedFewer("/graphql/organization/samlIdentityProvider/externalIdentities")
		counted := selects(org.SelectionSet, "samlIdentityProvider", "externalIdentities", "totalCount")
		gqlAnswer(w, map[string]any{"organization": map[string]any{"samlIdentityProvider": map[string]any{"externalIdentities": connection(nodes, lo, first, fewer, counted)}}})
	default:
		gqlAnswer(w, nil, gqlPeopleError{Message: "this fake answers organization.membersWithRole and organization.samlIdentityProvider only"})
	}
}

func (s *Server) isAdmin(login string) bool {
	for _, a := range s.org.Admins {
		if strings.EqualFold(a, login) {
			return true
		}
	}
	return false
}

func (s *Server) profile(login string) Profile {
	for _, p := range s.org.Profiles {
		if strings.EqualFold(p.Login, login) {
			return p
		}
	}
	return Profile{Login: login}
}

// connection is one page of a GraphQL connection: nodes and pageInfo, and
// totalCount when counted (the query asks it). fewer leaves out the last
// nodes while totalCount still counts them ([Server.ServeFewer]).
func connection(nodes []any, lo, first, fewer int, counted bool) map[string]any {
	total := len(nodes)
	nodes = nodes[:max(0, len(nodes)-fewer)]
	lo = min(lo, len(nodes))
	hi := min(lo+first, len(nodes))
	page := nodes[lo:hi]
	if page == nil {
		page = []any{}
	}
	info := map[string]any{"hasNextPage": hi < len(nodes), "endCursor": nil}
	if hi > lo {
		info["endCursor"] = cursorAt(hi)
	}
	out := map[string]any{"pageInfo": info, "nodes": page}
	if counted {
		out["totalCount"] = total
	}
	return out
}

// selects reports whether set asks the field at path (fields by name, as
// the people's queries ask them: no fragments).
func selects(set ast.SelectionSet, path ...string) bool {
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name != path[0] {
			continue
		}
		if len(path) == 1 || selects(f.SelectionSet, path[1:]...) {
			return true
		}
	}
	return false
}

// cursorAt is the cursor of the nth item (1-based): after it, paging
// goes on at item n+1.
func cursorAt(n int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(n)))
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

// gqlWrite writes GraphQL's answer: HTTP 200 with data, unless nil (a
// query not run), and errors when any.
func gqlWrite(w http.ResponseWriter, data map[string]any, errs []gqlErr) {
	body := map[string]any{}
	if data != nil {
		body["data"] = data
	}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, body)
}
