package audit

import (
	"context"
	"fmt"
	"strings"
)

// principalIndex holds the context principals of some snapshots, by
// snapshot and scope, for owner suggestions.
type principalIndex map[int64]map[string][]Principal

func (s *Store) principalsOf(ctx context.Context, snapshotIDs map[int64]bool) (principalIndex, error) {
	idx := principalIndex{}
	for id := range snapshotIDs {
		rows, err := s.db.QueryContext(ctx, `SELECT type, scope, login, role FROM principals WHERE snapshot_id = ? ORDER BY type, scope, login`, id)
		if err != nil {
			return nil, fmt.Errorf("reading principals: %w", err)
		}
		byScope := map[string][]Principal{}
		for rows.Next() {
			var p Principal
			if err := rows.Scan(&p.Type, &p.Scope, &p.Login, &p.Role); err != nil {
				rows.Close()
				return nil, err
			}
			byScope[p.Scope] = append(byScope[p.Scope], p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		idx[id] = byScope
	}
	return idx, nil
}

// naturalOwnerSources says, per attribute, what the source means by it.
var naturalOwnerSources = []struct{ attr, source string }{
	{"owner", "owns the token"},
	{"login", "authorised the credential"},
	{"added_by", "added the key"},
	{"installed_by", "installed the App"},
}

// ownerTags are the resource tags (AWS) that usually name who answers
// for an identity, most direct first.
var ownerTags = []string{"Owner", "owner", "team", "CreatedBy"}

// suggestOwners lists likely owners of id, most direct first: who the
// source says holds it, then CODEOWNERS, admin teams and admins of its
// repository, then the organisation's owners for org-wide identities.
func (idx principalIndex) suggestOwners(id *Identity) []OwnerSuggestion {
	var out []OwnerSuggestion
	seen := map[string]bool{}
	add := func(owner, source string) {
		key := strings.ToLower(strings.TrimPrefix(owner, "@"))
		if owner == "" || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, OwnerSuggestion{Owner: owner, Source: source})
	}
	for _, n := range naturalOwnerSources {
		add(id.Attributes[n.attr], n.source)
	}
	for _, tag := range ownerTags {
		add(id.Attributes["tag."+tag], "tag "+tag)
		if u := id.Attributes["user"]; u != "" {
			add(id.Attributes["user_tag."+tag], "tag "+tag+" of user "+u)
		}
	}
	byScope := idx[id.SnapshotID]
	repo := repoScope(id.Scope)
	if repo != "" {
		for _, p := range byScope[repo] {
			if p.Type == PrincipalCodeowner {
				add(p.Login, "CODEOWNERS of "+repo)
			}
		}
		for _, p := range byScope[repo] {
			if p.Type == PrincipalTeam && (p.Role == "admin" || p.Role == "maintain") {
				add("@"+strings.TrimPrefix(p.Login, "@"), p.Role+" team of "+repo)
			}
		}
		for _, p := range byScope[repo] {
			if p.Type == PrincipalCollaborator && p.Role == "admin" {
				add(p.Login, "admin of "+repo)
			}
		}
	}
	if repo == "" && len(out) == 0 {
		org := id.Scope
		n := 0
		for _, p := range byScope[org] {
			if p.Type == PrincipalMember && p.Role == "admin" && n < 3 {
				add(p.Login, "owner of the organisation "+org)
				n++
			}
		}
	}
	return out
}

// repoScope is the "org/repo" part of a scope, or "" for an org-wide one.
func repoScope(scope string) string {
	parts := strings.SplitN(scope, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}
