package audit

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// A person's relations and the leavers' counts are read as a stream (issue
// 21), which reuses its Identity, maps and findings from row to row: what
// RelatedTo keeps must be its own, equal to what RelatedIn picks from the
// identities read whole, and a tally fed the stream must count what
// LeaversTotalOf counts of them.
func TestStreamedRelationsAreTheWholeRead(t *testing.T) {
	s, dir := relationsFixture(t)
	ids, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"@ana-s", "ben", "cleo"} {
		p := dir.Lookup(name)
		access, err := s.AccessOf(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		m := NewPersonMatcher(p, access)
		got, err := s.RelatedTo(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := RelatedIn(ids, m); len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: streamed\n%+v\nread whole\n%+v", name, got, want)
		}
	}

	tally := NewLeaverTally(dir)
	if err := s.EachTableIdentityWithoutSuggestions(ctx, func(id *Identity) error {
		tally.Add(id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, gotTotals := tally.Result()
	want, wantTotals := LeaversTotalOf(dir, pointers(ids))
	if len(want) == 0 || !reflect.DeepEqual(got, want) || gotTotals != wantTotals {
		t.Errorf("leavers streamed %+v %+v, read whole %+v %+v", got, gotTotals, want, wantTotals)
	}
}

// A clone shares nothing with what it was cloned from: a stream's next
// row rewrites the original's maps, findings and times in place.
func TestCloneSharesNothing(t *testing.T) {
	at := ts("2024-01-02T03:04:05Z")
	id := Identity{Observation: Observation{ID: "github:acme:github_deploy_key:api/1", Kind: KindGitHubDeployKey, LastUsedAt: at,
		Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{}},
		Findings: []Finding{{Rule: "stale"}}, Suggestions: []OwnerSuggestion{{Owner: "ana"}}}
	c := id.Clone()
	if !reflect.DeepEqual(c, id) {
		t.Fatalf("clone %+v of %+v", c, id)
	}
	id.Permissions["contents"], id.Attributes["x"], id.Findings[0].Rule, id.Suggestions[0].Owner = "admin", "y", "expired", "ben"
	*id.LastUsedAt = at.AddDate(1, 0, 0)
	if c.Permissions["contents"] != "read" || len(c.Attributes) != 0 || c.Attributes == nil || c.Findings[0].Rule != "stale" ||
		c.Suggestions[0].Owner != "ana" || !c.LastUsedAt.Equal(*ts("2024-01-02T03:04:05Z")) || c.CreatedAt != nil {
		t.Errorf("the clone changed with its original: %+v", c)
	}
}

// Every string a clone holds is its own, whatever fields Identity gains:
// each string field (the embedded Observation's too, and the findings'
// and suggestions') is set, by reflection, to a cut of one page of text,
// as a streaming read gives them, and no string of the clone may point
// into that page.
func TestCloneCopiesEveryString(t *testing.T) {
	page := strings.Repeat("abcdefgh", 64)
	cut := 0
	next := func() string { cut = (cut + 3) % 500; return page[cut : cut+5] }
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(next())
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := range v.Len() {
				fill(v.Index(i))
			}
		case reflect.Map:
			m := reflect.MakeMap(v.Type())
			m.SetMapIndex(reflect.ValueOf(next()).Convert(v.Type().Key()), reflect.ValueOf(next()).Convert(v.Type().Elem()))
			v.Set(m)
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		}
	}
	var id Identity
	fill(reflect.ValueOf(&id).Elem())
	start := uintptr(unsafe.Pointer(unsafe.StringData(page)))
	end := start + uintptr(len(page))
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if p := uintptr(unsafe.Pointer(unsafe.StringData(v.String()))); v.Len() > 0 && p >= start && p < end {
				t.Errorf("the clone's %s is a cut of the original's page", path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				check(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				check(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				check(path+" key", k)
				check(path+"["+k.String()+"]", v.MapIndex(k))
			}
		case reflect.Pointer:
			if !v.IsNil() {
				check(path, v.Elem())
			}
		}
	}
	c := id.Clone()
	if !reflect.DeepEqual(c, id) {
		t.Fatalf("clone %+v of %+v", c, id)
	}
	check("Identity", reflect.ValueOf(c))
}
