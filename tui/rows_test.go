package tui

import (
	"fmt"
	"maps"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// Each identity's attributes and permissions come back whole from its row,
// whether the row shares the previous row's run of pairs (the same map)
// or not (same keys, another value; another key; fewer pairs; none).
func TestRowsKeepAttributesAndPermissions(t *testing.T) {
	perms := []map[string]string{
		{"contents": "read", "metadata": "read"},
		{"contents": "read", "metadata": "read"}, // the same: shares the run
		{"contents": "write", "metadata": "read"},
		{"contents": "write", "issues": "read"},
		{"contents": "write"},
		nil,
		nil,
		{"contents": "write"},
		{"contents": "write", "metadata": "read", "issues": "write"},
		{"contents": "write", "metadata": "read", "issues": "write"},
	}
	ids := make([]audit.Identity, len(perms))
	for i := range ids {
		ids[i] = identity(audit.Kinds[0], fmt.Sprintf("key-%d", i), "acme/api")
		ids[i].Permissions = perms[i]
		ids[i].Attributes = map[string]string{"lineage": fmt.Sprintf("deploy_key/%d", i), "read_only": "true"}
		if i%3 == 0 {
			ids[i].Attributes["added_by"] = "octocat"
		}
	}
	p := newPopulation(ids)
	for i, want := range ids {
		got := p.identity(int32(i))
		if !maps.Equal(got.Permissions, want.Permissions) || len(got.Permissions) != len(want.Permissions) {
			t.Errorf("row %d: permissions %v, want %v", i, got.Permissions, want.Permissions)
		}
		if !maps.Equal(got.Attributes, want.Attributes) {
			t.Errorf("row %d: attributes %v, want %v", i, got.Attributes, want.Attributes)
		}
	}
	if r0, r1 := p.row(0), p.row(1); r0.perm != r1.perm || r0.nPerm != r1.nPerm {
		t.Error("two rows in a row with the same permissions should share their run of pairs")
	}
}
