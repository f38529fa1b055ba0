package audit

import (
	"slices"
	"strings"
	"testing"
)

// A packed row is cut into its columns as strings.Cut cuts it:
// empty columns, a missing separator, one too many, the other separator
// inside a column.
func TestPackedCutsAsStringsCut(t *testing.T) {
	texts := []string{"", "a", "\x1f", "\x1e", "a\x1fb", "a\x1f", "\x1fb", "a\x1fb\x1fc", "a\x1f\x1fc",
		"a\x1fb\x1fc\x1fd", "a\x1eb\x1fc", "é\x1f日本\x1f", "a\x1fb\x1e\x1fc\x1e", "\x1e\x1e\x1f\x1f"}
	for _, s := range texts {
		for n := 1; n <= 4; n++ {
			got, want := make([]string, n), make([]string, n)
			dst, wdst := make([]*string, n), make([]*string, n)
			for i := range n {
				dst[i], wdst[i] = &got[i], &want[i]
			}
			rest, ok := CutPacked(s, dst...)
			wrest, wok := cutPackedByStringsCut(s, wdst...)
			if rest != wrest || ok != wok || !slices.Equal(got, want) {
				t.Errorf("CutPacked(%q) into %d: %q %q %v, by strings.Cut %q %q %v", s, n, got, rest, ok, want, wrest, wok)
			}
			uok := unpack(s, dst...)
			wok = unpackByStringsCut(s, wdst...)
			if uok != wok || !slices.Equal(got, want) {
				t.Errorf("unpack(%q) into %d: %q %v, by strings.Cut %q %v", s, n, got, uok, want, wok)
			}
		}
	}
}

// cutPackedByStringsCut and unpackByStringsCut are CutPacked and unpack
// as they were written with strings.Cut.
func cutPackedByStringsCut(s string, dst ...*string) (rest string, ok bool) {
	for _, d := range dst {
		if *d, s, ok = strings.Cut(s, packSep); !ok {
			return s, false
		}
	}
	return s, true
}

func unpackByStringsCut(s string, dst ...*string) bool {
	rest, ok := cutPackedByStringsCut(s, dst[:len(dst)-1]...)
	*dst[len(dst)-1] = rest
	return ok && !strings.Contains(rest, packSep)
}
