package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// The people of an organisation, for `nhi people sync github`
// (docs/people.md): its members from the REST API, and, through GraphQL,
// what GitHub shows of each — their role (owner or member), public name and
// e-mail, their e-mails on the organisation's verified domains and, on
// GitHub Enterprise Cloud with SAML single sign-on, the SAML identity
// (NameID and e-mails) linked to their login. This is no snapshot: it
// records no identity; the command turns it into person.set events.

// OrgMember is one member of the organisation as GitHub shows them to
// the credential.
type OrgMember struct {
	Login string
	// Role is what GitHub's GraphQL API says of them (membersWithRole's
	// edge role): "admin" (an owner) or "member"; "" when it said nothing
	// of them (the query refused, a page it left out, a role it gave as
	// null: Unread says which), never "member" for want of it.
	Role           string
	Name           string // public profile name
	Email          string // public profile e-mail
	VerifiedEmails []string
	SAMLNameID     string
	SAMLEmails     []string
}

// OrgPeople is what ReadPeople read, and what it could not.
type OrgPeople struct {
	Org     string
	Members []OrgMember // by login
	// Complete: the member list was read in full, so a login not in it is
	// not a member. A refused list claims nothing, nor does one with fewer
	// logins than GitHub's GraphQL API counts members, or without one
	// GraphQL shows (ReadPeople).
	Complete bool
	// Uncounted, when not "", says why a member list read in full as far
	// as its Link headers go could not be held against a count (the
	// profiles query was refused, or gave none): a list cut short would
	// look whole (checkMembers). Complete stays true; what to claim from
	// it is the caller's to decide (nhi people sync github claims no
	// leaver from it unless told to: docs/people.md).
	Uncounted string
	// SAML: "read" (the organisation's SAML identities were read), "none"
	// (it has no SAML identity provider) or "" (not read: see Unread).
	SAML string
	// Unread says, once each, what could not be read and why.
	Unread   []string
	Requests int
}

// Queries sent to GitHub's GraphQL API (schema: docs.github.com/graphql;
// ExternalIdentitySamlAttributes.emails is [UserEmailMetadata!]; each
// connection's totalCount is Int!).
const (
	membersQuery = `query NhiMembers($org: String!, $after: String) {
  organization(login: $org) {
    membersWithRole(first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { role node { login name email organizationVerifiedDomainEmails(login: $org) } }
    }
  }
}`
	samlQuery = `query NhiSAMLIdentities($org: String!, $after: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { samlIdentity { nameId emails { value } } user { login } }
      }
    }
  }
}`
)

