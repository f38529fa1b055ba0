package tui

import (
	"math"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// The population in memory is compact rows, not audit.Identity values
// (issue 21: a million identities held 1.77 GB as decoded structs and
// maps). A row holds references into tables the population shares:
// every text — kind, scope, owner, source, a finding's message, an
// attribute's key and value — is kept once however many rows repeat it,
// times are Unix seconds, attributes and permissions are runs of
// (key, value) pairs in one slice, findings runs of (kind, message) in
// another, owner suggestions runs of (owner, source) in the pairs' slice
// too. Nothing is dropped: an identity is rebuilt whole from its row
// (population.identity) for the detail, a write or a prompt, and the
// filter reads rows through a reusable subject without allocating.
//
// This file holds the row and its tables; rows_encode.go builds rows
// (rowBuilder), rows_read.go reads them back (findings, maps, the whole
// identity) and rows_filter.go matches them (rowSubject).

// noTime marks a time the identity does not have.
const noTime = math.MinInt64

// row is one identity. Text fields are indices into tables.strs (textStore).
type idRow struct {
	id, name, scope, owner, reason uint32
	kind, source, account          uint32
	status, change                 uint32
	find, attr, perm               uint32 // first entry in tables.finds, tables.pairs (pairStore)
	nFind, nAttr, nPerm, nSugg     uint16
	sugg                           uint32 // first entry in tables.pairs of the owner suggestions (suggestionRun)
	snapshot                       int64
	created, lastUsed, rotated     int64 // Unix seconds or noTime
	expires, firstSeen, lastSeen   int64
}

// findingRef is one finding of a row: its rule, severity and OWASP entry
// (findingKind, shared) and its message.
type findingRef struct{ kind, msg uint32 }

type findingKind struct{ rule, severity, owasp string }

// tables is what rows refer to. They only grow, and only at the end, so a
// population version keeps its own slice headers and reads what existed
// when it was made while a newer version appends (population.appended).
type tables struct {
	strs   textStore
	pairs  pairStore
	finds  []findingRef
	fkinds []findingKind
}

// fixedTexts are interned first, in this order, so their indices are
// constants that rows are compared with; the attributes that mark what
// was not read come last (rowSubject.FilterUnread).
var fixedTexts = append([]string{"", audit.StatusActive, audit.StatusRemoved, audit.ChangeNew, audit.ChangeChanged, audit.StatusNotChecked},
	audit.UnreadMarks...)

// Indices of fixedTexts.
const (
	textNone uint32 = iota
	textActive
	textRemoved
	textNew
	textChanged
	textNotChecked
	textUnreadMarks // the first of audit.UnreadMarks
)

func unixOf(t *time.Time) int64 {
	if t == nil || t.IsZero() {
		return noTime
	}
	return t.Unix()
}

func timeOf(s int64) time.Time {
	if s == noTime {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func timePtr(s int64) *time.Time {
	if s == noTime {
		return nil
	}
	t := timeOf(s)
	return &t
}

// suggPending is a row's nSugg while its owner suggestions are not
// derived yet: the table opens without them and derives them once it is
// ready (suggest.go); a row holds at most suggPending-1.
const suggPending = math.MaxUint16

// pendingSuggestions is the Suggestions of an identity rebuilt from a row
// whose suggestions are not derived yet (tables.identity): empty, so
// nothing reads it as a list, and told from "none" by suggestionsPending,
// so a view says they are loading and an identity encoded again
// (rowBuilder.encode) stays pending.
var pendingSuggestions = make([]audit.OwnerSuggestion, 0, 1)

// suggestionsPending reports whether l is pendingSuggestions: the
// identity's owner suggestions are not derived yet.
func suggestionsPending(l []audit.OwnerSuggestion) bool {
	return cap(l) > 0 && len(l) == 0 && &l[:1][0] == &pendingSuggestions[:1][0]
}

// rowChunk is how many rows share one backing array: a change copies the
// chunks it touches, not the million rows (population.with).
const rowChunk = 1 << 12
