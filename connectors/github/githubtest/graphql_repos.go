package githubtest

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// POST /graphql for repositories: Query.repository (aliased, as many as
// a query names) with its environments, rulesets and their bypass
// actors, direct collaborators and Git objects (object(expression:
// "HEAD:path"): a Blob or a Tree), Query.organization's team and its
// members (counted whole: see gqlOrganization), and Query.rateLimit —
// answered from the
// same organisation as the REST routes: the same visibility per token, a
// renamed repository found by its old name (followRenames), the paths
// [Server.Fail] made fail for a field's REST twin (a 403 on
// …/collaborators is FORBIDDEN on collaborators), and GitHub's cost, node limit and rate limit
// (graphqlCost). The query is parsed with gqlparser and executed over its
// AST, so aliases, variables and fragments work as on GitHub.

// MaxGraphQLNodes is GitHub's limit on the nodes one query may ask.
const MaxGraphQLNodes = 500_000

// gqlErr is one of GraphQL's errors, as GitHub writes them.
type gqlErr struct {
	Type       string         `json:"type,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Locations  []any          `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
	Message    string         `json:"message"`
}

// gqlNode is an object of the schema: its type and how its fields resolve.
type gqlNode struct {
	typ        string
	implements []string
	field      func(name string, args map[string]any) (any, *gqlErr)
}

func (n *gqlNode) is(typ string) bool { return n.typ == typ || slices.Contains(n.implements, typ) }

// gqlExec runs one operation over the organisation.
type gqlExec struct {
	s    *Server
	r    *http.Request
	doc  *ast.QueryDocument
	vars map[string]any
	errs []gqlErr
}

// graphqlCost is what GitHub charges for op, by its published formula
// (docs.github.com, "Rate limits and query limits for the GraphQL API"):
// every connection (a field with first or last) needs one request per
// node its parents may hold, their first arguments multiplied; the sum of
// requests over 100, rounded, is the cost (at least 1). nodes is the
// connections' first arguments times their parents', summed.
func graphqlCost(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (cost, nodes int) {
	var requests float64
	var walk func(set ast.SelectionSet, mult float64)
	walk = func(set ast.SelectionSet, mult float64) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if sel.Name == "rateLimit" {
					continue
				}
				args := argValues(sel, vars)
				page := 0
				for _, k := range []string{"first", "last"} {
					if v, ok := args[k].(int64); ok {
						page = int(v)
					}
				}
				if page > 0 {
					requests += mult
					nodes += int(mult) * page
					walk(sel.SelectionSet, mult*float64(page))
					continue
				}
				walk(sel.SelectionSet, mult)
			case *ast.InlineFragment:
				walk(sel.SelectionSet, mult)
			case *ast.FragmentSpread:
				if f := doc.Fragments.ForName(sel.Name); f != nil {
					walk(f.SelectionSet, mult)
				}
			}
		}
	}
	walk(op.SelectionSet, 1)
	return max(1, int(math.Round(requests/100))), nodes
}

// argValues are a field's arguments with variables resolved.
func argValues(f *ast.Field, vars map[string]any) map[string]any {
	out := map[string]any{}
	for _, a := range f.Arguments {
		if v, err := a.Value.Value(vars); err == nil {
			if n, ok := v.(float64); ok && n == math.Trunc(n) { // a JSON number in variables
				v = int64(n)
			}
			out[a.Name] = v
		}
	}
	return out
}

