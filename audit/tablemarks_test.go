package audit

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// TestChangedMaterialsInAnyOrder: the table read marks changed the
// identities observed in both snapshots with another material, whether
// the database gave their IDs in Go's order of strings (a merge) or not
// (a PostgreSQL collation: through a map).
func TestChangedMaterialsInAnyOrder(t *testing.T) {
	cur := []idMaterial{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}
	prev := []idMaterial{{"b", "2"}, {"c", "9"}, {"d", "8"}, {"e", "5"}}
	want := map[string]string{"c": ChangeChanged, "d": ChangeChanged}
	sorted := map[string]string{}
	changedMaterials(cur, prev, sorted)
	if !maps.Equal(sorted, want) {
		t.Errorf("in order: %v; want %v", sorted, want)
	}
	shuffled := map[string]string{}
	changedMaterials([]idMaterial{cur[3], cur[0], cur[2], cur[1]}, []idMaterial{prev[2], prev[1], prev[0], prev[3]}, shuffled)
	if !maps.Equal(shuffled, want) {
		t.Errorf("out of order: %v; want %v", shuffled, want)
	}
}

// TestChangeMarksOnEveryPage: the table read marks changed the identities
// a later snapshot changed on every page of the read, not only the first
// (each page reads the digests into the lists the page before filled),
// and no identity the page before marked.
func TestChangeMarksOnEveryPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { eachBatch = n }(eachBatch)
		eachBatch = 16
		s := openAt(t, eng.new(t))
		var first []Observation
		for i := range 200 {
			first = append(first, obs(fmt.Sprintf("item-%05d", i), KindGitHubDeployKey))
		}
		snapshot(t, s, nil, nil, first...)
		second := slices.Clone(first)
		changed := map[string]bool{}
		for i := 3; i < len(second); i += 10 {
			second[i].Permissions = map[string]string{"contents": "admin"}
			changed[second[i].ID] = true
		}
		snapshot(t, s, nil, nil, second...)
		want, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got := want[i].Change == ChangeChanged; got != changed[want[i].ID] {
				t.Fatalf("Identities marks %s %q", want[i].ID, want[i].Change)
			}
		}
		tableReadEquals(t, s, want)
	})
}
