package tui

import (
	"slices"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Reading: a row's findings, maps, owner and whole identity, read back
// from the tables (rows.go) without changing them.

// finding is r's k-th finding.
func (t *tables) finding(r *idRow, k int) audit.Finding {
	f := t.finds[r.find+uint32(k)]
	fk := &t.fkinds[f.kind]
	return audit.Finding{Rule: fk.rule, Severity: fk.severity, OWASP: fk.owasp, Message: t.strs.at(f.msg)}
}

// worstSeverity is the rank (audit.SeverityRank) of r's most severe finding.
func (t *tables) worstSeverity(r *idRow) int {
	worst := 0
	for k := range int(r.nFind) {
		worst = max(worst, audit.SeverityRank(t.fkinds[t.finds[r.find+uint32(k)].kind].severity))
	}
	return worst
}

// fillMap fills m (cleared) with the pairs at n pairs from at.
func (t *tables) fillMap(m map[string]string, at uint32, n uint16) {
	clear(m)
	if n == 0 {
		return
	}
	p := t.pairs.run(at, n)
	for k := 0; k < len(p); k += 2 {
		m[t.strs.at(p[k])] = t.strs.at(p[k+1])
	}
}

func (t *tables) newMap(at uint32, n uint16) map[string]string {
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	t.fillMap(m, at, n)
	return m
}

// holder is audit.NaturalOwner of r: who the source says holds it (a
// PAT's owner, an SSO authorization's login), read from its attributes
// without building their map, as a cell of every row on screen is.
func (t *tables) holder(r *idRow) string {
	if r.nAttr == 0 {
		return ""
	}
	p := t.pairs.run(r.attr, r.nAttr)
	best, found := len(audit.HolderAttributes), ""
	for k := 0; k < len(p); k += 2 {
		i := slices.Index(audit.HolderAttributes, t.strs.at(p[k]))
		if v := t.strs.at(p[k+1]); i >= 0 && i < best && v != "" {
			best, found = i, v
		}
	}
	return found
}

// appendSuggestions appends r's owner suggestions to l: nil for a row
// without any, as the store has it; pendingSuggestions for a row whose
// suggestions are not derived yet, whatever l is. Their texts are the
// store's (views of its blocks), not copies.
func (t *tables) appendSuggestions(l []audit.OwnerSuggestion, r *idRow) []audit.OwnerSuggestion {
	switch r.nSugg {
	case 0:
		return l
	case suggPending:
		return pendingSuggestions
	}
	p := t.pairs.run(r.sugg, r.nSugg)
	for k := 0; k < len(p); k += 2 {
		l = append(l, audit.OwnerSuggestion{Owner: t.strs.at(p[k]), Source: t.strs.at(p[k+1])})
	}
	return l
}

// identity is r rebuilt whole, in new memory the caller may keep.
func (t *tables) identity(r *idRow) *audit.Identity {
	id := &audit.Identity{
		Observation: audit.Observation{
			ID: t.strs.at(r.id), Kind: audit.Kind(t.strs.at(r.kind)), Name: t.strs.at(r.name), Scope: t.strs.at(r.scope),
			CreatedAt: timePtr(r.created), LastUsedAt: timePtr(r.lastUsed), RotatedAt: timePtr(r.rotated), ExpiresAt: timePtr(r.expires),
			Permissions: t.newMap(r.perm, r.nPerm),
			Attributes:  t.newMap(r.attr, r.nAttr),
		},
		Source: t.strs.at(r.source), Account: t.strs.at(r.account), Owner: t.strs.at(r.owner),
		Status: t.strs.at(r.status), StatusReason: t.strs.at(r.reason),
		FirstSeen: timeOf(r.firstSeen), LastSeen: timeOf(r.lastSeen),
		SnapshotID: r.snapshot, Change: t.strs.at(r.change),
		Suggestions: t.appendSuggestions(nil, r),
		Findings:    make([]audit.Finding, r.nFind),
	}
	for k := range id.Findings {
		id.Findings[k] = t.finding(r, k)
	}
	return id
}

// fixedOr is text i: from fixedTexts when it is one of them (a row's
// status always is), without reading its reference and bytes in the
// store. The status term of the table's filter asks it of every row
// each time a batch arrives (issue 21: a million rows, some twenty
// times during a first open).
func (t *tables) fixedOr(i uint32) string {
	if i < uint32(len(fixedTexts)) {
		return fixedTexts[i]
	}
	return t.strs.at(i)
}

// FilterTime implements filter.Subject.
// reportsLastUse is audit.ReportsLastUse of r, its attribute read without
// building r's map (only where the kind reports use).
func (t *tables) reportsLastUse(r *idRow) bool {
	k := audit.Kind(t.strs.at(r.kind))
	if !k.TracksLastUse() || r.nAttr == 0 {
		return k.TracksLastUse()
	}
	p := t.pairs.run(r.attr, r.nAttr)
	for j := 0; j < len(p); j += 2 {
		if t.strs.at(p[j]) == audit.AttrLastUseUnknown {
			return audit.ReportsLastUse(k, t.strs.at(p[j+1]))
		}
	}
	return true
}

// lastUseUnread says r's last use was not read (its last_used_unknown
// is "true"), on any kind: an import's empty last_used_at marks a kind of
// its own too. Its attribute is read without building r's map.
func (t *tables) lastUseUnread(r *idRow) bool {
	if r.nAttr == 0 {
		return false
	}
	p := t.pairs.run(r.attr, r.nAttr)
	for j := 0; j < len(p); j += 2 {
		if t.strs.at(p[j]) == audit.AttrLastUseUnknown {
			return t.strs.at(p[j+1]) == "true"
		}
	}
	return false
}

// findingsUnread is audit.Unread of r's findings: whether what a rule
// reads of it was not read, its marks found by index (fixedTexts).
func (t *tables) findingsUnread(r *idRow) bool {
	if r.nAttr == 0 {
		return false
	}
	var marks map[string]string
	p := t.pairs.run(r.attr, r.nAttr)
	for j := 0; j < len(p); j += 2 {
		if k := p[j]; k >= textUnreadMarks && k < textUnreadMarks+uint32(len(audit.UnreadMarks)) {
			if marks == nil {
				marks = map[string]string{}
			}
			marks[t.strs.at(k)] = t.strs.at(p[j+1])
		}
	}
	return marks != nil && audit.Unread(marks, filter.Findings, "")
}
