package tui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The intern index finds every text it was given, long ones too,
// through the growths that move its slots by the hashes they kept, gives
// a text added again the index it had, and finds none it was not given;
// it holds no pointer for the garbage collector to follow.
func TestTextIndexFindsEachTextOnce(t *testing.T) {
	b := newRowBuilder()
	x := newTextIndex(0)
	var want []uint32
	texts := []string{""}
	for i := range 20_000 {
		texts = append(texts, fmt.Sprintf("northwind/analytics-api-%d", i), fmt.Sprintf("%d", i))
	}
	// Texts too long for the place a slot keeps (textAt): compared
	// through the store's reference.
	texts = append(texts, strings.Repeat("policy ", 10_000), strings.Repeat("policy ", 10_001))
	for _, s := range texts {
		h := hashText(s)
		if _, slot, ok := x.find(&b.t.strs, s, h); !ok {
			i := b.raw(s)
			x.add(&b.t.strs, slot, h, i)
			want = append(want, i)
		} else {
			t.Fatalf("%q found before it was added", s)
		}
	}
	if x.len() != len(texts) || len(x.slots) < 2*x.len() {
		t.Fatalf("%d texts in %d slots, added %d", x.len(), len(x.slots), len(texts))
	}
	for k, s := range texts {
		// The same bytes in other memory.
		again := string(append([]byte(nil), s...))
		if i, _, ok := x.find(&b.t.strs, again, hashText(again)); !ok || i != want[k] {
			t.Errorf("%q: found %d (%v), added as %d", s, i, ok, want[k])
		}
	}
	for _, s := range []string{"northwind/analytics-api-20000", "-1", "northwind/analytics-api-"} {
		if i, _, ok := x.find(&b.t.strs, s, hashText(s)); ok {
			t.Errorf("%q was never added, found as %d", s, i)
		}
	}
	n := 0
	x.each(func(uint32) { n++ })
	if n != len(texts) {
		t.Errorf("each gave %d texts of %d", n, len(texts))
	}
	ty := reflect.TypeFor[textIndex]()
	for i := range ty.NumField() {
		f := ty.Field(i).Type
		if f.Kind() == reflect.Slice {
			f = f.Elem()
		}
		if f.Kind() < reflect.Bool || f.Kind() > reflect.Uint64 {
			t.Errorf("textIndex.%s is a %s: a pointer per text for the collector", ty.Field(i).Name, ty.Field(i).Type)
		}
	}
}
