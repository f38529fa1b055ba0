package github

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// Context for ownership: who may own what. Never identities, and never a
// reason to stop the run: what cannot be read is a gap.

// parseMembers reads GET /orgs/{org}/members?role=<role>: role "admin"
// lists the owners, "member" the members who are not owners, each
// recorded with that role. Never role=all: it does not say who is an
// owner, and an owner a short owners' list left out would be recorded as
// a member.
func (c *Connector) parseMembers(role string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page []*github.User
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, m := range page {
			pd.Principals = append(pd.Principals, audit.Principal{
				Type: audit.PrincipalMember, Scope: c.org, Login: m.GetLogin(), Role: role,
			})
		}
		return len(page), nil
	}
}

// repoContext reads who may own the identities of a repository: teams
// with admin or maintain permission, direct collaborators with admin (and,
// for offboarding's could-read, with maintain or write: they can push a
// workflow that prints the repository's secrets), and the owners
// CODEOWNERS names. Each costs requests, so it is read only for
// repositories that hold an identity. g is what GraphQL gave (nil: nothing).
func (c *Connector) repoContext(ctx context.Context, u *unit, r repoInfo, g *gqlRepo) error {
	repo, scope := r.Name, c.repoScope(r.Name)
	teams := c.repoEP(repo, "teams", "teams", "", needRepoAdmin)
	if _, _, err := u.list(ctx, teams, func(body []byte, pd *pageData) (int, error) {
		var page []*github.Team
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, t := range page {
			if p := t.GetPermission(); p == "admin" || p == "maintain" {
				pd.Principals = append(pd.Principals, audit.Principal{
					Type: audit.PrincipalTeam, Scope: scope, Login: c.org + "/" + t.GetSlug(), Role: p,
				})
			}
		}
		return len(page), nil
	}); err != nil {
		return err
	}
	if err := c.collaborators(ctx, u, r, g); err != nil {
		return err
	}
	if g != nil && g.codeOwners != nil {
		c.keepCodeOwners(ctx, u, r, g.codeOwners)
	} else if err := c.codeOwners(ctx, u, r); err != nil {
		return err
	}
	return c.readTeamMembers(ctx, u, c.teamsOf(u.principals))
}

// collaborators records the repository's direct collaborators with
// admin, maintain or write, from GraphQL when it gave them in full.
func (c *Connector) collaborators(ctx context.Context, u *unit, r repoInfo, g *gqlRepo) error {
	if g != nil && g.collabsOK {
		return u.add(&pageData{Principals: g.collabs})
	}
	scope := c.repoScope(r.Name)
	collabs := c.repoEP(r.Name, "collaborators", "collaborators", "", needCollabs, "affiliation=direct")
	_, _, err := u.list(ctx, collabs, func(body []byte, pd *pageData) (int, error) {
		var page []*github.User
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, p := range page {
			if role := collaboratorRole(p); role != "" {
				pd.Principals = append(pd.Principals, audit.Principal{
					Type: audit.PrincipalCollaborator, Scope: scope, Login: p.GetLogin(), Role: role,
				})
			}
		}
		return len(page), nil
	})
	return err
}

// keepCodeOwners records the CODEOWNERS GraphQL read, and keeps it in the
// cache as REST's read would (valid while the repository's stamp is), so
// a later run through REST alone need not read it again.
func (c *Connector) keepCodeOwners(ctx context.Context, u *unit, r repoInfo, e *codeOwnersEntry) {
	if pc := u.cache; pc != nil && r.Stamp != "" {
		pc.load(ctx)
		pc.cur.Stamp, pc.cur.CodeOwners = r.Stamp, e
		pc.dirty = true
	}
	_ = u.add(&pageData{Principals: e.Principals})
}

// codeOwnersLocations are where GitHub looks for CODEOWNERS, in its order:
// the first found is the one in force.
var codeOwnersLocations = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// codeOwnersEntry is what the cache keeps of a repository's CODEOWNERS,
// valid while the repository's stamp (default branch and last push) is:
// no file can appear, change or go without a push, so an unchanged
// repository costs no request at all, even for the locations that 404.
type codeOwnersEntry struct {
	Path       string            `json:"path,omitempty"` // "" when there is none
	Principals []audit.Principal `json:"principals,omitempty"`
}

