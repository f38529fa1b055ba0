package tui

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
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

// Each identity's owner suggestions come back whole from its row, whether
// its list is the previous row's (the store shares a scope's), one seen
// before, one with the same suggestions in other memory, a part of the
// previous row's, or another; a row without any has none (nil, as the
// store gives it).
func TestRowsKeepSuggestions(t *testing.T) {
	scopeA := []audit.OwnerSuggestion{{Owner: "octocat", Source: "added the deploy key"}, {Owner: "team-api", Source: "admin team of acme/api"}}
	scopeB := []audit.OwnerSuggestion{{Owner: "hubot", Source: "admin team of acme/web"}}
	lists := [][]audit.OwnerSuggestion{scopeA, scopeA, nil, scopeB, scopeA, slices.Clone(scopeA), scopeA[:1], {{Owner: "", Source: "empty owner"}}, nil,
		scopeA, scopeA[:1], scopeB, scopeA} // a part of the list before it; the list before the one before
	ids := make([]audit.Identity, len(lists))
	for i := range ids {
		ids[i] = identity(audit.Kinds[0], fmt.Sprintf("key-%d", i), "acme/api")
		ids[i].Suggestions = lists[i]
	}
	p := newPopulation(ids)
	for i, want := range lists {
		got := p.identity(int32(i)).Suggestions
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("row %d: suggestions %v, want %v", i, got, want)
		}
		if light := p.subject().at(int32(i)).lightIdentity().Suggestions; !slices.Equal(light, want) {
			t.Errorf("row %d: the filter's identity has suggestions %v, want %v", i, light, want)
		}
	}
	for _, same := range [][2]int32{{0, 1}, {0, 4}, {0, 5}} {
		if a, b := p.row(same[0]), p.row(same[1]); a.sugg != b.sugg || a.nSugg != b.nSugg {
			t.Errorf("rows %d and %d have the same suggestions and should share their run", same[0], same[1])
		}
	}
}

// What rows refer to holds no pointer per identity: texts are references
// into a few blocks, pairs, findings and suggestions indices of texts, so
// a collection while a million identities load visits a few hundred
// chunks, not millions of strings (issue 21: the suggestion lists the rows
// kept were two million pointers). Only the kinds of findings (one per
// rule and severity) hold strings.
func TestTablesHoldNoPointerPerIdentity(t *testing.T) {
	bounded := map[string]bool{"tables.fkinds[]": true}
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		if bounded[path] {
			return
		}
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(path+"."+ty.Field(i).Name, ty.Field(i).Type)
			}
		case reflect.Slice, reflect.Array:
			walk(path+"[]", ty.Elem())
		case reflect.String, reflect.Pointer, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			t.Errorf("%s is a %s: a pointer per identity for the garbage collector to follow", path, ty.Kind())
		}
	}
	walk("tables", reflect.TypeFor[tables]())
	walk("idRow", reflect.TypeFor[idRow]())
}
