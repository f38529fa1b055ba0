package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// Team members, for the separation-of-duties rule team-owner
// (docs/people.md): a reviewer may not decide an identity a team they
// belong to owns. Only the teams that may own something are read — those
// with admin or maintain on a repository holding an identity, those its
// CODEOWNERS names, and those the evidence file records as owners
// (Options.OwnerTeams) — one request per team and 100 members, each team
// once a run.

// needTeamMembers: what a refused team member list usually lacks (a
// secret team is visible to its members and the organisation's owners only).
const needTeamMembers = "needs an organization owner's token, or a member of the team (classic token scope read:org; GitHub App organization permission \"Members: read\")"

// teamSlug is the slug of team ("org/slug", "@org/slug") when it is a team
// of the organisation, else "".
func (c *Connector) teamSlug(team string) string {
	org, slug, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(team), "@"), "/")
	if !ok || !strings.EqualFold(org, c.org) || slug == "" || strings.Contains(slug, "/") {
		return ""
	}
	return strings.ToLower(slug)
}

// claimTeam reports whether this run has not read slug's members yet, and
// claims it.
func (c *Connector) claimTeam(slug string) bool {
	c.teamsMu.Lock()
	defer c.teamsMu.Unlock()
	if c.teamsRead == nil {
		c.teamsRead = map[string]bool{}
	}
	if c.teamsRead[slug] {
		return false
	}
	c.teamsRead[slug] = true
	return true
}

// teamRef is a team whose members to read; codeOwnersOnly when only a
// CODEOWNERS file names it.
type teamRef struct {
	slug           string
	codeOwnersOnly bool
}

// teamsOf are the organisation's teams among the principals a repository
// gave: its admin and maintain teams, the teams its CODEOWNERS names.
func (c *Connector) teamsOf(principals []audit.Principal) []teamRef {
	var out []teamRef
	at := map[string]int{}
	for _, p := range principals {
		if p.Type != audit.PrincipalTeam && p.Type != audit.PrincipalCodeowner {
			continue
		}
		slug := c.teamSlug(p.Login)
		if slug == "" {
			continue
		}
		if i, ok := at[slug]; ok {
			out[i].codeOwnersOnly = out[i].codeOwnersOnly && p.Type == audit.PrincipalCodeowner
			continue
		}
		at[slug] = len(out)
		out = append(out, teamRef{slug: slug, codeOwnersOnly: p.Type == audit.PrincipalCodeowner})
	}
	return out
}

// teamCountQuery asks how many members GitHub counts in a team: with its
// child teams' members, as the REST list gives them (membership ALL, the
// default; TeamMemberConnection.totalCount is Int!), and what the query
// cost. One member is asked because GitHub wants first or last on a
// connection.
const teamCountQuery = `query NhiTeamCount($org: String!, $slug: String!) {
  rateLimit { cost }
  organization(login: $org) { team(slug: $slug) { members(first: 1) { totalCount } } }
}`

// readTeamMembers records the members of each team not read yet this run
// as principals of type team_member (scope "org/slug"). A refused list is
// a gap of the organisation naming the team, and the run goes on; a team
// only CODEOWNERS names that GitHub says does not exist (404) is a note:
// CODEOWNERS may name a team that is gone, which GitHub then ignores.
//
// The list is a bare array GitHub does not count, so it is held against
// the count GitHub's GraphQL API gives (teamCount): fewer members than
// that is a gap too, the members that came recorded, as a wrapped list
// short of its total_count is (docs/github.md).
func (c *Connector) readTeamMembers(ctx context.Context, u *unit, teams []teamRef) error {
	for _, t := range teams {
		if !c.claimTeam(t.slug) {
			continue
		}
		team := c.org + "/" + t.slug
		ep := c.orgEP("teams/"+pathEscape(t.slug)+"/members", "", needTeamMembers)
		ep.path = "/orgs/" + c.org + "/teams/" + t.slug + "/members"
		gaps, first := len(u.gaps), len(u.principals)
		_, ok, err := u.list(ctx, ep, func(body []byte, pd *pageData) (int, error) {
			var page []*github.User
			if err := unmarshal(body, &page); err != nil {
				return 0, err
			}
			for _, m := range page {
				pd.Principals = append(pd.Principals, audit.Principal{Type: audit.PrincipalTeamMember, Scope: team, Login: m.GetLogin(), Role: "member"})
			}
			return len(page), nil
		})
		if err != nil {
			return err
		}
		if ok {
			// Counted from the principals, which a page replayed from
			// the request cache gives as a fresh one does.
			got := map[string]bool{}
			for _, p := range u.principals[first:] {
				if p.Type == audit.PrincipalTeamMember && p.Scope == team {
					got[strings.ToLower(p.Login)] = true
				}
			}
			total, counted, err := c.teamCount(ctx, t.slug)
			if err != nil {
				return err
			}
			if counted && len(got) < total {
				u.gap(audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: http.StatusOK, Reason: fmt.Sprintf(
					"GitHub's GraphQL API counts %s of team @%s (Team.members totalCount), but its member list gave %d, so it was not read whole; run again, and tell GitHub Support if it stays",
					audit.Counted(total, "member", "members"), team, len(got))})
			}
		}
		if !ok && t.codeOwnersOnly && len(u.gaps) == gaps+1 && u.gaps[gaps].Status == http.StatusNotFound && !strings.Contains(u.gaps[gaps].Reason, onlyTheFirst) {
			u.gaps = u.gaps[:gaps]
			c.noteOnce(fmt.Sprintf("CODEOWNERS names @%s, which GitHub does not show (404): no such team, or a secret team this credential cannot see; it has no members on record", team))
		}
	}
	return nil
}

// teamCount is how many members GitHub's GraphQL API counts in team slug;
// counted is false when it gave no count (GraphQL not used this run, the
// query refused or unanswered, the team not shown), and the list is taken
// as far as its Link headers go, and the run says so once. Only a rejected token or a cancelled run is an error.
func (c *Connector) teamCount(ctx context.Context, slug string) (total int, counted bool, err error) {
	total, why, err := c.gqlCount(ctx, teamCountQuery, map[string]any{"org": c.org, "slug": slug}, "it did not show the team", "organization", "team", "members")
	if err != nil || why == "" {
		return total, err == nil && why == "", err
	}
	if why != notCounting {
		c.noteOnce("team member lists: GitHub's GraphQL API did not count a team's members (" + why + "), so a team's member list was taken as far as its Link headers go, without a count to hold it against")
	}
	return 0, false, nil
}
