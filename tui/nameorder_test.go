package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// The names ranked while a population loads in batches (nameorder.go)
// order the table by name exactly as ranking them after the load does
// (textRanks): case ignored, ties in the order read, empty names first;
// whether the names are interned (they repeat) or each stored on its own.
func TestStreamedNamesSortAsLoaded(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	mixCase := func(s string) string {
		b := []byte(s)
		for i := range b {
			if rng.IntN(3) == 0 && 'a' <= b[i] && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
		}
		return string(b)
	}
	odd := []string{"", "a", "A", "a\x00", "ab", "Identity-000001", "identity-00000", "zz", "ZZ-top"}
	for _, tc := range []struct {
		what    string
		name    func(i int) string
		shuffle bool
	}{
		{"unique names, then repeats", func(i int) string { // not interned past the trial
			if i < 5000 {
				return mixCase(fmt.Sprintf("identity-%06d", i))
			}
			return mixCase(odd[rng.IntN(len(odd))])
		}, true},
		// Names that share a prefix ("identity-0"), then some that do not:
		// the ranker's keys (nameRanker.common) move to an earlier byte.
		{"a shared prefix, then others", func(i int) string {
			if i < 5000 {
				return fmt.Sprintf("identity-%06d", 9000-i)
			}
			return mixCase(odd[rng.IntN(len(odd))])
		}, false},
		// Names that climb in runs, as rows in ID order have them (one
		// run a kind): merged rather than sorted (maxNameRuns).
		{"climbing runs", func(i int) string {
			return mixCase(fmt.Sprintf("identity-%06d", i%3000*3+i/3000))
		}, false},
		{"repeated names", func(int) string { // interned
			if rng.IntN(10) == 0 {
				return odd[rng.IntN(len(odd))]
			}
			return mixCase(fmt.Sprintf("deploy-%d", rng.IntN(2000)))
		}, true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			ids := make([]audit.Identity, 9000)
			for i := range ids {
				ids[i] = identity(audit.Kinds[i%len(audit.Kinds)], tc.name(i), fmt.Sprintf("acme/repo-%d", i%7))
				ids[i].ID = fmt.Sprintf("id-%06d", i)
			}
			if tc.shuffle {
				rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			}
			m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids}})
			m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
			next, count := startLoading(t, m)
			send(t, m, count())
			drain(t, m, next)
			p := m.st.pop
			if p.len() != len(ids) || p.names == nil {
				t.Fatalf("loaded %d of %d; names ranked: %v", p.len(), len(ids), p.names != nil)
			}
			got := naturalOrder(p, colName)
			unranked := *p
			unranked.names = nil
			want := naturalOrder(&unranked, colName)
			if !slices.Equal(got, want) {
				t.Fatal("the names ranked while loading order the rows otherwise than ranking them after")
			}
			// And that order is the one a user expects: by name ignoring
			// case, ties in the order read.
			for k := 1; k < len(got); k++ {
				a, b := p.identity(got[k-1]).Name, p.identity(got[k]).Name
				if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c > 0 || c == 0 && got[k-1] > got[k] {
					t.Fatalf("%q (row %d) sorts before %q (row %d)", a, got[k-1], b, got[k])
				}
			}

			// A write that keeps the name keeps the ranking; a new name
			// drops it, and the sort ranks the names itself.
			i := got[0]
			id := p.identity(i)
			id.Owner = "team-new"
			kept := p.with(map[int32]*audit.Identity{i: id})
			if kept.names == nil || !slices.Equal(naturalOrder(kept, colName), got) {
				t.Fatal("a new owner should keep the name order and its ranking")
			}
			id.Name = "zzzz-renamed"
			renamed := kept.with(map[int32]*audit.Identity{i: id})
			if renamed.names != nil {
				t.Fatal("a renamed row should drop the ranking made while loading")
			}
			if o := naturalOrder(renamed, colName); o[len(o)-1] != i {
				t.Fatalf("the renamed row should sort last, got row %d", o[len(o)-1])
			}
		})
	}
}
