package audit

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/filter"
)

// Relationships between a person of the directory and identities: what
// offboarding a leaver has to handle (docs/offboarding.md). They live in
// audit, beside the directory and owner suggestions, because every reader
// (campaigns, the command line, the review UI through the filter's
// person: term) computes them the same way from what the file holds.

// Relationship kinds, most direct first.
const (
	RelOwns      = "owns"       // the owner recorded in nhi names the person
	RelCreated   = "created"    // the source says they created it: added a deploy key, installed an App
	RelHolds     = "holds"      // the source says it is theirs: a PAT's owner, an SSO authorization's login
	RelSuggested = "suggested"  // they are its top owner suggestion
	RelCouldRead = "could-read" // a secret or key where they had admin access: a rotation candidate
)

// RelationKinds lists the relationship kinds in the order they are shown.
var RelationKinds = []string{RelOwns, RelCreated, RelHolds, RelSuggested, RelCouldRead}

// RelationGroups orders the relationships for grouping a person's
// identities, strongest first: what is theirs by record or by the source,
// then what they could read, then what they were only the likeliest owner
// of. An identity related in several ways is shown once, in the group of
// its strongest relationship, tagged with all of them.
var RelationGroups = []string{RelOwns, RelCreated, RelHolds, RelCouldRead, RelSuggested}

// RelationTitle is how a relationship group is headed on screen and paper.
func RelationTitle(kind string) string {
	switch kind {
	case RelCouldRead:
		return "could read"
	case RelSuggested:
		return "suggested owner"
	}
	return kind
}

// Strongest is the group rels put an identity in: the first of
// RelationGroups among them; "" for none (a system's item, in scope).
func Strongest(rels []Relation) string {
	for _, g := range RelationGroups {
		for _, r := range rels {
			if r.Kind == g {
				return g
			}
		}
	}
	return ""
}

