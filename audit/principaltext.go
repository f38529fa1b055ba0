package audit

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// principals are one snapshot's principals that suggest owners
// (suggestingPrincipals), by type, each type's ordered by scope and then
// as the database gave them (login). A type's are a principalList: their
// texts as the reads got them (a page of principals a text) and each
// principal offsets into one, so the half million principals of a large
// organisation are a few hundred allocations and as many pointers for
// the garbage collector, where a Principal each (four strings) was two
// million pointers it followed at every collection of a first open, and
// an allocation a principal (issue 21).
type principals map[string]principalList

// principalList is principals of one type: at says where each one's
// texts lie in texts.
type principalList struct {
	texts []string
	at    []principalAt
}

// principalAt is where a principal's texts lie in its list's text
// texts[text], one after another, each followed by a separator (the last
// by the next principal's, or nothing): its type from typ, scope from
// scope, login from login and role from role to end.
type principalAt struct{ text, typ, scope, login, role, end uint32 }

func (l principalList) len() int { return len(l.at) }

func (l principalList) field(k int, from, to uint32) string {
	return l.texts[l.at[k].text][from:to]
}

func (l principalList) typ(k int) string {
	a := &l.at[k]
	return l.field(k, a.typ, a.scope-1)
}

func (l principalList) scope(k int) string {
	a := &l.at[k]
	return l.field(k, a.scope, a.login-1)
}

func (l principalList) login(k int) string {
	a := &l.at[k]
	return l.field(k, a.login, a.role-1)
}

func (l principalList) role(k int) string {
	a := &l.at[k]
	return l.field(k, a.role, a.end)
}

// in is the principals of type typ in scope. With hint (not nil), where
// a look-up of the same type ended before, the search starts there when
// every principal before it sorts before scope, and gallops forward:
// a read in ID order asks for its scopes mostly in their order, so the
// next one lies a few principals on, where a binary search over the
// whole type (tens of thousands in a large organisation) compared some
// fifteen scopes for each (issue 21). The hint is set to where this
// look-up ended; any hint gives the same answer.
func (ps principals) in(typ, scope string, hint *int) principalList {
	l := ps[typ]
	key := func(k int) string { a := &l.at[k]; return l.texts[a.text][a.scope : a.login-1] }
	n := len(l.at)
	var i int
	if hint != nil && *hint <= n && (*hint == 0 || key(*hint-1) < scope) {
		// Every principal before lo sorts before scope; the first that
		// does not lies at hi or before it.
		lo, hi, step := *hint, *hint, 1
		for hi < n && key(hi) < scope {
			lo, hi, step = hi+1, hi+1+step, step*2
		}
		hi = min(hi, n)
		i = lo + sort.Search(hi-lo, func(k int) bool { return key(lo+k) >= scope })
	} else {
		i, _ = slices.BinarySearchFunc(l.at, scope, func(a principalAt, scope string) int {
			return strings.Compare(l.texts[a.text][a.scope:a.login-1], scope)
		})
	}
	j := i
	for j < n && key(j) == scope {
		j++
	}
	if hint != nil {
		*hint = j
	}
	return principalList{l.texts, l.at[i:j:j]}
}

// principalText gathers the principals of one or more reads (principalsIn)
// before they are indexed by type (index).
type principalText struct {
	texts []string
	at    []principalAt
	// buf is where add writes the texts of principals read column by
	// column, until index makes them a text.
	buf []byte
}

// addPacked adds the n principals of a packed read's text s, kept as it
// is: n rows joined by rowSep (packedRows counted them), each of type,
// scope, login and role joined by packSep; false when a row does not cut
// into four columns.
func (pt *principalText) addPacked(s string, n int) bool {
	if n == 0 {
		return true
	}
	text := uint32(len(pt.texts))
	pt.texts = append(pt.texts, s)
	pt.at = slices.Grow(pt.at, n)
	pos := 0
	for range n {
		end := strings.IndexByte(s[pos:], rowSep[0])
		if end < 0 {
			end = len(s) - pos
		}
		row := s[pos : pos+end]
		var typ, scope, login, role string
		if !unpack(row, &typ, &scope, &login, &role) {
			return false
		}
		at := uint32(pos)
		atScope := at + uint32(len(typ)) + 1
		atLogin := atScope + uint32(len(scope)) + 1
		atRole := atLogin + uint32(len(login)) + 1
		pt.at = append(pt.at, principalAt{text, at, atScope, atLogin, atRole, at + uint32(len(row))})
		pos += end + 1
	}
	return true
}

// add adds a principal read column by column, its texts copied into
// pt.buf, which no other read's principals share.
func (pt *principalText) add(typ, scope, login, role string) {
	if len(pt.buf) > 0 {
		pt.buf = append(pt.buf, rowSep...)
	}
	a := principalAt{text: uint32(len(pt.texts))} // buf's, once a text
	a.typ = uint32(len(pt.buf))
	pt.buf = append(pt.buf, typ...)
	pt.buf = append(pt.buf, packSep...)
	a.scope = uint32(len(pt.buf))
	pt.buf = append(pt.buf, scope...)
	pt.buf = append(pt.buf, packSep...)
	a.login = uint32(len(pt.buf))
	pt.buf = append(pt.buf, login...)
	pt.buf = append(pt.buf, packSep...)
	a.role = uint32(len(pt.buf))
	pt.buf = append(pt.buf, role...)
	a.end = uint32(len(pt.buf))
	pt.at = append(pt.at, a)
}

// index is what pt gathered, by type, each type's in the order of scope
// as in's binary search compares, which a database's collation
// (PostgreSQL's) need not be, nor the reads of scopes in parts; logins
// stay in the database's order.
func (pt *principalText) index() principals {
	if pt.buf != nil {
		pt.texts, pt.buf = append(pt.texts, string(pt.buf)), nil
	}
	texts := pt.texts
	typ := func(a principalAt) string { return texts[a.text][a.typ : a.scope-1] }
	scope := func(a principalAt) string { return texts[a.text][a.scope : a.login-1] }
	byTypeScope := func(a, b principalAt) int {
		return cmp.Or(strings.Compare(typ(a), typ(b)), strings.Compare(scope(a), scope(b)))
	}
	all := pt.at
	if !slices.IsSortedFunc(all, byTypeScope) {
		slices.SortStableFunc(all, byTypeScope)
	}
	ps := principals{}
	for i := 0; i < len(all); {
		t := typ(all[i])
		j := i + 1
		for j < len(all) && typ(all[j]) == t {
			j++
		}
		ps[t] = principalList{texts, all[i:j:j]}
		i = j
	}
	return ps
}
