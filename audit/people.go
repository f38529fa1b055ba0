package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// The directory of people: who the reviewers, owners and holders of
// identities are, under every name they go by (an e-mail, a GitHub login,
// other aliases). It lives in audit, beside owners, because the orphaned
// rule (a leaver's identities) and owner resolution are evaluated here;
// campaigns and the command line read it through Store.People. See
// docs/people.md.

// EventPersonSet records a person as the directory now knows them: the
// whole record, so replaying the last event of each person rebuilds the
// people table.
const EventPersonSet = "person.set"

// Person statuses.
const (
	PersonActive = "active"
	PersonLeft   = "left"
)

// ErrUnknownPerson is returned when a name matches nobody in the directory.
var ErrUnknownPerson = errors.New("not in the directory of people")

// ErrActorLeft: the directory of people marks the person acting as left
// (docs/people.md: a leaver may not act), as it may have since their
// session began.
var ErrActorLeft = errors.New("the person acting has left")

// Person is one person of the directory. Email is the key; every other
// name they go by is an alias.
type Person struct {
	Email      string   `json:"email"`
	Name       string   `json:"name,omitempty"`
	GitHub     string   `json:"github,omitempty"`
	Status     string   `json:"status"`
	LeftAt     string   `json:"left_at,omitempty"` // YYYY-MM-DD
	Manager    string   `json:"manager,omitempty"` // the manager's e-mail
	Aliases    []string `json:"aliases,omitempty"` // further e-mails and logins, as written
	SigningKey string   `json:"signing_key,omitempty"`
}

// PersonSet is the payload of a person.set event.
type PersonSet struct {
	Person
	// Source says where the record came from: "import FILE", "github ORG".
	Source string `json:"source,omitempty"`
}

// Names are every name the person goes by, in a stable order: the e-mail,
// the GitHub login, then the other aliases.
func (p *Person) Names() []string {
	out := []string{p.Email}
	if p.GitHub != "" {
		out = append(out, p.GitHub)
	}
	for _, a := range p.Aliases {
		if !slices.ContainsFunc(out, func(o string) bool { return AliasKey(o) == AliasKey(a) }) {
			out = append(out, a)
		}
	}
	return out
}

// Display is how the person is named to people: "Alice Smith <alice@acme.com>".
func (p *Person) Display() string {
	if p.Name == "" {
		return p.Email
	}
	return p.Name + " <" + p.Email + ">"
}

// LeftNote says when the person left ("left on 2026-10-31"), or "" for an
// active person.
func (p *Person) LeftNote() string {
	if p.Status != PersonLeft {
		return ""
	}
	if p.LeftAt == "" {
		return "left"
	}
	return "left on " + p.LeftAt
}

// RefuseLeaver returns ErrActorLeft, saying who actor is acting as and
// when the directory says they left, when d marks actor's person left,
// and nil otherwise; what is what a leaver may not do ("decide", "add a
// note"). Writers call it with the directory read inside their own
// transaction, so a session opened before the person left, a TUI kept
// open, writes nothing more in their name, on either engine.
func (d *Directory) RefuseLeaver(actor, what string) error {
	p := d.Lookup(actor)
	if p == nil || p.Status != PersonLeft {
		return nil
	}
	return fmt.Errorf("%w: you are acting as %q, and %s %s according to the directory of people, so nothing was written: a leaver may not %s (docs/people.md)",
		ErrActorLeft, Printable(actor), p.Email, p.LeftNote(), what)
}

