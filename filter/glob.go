package filter

import (
	"unicode"
	"unicode/utf8"
)

// pelem is one element of a value: a literal character, or an unquoted
// "*" or "?" (meta).
type pelem struct {
	r    rune
	meta bool
}

const (
	globStar rune = -1 // any run of characters
	globAny  rune = -2 // exactly one character
)

type patMode uint8

const (
	patAll      patMode = iota // "*"
	patExact                   // abc
	patPrefix                  // abc*
	patContains                // *abc*
	patGlob                    // anything else
)

// pattern is a compiled, case-insensitive glob.
type pattern struct {
	src    []pelem // as written, for String
	mode   patMode
	lit    string // folded literal for exact, prefix, contains
	litLen int    // characters in lit
	// patGlob: the folded runes between stars (globAny for "?"); the
	// first is anchored at the start, the last at the end. A leading or
	// trailing star makes that segment empty.
	segs [][]rune
}

// newPattern compiles src; anywhere makes it match inside a string (free
// text) rather than the whole string.
func newPattern(src []pelem, anywhere bool) *pattern {
	toks := make([]rune, 0, len(src)+2)
	push := func(r rune) {
		if r == globStar && len(toks) > 0 && toks[len(toks)-1] == globStar {
			return
		}
		toks = append(toks, r)
	}
	if anywhere {
		push(globStar)
	}
	for _, e := range src {
		switch {
		case e.meta && e.r == '*':
			push(globStar)
		case e.meta:
			push(globAny)
		default:
			push(foldRune(e.r))
		}
	}
	if anywhere {
		push(globStar)
	}
	p := &pattern{src: src, mode: patGlob}
	stars, anys := 0, 0
	for _, t := range toks {
		switch t {
		case globStar:
			stars++
		case globAny:
			anys++
		}
	}
	lead := len(toks) > 0 && toks[0] == globStar
	trail := len(toks) > 0 && toks[len(toks)-1] == globStar
	if anys == 0 {
		switch {
		case len(toks) == 1 && stars == 1:
			p.mode = patAll
		case stars == 0:
			p.mode, p.lit = patExact, string(toks)
		case stars == 1 && trail:
			p.mode, p.lit = patPrefix, string(toks[:len(toks)-1])
		case stars == 2 && lead && trail:
			p.mode, p.lit = patContains, string(toks[1:len(toks)-1])
		}
	}
	p.litLen = utf8.RuneCountInString(p.lit)
	if p.mode == patGlob {
		seg := []rune{}
		for _, t := range toks {
			if t == globStar {
				p.segs = append(p.segs, seg)
				seg = []rune{}
				continue
			}
			seg = append(seg, t)
		}
		p.segs = append(p.segs, seg)
	}
	return p
}

func (p *pattern) match(s string) bool {
	switch p.mode {
	case patAll:
		return true
	case patExact:
		n, ok := prefixFold(s, p.lit)
		return ok && n == len(s)
	case patPrefix:
		_, ok := prefixFold(s, p.lit)
		return ok
	case patContains:
		return containsFold(s, p.lit, p.litLen)
	}
	return p.glob(s)
}

// glob matches segment by segment: the first at the start, each middle one
// at its leftmost place after the previous (greedy is exact when segments
// have a fixed length in characters), the last at the end.
func (p *pattern) glob(s string) bool {
	segs := p.segs
	i, ok := segAt(s, 0, segs[0])
	if !ok {
		return false
	}
	if len(segs) == 1 {
		return i == len(s)
	}
	for _, seg := range segs[1 : len(segs)-1] {
		if i, ok = segFind(s, i, seg); !ok {
			return false
		}
	}
	last := segs[len(segs)-1]
	if len(last) == 0 {
		return true
	}
	// The last segment covers exactly the last len(last) characters.
	n := utf8.RuneCountInString(s[i:]) - len(last)
	if n < 0 {
		return false
	}
	if len(s)-i == n+len(last) { // all single bytes
		i += n
	} else {
		for ; n > 0; n-- {
			_, sz := utf8.DecodeRuneInString(s[i:])
			i += sz
		}
	}
	_, ok = segAt(s, i, last)
	return ok
}

