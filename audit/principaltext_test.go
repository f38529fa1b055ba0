package audit

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestPrincipalsInWithHints: a look-up of a scope's principals started
// from a hint (where the last look-up ended) finds what a search of the
// whole type finds, whatever the hint: scopes asked for in their order,
// backwards, at random, absent ones, and hints past the end.
func TestPrincipalsInWithHints(t *testing.T) {
	var pt principalText
	var scopes []string
	for i := range 300 {
		scope := fmt.Sprintf("acme/r-%04d", i*2) // the odd ones are absent
		scopes = append(scopes, scope, fmt.Sprintf("acme/r-%04d", i*2+1))
		for k := range i % 4 { // some with none, some with several
			pt.add(PrincipalCodeowner, scope, fmt.Sprintf("@acme/team-%d-%d", i, k), "codeowner")
		}
	}
	ps := pt.index()
	logins := func(l principalList) []string {
		var out []string
		for k := range l.len() {
			out = append(out, l.login(k))
		}
		return out
	}
	rng := rand.New(rand.NewPCG(1, 2))
	orders := map[string][]string{"in order": scopes}
	backwards := make([]string, len(scopes))
	for i, s := range scopes {
		backwards[len(scopes)-1-i] = s
	}
	orders["backwards"] = backwards
	shuffled := append([]string(nil), scopes...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	orders["at random"] = shuffled
	found := 0
	for name, order := range orders {
		hint := 0
		for _, scope := range order {
			want := logins(ps.in(PrincipalCodeowner, scope, nil))
			if got := logins(ps.in(PrincipalCodeowner, scope, &hint)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s with a hint: %q; without: %q", name, scope, got, want)
			}
			found += len(want)
			for _, h := range []int{0, rng.IntN(1000), 10_000} {
				if got := logins(ps.in(PrincipalCodeowner, scope, &h)); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: %s from hint %d: %q; without: %q", name, scope, h, got, want)
				}
			}
		}
	}
	if found != 3*450 {
		t.Errorf("found %d principals over three orders, want %d: the fixture is not what the test needs", found, 3*450)
	}
}