// AliasKey is the form names are compared in: case-folded, without the "@"
// of a login or team (@Alice is alice).
func AliasKey(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// normalize trims and checks a record; the e-mail becomes lower-case.
func (p *Person) normalize() error {
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	p.Name = strings.TrimSpace(p.Name)
	p.GitHub = strings.TrimPrefix(strings.TrimSpace(p.GitHub), "@")
	p.Status = strings.ToLower(strings.TrimSpace(p.Status))
	p.LeftAt = strings.TrimSpace(p.LeftAt)
	p.Manager = strings.TrimSpace(p.Manager)
	p.SigningKey = strings.TrimSpace(p.SigningKey)
	var aliases []string
	for _, a := range p.Aliases {
		if a = strings.TrimSpace(a); a != "" && !slices.ContainsFunc(aliases, func(x string) bool { return AliasKey(x) == AliasKey(a) }) {
			aliases = append(aliases, a)
		}
	}
	p.Aliases = aliases
	switch {
	case p.Email == "":
		return errors.New("email is empty: every person needs one, it is their key")
	case !strings.Contains(p.Email, "@") || strings.ContainsAny(p.Email, " \t,"):
		return fmt.Errorf("email %q is not an e-mail address", Printable(p.Email))
	}
	if p.Status == "" {
		p.Status = PersonActive
	}
	if p.Status != PersonActive && p.Status != PersonLeft {
		return fmt.Errorf("status %q: use active or left", Printable(p.Status))
	}
	if p.LeftAt != "" {
		if _, err := time.Parse(time.DateOnly, p.LeftAt); err != nil {
			return fmt.Errorf("left_at %q: use YYYY-MM-DD", Printable(p.LeftAt))
		}
		if p.Status != PersonLeft {
			return fmt.Errorf("left_at %s is set but status is %s: say status left, or clear left_at", p.LeftAt, p.Status)
		}
	}
	for _, n := range p.Names() {
		if r, ok := invisibleRune(n); ok {
			return fmt.Errorf("alias %+q has an invisible character (U+%04X), so it would read as %s: remove it", n, r, Printable(strings.Map(func(r rune) rune {
				if isInvisible(r) {
					return -1
				}
				return r
			}, n)))
		}
		if strings.ContainsAny(n, " \t,") || !isPrintable(n) {
			return fmt.Errorf("alias %q: an alias is one e-mail address or login, without spaces", Printable(n))
		}
	}
	if p.SigningKey != "" {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(p.SigningKey)); err != nil {
			return fmt.Errorf("signing_key is not an SSH public key line (ssh-ed25519 AAAA...): %v", err)
		}
	}
	return nil
}

func isPrintable(s string) bool { return Printable(s) == s }

// Directory is the directory of people as of one read, indexed by alias.
// The zero Directory is empty: nobody is known and nothing is refused.
type Directory struct {
	people  []Person // by e-mail
	byAlias map[string]int
}

func newDirectory(people []Person) *Directory {
	slices.SortFunc(people, func(a, b Person) int { return strings.Compare(a.Email, b.Email) })
	d := &Directory{people: people, byAlias: make(map[string]int, len(people)*3)}
	for i := range people {
		for _, n := range people[i].Names() {
			d.byAlias[AliasKey(n)] = i
		}
	}
	return d
}

// Len is the number of people.
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.people)
}

// People returns everyone, by e-mail.
func (d *Directory) People() []Person {
	if d == nil {
		return nil
	}
	return slices.Clone(d.people)
}

// Lookup finds the person who goes by name (any alias, case-insensitive,
// "@login" = "login"), or nil. "Rita Jones <rita@acme.test>", as nhi
// prints a person (Display) and mail clients write one, is the person
// the address in the brackets names.
func (d *Directory) Lookup(name string) *Person {
	if d == nil || name == "" {
		return nil
	}
	if i, ok := d.byAlias[AliasKey(name)]; ok {
		return &d.people[i]
	}
	if s := strings.TrimSpace(name); strings.HasSuffix(s, ">") {
		if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
			if i, ok := d.byAlias[AliasKey(s[lt+1:len(s)-1])]; ok {
				return &d.people[i]
			}
		}
	}
	return nil
}

// Same reports whether a and b name the same person: the same alias, or
// two aliases of one person in the directory.
func (d *Directory) Same(a, b string) bool {
	ka, kb := AliasKey(a), AliasKey(b)
	if ka == "" || kb == "" {
		return false
	}
	if ka == kb {
		return true
	}
	pa, pb := d.Lookup(a), d.Lookup(b)
	return pa != nil && pa == pb
}

