package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Four of a repository's reads go through GitHub's GraphQL API, up to 100
// repositories a query (docs/github.md, "GraphQL"): its environments, its
// own rulesets and who may bypass them, its direct collaborators and its
// CODEOWNERS. REST charged a point for each of those requests (two or
// three for CODEOWNERS, one more per ruleset); a query charges GraphQL's
// own budget about 13 points for 100 repositories. Everything else, and
// whatever a query does not give in full, is read through REST as before:
//
//   - a connection with more than one page (over 100 environments or
//     collaborators, over 10 rulesets or bypass actors in one of them), a
//     CODEOWNERS file GraphQL truncates or calls binary, or a field
//     GitHub refused (an error whose path names it): REST reads that one
//     endpoint of that one repository, and its answer is what is
//     recorded, a gap included, exactly as without GraphQL;
//   - a repository GraphQL did not resolve: REST reads it whole;
//   - a query GitHub could not answer (a server error, a timeout, the node
//     limit, an answer cut short): asked again as two queries of half the
//     repositories, down to one, then REST;
//   - GraphQL unusable for the run (its rate limit spent, the query
//     refused as invalid, as by an older GitHub Enterprise Server without
//     rulesets in its schema, or any other refusal of POST /graphql):
//     every repository not read yet is read through REST, and the run says
//     so once.
//
// So GraphQL never decides that something is not there: an answer it gave
// in full is the same answer REST gives, and anything else is asked of
// REST. A connection that ends (no next page) with fewer items than its
// totalCount is used for what it gave and is a gap of its part
// (gqlShort), as a REST list short of its total_count is: the snapshot
// is partial and nothing missing from it is read as removed.

// How much of each connection one query asks per repository. GitHub's
// maximum page is 100; rulesets and their bypass actors are asked 10 at
// a time because a nested connection multiplies both the cost and the
// node count (see queryCost), and a repository's own rulesets are few.
const (
	gqlEnvFirst     = 100
	gqlRulesetFirst = 10
	gqlBypassFirst  = 10
	gqlCollabFirst  = 100
	// maxBatch is GitHub's most nodes a list may ask, and so the most
	// repositories one query names.
	maxBatch = 100
	// A query stays at a tenth of GitHub's 500,000-node limit and costs
	// at most 20 of GraphQL's 5,000 points an hour.
	gqlNodeBudget = 50_000
	gqlCostBudget = 20
)

// repoFragment is what a query asks of each repository.
var repoFragment = fmt.Sprintf(`fragment NhiRepository on Repository {
  environments(first: %d) { totalCount pageInfo { hasNextPage } nodes { name } }
  rulesets(first: %d, includeParents: false) {
    totalCount
    pageInfo { hasNextPage }
    nodes {
      name
      enforcement
      bypassActors(first: %d) { totalCount pageInfo { hasNextPage } nodes { deployKey actor { __typename ... on App { databaseId } } } }
    }
  }
  collaborators(first: %d, affiliation: DIRECT) { totalCount pageInfo { hasNextPage } edges { permission node { login } } }
  co0: object(expression: "HEAD:%s") { ...NhiCodeOwners }
  co1: object(expression: "HEAD:%s") { ...NhiCodeOwners }
  co2: object(expression: "HEAD:%s") { ...NhiCodeOwners }
}
fragment NhiCodeOwners on GitObject { __typename ... on Blob { text isTruncated isBinary } }
`, gqlEnvFirst, gqlRulesetFirst, gqlBypassFirst, gqlCollabFirst,
	codeOwnersLocations[0], codeOwnersLocations[1], codeOwnersLocations[2])

// queryCost is what a query of n repositories costs by GitHub's published
// formula (docs.github.com, "Rate limits and query limits for the GraphQL
// API"): each connection needs one request per parent it is asked under,
// a nested one as many as its parents' first arguments multiply to; the
// sum over 100, rounded, is the points (at least 1). Its nodes are each
// connection's first times its parents', summed, which GitHub limits to
// 500,000.
func queryCost(n int) (points, nodes int) {
	requests := n * (1 + 1 + gqlRulesetFirst + 1) // environments, rulesets, one bypassActors per ruleset, collaborators
	nodes = n * (gqlEnvFirst + gqlRulesetFirst + gqlRulesetFirst*gqlBypassFirst + gqlCollabFirst)
	return max(1, int(math.Round(float64(requests)/100))), nodes
}