// RelationTags are the kinds of rels, in RelationGroups order, each once.
func RelationTags(rels []Relation) []string {
	var out []string
	for _, g := range RelationGroups {
		for _, r := range rels {
			if r.Kind == g {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Relation is one reason an identity is related to a person.
type Relation struct {
	Kind   string `json:"kind"`   // one of RelationKinds
	Detail string `json:"detail"` // in plain words: "added the deploy key (added_by user3)"
}

// Access is a place where a person had access that reaches its secrets,
// as a snapshot read it: a repository where they were a direct
// collaborator with admin, maintain or write, or an organisation they
// owned. Secrets there (and, for admins and owners, deploy keys) are
// rotation candidates when they leave: they could read them, or change
// the workflows that do.
type Access struct {
	Scope      string `json:"scope"` // "org" or "org/repo"
	Role       string `json:"role"`  // "admin"; for a collaborator also "maintain" or "write"
	Via        string `json:"via"`   // "collaborator" or "member"
	Login      string `json:"login"` // the alias the snapshot named them by
	SnapshotID int64  `json:"snapshot"`
}

// canRead reports whether access a lets its holder read a secret of kind
// k (docs/offboarding.md, "could-read"): an admin or organisation owner
// reads or replaces anything there; write or maintain access lets a
// person push a workflow that prints the secrets workflows get (Actions,
// Dependabot, Codespaces), but gives no hold on a deploy key, whose
// private half GitHub never has.
func (a *Access) canRead(k Kind) bool {
	if a.Role == "admin" || a.Via == PrincipalMember {
		return true
	}
	return k != KindGitHubDeployKey
}

// readableKinds are the kinds whose value someone with admin access to
// their place could read or exfiltrate through a workflow.
func readableKind(k Kind) bool {
	switch k {
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubDeployKey:
		return true
	}
	return false
}

// holderAttributes are the attributes by which a source says who holds or
// created an identity, with the relationship each stands for.
var holderAttributes = []struct{ attr, kind, detail string }{
	{"owner", RelHolds, "holds it (owner %s, according to the source)"},
	{"login", RelHolds, "authorised the credential (login %s)"},
	{"added_by", RelCreated, "added it (added_by %s)"},
	{"installed_by", RelCreated, "installed the App (installed_by %s)"},
}

// PersonMatcher tells whether a name is one of a person's aliases, the way
// the directory compares names (case-insensitive, @login = login), without
// allocating for names already in lower case.
type PersonMatcher struct {
	Person *Person
	keys   []string
	access []Access
}

// NewPersonMatcher matches p's names; access is where they had admin
// access (Store.AccessOf), for the could-read relationship.
func NewPersonMatcher(p *Person, access []Access) *PersonMatcher {
	m := &PersonMatcher{Person: p, access: access}
	for _, n := range p.Names() {
		if k := AliasKey(n); k != "" && !slices.Contains(m.keys, k) {
			m.keys = append(m.keys, k)
		}
	}
	return m
}

// Names reports whether name is one of the person's aliases.
func (m *PersonMatcher) Names(name string) bool {
	if name == "" {
		return false
	}
	name = strings.TrimSpace(name)
	name = strings.TrimPrefix(name, "@")
	for _, k := range m.keys {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// Relations lists why id is related to the person, most direct first;
// nil when it is not.
func (m *PersonMatcher) Relations(id *Identity) []Relation {
	var out []Relation
	if m.Names(id.Owner) {
		out = append(out, Relation{RelOwns, "recorded owner " + Printable(id.Owner)})
	}
	for _, h := range holderAttributes {
		if v := id.Attributes[h.attr]; m.Names(v) {
			detail := fmt.Sprintf(h.detail, Printable(v))
			switch {
			case h.attr == "owner" && id.Kind == KindGitHubFineGrainedPAT:
				detail = "owns the token (" + Printable(v) + ")"
			case h.attr == "owner" && id.Kind == KindGitHubPATRequest:
				detail = "requested the token (" + Printable(v) + ")"
			case h.attr == "owner" && id.Kind == KindGitHubCredentialAuthorization:
				detail = "SSO credential authorization of " + Printable(v)
			}
			out = append(out, Relation{h.kind, detail})
		}
	}
	// The top suggestion is usually the holder the source names: said
	// above already.
	if len(id.Suggestions) > 0 && len(out) == 0 && m.Names(id.Suggestions[0].Owner) {
		out = append(out, Relation{RelSuggested, "top owner suggestion: " + Printable(id.Suggestions[0].Source)})
	}
	if readableKind(id.Kind) {
		for _, a := range m.access {
			if within(id.Scope, a.Scope) && a.canRead(id.Kind) {
				what := "admin of " + a.Scope
				switch {
				case a.Via == PrincipalMember:
					what = "owner of the organisation " + a.Scope
				case a.Role != "admin":
					what = a.Role + " access to " + a.Scope + ", so a workflow they push can print it"
				}
				out = append(out, Relation{RelCouldRead, what + " (" + Printable(a.Login) + ", snapshot " + fmt.Sprint(a.SnapshotID) + "): rotate"})
				break
			}
		}
	}
	return out
}

// within reports whether scope is place or lies below it ("acme/api/prod"
// is within "acme/api" and "acme").
func within(scope, place string) bool {
	return scope == place || (strings.HasPrefix(scope, place) && len(scope) > len(place) && scope[len(place)] == '/')
}

// Related is an identity and why it is related to a person.
type Related struct {
	Identity  Identity   `json:"identity"`
	Relations []Relation `json:"relations"`
}

// RelatedIn picks, from ids, the active identities related to the person
// m matches, in the order given.
func RelatedIn(ids []Identity, m *PersonMatcher) []Related {
	var out []Related
	for i := range ids {
		id := &ids[i]
		if id.Status != StatusActive {
			continue
		}
		if rs := m.Relations(id); rs != nil {
			out = append(out, Related{Identity: id.Clone(), Relations: rs})
		}
	}
	return out
}

// AccessOf lists where the person had access according to any snapshot:
// a repository where they were a direct collaborator with admin, maintain
// or write, an organisation they owned. A leaver is usually gone from the newest
// snapshot's principals, so every snapshot counts; for each place, the
// newest snapshot that saw it.
func (s *Store) AccessOf(ctx context.Context, p *Person) ([]Access, error) {
	names := p.Names()
	if len(names) == 0 {
		return nil, nil
	}
	q := `SELECT snapshot_id, type, scope, login, role FROM principals
		WHERE ((type = ? AND role IN ('admin', 'maintain', 'write')) OR (type = ? AND role = 'admin')) AND lower(login) IN (` +
		strings.Repeat("?,", len(names)-1) + `?) ORDER BY snapshot_id DESC, scope`
	args := []any{PrincipalCollaborator, PrincipalMember}
	for _, n := range names {
		args = append(args, AliasKey(n))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading where %s had access: %w", p.Email, err)
	}
	defer rows.Close()
	var out []Access
	seen := map[string]bool{}
	for rows.Next() {
		var a Access
		if err := rows.Scan(&a.SnapshotID, &a.Via, &a.Scope, &a.Login, &a.Role); err != nil {
			return nil, err
		}
		if seen[a.Scope] {
			continue
		}
		seen[a.Scope] = true
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Access) int { return strings.Compare(a.Scope, b.Scope) })
	return out, nil
}

// PersonRelations lists the active identities related to p, in ID order,
// each with why.
func (s *Store) PersonRelations(ctx context.Context, p *Person) ([]Related, error) {
	access, err := s.AccessOf(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.RelatedTo(ctx, NewPersonMatcher(p, access))
}

// RelatedTo is RelatedIn over every identity of the file, read as a
// stream (StreamIdentities): only the related ones are kept, each a
// clone, so a person's few identities of a million cost what they are,
// not the million (issue 21).
func (s *Store) RelatedTo(ctx context.Context, m *PersonMatcher) ([]Related, error) {
	var out []Related
	err := s.StreamIdentities(ctx, func(id *Identity) error {
		if id.Status != StatusActive {
			return nil
		}
		if rs := m.Relations(id); rs != nil {
			out = append(out, Related{Identity: id.Clone(), Relations: rs})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Leaver is a person who left and still owns, holds or created active
// identities: what offboarding has left to do.
type Leaver struct {
	Person Person         `json:"person"`
	Count  int            `json:"count"`   // active identities they own, hold or created
	ByKind map[string]int `json:"by_kind"` // of them, per relationship kind (an identity may count under several)
	// NotChecked are those of Count that their account's newest snapshot
	// did not read where they live (StatusNotChecked): last seen active,
	// never seen gone, so they may still work; counted, never dropped.
	NotChecked int `json:"not_checked"`
	// Oldest is the longest-lived of them (created, else first seen).
	OldestID   string    `json:"oldest_id"`
	OldestName string    `json:"oldest_name"`
	OldestAt   time.Time `json:"oldest_at"`
}

// Leavers lists every person of the directory whose status is left and
// who still owns, holds or created active identities among ids (or ones
// their account's newest snapshot could not check: a gap is not a
// removal), most
// identities first (ties by e-mail). An identity they created whose
// recorded owner is someone else was handed over and no longer counts.
// One pass over the identities.
func Leavers(dir *Directory, ids []Identity) []Leaver {
	return LeaversOf(dir, pointers(ids))
}

// pointers yields a pointer to each of ids, in order.
func pointers(ids []Identity) iter.Seq[*Identity] {
	return func(yield func(*Identity) bool) {
		for i := range ids {
			if !yield(&ids[i]) {
				return
			}
		}
	}
}

// LeaversOf is Leavers over any sequence of identities (the review UI
// holds pointers).
func LeaversOf(dir *Directory, ids iter.Seq[*Identity]) []Leaver {
	out, _ := LeaversTotalOf(dir, ids)
	return out
}

// LeaverTotals counts the identities of a list of leavers once each: an
// identity one leaver owns and another holds is in both their Counts,
// so the sum of Counts can pass what is left to offboard.
type LeaverTotals struct {
	Identities int // distinct identities some leaver owns, created or holds
	NotChecked int // of them, those their account's newest snapshot did not read
}

// LeaversTotalOf is LeaversOf with the identities they leave counted once
// each, for a heading that says how many identities in all.
func LeaversTotalOf(dir *Directory, ids iter.Seq[*Identity]) ([]Leaver, LeaverTotals) {
	t := NewLeaverTally(dir)
	for id := range ids {
		t.Add(id)
	}
	return t.Result()
}

// LeaverTally counts, an identity at a time, what the directory's leavers
// leave (LeaversTotalOf), so a streaming read (EachTableIdentity) can feed
// it and nothing holds the identities: of each leaver it keeps counts and
// the oldest identity's ID and name, copied.
type LeaverTally struct {
	out    []Leaver
	byKey  map[string]int // alias key -> index into out
	totals LeaverTotals
}

// NewLeaverTally starts a tally of dir's leavers.
func NewLeaverTally(dir *Directory) *LeaverTally {
	t := &LeaverTally{byKey: map[string]int{}}
	for _, p := range dir.People() {
		if p.Status != PersonLeft {
			continue
		}
		t.out = append(t.out, Leaver{Person: p, ByKind: map[string]int{}})
		for _, n := range p.Names() {
			t.byKey[AliasKey(n)] = len(t.out) - 1
		}
	}
	return t
}

// lookup is the index of the leaver name is an alias of, or -1.
func (t *LeaverTally) lookup(name string) int {
	if name == "" {
		return -1
	}
	if i, ok := t.byKey[name]; ok { // most names are stored as typed, in lower case
		return i
	}
	if i, ok := t.byKey[AliasKey(name)]; ok {
		return i
	}
	return -1
}

// Add counts id, if a leaver owns, created or holds it. It keeps nothing
// of id but copies of the strings of a leaver's oldest.
func (t *LeaverTally) Add(id *Identity) {
	if len(t.out) == 0 || id.Status != StatusActive && id.Status != StatusNotChecked {
		return
	}
	var hit [5]int // distinct leavers of one identity: its owner and each holder attribute
	n := 0
	add := func(i int, kind string) {
		if i < 0 {
			return
		}
		t.out[i].ByKind[kind]++
		if slices.Contains(hit[:n], i) {
			return
		}
		hit[n] = i
		n++
		l := &t.out[i]
		l.Count++
		if id.Status == StatusNotChecked {
			l.NotChecked++
		}
		at := id.FirstSeen
		if id.CreatedAt != nil {
			at = *id.CreatedAt
		}
		if l.OldestID == "" || at.Before(l.OldestAt) || (at.Equal(l.OldestAt) && id.ID < l.OldestID) {
			l.OldestID, l.OldestName, l.OldestAt = strings.Clone(id.ID), strings.Clone(id.Name), at
		}
	}
	owner := t.lookup(id.Owner)
	add(owner, RelOwns)
	for _, h := range holderAttributes {
		// What they created is handled once someone else is its
		// recorded owner (a transfer); what they hold is theirs
		// whoever answers for it. One they created and own by
		// record counts under both, as her offboarding campaign
		// lists it (PersonMatcher.Relations): "owns 1, created 1".
		v := id.Attributes[h.attr]
		if v == "" {
			continue
		}
		if i := t.lookup(v); h.kind == RelHolds || id.Owner == "" || i == owner {
			add(i, h.kind)
		}
	}
	if n > 0 {
		t.totals.Identities++
		if id.Status == StatusNotChecked {
			t.totals.NotChecked++
		}
	}
}

// Result is the leavers who still own, hold or created identities added,
// most first (ties by e-mail), and the identities they leave counted
// once each; nil when the directory has no leaver.
func (t *LeaverTally) Result() ([]Leaver, LeaverTotals) {
	if len(t.out) == 0 {
		return nil, t.totals
	}
	kept := t.out[:0]
	for _, l := range t.out {
		if l.Count > 0 {
			kept = append(kept, l)
		}
	}
	slices.SortStableFunc(kept, func(a, b Leaver) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Person.Email, b.Person.Email)
	})
	return kept, t.totals
}

// PersonRelated resolves the people a filter's person terms name
// (filter.Filter.People) and returns the filter.Env.Related that matches
// an identity related to one of them in any way. A name nobody in the
// directory goes by is an error, with the closest people: a typo must not
// read as "related to nothing".
func (s *Store) PersonRelated(ctx context.Context, names []string) (func(filter.Subject, string) bool, error) {
	matchers, err := s.personMatchers(ctx, names)
	if err != nil {
		return nil, err
	}
	return func(sub filter.Subject, person string) bool {
		id, ok := sub.(*Identity)
		m := matchers[AliasKey(person)]
		return ok && m != nil && m.Relations(id) != nil
	}, nil
}

// personMatchers resolves names against the directory, each to a matcher
// of that person with where they had access, by alias key.
func (s *Store) personMatchers(ctx context.Context, names []string) (map[string]*PersonMatcher, error) {
	dir, err := s.People(ctx)
	if err != nil {
		return nil, err
	}
	matchers := map[string]*PersonMatcher{}
	for _, n := range names {
		p := dir.Lookup(n)
		if p == nil {
			if dir.Len() == 0 {
				return nil, fmt.Errorf("person:%s: the directory of people is empty; import it first (nhi people import FILE)", Printable(n))
			}
			return nil, fmt.Errorf("person:%s: %w", Printable(n), dir.Unknown("person", n))
		}
		access, err := s.AccessOf(ctx, p)
		if err != nil {
			return nil, err
		}
		matchers[AliasKey(n)] = NewPersonMatcher(p, access)
	}
	return matchers, nil
}

// PersonTags resolves the people names name, as PersonRelated does, and
// returns what tags a match of person: terms: the relationship kinds an
// identity has with any of them, in RelationGroups order ("created,could-read"),
// "" when none.
func (s *Store) PersonTags(ctx context.Context, names []string) (func(*Identity) string, error) {
	matchers, err := s.personMatchers(ctx, names)
	if err != nil {
		return nil, err
	}
	ms := slices.Collect(maps.Values(matchers))
	return func(id *Identity) string {
		var rels []Relation
		for _, m := range ms {
			rels = append(rels, m.Relations(id)...)
		}
		return strings.Join(RelationTags(rels), ",")
	}, nil
}
