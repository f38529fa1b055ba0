package filter

import (
	"strings"
	"unicode"
)

// String is the canonical form: it re-parses to an equivalent filter and
// is its own canonical form. Enum values are spelled out (kind:deploy_key
// becomes kind:github_deploy_key), "and" is a space, "not" is "-".
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

// writeGrouped writes c, in parentheses when it is an "or" (or, under a
// negation, any compound).
func writeGrouped(b *strings.Builder, c node, negated bool) {
	_, isOr := c.(orNode)
	_, isAnd := c.(andNode)
	if isOr || (negated && isAnd) {
		b.WriteByte('(')
		c.write(b)
		b.WriteByte(')')
		return
	}
	c.write(b)
}

// writePattern writes a value so that it lexes back to the same elements:
// literal runs that would mean something else are quoted. free is a
// free-text word, which must not look like a field term, a negation or a
// keyword; reserved are words that would be read as keywords.
func writePattern(b *strings.Builder, src []pelem, free bool, reserved []string) {
	allLit := true
	for _, e := range src {
		if e.meta {
			allLit = false
		}
	}
	quoteAll := len(src) == 0
	if allLit && !quoteAll {
		var s strings.Builder
		for _, e := range src {
			s.WriteRune(e.r)
		}
		for _, k := range reserved {
			if strings.EqualFold(s.String(), k) {
				quoteAll = true
			}
		}
	}
	if quoteAll {
		writeQuoted(b, src)
		return
	}
	for i := 0; i < len(src); {
		if src[i].meta {
			b.WriteRune(src[i].r)
			i++
			continue
		}
		j := i
		for j < len(src) && !src[j].meta {
			j++
		}
		run := src[i:j]
		if needsQuote(run, free, i == 0) {
			writeQuoted(b, run)
		} else {
			for _, e := range run {
				b.WriteRune(e.r)
			}
		}
		i = j
	}
}

func needsQuote(run []pelem, free, first bool) bool {
	if free && first && (run[0].r == '-' || run[0].r == '!') {
		return true
	}
	for _, e := range run {
		switch {
		case unicode.IsSpace(e.r), e.r == '(', e.r == ')', e.r == '"', e.r == '\\', e.r == '*', e.r == '?':
			return true
		case free && isOp(e.r):
			return true
		}
	}
	return false
}

func writeQuoted(b *strings.Builder, run []pelem) {
	b.WriteByte('"')
	for _, e := range run {
		if e.r == '"' || e.r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(e.r)
	}
	b.WriteByte('"')
}