// batchSize is how many repositories one query names: the most, up to
// maxBatch, whose cost and nodes stay within their budgets.
func batchSize() int {
	n := maxBatch
	for ; n > 1; n-- {
		if points, nodes := queryCost(n); points <= gqlCostBudget && nodes <= gqlNodeBudget {
			break
		}
	}
	return n
}

// gqlRepo is what a query gave of one repository. Each part is used only
// when it came in full; otherwise REST reads it.
type gqlRepo struct {
	envs       []string
	envsOK     bool
	envsWhole  bool // envs are every environment: none other exists
	rulesets   []ruleset
	rulesetsOK bool
	collabs    []audit.Principal
	collabsOK  bool
	codeOwners *codeOwnersEntry // nil: REST reads CODEOWNERS
	// gaps: connections that gave fewer than they counted (gqlShort).
	gaps []audit.Gap
}

// useGraphQL reports whether repositories are still read through GraphQL.
func (c *Connector) useGraphQL() bool { return !c.restOnly && !c.gqlOff.Load() }

// gqlURL is GraphQL's address relative to the REST base: /graphql beside
// api.github.com's REST paths, /api/graphql on GitHub Enterprise Server
// (whose REST base is /api/v3/).
func (c *Connector) gqlURL() string {
	if strings.HasSuffix(c.client.BaseURL.Path, "/api/v3/") {
		return "../graphql"
	}
	return "graphql"
}

// gqlDisable stops GraphQL for the rest of the run: REST reads what it would have.
func (c *Connector) gqlDisable(why string) {
	if c.gqlOff.CompareAndSwap(false, true) {
		c.note("GraphQL is not used for the rest of this run (" + why + "): the other repositories' environments, rulesets, collaborators and CODEOWNERS are read through REST")
	}
}

// query is the GraphQL query for repos and its variables: one alias per
// repository (r0, r1, …), its name a variable.
func (c *Connector) query(repos []repoInfo) gqlRequest {
	var b strings.Builder
	b.WriteString("query NhiRepositories($org: String!")
	vars := map[string]any{"org": c.org}
	for i, r := range repos {
		fmt.Fprintf(&b, ", $n%d: String!", i)
		vars["n"+strconv.Itoa(i)] = r.Name
	}
	b.WriteString(") {\n  rateLimit { cost }\n")
	for i := range repos {
		fmt.Fprintf(&b, "  r%d: repository(owner: $org, name: $n%d) { ...NhiRepository }\n", i, i)
	}
	b.WriteString("}\n")
	b.WriteString(repoFragment)
	return gqlRequest{Query: b.String(), Variables: vars}
}