// codeOwners records every owner the repository's CODEOWNERS names, as
// principals of type codeowner: role "default" for owners of the catch-all
// rule ("*", "**" or "/**", the last one in the file, as GitHub applies
// them), "path" for owners of narrower rules only. Teams are "org/slug",
// users their login, and e-mail addresses are kept as they are. No file
// (404 at every location) is no owners, not a gap.
func (c *Connector) codeOwners(ctx context.Context, u *unit, r repoInfo) error {
	pc := u.cache
	if pc != nil && r.Stamp != "" {
		pc.load(ctx)
		if old := pc.old; old.Stamp == r.Stamp && old.CodeOwners != nil {
			for k, p := range old.Pages {
				if strings.Contains(k, "/contents/") {
					pc.keep(k, p)
				}
			}
			pc.cur.Stamp, pc.cur.CodeOwners = old.Stamp, old.CodeOwners
			return u.add(&pageData{Principals: old.CodeOwners.Principals})
		}
	}
	parse := func(body []byte, pd *pageData) (int, error) {
		text, err := codeOwnersText(body)
		if err != nil {
			return 0, err
		}
		pd.Principals = c.parseCodeOwners(r.Name, text)
		return 1, nil
	}
	entry := &codeOwnersEntry{}
	for _, path := range codeOwnersLocations {
		ep := c.repoEP(r.Name, "contents/"+path, "contents/"+path, "", needContents)
		ep.url = strings.TrimSuffix(ep.url, fmt.Sprintf("?per_page=%d", perPage))
		// The raw media type reads files of any size GitHub serves (the
		// JSON form leaves content empty above 1 MB).
		ep.accept = "application/vnd.github.raw+json"
		pd, resp, err := c.fetchPage(ctx, pc, ep, ep.url, parse)
		if errors.Is(err, errNotAFile) {
			continue // a directory called CODEOWNERS is no CODEOWNERS file
		}
		var bad *unreadable
		if errors.As(err, &bad) {
			u.unreadable(ep, 0, bad)
			return nil // a gap: "none" is not remembered
		}
		if err != nil {
			return err
		}
		if resp.status == http.StatusNotFound {
			continue
		}
		if resp.status != http.StatusOK && resp.status != http.StatusNotModified {
			return u.failed(ep, 0, resp) // a gap: "none" is not remembered
		}
		if err := u.add(&pd); err != nil {
			return err
		}
		entry = &codeOwnersEntry{Path: path, Principals: pd.Principals}
		break
	}
	if pc != nil && r.Stamp != "" {
		pc.cur.Stamp, pc.cur.CodeOwners = r.Stamp, entry
		pc.dirty = true
	}
	return nil
}

// errNotAFile is a CODEOWNERS path that is a directory (or a symlink or
// submodule): GitHub then ignores it.
var errNotAFile = errors.New("not a file")

// codeOwnersText is the file in an answer to the raw media type: the
// file itself, or, from a server that answers JSON anyway, the contents
// object (base64) or a directory listing (an array).
func codeOwnersText(body []byte) (string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') || !json.Valid(trimmed) {
		return string(body), nil
	}
	if trimmed[0] == '[' {
		return "", errNotAFile
	}
	var f github.RepositoryContent
	if err := json.Unmarshal(trimmed, &f); err != nil {
		return "", err
	}
	if t := f.GetType(); t != "" && t != "file" {
		return "", errNotAFile
	}
	if f.GetEncoding() == "none" {
		return "", fmt.Errorf("the file is too large for the JSON contents API (%d bytes) and the server ignored the raw media type", f.GetSize())
	}
	return f.GetContent()
}

// parseCodeOwners reads a CODEOWNERS file: one rule a line, a pattern then
// owners; '#' starts a comment.
func (c *Connector) parseCodeOwners(repo, text string) []audit.Principal {
	var (
		order []string
		rules = map[string]bool{} // owner -> owns the catch-all rule
		last  []string            // owners of the last catch-all rule
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] != '\\') {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var owners []string
		for _, o := range f[1:] {
			switch {
			case strings.HasPrefix(o, "@"):
				owners = append(owners, strings.ToLower(strings.TrimPrefix(o, "@")))
			case strings.Contains(o, "@"):
				owners = append(owners, strings.ToLower(o))
			}
		}
		for _, o := range owners {
			if _, seen := rules[o]; !seen {
				rules[o] = false
				order = append(order, o)
			}
		}
		if f[0] == "*" || f[0] == "**" || f[0] == "/**" {
			last = owners // a later catch-all replaces an earlier one
		}
	}
	for _, o := range last {
		rules[o] = true
	}
	scope := c.repoScope(repo)
	out := make([]audit.Principal, 0, len(order))
	for _, o := range order {
		role := "path"
		if rules[o] {
			role = "default"
		}
		out = append(out, audit.Principal{Type: audit.PrincipalCodeowner, Scope: scope, Login: o, Role: role})
	}
	return out
}

// collaboratorRole is the role of a direct collaborator that is recorded:
// admin, maintain or write, from role_name, or from the permissions map
// where it names a custom role or an older GitHub Enterprise Server sends
// none; "" for read and triage, which reach no secret.
func collaboratorRole(p *github.User) string {
	switch r := p.GetRoleName(); r {
	case "admin", "maintain", "write":
		return r
	case "read", "triage":
		return ""
	}
	// No role_name, or a custom repository role: its base permissions say.
	perms := p.GetPermissions()
	switch {
	case perms["admin"]:
		return "admin"
	case perms["maintain"]:
		return "maintain"
	case perms["push"]:
		return "write"
	}
	return ""
}
