package tui

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
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

// A row's pairs are its maps, whatever the maps of the rows before it: the
// run shared with the previous row, the pairs kept from it with another
// value, the keys it lacked, keys that are the previous row's values, empty
// keys and values, one map the same object as the last row's but fewer
// pairs, rows in an order that moves every key in and out (pairs, each of
// the previous run's keys looked up once). Compared with the maps
// themselves, and a row whose maps equal the previous row's shares its runs.
func TestRowsPairsAreTheirMaps(t *testing.T) {
	keys := []string{"", "a", "b", "lineage", "repository_id", "x"}
	values := []string{"", "a", "1", "2", "lineage", "long value of a key that reads like a sentence"}
	var maps_ []map[string]string
	seed := uint32(7)
	next := func(n int) int { // a fixed sequence: the test is the same every run
		seed = seed*1664525 + 1013904223
		return int(seed>>16) % n
	}
	for range 400 {
		m := map[string]string{}
		switch next(5) {
		case 0: // the previous row's map again
			if len(maps_) > 0 {
				m = maps.Clone(maps_[len(maps_)-1])
			}
		case 1: // the previous row's, one value changed
			if len(maps_) > 0 && maps_[len(maps_)-1] != nil {
				m = maps.Clone(maps_[len(maps_)-1])
			}
			m[keys[next(len(keys))]] = values[next(len(values))]
		case 2:
			m = nil
		default:
			for range next(len(keys) + 1) {
				m[keys[next(len(keys))]] = values[next(len(values))]
			}
		}
		maps_ = append(maps_, m)
	}
	ids := make([]audit.Identity, len(maps_))
	for i := range ids {
		ids[i] = identity(audit.Kinds[0], fmt.Sprintf("key-%d", i), "acme/api")
		ids[i].Attributes = maps_[i]
		ids[i].Permissions = maps_[len(maps_)-1-i]
	}
	p := newPopulation(ids)
	shared := 0
	for i, want := range ids {
		got := p.identity(int32(i))
		if !maps.Equal(got.Attributes, want.Attributes) {
			t.Fatalf("row %d: attributes %v, want %v", i, got.Attributes, want.Attributes)
		}
		if !maps.Equal(got.Permissions, want.Permissions) {
			t.Fatalf("row %d: permissions %v, want %v", i, got.Permissions, want.Permissions)
		}
		if i > 0 && len(want.Attributes) > 0 && maps.Equal(want.Attributes, ids[i-1].Attributes) {
			shared++
			if r0, r1 := p.row(int32(i-1)), p.row(int32(i)); r0.attr != r1.attr || r0.nAttr != r1.nAttr {
				t.Errorf("row %d has the attributes of the row before it, and should share their run", i)
			}
		}
	}
	if shared == 0 {
		t.Fatal("no row had the attributes of the row before it: the test tests less than it says")
	}
}

// A row's status reads the same through the filter (fixedOr) as from the
// store, for each status and for a text that is none of the fixed ones.
func TestFixedOrIsTheStoresText(t *testing.T) {
	b := newRowBuilder()
	extra := b.text("not a fixed text")
	tb := b.tables()
	for i := range uint32(len(fixedTexts)) + 1 {
		if i == uint32(len(fixedTexts)) {
			i = extra
		}
		if got, want := tb.fixedOr(i), tb.strs.at(i); got != want {
			t.Errorf("text %d: fixedOr %q, the store %q", i, got, want)
		}
	}
	for _, st := range []string{audit.StatusActive, audit.StatusRemoved, audit.StatusNotChecked} {
		id := identity(audit.Kinds[0], "k", "acme/api")
		id.Status = st
		p := newPopulation([]audit.Identity{id})
		if got := p.subject().at(0).FilterText(filter.Status); got != st {
			t.Errorf("status %q reads %q through the filter", st, got)
		}
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