// gqlError is one of GraphQL's errors: a type (GitHub's), a path to the
// field it concerns, and for a query refused as invalid an extensions code.
type gqlError struct {
	Type       string         `json:"type"`
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gqlConnection is what a query asks of every connection besides its
// items: whether there is more, and how many it holds (totalCount: Int!
// on each connection asked).
type gqlConnection struct {
	PageInfo   gqlPageInfo `json:"pageInfo"`
	TotalCount *int        `json:"totalCount"`
}

// whole reports whether the connection's one page is all of it: no next
// page, and a count to hold its items against (without one, REST reads
// it). short is how many fewer items than it counted the page gave: a
// connection that ends short of its totalCount was not read whole, as a
// REST list short of its total_count is not (list.go, short); the items
// that came are used, and gqlShort is its gap.
func (cn *gqlConnection) whole(got int) (whole bool, short int) {
	if cn.PageInfo.HasNextPage || cn.TotalCount == nil || *cn.TotalCount < 0 {
		return false, 0
	}
	return true, max(0, *cn.TotalCount-got)
}

// gqlShort is the gap of a connection of repository r that gave got
// items of the total it counted: what, of kind at r's scope.
func (c *Connector) gqlShort(r repoInfo, what string, kind audit.Kind, total, got int) audit.Gap {
	reason := fmt.Sprintf("GitHub's GraphQL API said %s of %s/%s number %d (totalCount), but it gave %d, so they were not read whole; run again, and tell GitHub Support if it stays",
		what, c.org, r.Name, total, got)
	return audit.Gap{Endpoint: "POST /graphql", Kind: kind, Scope: c.repoScope(r.Name), Status: http.StatusOK, Reason: reason}
}

type gqlObject struct {
	Typename    string  `json:"__typename"`
	Text        *string `json:"text"`
	IsTruncated bool    `json:"isTruncated"`
	IsBinary    *bool   `json:"isBinary"`
}

type gqlRepoData struct {
	Environments *struct {
		gqlConnection
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	} `json:"environments"`
	Rulesets *struct {
		gqlConnection
		Nodes []struct {
			Name         string `json:"name"`
			Enforcement  string `json:"enforcement"`
			BypassActors *struct {
				gqlConnection
				Nodes []struct {
					DeployKey bool `json:"deployKey"`
					Actor     *struct {
						Typename   string `json:"__typename"`
						DatabaseID *int64 `json:"databaseId"`
					} `json:"actor"`
				} `json:"nodes"`
			} `json:"bypassActors"`
		} `json:"nodes"`
	} `json:"rulesets"`
	Collaborators *struct {
		gqlConnection
		Edges []struct {
			Permission string `json:"permission"`
			Node       *struct {
				Login string `json:"login"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"collaborators"`
	Co0 *gqlObject `json:"co0"`
	Co1 *gqlObject `json:"co1"`
	Co2 *gqlObject `json:"co2"`
}

// gqlBatch reads repos through one query (or, when GitHub cannot answer
// it, through smaller ones): what it gave of each, nil for a repository
// REST must read whole. Only a rejected token or a cancelled run is an
// error.
func (c *Connector) gqlBatch(ctx context.Context, repos []repoInfo) ([]*gqlRepo, error) {
	out := make([]*gqlRepo, len(repos))
	if !c.useGraphQL() || len(repos) == 0 {
		return out, nil
	}
	ep := endpoint{method: http.MethodPost, path: "/graphql", graphql: true, batch: true, body: c.query(repos)}
	resp, err := c.do(ctx, ep, http.MethodPost, c.gqlURL(), "", false)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, errTimeout):
		return c.gqlSplit(ctx, repos)
	case errors.Is(err, ErrBadCredentials):
		return nil, err
	case errors.Is(err, errGraphQLSpent):
		why := errGraphQLSpent.Error()
		if _, _, reset := c.gqlRate.snapshot(); !reset.IsZero() {
			why += " until " + reset.UTC().Format("15:04:05 MST")
		}
		c.gqlDisable(why)
		return out, nil
	case err != nil:
		// A secondary limit that would not lift, a server that stopped
		// answering: REST goes on, and says so if it cannot either.
		c.gqlDisable(strings.TrimPrefix(err.Error(), "github: "))
		return out, nil
	case resp.status >= 500:
		return c.gqlSplit(ctx, repos)
	case resp.status != http.StatusOK:
		c.gqlDisable(fmt.Sprintf("GitHub answered %d %s to POST /graphql", resp.status, resp.message()))
		return out, nil
	}
	c.stats.gqlQueries.Add(1)
	var envelope struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []gqlError                 `json:"errors"`
	}
	if err := json.Unmarshal(resp.body, &envelope); err != nil {
		return c.gqlSplit(ctx, repos) // an answer cut short, most likely
	}
	if raw, ok := envelope.Data["rateLimit"]; ok {
		var rl struct {
			Cost int `json:"cost"`
		}
		if json.Unmarshal(raw, &rl) == nil {
			c.stats.gqlPoints.Add(int64(rl.Cost))
		}
	}
	if len(envelope.Data) == 0 {
		return c.gqlFailed(ctx, repos, envelope.Errors)
	}
	// Errors about one repository, or one field of it, send that part to REST.
	wholeRepo := map[int]bool{}
	fields := map[int]map[string]bool{}
	for _, e := range envelope.Errors {
		i, field, ok := errorTarget(e.Path, len(repos))
		switch {
		case !ok:
			continue // about rateLimit, or no repository's
		case field == "":
			wholeRepo[i] = true
		default:
			if fields[i] == nil {
				fields[i] = map[string]bool{}
			}
			fields[i][field] = true
		}
	}
	for i, r := range repos {
		raw := envelope.Data["r"+strconv.Itoa(i)]
		var d *gqlRepoData
		if wholeRepo[i] || len(raw) == 0 || json.Unmarshal(raw, &d) != nil || d == nil {
			continue // REST reads it whole (a repository GraphQL did not resolve: REST says why)
		}
		out[i] = c.gqlRepoFrom(r, d, fields[i])
	}
	return out, nil
}

// gqlFailed judges a query GitHub answered with errors and no data.
func (c *Connector) gqlFailed(ctx context.Context, repos []repoInfo, errs []gqlError) ([]*gqlRepo, error) {
	for _, e := range errs {
		switch {
		case e.Type == "RATE_LIMITED":
			_, _, reset := c.gqlRate.snapshot()
			why := "GitHub's GraphQL rate limit is spent"
			if !reset.IsZero() {
				why += " until " + reset.UTC().Format("15:04:05 MST")
			}
			c.gqlDisable(why)
			return make([]*gqlRepo, len(repos)), nil
		case e.Extensions["code"] != nil:
			// A query refused as invalid: this server's schema lacks a
			// field asked (an older GitHub Enterprise Server).
			c.gqlDisable("GitHub refused the query: " + audit.Printable(redactServerText(e.Message)))
			return make([]*gqlRepo, len(repos)), nil
		}
	}
	// MAX_NODE_LIMIT_EXCEEDED, a timeout, anything else: fewer at a time.
	return c.gqlSplit(ctx, repos)
}

// gqlSplit asks for repos as two queries of half as many; a single
// repository GitHub cannot answer for is read through REST.
func (c *Connector) gqlSplit(ctx context.Context, repos []repoInfo) ([]*gqlRepo, error) {
	if len(repos) == 1 {
		return []*gqlRepo{nil}, nil
	}
	half := len(repos) / 2
	a, err := c.gqlBatch(ctx, repos[:half])
	if err != nil {
		return nil, err
	}
	b, err := c.gqlBatch(ctx, repos[half:])
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// errorTarget is the repository (its alias's index) and the field of it
// an error's path names: ("r3", "collaborators", …) is 3, "collaborators";
// ("r3") is 3, "". ok is false for a path that names no repository.
func errorTarget(path []any, n int) (i int, field string, ok bool) {
	if len(path) == 0 {
		return 0, "", false
	}
	alias, _ := path[0].(string)
	idx, err := strconv.Atoi(strings.TrimPrefix(alias, "r"))
	if !strings.HasPrefix(alias, "r") || err != nil || idx < 0 || idx >= n {
		return 0, "", false
	}
	if len(path) > 1 {
		field, _ = path[1].(string)
		if field == "" {
			field = "?"
		}
	}
	return idx, field, true
}

// gqlRepoFrom keeps what d gave in full of repository r; refused names
// the fields GitHub answered with an error.
func (c *Connector) gqlRepoFrom(r repoInfo, d *gqlRepoData, refused map[string]bool) *gqlRepo {
	if refused["?"] {
		return nil
	}
	g := &gqlRepo{}
	if e := d.Environments; e != nil && !refused["environments"] {
		if whole, short := e.whole(len(e.Nodes)); whole {
			g.envsOK, g.envsWhole = true, short == 0
			for _, n := range e.Nodes {
				g.envs = append(g.envs, n.Name)
			}
			if short > 0 {
				g.gaps = append(g.gaps, c.gqlShort(r, "the environments", audit.KindGitHubActionsSecret, *e.TotalCount, len(e.Nodes)))
			}
		}
	}
	if rs := d.Rulesets; rs != nil && !refused["rulesets"] {
		if whole, short := rs.whole(len(rs.Nodes)); whole {
			g.rulesetsOK = true
			var gaps []audit.Gap
			if short > 0 {
				gaps = append(gaps, c.gqlShort(r, "the rulesets", "", *rs.TotalCount, len(rs.Nodes)))
			}
			for _, n := range rs.Nodes {
				var bypassWhole bool
				if n.BypassActors != nil {
					var short int
					if bypassWhole, short = n.BypassActors.whole(len(n.BypassActors.Nodes)); short > 0 {
						gaps = append(gaps, c.gqlShort(r, fmt.Sprintf("the actors who may bypass ruleset %q", n.Name), "", *n.BypassActors.TotalCount, len(n.BypassActors.Nodes)))
					}
				}
				if !bypassWhole {
					g.rulesetsOK, g.rulesets, gaps = false, nil, nil // REST reads them
					break
				}
				set := ruleset{Name: n.Name, Enforcement: strings.ToLower(n.Enforcement), Targeted: true}
				for _, a := range n.BypassActors.Nodes {
					switch {
					case a.DeployKey:
						set.DeployKeys = true
					case a.Actor != nil && a.Actor.Typename == "App" && a.Actor.DatabaseID != nil:
						set.Apps = append(set.Apps, strconv.FormatInt(*a.Actor.DatabaseID, 10))
					}
				}
				g.rulesets = append(g.rulesets, set)
			}
			g.gaps = append(g.gaps, gaps...)
		}
	}
	if cl := d.Collaborators; cl != nil && !refused["collaborators"] {
		if whole, short := cl.whole(len(cl.Edges)); whole {
			g.collabsOK = true
			if short > 0 {
				g.gaps = append(g.gaps, c.gqlShort(r, "the direct collaborators", "", *cl.TotalCount, len(cl.Edges)))
			}
			scope := c.repoScope(r.Name)
			for _, e := range cl.Edges {
				// RepositoryPermission: a custom role's base role, as REST's
				// permissions map gives it (collaboratorRole).
				switch role := strings.ToLower(e.Permission); role {
				case "admin", "maintain", "write":
					if e.Node != nil {
						g.collabs = append(g.collabs, audit.Principal{Type: audit.PrincipalCollaborator, Scope: scope, Login: e.Node.Login, Role: role})
					}
				}
			}
		}
	}
	if !refused["co0"] && !refused["co1"] && !refused["co2"] {
		g.codeOwners = c.gqlCodeOwners(r, []*gqlObject{d.Co0, d.Co1, d.Co2})
	}
	return g
}

// gqlCodeOwners is the CODEOWNERS in force among what GitHub found at
// each location, in GitHub's order: the first file. A directory (a Tree)
// or a submodule is no CODEOWNERS file; none at all is no owners. A file
// GraphQL truncated or calls binary is left to REST's raw read (nil).
func (c *Connector) gqlCodeOwners(r repoInfo, objs []*gqlObject) *codeOwnersEntry {
	for i, o := range objs {
		if o == nil || o.Typename != "Blob" {
			continue
		}
		if o.IsTruncated || o.Text == nil || (o.IsBinary != nil && *o.IsBinary) {
			return nil
		}
		return &codeOwnersEntry{Path: codeOwnersLocations[i], Principals: c.parseCodeOwners(r.Name, *o.Text)}
	}
	return &codeOwnersEntry{}
}

// gqlBatches reads repos through GraphQL a batch at a time, one batch
// ahead of the workers, and hands each repository with what GraphQL gave
// of it to send. Without GraphQL each goes with nothing.
func (c *Connector) gqlBatches(ctx context.Context, repos []repoInfo, send func(repoJob) bool) error {
	if !c.useGraphQL() {
		for _, r := range repos {
			if !send(repoJob{info: r}) {
				return nil
			}
		}
		return nil
	}
	type batch struct {
		jobs []repoJob
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 1)
	go func() {
		defer close(batches)
		size := batchSize()
		for lo := 0; lo < len(repos); lo += size {
			chunk := repos[lo:min(lo+size, len(repos))]
			gs, err := c.gqlBatch(ctx, chunk)
			b := batch{err: err}
			if err == nil {
				for i, r := range chunk {
					b.jobs = append(b.jobs, repoJob{info: r, gql: gs[i]})
				}
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range batches {
			// wait for the reader to stop
		}
	}()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		for _, j := range b.jobs {
			if !send(j) {
				return nil
			}
		}
	}
	return nil
}

// repoJob is a repository to read and what GraphQL gave of it (nil: none).
type repoJob struct {
	info repoInfo
	gql  *gqlRepo
}