// Closest returns up to n people whose aliases or name are nearest to
// name by edit distance, nearest first: suggestions for a typo.
func (d *Directory) Closest(name string, n int) []Person {
	if d.Len() == 0 {
		return nil
	}
	key := AliasKey(name)
	type scored struct {
		i, dist int
	}
	var all []scored
	for i := range d.people {
		best := -1
		cands := append(d.people[i].Names(), d.people[i].Name)
		for _, c := range cands {
			if c == "" {
				continue
			}
			ck := AliasKey(c)
			if local, _, ok := strings.Cut(ck, "@"); ok && !strings.Contains(key, "@") {
				ck = local // "alise" is compared with alice@acme.com's "alice"
			}
			if dist := typoDistance(key, ck); best < 0 || dist < best {
				best = dist
			}
		}
		all = append(all, scored{i, best})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return a.dist - b.dist })
	limit := max(2, len([]rune(key))/2) // farther than this is not a typo
	var out []Person
	for _, s := range all {
		if len(out) == n || s.dist > limit {
			break
		}
		out = append(out, d.people[s.i])
	}
	return out
}

// Unknown is the error for a name nobody in the directory goes by: what
// the name was for ("reviewer"), and the nearest people, for a typo.
func (d *Directory) Unknown(what, name string) error {
	msg := fmt.Sprintf("%s %q is %v", what, Printable(name), ErrUnknownPerson)
	if s := d.Suggest(name); s != "" {
		msg += "; did you mean " + s + "?"
	} else {
		msg += "; list them with: nhi people list"
	}
	return unknownPersonError(msg)
}

type unknownPersonError string

func (e unknownPersonError) Error() string { return string(e) }
func (e unknownPersonError) Unwrap() error { return ErrUnknownPerson }

// Suggest names the people nearest to name, "A <a@x> or B <b@x>", or "".
func (d *Directory) Suggest(name string) string {
	var out []string
	for _, p := range d.Closest(name, 3) {
		out = append(out, Printable(p.Display()))
	}
	return strings.Join(out, " or ")
}

// People reads the directory of people.
func (s *Store) People(ctx context.Context) (*Directory, error) {
	return readPeople(ctx, s)
}

// People reads the directory inside the transaction.
func (t *Tx) People(ctx context.Context) (*Directory, error) {
	return readPeople(ctx, t)
}

// PeopleSeq reads the directory of people and the sequence number of the
// last person.set event (0 when there is none) in one statement, so both
// are of one moment. Every change to the directory is a person.set event,
// so a caller may keep the directory for as long as that number stays the
// same (a decision prepared before the write lock, campaigns' decide).
// The event type is in the statement's text, not an argument, so that
// the plan PostgreSQL keeps for it finds the number through the index on
// type rather than reading the log backwards from its newest event
// (campaigns' decisionCheck says more).
func (s *Store) PeopleSeq(ctx context.Context) (*Directory, int64, error) {
	var seq int64
	dir, err := scanPeople(ctx, s, `SELECT l.seq, p.record FROM (SELECT COALESCE(max(seq), 0) AS seq FROM events WHERE type = '`+EventPersonSet+`') l
		LEFT JOIN people p ON 1 = 1 ORDER BY p.email`, nil, &seq)
	return dir, seq, err
}

func readPeople(ctx context.Context, q querierRows) (*Directory, error) {
	return scanPeople(ctx, q, `SELECT record FROM people ORDER BY email`, nil)
}

type querierRows interface {
	Query(context.Context, string, ...any) (*sql.Rows, error)
}

// scanPeople reads the directory from query, whose last column is a
// person's record (NULL: no one) and whose columns before it, the same
// in every row, are scanned into before.
func scanPeople(ctx context.Context, q querierRows, query string, args []any, before ...any) (*Directory, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the directory of people: %w", err)
	}
	defer rows.Close()
	var people []Person
	var rec sql.NullString
	dest := append(before[:len(before):len(before)], &rec)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if !rec.Valid {
			continue
		}
		var p Person
		if err := json.Unmarshal([]byte(rec.String), &p); err != nil {
			return nil, fmt.Errorf("reading the directory of people: %w", err)
		}
		people = append(people, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return newDirectory(people), nil
}

