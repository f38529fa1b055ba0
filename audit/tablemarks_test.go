package audit

import (
	"maps"
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
