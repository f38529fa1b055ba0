package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// principalIndex holds the context principals that suggest owners
// (suggestingPrincipals) of some snapshots, by snapshot and type, each
// type's ordered by scope: a scope's are found by binary search
// (principals.in, principaltext.go). A map by scope of a list each, for
// the 190,000 scopes of a large organisation, cost a map entry and a few
// growing slices per scope (issue 21).
type principalIndex map[int64]principals

func (s *Store) principalsOf(ctx context.Context, snapshotIDs map[int64]bool) (principalIndex, error) {
	idx := principalIndex{}
	for id := range snapshotIDs {
		ps, err := s.principalsOfSnapshot(ctx, id, nil)
		if err != nil {
			return nil, err
		}
		idx[id] = ps
	}
	return idx, nil
}

// principalsOfSnapshot is principalsIn on this engine: packed on SQLite,
// unless a text holds the separator; with scopes (not nil), only theirs.
func (s *Store) principalsOfSnapshot(ctx context.Context, id int64, scopes []string) (principals, error) {
	ps, err := s.principalsIn(ctx, id, scopes, s.engine == engineSQLite)
	if errors.Is(err, errUnpackable) {
		// A text holds the separator: this snapshot column by column.
		ps, err = s.principalsIn(ctx, id, scopes, false)
	}
	return ps, err
}

// suggestingPrincipals are the principals suggestOwners reads (CODEOWNERS,
// admin and maintain teams, admin collaborators, the organisation's
// admins): a snapshot of 192,000 repositories has half a million
// principals, and reading the rest (members, write collaborators, team
// members) cost the first open of a million identities CPU and memory
// for nothing (issue 21).
const suggestingPrincipals = `(type = 'codeowner' OR type = 'team' AND role IN ('admin', 'maintain')
	OR type IN ('collaborator', 'member') AND role = 'admin')`

// principalsIn reads snapshot id's principals that suggest owners; with
// scopes (not nil), only those of these scopes (principalScope), by key;
// with packedRow (SQLite) each read's rows as one text (tablepack.go),
// which the principals keep (principalText).
func (s *Store) principalsIn(ctx context.Context, id int64, scopes []string, packedRow bool) (principals, error) {
	var pt principalText
	from := `FROM principals WHERE snapshot_id = ? AND ` + suggestingPrincipals
	read := func(where, limit string, args ...any) error {
		args = append([]any{id}, args...)
		if packedRow {
			n, text, err := tableRead{q: s.db}.packedRows(ctx, packed("type", "scope", "login", "role"), from+where+` ORDER BY type, scope, login`+limit, args)
			if err != nil {
				return fmt.Errorf("reading principals: %w", err)
			}
			if !pt.addPacked(text, n) {
				return errUnpackable
			}
			return nil
		}
		rows, err := s.db.QueryContext(ctx, `SELECT type, scope, login, role `+from+where+` ORDER BY type, scope, login`, args...)
		if err != nil {
			return fmt.Errorf("reading principals: %w", err)
		}
		defer rows.Close()
		var p Principal
		for rows.Next() {
			if err := rows.Scan(&p.Type, &p.Scope, &p.Login, &p.Role); err != nil {
				return fmt.Errorf("reading principals: %w", err)
			}
			pt.add(p.Type, p.Scope, p.Login, p.Role)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading principals: %w", err)
		}
		return nil
	}
	switch {
	case scopes == nil && packedRow:
		// A page of principals a read, in the order of the key: the text
		// of half a million at once was 26 MB that SQLite built by
		// doubling, in memory of its own that stayed in the process's
		// resident memory to the end (50 MB more at the peak of a first
		// open of a million identities).
		after := []any{"", "", ""}
		for {
			n := len(pt.at)
			if err := read(` AND (type, scope, login) > (?, ?, ?)`, ` LIMIT `+strconv.Itoa(principalPage), after...); err != nil {
				return nil, err
			}
			if len(pt.at)-n < principalPage {
				break
			}
			// The key of the last one read, from the offsets addPacked
			// kept once unpack had cut its row: a page whose texts hold
			// a separator ends the paging (errUnpackable), and the
			// snapshot is read again column by column, whole
			// (principalsOfSnapshot).
			last := principalList{pt.texts, pt.at[len(pt.at)-1:]}
			after = []any{last.typ(0), last.scope(0), last.login(0)}
		}
	case scopes == nil:
		if err := read("", ""); err != nil {
			return nil, err
		}
	}
	// Of a repository, scopeSuggestions reads its CODEOWNERS, teams and
	// collaborators; of an organisation, its members: each scope's read
	// seeks those types only, said as the principals' key (snapshot, type,
	// scope, login) can seek them, a seek a type and scope (a million
	// identities' reads by key, StreamIdentities', sought all four types
	// of every scope).
	var repos, orgs []any
	for _, sc := range scopes {
		if strings.Contains(sc, "/") {
			repos = append(repos, sc)
		} else {
			orgs = append(orgs, sc)
		}
	}
	const chunk = 500
	for _, set := range []struct {
		types string
		args  []any
	}{{`type IN ('codeowner', 'collaborator', 'team')`, repos}, {`type = 'member'`, orgs}} {
		for start := 0; start < len(set.args); start += chunk {
			part := set.args[start:min(start+chunk, len(set.args))]
			if err := read(` AND `+set.types+` AND scope IN (?`+strings.Repeat(",?", len(part)-1)+`)`, "", part...); err != nil {
				return nil, err
			}
		}
	}
	return pt.index(), nil
}

