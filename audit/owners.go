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
// source says holds it, its owner tags (a person of the directory when
// one names the value), a person of the directory whose alias is the
// identity's IAM user or role name, then CODEOWNERS, admin teams and
// admins of its repository, then the organisation's owners for org-wide
// identities. people may be nil (no directory).
func (idx principalIndex) suggestOwners(id *Identity, people *Directory) []OwnerSuggestion {
	var out []OwnerSuggestion
	seen := map[string]bool{}
	add := func(owner, source string) {
		key := strings.ToLower(strings.TrimPrefix(owner, "@"))
		if owner == "" || seen[key] {
			return
		}
		seen[key] = true
		// Its own copy: an owner named in an attribute shares the memory
		// of the whole row the table read got (tableread.go), which a
		// suggestion kept (the TUI keeps them) would keep.
		out = append(out, OwnerSuggestion{Owner: strings.Clone(owner), Source: source})
	}
	for _, n := range naturalOwnerSources {
		add(id.Attributes[n.attr], n.source)
	}
	// A tag's value as a person of the directory: their e-mail, saying
	// which tag named them and as what.
	tagged := func(value, source string) {
		if p := people.Lookup(principalName(value)); p != nil {
			add(p.Email, fmt.Sprintf("%s (%s): %s in the directory of people%s", source, value, p.Display(), left(p)))
			return
		}
		add(value, source)
	}
	for _, tag := range ownerTags {
		if v := id.Attributes["tag."+tag]; v != "" {
			tagged(v, "tag "+tag)
		}
		if u := id.Attributes["user"]; u != "" {
			if v := id.Attributes["user_tag."+tag]; v != "" {
				tagged(v, "tag "+tag+" of user "+u)
			}
		}
	}
	if p := people.personNamed(id); p != nil {
		what := map[Kind]string{KindAWSIAMUser: "IAM user name", KindAWSIAMRole: "IAM role name", KindAWSAccessKey: "its IAM user"}[id.Kind]
		add(p.Email, fmt.Sprintf("%s %s: %s in the directory of people%s", what, ownName(id), p.Display(), left(p)))
	}
	if isK8s(id.Kind) {
		k8sSuggestions(&id.Observation, add)
		return out // a namespace is no repository: no CODEOWNERS, teams or admins
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

// repoScope is the "org/repo" part of a scope, or "" for an org-wide one:
// scope itself up to its second slash.
func repoScope(scope string) string {
	first := strings.IndexByte(scope, '/')
	if first < 0 {
		return ""
	}
	if second := strings.IndexByte(scope[first+1:], '/'); second >= 0 {
		return scope[:first+1+second]
	}
	return scope
}

// suggestsByScope reports whether suggestOwners can suggest anyone for
// id when its attributes name nobody (namesOwner) and no person of the
// directory goes by its name: then all it has to go by is its scope, in
// principals recorded for the scope's repository (or for the scope
// itself when it names no repository) or, on Kubernetes, its namespace's
// labels. A snapshot's principals cover a few scopes, so for most
// identities of a large population this is one look-up in a small map
// and no list to find or keep (derivation.fill).
func (idx principalIndex) suggestsByScope(id *Identity) bool {
	if isK8s(id.Kind) {
		return true
	}
	key := repoScope(id.Scope)
	if key == "" {
		key = id.Scope
	}
	return len(idx[id.SnapshotID][key]) > 0
}

// principalName is the person a tag value may name: the value itself, or
// the last part of an IAM ARN ("arn:aws:iam::1:user/dana" is dana; an
// assumed-role ARN ends with the session name, often an e-mail).
func principalName(value string) string {
	if strings.HasPrefix(value, "arn:") {
		if i := strings.LastIndexByte(value, '/'); i >= 0 {
			return value[i+1:]
		}
	}
	return value
}

// ownName is the name an AWS identity goes by that a person may: an IAM
// user's (for a key, its user's), or a role's; "" for other kinds.
func ownName(id *Identity) string {
	switch id.Kind {
	case KindAWSIAMUser, KindAWSIAMRole:
		return id.Name
	case KindAWSAccessKey:
		return id.Attributes["user"]
	}
	return ""
}

// personNamed is the person of the directory whose alias is id's IAM user
// or role name (dana, dana@acme.com), or nil.
func (d *Directory) personNamed(id *Identity) *Person {
	if d == nil {
		return nil
	}
	return d.Lookup(ownName(id))
}

// left is ", who left on DATE" for a person who left, else "".
func left(p *Person) string {
	if n := p.LeftNote(); n != "" {
		return ", who " + n
	}
	return ""
}