// graphqlRepos answers an operation that reads repositories.
func (s *Server) graphqlRepos(w http.ResponseWriter, r *http.Request, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, cost int) {
	e := &gqlExec{s: s, r: r, doc: doc, vars: vars}
	root := &gqlNode{typ: "Query", field: func(name string, args map[string]any) (any, *gqlErr) {
		switch name {
		case "rateLimit":
			s.mu.Lock()
			defer s.mu.Unlock()
			return obj("RateLimit", map[string]any{
				"cost": cost, "limit": s.limit, "remaining": s.limit - s.gqlUsed, "used": s.gqlUsed,
				"resetAt": s.reset.UTC().Format("2006-01-02T15:04:05Z"), "nodeCount": 0,
			}), nil
		case "repository":
			owner, _ := args["owner"].(string)
			repo, _ := args["name"].(string)
			follow, set := args["followRenames"].(bool)
			rp := s.repos[strings.ToLower(repo)]
			if id, moved := s.moved[strings.ToLower(repo)]; rp == nil && moved && (follow || !set) {
				rp = s.repoByID(id)
			}
			if rp == nil || !strings.EqualFold(owner, s.org.Login) || !sees(r, rp) {
				return nil, &gqlErr{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, repo)}
			}
			if status, ok := e.restFault(rp, ""); ok {
				return nil, statusErr(status)
			}
			return s.gqlRepository(e, rp), nil
		case "organization":
			login, _ := args["login"].(string)
			if !strings.EqualFold(login, s.org.Login) {
				return nil, &gqlErr{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login)}
			}
			return s.gqlOrganization(), nil
		}
		return nil, &gqlErr{Message: "this fake does not answer Query." + name}
	}}
	data := e.selection(root, op.SelectionSet, nil)
	gqlWrite(w, data, e.errs)
}