// segAt matches seg at s[i:], returning where the match ends.
func segAt(s string, i int, seg []rune) (int, bool) {
	for _, t := range seg {
		if i >= len(s) {
			return 0, false
		}
		r, sz := decodeFold(s, i)
		if t != globAny && r != t {
			return 0, false
		}
		i += sz
	}
	return i, true
}

// segFind finds the leftmost match of seg in s[i:], returning where it ends.
func segFind(s string, i int, seg []rune) (int, bool) {
	if c := seg[0]; scannable(c) {
		// Every character takes at least a byte: no match starts later.
		lo, mask := byte(c), scanMask(byte(c))
		for last := len(s) - len(seg); i <= last; i++ {
			if s[i]|mask == lo {
				if end, ok := segAt(s, i, seg); ok {
					return end, true
				}
			}
		}
		return 0, false
	}
	for i < len(s) {
		if end, ok := segAt(s, i, seg); ok {
			return end, true
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return 0, false
}

// scannable reports whether only the ASCII bytes c and its upper case can
// start a character that folds to c: true for ASCII except i, k and s,
// which U+0130, U+0131, U+212A and U+017F fold to.
func scannable(c rune) bool {
	return c >= 0 && c < utf8.RuneSelf && c != 'i' && c != 'k' && c != 's'
}

// scanMask is what to OR a byte with before comparing it to c: a letter
// matches in either case.
func scanMask(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return 0x20
	}
	return 0
}

// foldRune maps a character to the one all its case variants share.
// Idempotent; only U+0130, U+0131, U+017F and U+212A fold from outside
// ASCII into it.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// decodeFold decodes the character at s[i], folded; invalid UTF-8 is one
// U+FFFD per byte.
func decodeFold(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, sz := utf8.DecodeRuneInString(s[i:])
	return foldRune(r), sz
}

// prefixFold reports whether s starts with the folded string lit, and how
// many bytes of s that took.
func prefixFold(s, lit string) (int, bool) {
	i, j := 0, 0
	for j < len(lit) {
		if i >= len(s) {
			return 0, false
		}
		c, l := s[i], lit[j]
		if c < utf8.RuneSelf && l < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != l {
				return 0, false
			}
			i++
			j++
			continue
		}
		r, sz := decodeFold(s, i)
		lr, lsz := utf8.DecodeRuneInString(lit[j:])
		if r != lr {
			return 0, false
		}
		i += sz
		j += lsz
	}
	return i, true
}

// containsFold reports whether s contains the folded string lit.
// n is the number of characters in lit: a match takes at least n bytes.
func containsFold(s, lit string, n int) bool {
	if lit == "" {
		return true
	}
	if c := lit[0]; scannable(rune(c)) {
		mask := scanMask(c)
		for i, last := 0, len(s)-n; i <= last; i++ {
			if s[i]|mask == c {
				if _, ok := prefixFold(s[i:], lit); ok {
					return true
				}
			}
		}
		return false
	}
	for i := 0; i < len(s); {
		if _, ok := prefixFold(s[i:], lit); ok {
			return true
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return false
}

// FoldText folds s as a pattern's match folds the text it is given, a
// character at a time (invalid UTF-8 is one U+FFFD per byte): s matches an
// exact pattern, one without * or ?, when FoldText(s) is the folded text
// Filter.ExactText returns. Text already folded is returned as it is.
func FoldText(s string) string {
	folded := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			folded = false
			break
		}
	}
	if folded {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, sz := decodeFold(s, i)
		b = utf8.AppendRune(b, r)
		i += sz
	}
	return string(b)
}

// ExactText reports whether f is one term that matches field's text
// whole, without * or ?, and that text folded: a subject matches f
// exactly when FoldText of its text is folded. A caller holding many
// such filters (owner import: a row an identity) looks the folded text
// up in a map, where matching each filter against each subject would be
// rows × identities.
func (f *Filter) ExactText(field Field) (folded string, ok bool) {
	if f == nil {
		return "", false
	}
	t, isText := f.root.(*textTerm)
	if !isText || t.field != field || t.kw != kwPattern || t.pat.mode != patExact {
		return "", false
	}
	return t.pat.lit, true
}
