package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Bare arrays GitHub sends without a count (the organisation's member
// list, a team's) are held against the count its GraphQL API gives of the
// same people, one query each (docs/github.md, "Lists that say how many
// they hold").

// notCounting is gqlCount's why when GraphQL is not used this run
// (--rest-only, or turned off): nothing was asked, so nothing is said.
const notCounting = "GraphQL is not used this run"

// gqlCount asks query (which asks rateLimit { cost } and one connection's
// totalCount) and returns the count found at path below data, the fields
// leading to the connection. why is "" when it counted; else why not, in
// words for a note (missing: what to say when the path leads nowhere), or
// notCounting. Only a rejected token or a cancelled run is an error.
func (c *Connector) gqlCount(ctx context.Context, query string, vars map[string]any, missing string, path ...string) (total int, why string, err error) {
	if !c.useGraphQL() {
		return 0, notCounting, nil
	}
	ep := endpoint{method: http.MethodPost, path: "/graphql", graphql: true, spare: true, body: gqlRequest{Query: query, Variables: vars}}
	resp, err := c.do(ctx, ep, http.MethodPost, c.gqlURL(), "", false)
	switch {
	case ctx.Err() != nil:
		return 0, "", ctx.Err()
	case errors.Is(err, ErrBadCredentials):
		return 0, "", err
	case err != nil:
		return 0, strings.TrimPrefix(err.Error(), "github: "), nil
	case resp.status != http.StatusOK:
		return 0, fmt.Sprintf("GitHub answered %d %s to POST /graphql", resp.status, resp.message()), nil
	}
	c.stats.gqlQueries.Add(1)
	var answer struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []gqlError                 `json:"errors"`
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil {
		return 0, "its answer could not be read", nil
	}
	var rl struct {
		Cost int `json:"cost"`
	}
	if raw, ok := answer.Data["rateLimit"]; ok && json.Unmarshal(raw, &rl) == nil {
		c.stats.gqlPoints.Add(int64(rl.Cost))
	}
	if len(answer.Errors) > 0 {
		return 0, "it answered " + audit.Printable(redactServerText(answer.Errors[0].Message)), nil
	}
	at := answer.Data
	for _, f := range path {
		var next map[string]json.RawMessage
		if raw, ok := at[f]; !ok || json.Unmarshal(raw, &next) != nil || next == nil {
			return 0, missing, nil
		}
		at = next
	}
	var n *int
	if raw, ok := at["totalCount"]; !ok || json.Unmarshal(raw, &n) != nil || n == nil || *n < 0 {
		return 0, missing, nil
	}
	return *n, "", nil
}

// memberCountQuery asks how many members GitHub counts in the
// organisation, owners included, as GET /orgs/{org}/members lists them
// (OrganizationMemberConnection.totalCount is Int!), and what the query
// cost. One member is asked because GitHub wants first or last on a
// connection.
const memberCountQuery = `query NhiMemberCount($org: String!) {
  rateLimit { cost }
  organization(login: $org) { membersWithRole(first: 1) { totalCount } }
}`

// checkMemberCount holds the organisation's member list, read in u as
// owners (role=admin) and the other members (role=member), against the
// count GitHub's GraphQL API gives: fewer logins than that is a gap of the
// organisation, saying both numbers. A member left out of both lists has
// no role on record — an owner cut from the owners' list is never
// recorded as a member — and the gap says the list was not read whole.
// Without a count (REST alone, or GraphQL refused) the lists are taken as
// far as their Link headers go, and a refusal is said once.
func (c *Connector) checkMemberCount(ctx context.Context, u *unit, ep endpoint) error {
	got := map[string]bool{}
	for _, p := range u.principals {
		if p.Type == audit.PrincipalMember && p.Scope == c.org {
			got[strings.ToLower(p.Login)] = true
		}
	}
	total, why, err := c.gqlCount(ctx, memberCountQuery, map[string]any{"org": c.org}, "it did not show the organization's members", "organization", "membersWithRole")
	switch {
	case err != nil:
		return err
	case why == notCounting:
	case why != "":
		c.noteOnce("organization member list: GitHub's GraphQL API did not count the members (" + why + "), so the owners' and members' lists (GET /orgs/" + c.org + "/members) were taken as far as their Link headers go, without a count to hold them against")
	case len(got) < total:
		u.gap(audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: http.StatusOK, Reason: fmt.Sprintf(
			"GitHub's GraphQL API counts %s of %s (organization.membersWithRole totalCount), but its owners' and members' lists (role=admin, role=member) gave %d, so they were not read whole: whoever they left out, an owner perhaps, is on record neither as owner nor as member; run again, and tell GitHub Support if it stays",
			audit.Counted(total, "member", "members"), c.org, len(got))})
	}
	return nil
}
