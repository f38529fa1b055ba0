package filter

import "slices"

// RequiredKinds reports the kinds a subject must have for f to match
// it, where f can tell: ok only when every subject f matches has as its
// kind (FilterText(Kind)) one of kinds, byte for byte. That is so of an
// exact kind: term, of an and with one among its terms, and of an or
// whose every term is; a kind glob (it matches kinds the vocabulary does
// not know as text), a not, and every other term tell nothing, and ok is
// false. kinds is sorted, without repeats, and empty where the and of two
// exact kinds can match nothing. A caller reading its subjects from a
// store reads only those of kinds (issue 21: a bulk decision by
// kind:X at a million items judged every item of every kind) and
// still matches each against f.
func (f *Filter) RequiredKinds() (kinds []string, ok bool) {
	if f == nil || f.root == nil {
		return nil, false
	}
	return requiredKinds(f.root)
}

func requiredKinds(n node) ([]string, bool) {
	switch n := n.(type) {
	case *kindTerm:
		if n.pat == nil {
			return []string{n.exact}, true
		}
	case andNode:
		// Each term that tells narrows what the others allow.
		var (
			out   []string
			found bool
		)
		for _, c := range n {
			kinds, ok := requiredKinds(c)
			if !ok {
				continue
			}
			if !found {
				out, found = kinds, true
				continue
			}
			out = slices.DeleteFunc(out, func(k string) bool { return !slices.Contains(kinds, k) })
		}
		return out, found
	case orNode:
		var out []string
		for _, c := range n {
			kinds, ok := requiredKinds(c)
			if !ok {
				return nil, false
			}
			out = append(out, kinds...)
		}
		slices.Sort(out)
		return slices.Compact(out), true
	}
	return nil, false
}