// PeopleImport is a set of people to record, as read from a file.
type PeopleImport struct {
	People []Person
	Lines  []int // each person's line in its file, for errors (nil when not from a file)
	// Columns are the fields the file gives (PeopleColumns names); a person
	// already known keeps the others as they are. Nil means every field.
	Columns []string
	Source  string // "import FILE", "github ORG": recorded with each event
}

// PeopleChange is what SetPeople did, or would do.
type PeopleChange struct {
	Added, Updated []Person
	Unchanged      int
	Events         []Event
}

// PersonError is a refused record, with the line it came from when the
// records were read from a file.
type PersonError struct {
	Line  int // 0 when not from a file
	Email string
	Err   error
}

func (e *PersonError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	if e.Email != "" {
		return fmt.Sprintf("%s: %v", Printable(e.Email), e.Err)
	}
	return e.Err.Error()
}

func (e *PersonError) Unwrap() error { return e.Err }

// PeopleErrors is every refused record of one import: all are reported at
// once, so a file is fixed in one pass.
type PeopleErrors []*PersonError

func (es PeopleErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return fmt.Sprintf("%s refused, nothing was written:\n  %s", Counted(len(es), "record", "records"), strings.Join(msgs, "\n  "))
}

// SetPeople adds or updates people, one person.set event each, all in one
// transaction: every record, or none when any is refused (a bad field, an
// alias that already belongs to someone else, a manager nobody knows).
// People not listed are kept as they are. With dryRun nothing is written,
// and the change says what would be.
func (s *Store) SetPeople(ctx context.Context, actor string, in PeopleImport, dryRun bool) (*PeopleChange, error) {
	people, lines, source := in.People, in.Lines, in.Source
	plan := func(q querierRows, dir *Directory) (*PeopleChange, error) {
		merged := mergeKnown(dir, people, in.Columns)
		change, err := planPeople(dir, merged, lines)
		if err != nil {
			return nil, err
		}
		return change, ownersKept(ctx, q, dir, change, merged, lines)
	}
	if dryRun {
		dir, err := s.People(ctx)
		if err != nil {
			return nil, err
		}
		return plan(s, dir)
	}
	var change *PeopleChange
	err := s.Write(ctx, func(tx *Tx) error {
		dir, err := tx.People(ctx)
		if err != nil {
			return err
		}
		// A leaver changes nothing, even from a command started before
		// they left: the directory as it is before this change.
		if err := dir.RefuseLeaver(actor, "change the directory of people"); err != nil {
			return err
		}
		if change, err = plan(tx, dir); err != nil {
			return err
		}
		return writePeople(ctx, tx, actor, source, change)
	})
	if err != nil {
		return nil, err
	}
	return change, nil
}

// writePeople records a planned change: one person.set event for each
// person added or updated, and its row of the people table.
func writePeople(ctx context.Context, tx *Tx, actor, source string, change *PeopleChange) error {
	for _, group := range [][]Person{change.Added, change.Updated} {
		for _, p := range group {
			ev, err := tx.Append(ctx, actor, EventPersonSet, PersonSet{Person: p, Source: source})
			if err != nil {
				return err
			}
			if err := applyPersonSet(ctx, tx, ev.Seq, &p); err != nil {
				return err
			}
			change.Events = append(change.Events, ev)
		}
	}
	return nil
}

