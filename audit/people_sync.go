package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Syncing the directory from a source's members (`nhi people sync
// github`, docs/people.md): each member becomes, or is added to, one
// person, found by any of their names; nothing is ever deleted, and a
// person the source no longer lists is reported, and marked a leaver only
// when asked.

// Member is one member of an organisation as its source shows them.
type Member struct {
	Login string // the member's login at the source
	Name  string
	// Emails are the member's e-mail addresses, most trusted first (a
	// SAML NameID, the SAML e-mails, e-mails on verified domains, the
	// public one): the first becomes a new person's key.
	Emails []string
	// Aliases are further names (a SAML NameID that is no e-mail).
	Aliases []string
}

// MemberSync is what a sync records.
type MemberSync struct {
	Source  string   // "github acme": recorded with each event, and how earlier syncs are found
	Members []Member // everyone the source lists
	// Complete says the source's member list was read in full: only then
	// is a person it does not list said to be no longer a member.
	Complete bool
	// MarkLeavers marks the people no longer members as leavers (status
	// left, left_at Today) instead of only reporting them.
	MarkLeavers bool
	Today       string // YYYY-MM-DD
}

// SyncResult is what a sync did, or would do.
type SyncResult struct {
	*PeopleChange
	// NoEmail are the logins of members the source shows no e-mail for and
	// the directory does not know: not added (a person's key is an e-mail).
	NoEmail []string
	// Conflicts are members whose names belong to two people of the
	// directory: left as they are, each with why.
	Conflicts []string
	// Gone are people an earlier sync of this source recorded who are
	// active and no longer members (marked leavers with MarkLeavers).
	Gone []Person
	// LeftMembers are people marked left who are still members: access
	// offboarding has not removed.
	LeftMembers []Person
}

// SyncMembers adds or updates the people of a source's members, one
// person.set event each, all in one transaction (none when a record is
// refused). With dryRun nothing is written.
func (s *Store) SyncMembers(ctx context.Context, actor string, in MemberSync, dryRun bool) (*SyncResult, error) {
	if dryRun {
		dir, err := s.People(ctx)
		if err != nil {
			return nil, err
		}
		synced, err := syncedPeople(ctx, s, in.Source)
		if err != nil {
			return nil, err
		}
		return planSync(dir, synced, in)
	}
	var res *SyncResult
	err := s.Write(ctx, func(tx *Tx) error {
		dir, err := tx.People(ctx)
		if err != nil {
			return err
		}
		if err := dir.RefuseLeaver(actor, "change the directory of people"); err != nil {
			return err
		}
		synced, err := syncedPeople(ctx, tx, in.Source)
		if err != nil {
			return err
		}
		if res, err = planSync(dir, synced, in); err != nil {
			return err
		}
		return writePeople(ctx, tx, actor, in.Source, res.PeopleChange)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// syncedPeople are the e-mails of the people a sync of source recorded.
func syncedPeople(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (*sql.Rows, error)
}, source string) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT json_extract(payload, '$.email') FROM events
		WHERE type = ? AND json_extract(payload, '$.source') = ?`, EventPersonSet, source)
	if err != nil {
		return nil, fmt.Errorf("reading earlier syncs: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var e sql.NullString
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out[e.String] = true
	}
	return out, rows.Err()
}

func planSync(dir *Directory, synced map[string]bool, in MemberSync) (*SyncResult, error) {
	res := &SyncResult{}
	var records []Person
	members := map[string]bool{} // alias keys of members' logins
	for _, m := range in.Members {
		members[AliasKey(m.Login)] = true
	}
	// Every name of the directory in the form names that read alike
	// share, with whose it is: a member's name that reads as another
	// person's (a public e-mail on a lookalike domain is the member's own
	// to set) leaves them out, as a name of two people does.
	looks := map[string]string{}
	for _, p := range dir.People() {
		for _, n := range p.Names() {
			looks[lookalikeKey(n)] = p.Email
		}
	}
	visible := func(n string) bool { _, inv := invisibleRune(n); return !inv }
	for _, m := range in.Members {
		// A name with a character that prints nothing is not a name (it
		// would read as another): never a person's key nor alias.
		m.Emails = slices.DeleteFunc(slices.Clone(m.Emails), func(n string) bool { return !visible(n) })
		m.Aliases = slices.DeleteFunc(slices.Clone(m.Aliases), func(n string) bool { return !visible(n) })
		names := append(append([]string{m.Login}, m.Emails...), m.Aliases...)
		var found []*Person
		for _, n := range names {
			if p := dir.Lookup(n); p != nil && !slices.Contains(found, p) {
				found = append(found, p)
			}
		}
		switch {
		case len(found) > 1:
			var who []string
			for _, p := range found {
				who = append(who, Printable(p.Display()))
			}
			res.Conflicts = append(res.Conflicts, fmt.Sprintf("%s: their names belong to %s; merge them in the people file (nhi people import)", Printable(m.Login), strings.Join(who, " and ")))
			continue
		case len(found) == 0 && len(m.Emails) == 0:
			res.NoEmail = append(res.NoEmail, m.Login)
			continue
		}
		var rec Person
		if len(found) == 1 {
			rec = clonePerson(found[0])
			if rec.Name == "" {
				rec.Name = m.Name
			}
			if rec.GitHub == "" {
				rec.GitHub = m.Login
			}
		} else {
			rec = Person{Email: m.Emails[0], Name: m.Name, GitHub: m.Login, Status: PersonActive}
		}
		addAliases(&rec, names)
		if n, other := readsAsAnother(looks, &rec); n != "" {
			res.Conflicts = append(res.Conflicts, fmt.Sprintf("%s: %s (%+q) reads as a name of %s; left alone: check who they are, and give their row in the people file (nhi people import)",
				Printable(m.Login), Printable(n), n, Printable(other)))
			continue
		}
		for _, n := range rec.Names() {
			looks[lookalikeKey(n)] = rec.Email
		}
		if len(found) == 1 && rec.Status == PersonLeft {
			res.LeftMembers = append(res.LeftMembers, rec)
		}
		records = append(records, rec)
	}
	if in.Complete {
		for _, p := range dir.People() {
			if !synced[p.Email] || p.Status != PersonActive || p.GitHub == "" || members[AliasKey(p.GitHub)] {
				continue
			}
			res.Gone = append(res.Gone, p)
			if in.MarkLeavers {
				p.Status, p.LeftAt = PersonLeft, in.Today
				records = append(records, clonePerson(&p))
			}
		}
	}
	change, err := planPeople(dir, records, nil)
	if err != nil {
		return nil, err
	}
	res.PeopleChange = change
	return res, nil
}

// readsAsAnother returns a name of p that reads as a name of someone
// else in looks (lookalikeKey -> e-mail), and whose, or "".
func readsAsAnother(looks map[string]string, p *Person) (name, other string) {
	for _, n := range p.Names() {
		if e, ok := looks[lookalikeKey(n)]; ok && e != p.Email {
			return n, e
		}
	}
	return "", ""
}

func clonePerson(p *Person) Person {
	c := *p
	c.Aliases = slices.Clone(p.Aliases)
	return c
}

// addAliases adds to p every name it does not go by yet.
func addAliases(p *Person, names []string) {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || strings.ContainsAny(n, " \t,") || !isPrintable(n) {
			continue // not a name (a NameID with spaces): never a reason to refuse the sync
		}
		if !slices.ContainsFunc(p.Names(), func(o string) bool { return AliasKey(o) == AliasKey(n) }) {
			p.Aliases = append(p.Aliases, n)
		}
	}
}
