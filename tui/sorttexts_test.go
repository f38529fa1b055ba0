package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSortTextsOrdersAsStrings: sortTexts orders as strings.Compare does,
// on texts that share long prefixes, end inside a round of eight bytes,
// differ only in length or in NUL bytes, repeat, or are empty, in runs
// long enough to take every path.
func TestSortTextsOrdersAsStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for i := range 5000 {
		switch i % 6 {
		case 0:
			texts = append(texts, fmt.Sprintf("identity-%06d", r.IntN(3000)))
		case 1:
			texts = append(texts, strings.Repeat("a", r.IntN(20)))
		case 2:
			texts = append(texts, strings.Repeat("ab\x00", r.IntN(8)))
		case 3:
			texts = append(texts, fmt.Sprintf("acme/repo-%d/%s", r.IntN(50), strings.Repeat("x", r.IntN(12))))
		case 4:
			texts = append(texts, "")
		default:
			b := make([]byte, r.IntN(24))
			for k := range b {
				b[k] = byte(r.IntN(4)) // 0..3: many ties and NULs
			}
			texts = append(texts, string(b))
		}
	}
	idx := make([]int32, len(texts))
	for i := range idx {
		idx[i] = int32(i)
	}
	sortTexts(texts, idx)
	got := make([]string, len(idx))
	for i, k := range idx {
		got[i] = texts[k]
	}
	want := slices.Clone(texts)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("position %d: %q, want %q", i, got[i], want[i])
			}
		}
	}
}