// mergeKnown fills, for people the directory knows, the fields the import
// does not give with their current values.
func mergeKnown(dir *Directory, people []Person, columns []string) []Person {
	out := slices.Clone(people)
	if columns == nil {
		return out
	}
	has := func(c string) bool { return slices.Contains(columns, c) }
	for i := range out {
		p := &out[i]
		old := dir.Lookup(strings.TrimSpace(p.Email))
		if old == nil || old.Email != strings.ToLower(strings.TrimSpace(p.Email)) {
			continue
		}
		for _, f := range []struct {
			col      string
			dst, src *string
		}{{"name", &p.Name, &old.Name}, {"github", &p.GitHub, &old.GitHub}, {"status", &p.Status, &old.Status},
			{"left_at", &p.LeftAt, &old.LeftAt}, {"manager", &p.Manager, &old.Manager}, {"signing_key", &p.SigningKey, &old.SigningKey}} {
			if !has(f.col) {
				*f.dst = *f.src
			}
		}
		if !has("aliases") {
			p.Aliases = slices.Clone(old.Aliases)
		}
	}
	return out
}

// planPeople checks the records against each other and the directory and
// sorts them into added, updated and unchanged.
func planPeople(dir *Directory, people []Person, lines []int) (*PeopleChange, error) {
	var errs PeopleErrors
	fail := func(i int, email string, err error) {
		pe := &PersonError{Email: email, Err: err}
		if i < len(lines) {
			pe.Line = lines[i]
		}
		errs = append(errs, pe)
	}
	// The directory after the change, to check aliases and managers.
	next := map[string]Person{}
	for _, p := range dir.People() {
		next[p.Email] = p
	}
	where := map[string]int{} // e-mail -> index in people
	for i := range people {
		p := &people[i]
		if err := p.normalize(); err != nil {
			fail(i, p.Email, err)
			continue
		}
		if j, dup := where[p.Email]; dup {
			at := ""
			if j < len(lines) {
				at = fmt.Sprintf(" (line %d)", lines[j])
			}
			fail(i, p.Email, fmt.Errorf("%s is listed twice%s; keep one row per person", p.Email, at))
			continue
		}
		where[p.Email] = i
		next[p.Email] = *p
	}
	owner := map[string]string{} // alias key -> e-mail
	type named struct{ email, name string }
	looks := map[string]named{} // lookalikeKey -> the first person and name with it
	keys := map[string]string{} // signing key's fingerprint -> e-mail
	emails := make([]string, 0, len(next))
	for e := range next {
		emails = append(emails, e)
	}
	slices.Sort(emails)
	// conflict reports, on the record being imported (e's or other's),
	// that e's record and other's claim one thing.
	conflict := func(e, other string, err func(other string) error) {
		i, ok := where[e]
		if !ok {
			i, ok = where[other]
			other = e
		}
		if ok {
			fail(i, people[i].Email, err(other))
		}
	}
	for _, e := range emails {
		p := next[e]
		for _, n := range p.Names() {
			k := AliasKey(n)
			if other, taken := owner[k]; taken && other != e {
				conflict(e, other, func(other string) error {
					return fmt.Errorf("alias %s already belongs to %s; an alias names one person", Printable(n), other)
				})
				continue
			}
			owner[k] = e
			lk := lookalikeKey(n)
			if first, taken := looks[lk]; taken && first.email != e {
				conflict(e, first.email, func(other string) error {
					a, b := n, first.name
					if other != first.email {
						a, b = b, a
					}
					return fmt.Errorf("alias %s (%+q) reads as %s, an alias of %s; an alias that reads as another person's would name them to every reader", Printable(a), a, Printable(b), other)
				})
				continue
			}
			looks[lk] = named{e, n}
		}
		if p.SigningKey == "" {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(p.SigningKey))
		if err != nil {
			continue // normalize refused it
		}
		fp := ssh.FingerprintSHA256(pub)
		if other, taken := keys[fp]; taken {
			conflict(e, other, func(other string) error {
				return fmt.Errorf("signing_key %s is already the signing key of %s; a key proves one person, so each signs with their own", fp, other)
			})
			continue
		}
		keys[fp] = e
	}
	for i := range people {
		p := &people[i]
		if _, ok := where[p.Email]; !ok || where[p.Email] != i || p.Manager == "" {
			continue
		}
		m, ok := owner[AliasKey(p.Manager)]
		if !ok {
			fail(i, p.Email, fmt.Errorf("manager %s is not in the file nor the directory; add them, or leave manager empty", Printable(p.Manager)))
			continue
		}
		p.Manager = m
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *PersonError) int { return a.Line - b.Line })
		return nil, errs
	}
	change := &PeopleChange{}
	for i := range people {
		p := people[i]
		if where[p.Email] != i {
			continue
		}
		old := dir.Lookup(p.Email)
		switch {
		case old == nil || old.Email != p.Email:
			change.Added = append(change.Added, p)
		case samePerson(old, &p):
			change.Unchanged++
		default:
			change.Updated = append(change.Updated, p)
		}
	}
	return change, nil
}