// restFault is the status the path rest (below /repos/{org}/{repo}) was
// made to fail with ([Server.Fail], [Server.FailWith]): the same field
// of GraphQL fails too, as GitHub refuses the same data both ways. Faults
// of [WithFault] are functions of a REST request and are not consulted.
func (e *gqlExec) restFault(rp *Repo, rest string) (int, bool) {
	path := "/repos/" + e.s.org.Login + "/" + rp.Name
	if rest != "" {
		path += "/" + rest
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	for _, f := range e.s.failing {
		if under(path, f.prefix) && f.status >= 400 {
			return f.status, true
		}
	}
	return 0, false
}

// statusErr is the GraphQL error for what REST would answer with status.
func statusErr(status int) *gqlErr {
	switch status {
	case http.StatusForbidden:
		return &gqlErr{Type: "FORBIDDEN", Message: "Resource not accessible by personal access token"}
	case http.StatusNotFound:
		return &gqlErr{Type: "NOT_FOUND", Message: "Not Found"}
	}
	return &gqlErr{Message: fmt.Sprintf("Something went wrong while executing your query (a REST twin answers %d).", status)}
}

// obj is an object whose fields are plain values.
func obj(typ string, fields map[string]any, implements ...string) *gqlNode {
	return &gqlNode{typ: typ, implements: implements, field: func(name string, _ map[string]any) (any, *gqlErr) {
		if name == "__typename" {
			return typ, nil
		}
		v, ok := fields[name]
		if !ok {
			return nil, &gqlErr{Message: "this fake does not answer " + typ + "." + name}
		}
		return v, nil
	}}
}

// gqlEdge is one item of a connection: its node and what its edge says
// besides (a collaborator's permission).
type gqlEdge struct {
	node any
	edge map[string]any
}

// gqlConnection pages items as GitHub does: first (at most 100) from the
// cursor after; more than 100 is an error, as on GitHub. fewer leaves out
// the last items while totalCount still counts them ([Server.ServeFewer]).
func gqlConnection(typ string, items []gqlEdge, args map[string]any, fewer int) (any, *gqlErr) {
	total := len(items)
	items = items[:max(0, len(items)-fewer)]
	first := len(items)
	if v, ok := args["first"].(int64); ok {
		first = int(v)
	}
	if first < 0 || first > 100 {
		return nil, &gqlErr{Type: "EXCESSIVE_PAGINATION", Message: fmt.Sprintf("Requesting %d records on the connection exceeds the `first` limit of 100 records.", first)}
	}
	after, _ := args["after"].(string)
	lo := min(cursorOffset(after), len(items))
	hi := min(lo+first, len(items))
	var nodes, edges []any
	for i, it := range items[lo:hi] {
		nodes = append(nodes, it.node)
		fields := map[string]any{"node": it.node, "cursor": cursorAt(lo + i + 1)}
		for k, v := range it.edge {
			fields[k] = v
		}
		edges = append(edges, obj(strings.TrimSuffix(typ, "Connection")+"Edge", fields))
	}
	info := map[string]any{"hasNextPage": hi < len(items), "hasPreviousPage": lo > 0, "endCursor": nil, "startCursor": nil}
	if hi > lo {
		info["startCursor"], info["endCursor"] = cursorAt(lo+1), cursorAt(hi)
	}
	return obj(typ, map[string]any{
		"nodes": nonNilList(nodes), "edges": nonNilList(edges), "totalCount": total, "pageInfo": obj("PageInfo", info),
	}), nil
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// gqlRepository is rp as a Repository object.
func (s *Server) gqlRepository(e *gqlExec, rp *Repo) *gqlNode {
	plain := map[string]any{
		"id": nodeID("R", rp.ID), "databaseId": rp.ID, "name": rp.Name, "nameWithOwner": s.org.Login + "/" + rp.Name,
		"isPrivate": rp.Private, "isArchived": rp.Archived,
	}
	return &gqlNode{typ: "Repository", implements: []string{"Node", "RepositoryInfo"}, field: func(name string, args map[string]any) (any, *gqlErr) {
		twin := map[string]string{"environments": "environments", "rulesets": "rulesets", "collaborators": "collaborators"}[name]
		if name == "object" {
			twin = "contents/" + strings.TrimPrefix(fmt.Sprint(args["expression"]), "HEAD:")
		}
		if twin != "" {
			if status, ok := e.restFault(rp, twin); ok {
				return nil, statusErr(status)
			}
		}
		fewer := 0 // ServeFewer's, for the field's REST twin
		if twin != "" {
			fewer = s.servedFewer("/repos/" + s.org.Login + "/" + rp.Name + "/" + twin)
		}
		switch name {
		case "__typename":
			return "Repository", nil
		case "environments":
			envs := slices.Clone(rp.Environments)
			// GitHub's default order: by name.
			slices.SortFunc(envs, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
			var items []gqlEdge
			for _, env := range envs {
				items = append(items, gqlEdge{node: obj("Environment", map[string]any{"id": nodeID("EN", env.ID), "databaseId": env.ID, "name": env.Name}, "Node")})
			}
			return gqlConnection("EnvironmentConnection", items, args, fewer)
		case "rulesets":
			parents := true
			if v, ok := args["includeParents"].(bool); ok {
				parents = v
			}
			var items []gqlEdge
			for _, rs := range s.repoRulesets(rp, parents) {
				bypass := s.servedFewer("/repos/" + s.org.Login + "/" + rp.Name + "/rulesets/" + strconv.FormatInt(rs.GetID(), 10))
				items = append(items, gqlEdge{node: s.gqlRuleset(rs, bypass)})
			}
			return gqlConnection("RepositoryRulesetConnection", items, args, fewer)
		case "collaborators":
			var items []gqlEdge
			for _, c := range rp.Collaborators {
				if args["affiliation"] == "OUTSIDE" && s.isMember(c.Login) {
					continue
				}
				user := obj("User", map[string]any{"login": c.Login, "id": nodeID("U", userID(c.Login)), "databaseId": userID(c.Login)}, "Node", "Actor")
				items = append(items, gqlEdge{node: user, edge: map[string]any{"permission": strings.ToUpper(c.RoleName)}})
			}
			return gqlConnection("RepositoryCollaboratorConnection", items, args, fewer)
		case "object":
			return s.gqlObject(rp, fmt.Sprint(args["expression"])), nil
		}
		if v, ok := plain[name]; ok {
			return v, nil
		}
		return nil, &gqlErr{Message: "this fake does not answer Repository." + name}
	}}
}

// blobTextLimit is where the fake cuts a Blob's text (isTruncated).
const blobTextLimit = 1 << 20

// gqlObject is the Git object at expression ("HEAD:path"): CODEOWNERS is
// the only file, as for the REST contents route; a directory is a Tree.
func (s *Server) gqlObject(rp *Repo, expression string) any {
	ref, path, ok := strings.Cut(expression, ":")
	co := rp.CodeOwners
	if !ok || (ref != "HEAD" && ref != rp.DefaultBranch) || co == nil || co.Path != path || rp.PushedAt.IsZero() {
		return nil
	}
	if co.Dir {
		return obj("Tree", map[string]any{"oid": gitOID(rp, path)}, "GitObject", "Node")
	}
	text := co.Content
	truncated := len(text) > blobTextLimit
	if truncated {
		text = text[:blobTextLimit]
	}
	return obj("Blob", map[string]any{
		"oid": gitOID(rp, path), "text": text, "isTruncated": truncated, "isBinary": false, "byteSize": len(co.Content),
	}, "GitObject", "Node")
}

func gitOID(rp *Repo, path string) string {
	return fmt.Sprintf("%040x", uint64(rp.ID)*1000003+uint64(len(path)))
}

// gqlRuleset is a ruleset and who may bypass it, less the last fewer of
// them (still counted).
func (s *Server) gqlRuleset(rs rulesetJSON, fewer int) *gqlNode {
	var actors []gqlEdge
	for _, a := range rs.BypassActors {
		fields := map[string]any{
			"actor": nil, "deployKey": a.GetActorType() == "DeployKey", "organizationAdmin": a.GetActorType() == "OrganizationAdmin",
			"enterpriseOwner": false, "repositoryRoleName": nil, "repositoryRoleDatabaseId": nil,
			"bypassMode": strings.ToUpper(a.GetBypassMode()),
		}
		switch a.GetActorType() {
		case "Integration":
			fields["actor"] = obj("App", map[string]any{"databaseId": a.GetActorID(), "id": nodeID("A", a.GetActorID())}, "Node")
		case "Team":
			fields["actor"] = obj("Team", map[string]any{"databaseId": a.GetActorID(), "id": nodeID("T", a.GetActorID())}, "Node")
		case "RepositoryRole":
			fields["repositoryRoleDatabaseId"] = a.GetActorID()
		}
		actors = append(actors, gqlEdge{node: obj("RepositoryRulesetBypassActor", fields, "Node")})
	}
	plain := map[string]any{
		"id": rs.GetNodeID(), "databaseId": rs.GetID(), "name": rs.Name, "enforcement": strings.ToUpper(rs.Enforcement),
		"target": strings.ToUpper(rs.GetTarget()),
	}
	return &gqlNode{typ: "RepositoryRuleset", implements: []string{"Node"}, field: func(name string, args map[string]any) (any, *gqlErr) {
		switch name {
		case "__typename":
			return "RepositoryRuleset", nil
		case "bypassActors":
			return gqlConnection("RepositoryRulesetBypassActorConnection", actors, args, fewer)
		}
		if v, ok := plain[name]; ok {
			return v, nil
		}
		return nil, &gqlErr{Message: "this fake does not answer RepositoryRuleset." + name}
	}}
}

// selection resolves set on n into its answer, recording errors (a
// field that fails is null, as on GitHub).
func (e *gqlExec) selection(n *gqlNode, set ast.SelectionSet, path []any) map[string]any {
	out := map[string]any{}
	e.collect(n, set, path, out)
	return out
}

func (e *gqlExec) collect(n *gqlNode, set ast.SelectionSet, path []any, out map[string]any) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			fpath := append(slices.Clone(path), key)
			v, err := n.field(sel.Name, argValues(sel, e.vars))
			if err != nil {
				err.Path = fpath
				err.Locations = []any{map[string]int{"line": sel.Position.Line, "column": sel.Position.Column}}
				e.errs = append(e.errs, *err)
				out[key] = nil
				continue
			}
			out[key] = e.complete(v, sel.SelectionSet, fpath)
		case *ast.InlineFragment:
			if sel.TypeCondition == "" || n.is(sel.TypeCondition) {
				e.collect(n, sel.SelectionSet, path, out)
			}
		case *ast.FragmentSpread:
			if f := e.doc.Fragments.ForName(sel.Name); f != nil && n.is(f.TypeCondition) {
				e.collect(n, f.SelectionSet, path, out)
			}
		}
	}
}

// complete turns a resolved value into its answer: objects through their
// selection, lists item by item, scalars as they are.
func (e *gqlExec) complete(v any, set ast.SelectionSet, path []any) any {
	switch v := v.(type) {
	case *gqlNode:
		if v == nil {
			return nil
		}
		return e.selection(v, set, path)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = e.complete(item, set, append(slices.Clone(path), i))
		}
		return out
	}
	return v
}
