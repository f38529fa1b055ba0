package tui

import (
	"iter"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Filtering: a row as filter.Subject, read in place so that matching
// a million rows allocates nothing, and as the light identity that
// relations to a person read.

// rowSubject is a row as filter.Subject: one per goroutine, moved from
// row to row (at). What the filter asks for as Go values (times, maps) it
// fills into its own fields, reused from row to row, so matching
// allocates nothing once the maps have grown.
type rowSubject struct {
	t        *tables
	p        *population
	i        int32
	r        *idRow
	times    [4]time.Time
	attrs    map[string]string
	perms    map[string]string
	attrsFor int32 // the row attrs holds, or -1
	permsFor int32
	marks    map[string]string // the row's audit.UnreadMarks (FilterUnread)
	marksFor int32
	light    audit.Identity // for Related (lightIdentity)
	lightFor int32
	suggs    []audit.OwnerSuggestion // light's, reused from row to row
}

var _ filter.Subject = (*rowSubject)(nil)

func (p *population) subject() *rowSubject {
	return &rowSubject{t: &p.t, p: p, attrs: map[string]string{}, perms: map[string]string{}, marks: map[string]string{}, attrsFor: -1, permsFor: -1, marksFor: -1, lightFor: -1}
}

// at points s at the row at position i.
func (s *rowSubject) at(i int32) *rowSubject {
	s.i, s.r = i, s.p.row(i)
	return s
}

// FilterText implements filter.Subject.
func (s *rowSubject) FilterText(f filter.Field) string {
	r := s.r
	switch f {
	case filter.ID:
		return s.t.strs.at(r.id)
	case filter.Kind:
		return s.t.strs.at(r.kind)
	case filter.Name:
		return s.t.strs.at(r.name)
	case filter.Scope:
		return s.t.strs.at(r.scope)
	case filter.Owner:
		return s.t.strs.at(r.owner)
	case filter.Source:
		return s.t.strs.at(r.source)
	case filter.Account:
		return s.t.strs.at(r.account)
	case filter.Status:
		return s.t.fixedOr(r.status)
	}
	return ""
}

func (s *rowSubject) FilterTime(f filter.Field) *time.Time {
	var v int64
	var k int
	switch f {
	case filter.LastUsed:
		v, k = s.r.lastUsed, 0
	case filter.Created:
		v, k = s.r.created, 1
	case filter.Rotated:
		v, k = s.r.rotated, 2
	case filter.Expires:
		v, k = s.r.expires, 3
	default:
		return nil
	}
	if v == noTime {
		return nil
	}
	s.times[k] = time.Unix(v, 0).UTC()
	return &s.times[k]
}

// FilterMap implements filter.Subject.
func (s *rowSubject) FilterMap(f filter.Field) map[string]string {
	switch f {
	case filter.Attributes:
		if s.attrsFor != s.i {
			s.t.fillMap(s.attrs, s.r.attr, s.r.nAttr)
			s.attrsFor = s.i
		}
		return s.attrs
	case filter.Permissions:
		if s.permsFor != s.i {
			s.t.fillMap(s.perms, s.r.perm, s.r.nPerm)
			s.permsFor = s.i
		}
		return s.perms
	}
	return nil
}

// FilterFinding implements filter.Subject.
func (s *rowSubject) FilterFinding(i int) (rule, severity string, ok bool) {
	if i < 0 || i >= int(s.r.nFind) {
		return "", "", false
	}
	fk := &s.t.fkinds[s.t.finds[s.r.find+uint32(i)].kind]
	return fk.rule, fk.severity, true
}

// FilterUnread implements filter.Subject. A term asks of every row where
// it found nothing (finding:stale of each row without one), so the row's
// pairs are scanned for the marks of what was not read (audit.UnreadMarks,
// fixed texts: an index comparison each), and only a row that has one
// builds a map, of its marks alone.
func (s *rowSubject) FilterUnread(f filter.Field, key string) bool {
	if s.marksFor != s.i {
		clear(s.marks)
		p := s.t.pairs.run(s.r.attr, s.r.nAttr)
		for j := 0; j < len(p); j += 2 {
			if k := p[j]; k >= textUnreadMarks && k < textUnreadMarks+uint32(len(audit.UnreadMarks)) {
				s.marks[s.t.strs.at(k)] = s.t.strs.at(p[j+1])
			}
		}
		s.marksFor = s.i
	}
	return len(s.marks) > 0 && audit.Unread(s.marks, f, key)
}

// FilterTracksLastUse implements filter.Subject.
func (s *rowSubject) FilterTracksLastUse() bool {
	return s.t.reportsLastUse(s.r)
}

// lightIdentity is the row as an audit.Identity with what relations to a
// person read (audit.PersonMatcher, audit.LeaversOf): ID, name, kind,
// scope, owner, status, times, attributes and suggestions. It is s's own
// and changes with the next row: callers must not keep it.
func (s *rowSubject) lightIdentity() *audit.Identity {
	if s.lightFor == s.i {
		return &s.light
	}
	r, t := s.r, s.t
	s.light = audit.Identity{
		Observation: audit.Observation{
			ID: t.strs.at(r.id), Kind: audit.Kind(t.strs.at(r.kind)), Name: t.strs.at(r.name), Scope: t.strs.at(r.scope),
			Attributes: s.FilterMap(filter.Attributes),
		},
		Owner: t.strs.at(r.owner), Status: t.strs.at(r.status), FirstSeen: timeOf(r.firstSeen),
		SnapshotID: r.snapshot,
	}
	switch r.nSugg {
	case 0:
	case suggPending:
		s.light.Suggestions = pendingSuggestions
	default:
		s.suggs = t.appendSuggestions(s.suggs[:0], r)
		s.light.Suggestions = s.suggs
	}
	if r.created != noTime {
		s.light.CreatedAt = s.FilterTime(filter.Created)
	}
	s.lightFor = s.i
	return &s.light
}

// lightIdentities yields every identity of p as a lightIdentity.
func (p *population) lightIdentities() iter.Seq[*audit.Identity] {
	return func(yield func(*audit.Identity) bool) {
		s := p.subject()
		for i := range p.n {
			if !yield(s.at(int32(i)).lightIdentity()) {
				return
			}
		}
	}
}

// relatedRows adapts a filter.Env.Related that reads *audit.Identity
// (audit.Store.PersonRelated) to rows.
func relatedRows(related func(filter.Subject, string) bool) func(filter.Subject, string) bool {
	if related == nil {
		return nil
	}
	return func(s filter.Subject, person string) bool {
		if rs, ok := s.(*rowSubject); ok {
			return related(rs.lightIdentity(), person)
		}
		return related(s, person)
	}
}