// ownersKept refuses a change after which a name an owner is recorded
// under (nhi owner set ID r.jones) no longer names the person it named —
// an alias or GitHub login dropped, or moved to someone else: separation
// of duties and the orphaned rule read an owner through the directory as
// it is, so the owner would quietly stop being that person. people are
// the records planPeople normalized, lines their lines. The owner is
// recorded as the person's e-mail first, or the name kept.
func ownersKept(ctx context.Context, q querierRows, dir *Directory, change *PeopleChange, people []Person, lines []int) error {
	if len(change.Updated) == 0 {
		return nil // only a change of someone known drops a name of theirs
	}
	rows, err := q.Query(ctx, `SELECT owner, identity_id FROM owners WHERE owner <> '' ORDER BY identity_id`)
	if err != nil {
		return fmt.Errorf("reading owners: %w", err)
	}
	owned := map[string][]string{} // owner as recorded -> identities
	var names []string
	for rows.Next() {
		var owner, id string
		if err := rows.Scan(&owner, &id); err != nil {
			rows.Close()
			return err
		}
		if dir.Lookup(owner) == nil {
			continue
		}
		if owned[owner] == nil {
			names = append(names, owner)
		}
		owned[owner] = append(owned[owner], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	after := dir.People()
	for _, group := range [][]Person{change.Added, change.Updated} {
		for _, p := range group {
			if i := slices.IndexFunc(after, func(o Person) bool { return o.Email == p.Email }); i >= 0 {
				after[i] = p
			} else {
				after = append(after, p)
			}
		}
	}
	next := newDirectory(after)
	var errs PeopleErrors
	slices.Sort(names)
	for _, owner := range names {
		was, now := dir.Lookup(owner), next.Lookup(owner)
		if now != nil && now.Email == was.Email {
			continue
		}
		pe := &PersonError{Email: was.Email}
		if i := slices.IndexFunc(people, func(p Person) bool { return p.Email == was.Email }); i >= 0 && i < len(lines) {
			pe.Line = lines[i]
		}
		ids := owned[owner]
		what := Printable(ids[0])
		if len(ids) > 1 {
			what = fmt.Sprintf("%s and %s", what, Counted(len(ids)-1, "other identity", "other identities"))
		}
		then := "names no one"
		if now != nil {
			then = "names " + now.Email
		}
		pe.Err = fmt.Errorf("%s would no longer go by %s, which the owner of %s is recorded as: the owner would quietly stop being them (it %s then); record them as its owner first (nhi owner set ID %s), or keep the name",
			was.Email, Printable(owner), what, then, was.Email)
		errs = append(errs, pe)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *PersonError) int { return a.Line - b.Line })
		return errs
	}
	return nil
}

func samePerson(a, b *Person) bool {
	ja, _ := canonicalJSON(a)
	jb, _ := canonicalJSON(b)
	return ja == jb
}

func applyPersonSet(ctx context.Context, tx *Tx, seq int64, p *Person) error {
	rec, err := canonicalJSON(p)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO people (email, record, event_seq) VALUES (?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET record = excluded.record, event_seq = excluded.event_seq`, p.Email, rec, seq); err != nil {
		return fmt.Errorf("updating the directory of people: %w", err)
	}
	return nil
}
