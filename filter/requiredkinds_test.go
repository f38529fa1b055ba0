package filter_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// requiredKindsTerms are the terms the property below combines: exact
// kinds (full and short names, an imported one), globs, and terms over
// other fields.
var requiredKindsTerms = []string{
	"kind:github_deploy_key", "kind:deploy_key", "kind:github_runner", "kind:aws_iam_role", "kind:import_bot_token",
	"kind:github_*", "kind:*key", "kind:import_*", "owner:none", "owner:any", "name:*token*", "id:*", "finding:any",
	"scope:acme/*", "status:removed", "unused>90d", "perm:none",
}

// randomFilter writes a filter of up to depth levels of and, or, not
// and parentheses over requiredKindsTerms.
func randomFilter(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return requiredKindsTerms[r.IntN(len(requiredKindsTerms))]
	}
	a, b := randomFilter(r, depth-1), randomFilter(r, depth-1)
	switch r.IntN(4) {
	case 0:
		return a + " " + b
	case 1:
		return a + " or " + b
	case 2:
		return "-(" + a + ")"
	}
	return "(" + a + " or " + b + ") " + randomFilter(r, depth-1)
}

// Whenever RequiredKinds tells, no subject of another kind matches (a
// bulk decision reads only the items of those kinds: campaigns/
// bulkselect.go), for random filters and subjects of every kind nhi
// knows, an imported one and one nobody knows; and the filters it must
// tell of, it does.
func TestRequiredKindsDropsNoMatch(t *testing.T) {
	var ids []*audit.Identity
	kinds := append(slices.Clone(audit.Vocabulary.Kinds), "import_bot_token", "import_other", "weird_kind", "")
	for _, base := range filterFuzzIdentities() {
		for _, k := range kinds {
			id := *base
			id.Kind = audit.Kind(k)
			ids = append(ids, &id)
		}
	}
	env := filterFixtureEnv(filterFixture())
	check := func(expr string) (told bool) {
		f, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatalf("filter.Parse(%q): %v", expr, err)
		}
		got, ok := f.RequiredKinds()
		if !ok {
			return false
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("%q: RequiredKinds = %q, not sorted without repeats", expr, got)
		}
		for _, id := range ids {
			if f.Match(id, env) && !slices.Contains(got, string(id.Kind)) {
				t.Fatalf("%q: RequiredKinds = %q, but it matches %q of kind %q", expr, got, id.ID, id.Kind)
			}
		}
		return true
	}
	for _, expr := range []string{"kind:deploy_key", "kind:github_deploy_key owner:none", "kind:deploy_key or kind:github_runner",
		"(kind:deploy_key or kind:aws_iam_role) name:*token*", "kind:deploy_key kind:github_runner", "kind:import_bot_token"} {
		if !check(expr) {
			t.Errorf("%q: RequiredKinds does not tell", expr)
		}
	}
	for _, expr := range []string{"kind:github_*", "-kind:deploy_key", "kind:deploy_key or owner:none", "id:*", "owner:none"} {
		if check(expr) {
			t.Errorf("%q: RequiredKinds tells, which it cannot", expr)
		}
	}
	r := rand.New(rand.NewPCG(21, 1))
	told := 0
	for range 3000 {
		if check(randomFilter(r, 4)) {
			told++
		}
	}
	if told < 300 {
		t.Errorf("RequiredKinds told of %d random filters of 3000: the property was hardly tried", told)
	}
}

// FuzzRequiredKinds holds the same for any filter that parses.
func FuzzRequiredKinds(f *testing.F) {
	for _, s := range append(slices.Clone(filterFuzzSeeds), requiredKindsTerms...) {
		f.Add(s)
	}
	ids := filterFuzzIdentities()
	env := filterFixtureEnv(filterFixture())
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			return
		}
		kinds, ok := flt.RequiredKinds()
		if !ok {
			return
		}
		for _, id := range ids {
			if flt.Match(id, env) && !slices.Contains(kinds, string(id.Kind)) {
				t.Fatalf("%q: RequiredKinds = %s, but it matches %q of kind %q", expr, strings.Join(kinds, ","), id.ID, id.Kind)
			}
		}
	})
}