// ReadPeople reads the organisation's members: GET /orgs/{org}/members,
// then their roles, profiles and SAML identities through GraphQL. A refused or unreadable part is said in
// Unread, never read as nobody; only a rejected token, a missing
// organisation or a server that stops answering is an error.
//
// The member list is a bare array GitHub does not count, so a list that
// ends early reads as whole; the profiles query's totalCount is the count
// it is held against (checkMembers), and so are the logins that query
// shows (docs/people.md).
//
// Who owns the organisation is the role on each of that connection's
// edges, which it counts: REST's owners' list (role=admin) is a bare
// array too, and an owner a page of it left out would read as a member.
func (c *Connector) ReadPeople(ctx context.Context) (*OrgPeople, error) {
	if err := c.readOrg(ctx); err != nil {
		return nil, err
	}
	out := &OrgPeople{Org: c.org, Complete: true}
	byLogin := map[string]*OrgMember{}
	var order []string
	{
		// role=all, everyone: who of them owns the organisation is
		// GraphQL's to say (readProfiles), never an owners' list's.
		ep := c.orgEP("members", "", needMembers, "role=all")
		u := c.newUnit("")
		logins, ok, err := u.list(ctx, ep, func(body []byte, pd *pageData) (int, error) {
			var page []*github.User
			if err := unmarshal(body, &page); err != nil {
				return 0, err
			}
			for _, m := range page {
				// login, name, e-mail: the list's simple-user may carry
				// the public name and e-mail; GitHub usually leaves them out.
				pd.Names = append(pd.Names, m.GetLogin(), m.GetName(), m.GetEmail())
			}
			return len(page), nil
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			out.Complete = false
			for _, g := range u.gaps {
				out.Unread = append(out.Unread, fmt.Sprintf("%s: %s", g.Endpoint, g.Reason))
			}
		}
		for i := 0; ok && i+2 < len(logins); i += 3 {
			login := logins[i]
			key := strings.ToLower(login)
			m := byLogin[key]
			if m == nil {
				m = &OrgMember{Login: login}
				byLogin[key] = m
				order = append(order, key)
			}
			m.Name = keepFirst(m.Name, logins[i+1])
			m.Email = keepFirst(m.Email, logins[i+2])
		}
	}
	prof, err := c.readProfiles(ctx, out, byLogin)
	if err != nil {
		return nil, err
	}
	if out.Complete {
		c.checkMembers(out, byLogin, prof)
	}
	if err := c.readSAML(ctx, out, byLogin); err != nil {
		return nil, err
	}
	slices.Sort(order)
	for _, k := range order {
		out.Members = append(out.Members, *byLogin[k])
	}
	out.Requests = int(c.stats.requests.Load())
	return out, nil
}

func keepFirst(old, v string) string {
	if old != "" {
		return old
	}
	return strings.TrimSpace(v)
}

// checkMembers holds the member list, read whole as far as its Link
// headers go, against what GitHub's GraphQL API said of the members: a
// list with fewer logins than the most any page of membersWithRole
// counted, or without a login it showed, was not read whole (a proxy, a
// GitHub fault, a page cut short while the Link chain still ended), and
// an unseen member is not a leaver. A member who joined between the two
// reads makes the list look short too: nobody is said to have left this
// time, and the next sync has them. One who left between them makes it
// longer than the count, which claims nothing.
//
// A list that could be held against no count (the profiles query refused,
// or counting nothing) is still read whole as far as its Link headers go,
// and Uncounted says why it was not counted.
func (c *Connector) checkMembers(out *OrgPeople, byLogin map[string]*OrgMember, prof profilesRead) {
	ep := "GET /orgs/" + c.org + "/members"
	switch n := len(prof.unlisted); {
	case prof.total != nil && len(byLogin) < *prof.total:
		out.Complete = false
		out.Unread = append(out.Unread, fmt.Sprintf("%s: GitHub's GraphQL API counts %s (organization.membersWithRole totalCount), but the member list gave %d, so it was not read whole; run again, and tell GitHub Support if it stays",
			ep, audit.Counted(*prof.total, "member", "members"), len(byLogin)))
	case n > 0:
		out.Complete = false
		names := prof.unlisted
		more := ""
		if n > 5 {
			names, more = names[:5], fmt.Sprintf(" and %d more", n-5)
		}
		out.Unread = append(out.Unread, fmt.Sprintf("%s: GitHub's GraphQL API shows %s the member list did not give (%s%s), so it was not read whole; run again (a member who joined while it was read is in it next time), and tell GitHub Support if it stays",
			ep, audit.Counted(n, "member", "members"), audit.Printable(strings.Join(names, ", ")), more))
	case prof.total == nil:
		out.Uncounted = prof.noCount
	}
}

// profilesRead is what the profiles query said of the members besides
// their profiles: the most any page counted (nil when none was read) and
// the logins it showed that the member list did not.
type profilesRead struct {
	total    *int
	unlisted []string
	noCount  string // why total is nil
}

// readProfiles reads each member's role, public name and e-mail and their
// e-mails on the organisation's verified domains (membersWithRole). A
// connection that ends with fewer members than it counts leaves the roles
// and profiles of some unread: they are synced with what the member list
// shows of them, no role said, and Unread says so; so does a role GitHub
// gives as null.
func (c *Connector) readProfiles(ctx context.Context, out *OrgPeople, byLogin map[string]*OrgMember) (profilesRead, error) {
	var res profilesRead
	before := len(out.Unread)
	var page struct {
		Organization *struct {
			MembersWithRole struct {
				gqlConnection
				Edges []struct {
					Role *string `json:"role"` // OrganizationMemberRole: ADMIN, MEMBER; nullable
					Node *struct {
						Login    string   `json:"login"`
						Name     *string  `json:"name"`
						Email    *string  `json:"email"`
						Verified []string `json:"organizationVerifiedDomainEmails"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"membersWithRole"`
		} `json:"organization"`
	}
	var noRole []string
	read, err := c.gqlPages(ctx, "members' roles, names and e-mails", membersQuery, &page, out, func() (gqlConnection, int, error) {
		if page.Organization == nil {
			return gqlConnection{}, 0, c.notFound()
		}
		got := 0
		for _, e := range page.Organization.MembersWithRole.Edges {
			n := e.Node
			if n == nil {
				continue // no account given: not read, and short of the count
			}
			got++
			m := byLogin[strings.ToLower(n.Login)]
			if m == nil {
				// Left out of the member list, or joined since it was
				// read (checkMembers): the next sync has them.
				res.unlisted = append(res.unlisted, n.Login)
				continue
			}
			if n.Name != nil {
				m.Name = strings.TrimSpace(*n.Name)
			}
			if n.Email != nil {
				m.Email = keepFirst(strings.TrimSpace(*n.Email), m.Email)
			}
			m.VerifiedEmails = n.Verified
			switch {
			case e.Role != nil && *e.Role == "ADMIN":
				m.Role = "admin"
			case e.Role != nil && *e.Role == "MEMBER":
				m.Role = "member"
			default:
				noRole = append(noRole, n.Login)
			}
		}
		return page.Organization.MembersWithRole.gqlConnection, got, nil
	})
	if err != nil {
		return res, err
	}
	res.total = read.total
	switch {
	case read.total != nil:
	case len(out.Unread) > before:
		res.noCount = "GitHub's GraphQL API, which counts the members (organization.membersWithRole totalCount), did not answer (see Not read: members' roles, names and e-mails)"
	default:
		res.noCount = "GitHub's GraphQL API answered without a count of the members (organization.membersWithRole totalCount)"
	}
	if short, ok := read.short(); ok {
		out.Unread = append(out.Unread, fmt.Sprintf("members' roles, names and e-mails: GitHub's GraphQL API counted %s (totalCount), but gave %d, so the roles, names and e-mails of %s were not read: they are synced with what the member list shows of them (one it shows no e-mail for is not added), whether they own the organisation not said; run again, and tell GitHub Support if it stays",
			audit.Counted(*read.total, "member", "members"), read.got, audit.Counted(short, "member", "members")))
	}
	if n := len(noRole); n > 0 {
		names, more := noRole, ""
		if n > 5 {
			names, more = names[:5], fmt.Sprintf(" and %d more", n-5)
		}
		out.Unread = append(out.Unread, fmt.Sprintf("members' roles: GitHub's GraphQL API gave no role (ADMIN or MEMBER) for %s (%s%s), so whether they own the organisation is not said; run again, and tell GitHub Support if it stays",
			audit.Counted(n, "member", "members"), audit.Printable(strings.Join(names, ", ")), more))
	}
	return res, nil
}

// readSAML reads the SAML identities linked to members' logins, where the
// organisation has SAML single sign-on (GitHub Enterprise Cloud).
func (c *Connector) readSAML(ctx context.Context, out *OrgPeople, byLogin map[string]*OrgMember) error {
	if c.enterprise() {
		out.Unread = append(out.Unread, "SAML identities: GitHub Enterprise Server keeps SAML at the instance, not the organisation; none were read")
		return nil
	}
	var page struct {
		Organization *struct {
			SAML *struct {
				External struct {
					gqlConnection
					Nodes []struct {
						SAML *struct {
							NameID string `json:"nameId"`
							Emails []struct {
								Value string `json:"value"`
							} `json:"emails"`
						} `json:"samlIdentity"`
						User *struct {
							Login string `json:"login"`
						} `json:"user"`
					} `json:"nodes"`
				} `json:"externalIdentities"`
			} `json:"samlIdentityProvider"`
		} `json:"organization"`
	}
	none := false
	before := len(out.Unread)
	read, err := c.gqlPages(ctx, "SAML identities", samlQuery, &page, out, func() (gqlConnection, int, error) {
		if page.Organization == nil {
			return gqlConnection{}, 0, c.notFound()
		}
		if page.Organization.SAML == nil {
			none = true
			return gqlConnection{}, 0, nil
		}
		for _, n := range page.Organization.SAML.External.Nodes {
			if n.User == nil || n.SAML == nil {
				continue // an identity not linked to an account yet
			}
			m := byLogin[strings.ToLower(n.User.Login)]
			if m == nil {
				continue
			}
			m.SAMLNameID = strings.TrimSpace(n.SAML.NameID)
			for _, e := range n.SAML.Emails {
				if v := strings.TrimSpace(e.Value); v != "" {
					m.SAMLEmails = append(m.SAMLEmails, v)
				}
			}
		}
		return page.Organization.SAML.External.gqlConnection, len(page.Organization.SAML.External.Nodes), nil
	})
	if err != nil {
		return err
	}
	if short, ok := read.short(); ok && !none {
		// What came is used; a member whose identity did not come is
		// matched by their login and other e-mails, as without SAML.
		out.Unread = append(out.Unread, fmt.Sprintf("SAML identities: GitHub's GraphQL API counted %d (totalCount), but gave %d, so %s not read: the members they belong to are synced without their SAML NameID and e-mails, matched by their login and other e-mails (one with no other e-mail is not added), and a later sync links them; run again, and tell GitHub Support if it stays",
			*read.total, read.got, audit.Counted(short, "identity was", "identities were")))
	}
	switch {
	case len(out.Unread) > before:
		return nil
	case none:
		out.SAML = "none"
		out.Unread = append(out.Unread, "SAML identities: the organisation has no SAML single sign-on (it needs GitHub Enterprise Cloud), so none were read; members were synced without them")
	default:
		out.SAML = "read"
	}
	return nil
}

type gqlPageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// gqlRead is what gqlPages read of a connection: the most any page's
// totalCount said (nil when no page said one), how many items its pages
// gave, and whether it was read to its last page.
type gqlRead struct {
	total *int
	got   int
	ended bool
}

// short is how many fewer items than it counted a connection read to its
// last page gave; ok is false when it gave all (or more), was not read to
// the end (Unread says why) or said no count.
func (r gqlRead) short() (n int, ok bool) {
	if !r.ended || r.total == nil || r.got >= *r.total {
		return 0, false
	}
	return *r.total - r.got, true
}

// gqlPages sends query page by page: each answer's data is decoded into
// data, then use reads it and says where the next page starts, what the
// connection counts and how many items the page gave. A refusal (an HTTP
// 403 or 404, or GraphQL errors) is said in out.Unread as what could not
// be read, and ends the paging; what earlier pages gave is kept. The
// count is the most any page said: a connection that lost items while it
// was paged counts fewer on its later pages (as list.go's total_count).
func (c *Connector) gqlPages(ctx context.Context, what, query string, data any, out *OrgPeople, use func() (gqlConnection, int, error)) (gqlRead, error) {
	var read gqlRead
	url := "graphql"
	if c.enterprise() {
		url = "../graphql" // GitHub Enterprise Server: /api/graphql beside /api/v3/
	}
	var after any
	for pages := 0; ; pages++ {
		ep := endpoint{method: http.MethodPost, path: "/graphql", graphql: true, body: gqlRequest{Query: query, Variables: map[string]any{"org": c.org, "after": after}}}
		resp, err := c.do(ctx, ep, http.MethodPost, url, "", false)
		if err != nil {
			return read, err
		}
		partial := ""
		if pages > 0 {
			partial = fmt.Sprintf(" (after %d page(s))", pages)
		}
		if resp.status != http.StatusOK {
			reason := fmt.Sprintf("%s: not read%s: GitHub answered %d %s to POST /graphql", what, partial, resp.status, resp.message())
			if resp.header.Get("X-GitHub-SSO") != "" {
				reason += "; authorize the token for the organization's SAML single sign-on"
			}
			out.Unread = append(out.Unread, reason)
			return read, nil
		}
		var envelope struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(resp.body, &envelope); err != nil {
			out.Unread = append(out.Unread, fmt.Sprintf("%s: not read%s: GitHub's answer to POST /graphql is not GraphQL's JSON (%v)", what, partial, err))
			return read, nil
		}
		if len(envelope.Errors) > 0 {
			var msgs []string
			for _, e := range envelope.Errors {
				m := redactServerText(e.Message)
				if e.Type != "" {
					m = e.Type + ": " + m
				}
				msgs = append(msgs, m)
			}
			out.Unread = append(out.Unread, fmt.Sprintf("%s: not read%s: GitHub's GraphQL API answered %s", what, partial, audit.Printable(strings.Join(msgs, "; "))))
			return read, nil
		}
		if err := json.Unmarshal(envelope.Data, data); err != nil {
			out.Unread = append(out.Unread, fmt.Sprintf("%s: not read%s: GitHub's answer could not be read (%v)", what, partial, err))
			return read, nil
		}
		cn, got, err := use()
		if err != nil {
			return read, err
		}
		if t := cn.TotalCount; t != nil && *t >= 0 && (read.total == nil || *t > *read.total) {
			read.total = t
		}
		read.got += got
		if !cn.PageInfo.HasNextPage {
			read.ended = true
			return read, nil
		}
		if cn.PageInfo.EndCursor == "" {
			out.Unread = append(out.Unread, fmt.Sprintf("%s: not read whole: GitHub's GraphQL API said page %d has a next page and gave no cursor to it", what, pages+1))
			return read, nil
		}
		after = cn.PageInfo.EndCursor
	}
}