// principalPage is how many principals a read of a snapshot's whole
// (principalsIn) gets at a time: a variable so tests can cross pages.
var principalPage = 4096

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
	return suggestOwnersWith(id, people, idx.scopeSuggestions(id, nil))
}

// ownerKey is what tells two suggested owners apart: case and a leading
// @ do not.
func ownerKey(owner string) string { return strings.ToLower(strings.TrimPrefix(owner, "@")) }

// suggestOwnersWith is suggestOwners with scope, what the principals of
// id's repository or organisation suggest (scopeSuggestions): every
// identity of a scope shares it, and one whose attributes name nobody is
// suggested that very list. It was built anew for each identity that
// names its own owner, an allocation for each of its texts (issue 21).
func suggestOwnersWith(id *Identity, people *Directory, scope []OwnerSuggestion) []OwnerSuggestion {
	var out []OwnerSuggestion
	var keys [8]string // the owners' keys (ownerKey), while they fit
	seen := func(key string) bool {
		for i := range min(len(out), len(keys)) {
			if keys[i] == key {
				return true
			}
		}
		for i := len(keys); i < len(out); i++ {
			if ownerKey(out[i].Owner) == key {
				return true
			}
		}
		return false
	}
	add := func(owner, source string) {
		key := ownerKey(owner)
		if owner == "" || seen(key) {
			return
		}
		if len(out) < len(keys) {
			keys[len(out)] = key
		}
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
	switch {
	case len(out) == 0:
		return scope
	case repoScope(id.Scope) == "":
		return out // the organisation's owners only for whom nothing else suggests anyone
	}
	for _, sg := range scope {
		// The scope's suggestions have no two of one owner: only this
		// identity's own can repeat one.
		if !seen(ownerKey(sg.Owner)) {
			out = append(out, sg)
		}
	}
	return out
}

// scopeSuggestions is what the principals of id's scope suggest, in
// suggestOwners' order, no owner twice, nil for none; its capacity is
// its length, so an append to it is a copy. For a repository's scope:
// its CODEOWNERS, admin and maintain teams and admins; for a scope
// without a repository: the first three admins of the organisation
// (scope) among its principals. Not for Kubernetes kinds, whose
// namespaces have no principals. hints, when not nil, are where the
// look-ups of each type ended before (principals.in, principalHints).
func (idx principalIndex) scopeSuggestions(id *Identity, hints *principalHints) []OwnerSuggestion {
	var out []OwnerSuggestion
	var keys []string
	add := func(owner, source string) {
		key := ownerKey(owner)
		if owner == "" || slices.Contains(keys, key) {
			return
		}
		keys = append(keys, key)
		out = append(out, OwnerSuggestion{Owner: strings.Clone(owner), Source: source})
	}
	ps := idx[id.SnapshotID]
	repo := repoScope(id.Scope)
	if repo != "" {
		owners := ps.in(PrincipalCodeowner, repo, hints.of(0))
		for k := range owners.len() {
			add(owners.login(k), "CODEOWNERS of "+repo)
		}
		teams := ps.in(PrincipalTeam, repo, hints.of(1))
		for k := range teams.len() {
			if role := teams.role(k); role == "admin" || role == "maintain" {
				add("@"+strings.TrimPrefix(teams.login(k), "@"), role+" team of "+repo)
			}
		}
		admins := ps.in(PrincipalCollaborator, repo, hints.of(2))
		for k := range admins.len() {
			if admins.role(k) == "admin" {
				add(admins.login(k), "admin of "+repo)
			}
		}
	} else {
		org := id.Scope
		n := 0
		members := ps.in(PrincipalMember, org, hints.of(3))
		for k := range members.len() {
			if members.role(k) == "admin" && n < 3 {
				add(members.login(k), "owner of the organisation "+org)
				n++
			}
		}
	}
	return slices.Clip(out)
}

// principalHints are where scopeSuggestions' look-ups of each type
// ended (CODEOWNERS, teams, collaborators, members): a read that asks
// for scopes in their order finds the next a few principals on.
type principalHints [4]int

// of is the hint of the k-th type; nil for no hints.
func (h *principalHints) of(k int) *int {
	if h == nil {
		return nil
	}
	return &h[k]
}

// principalScope is what scopeSuggestions reads of id's scope: its
// repository, else the scope itself.
func principalScope(id *Identity) string {
	if repo := repoScope(id.Scope); repo != "" {
		return repo
	}
	return id.Scope
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
