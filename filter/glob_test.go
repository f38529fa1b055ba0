package filter

import (
	"testing"
	"unicode/utf8"
)

func TestFoldedMatching(t *testing.T) {
	tests := []struct {
		pattern string
		s       string
		want    bool
	}{
		{"ÅSA", "åsa", true},
		{"k", "\u212a", true},        // Kelvin sign folds to k
		{"*k*", "x\u212ay", true},    // inside text too
		{"straße", "STRASSE", false}, // simple folding only: no ß → ss
		{"σ", "Σ", true},
		{"σ", "ς", true},
		{"a?c", "aÅc", true}, // ? is one character, not one byte
		{"a??c", "aÅc", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"*.example.com", "hooks.EXAMPLE.com", true},
	}
	for _, tt := range tests {
		p := newPattern(filterValueOf(tt.pattern).elems(), false)
		if got := p.match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// filterValueOf treats * and ? in s as globs and everything else as literal.
func filterValueOf(s string) *fieldValue {
	v := &fieldValue{text: s}
	for i, r := range s {
		v.chars = append(v.chars, wchar{r: r, pos: i, lit: r != '*' && r != '?'})
	}
	return v
}

// FuzzPattern checks the compiled globs (exact, prefix, contains,
// general) against a plain dynamic-programming matcher over folded runes.
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"abc", "ABC"}, {"a*", "abc"}, {"*b*", "abc"}, {"*c", "abc"}, {"a?c", "aÅc"},
		{"*a*b*", "xaxbx"}, {"k", "\u212a"}, {"ſ*", "S"}, {"**", ""}, {"?", "\xff"}, {"*\u212a*", "xKx"},
	} {
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, pat, s string, anywhere bool) {
		if !utf8.ValidString(pat) {
			return // the lexer rejects invalid UTF-8 before patterns are built
		}
		if len(pat) > 64 || len(s) > 512 {
			return // keep the quadratic reference quick
		}
		v := filterValueOf(pat)
		got := newPattern(v.elems(), anywhere).match(s)
		ref := pat
		if anywhere {
			ref = "*" + pat + "*"
		}
		if want := refGlob([]rune(ref), []rune(s)); got != want {
			t.Fatalf("pattern %q (anywhere %v) on %q: got %v, want %v", pat, anywhere, s, got, want)
		}
	})
}

// refGlob matches folded runes with * and ? by dynamic programming.
func refGlob(p, s []rune) bool {
	// dp[j]: p[:i] matches s[:j]
	dp := make([]bool, len(s)+1)
	dp[0] = true
	for _, c := range p {
		next := make([]bool, len(s)+1)
		switch c {
		case '*':
			seen := false
			for j := range dp {
				seen = seen || dp[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = dp[j-1] && (c == '?' || foldRune(c) == foldRune(s[j-1]))
			}
		}
		dp = next
	}
	return dp[len(s)]
}
