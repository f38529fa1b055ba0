package filter_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// An exact id: term matches a text exactly when FoldText of the text is
// the term's ExactText (owner import looks its rows up so, in a map), and
// a term with * or ?, or over another field, or of two terms, is not
// exact.
func TestExactTextIsWhatMatchFolds(t *testing.T) {
	escape := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if strings.ContainsRune(" \t()\"\\:<>=", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	texts := []string{"github:acme:key/1", "GitHub:ACME:Key/1", "github:acme:key/10", "github:acme:key/",
		"Straße", "STRASSE", "straße", "\u212a", "k", "K", "Σίσυφος", "ΣΊΣΥΦΟΣ", "a\xffb", "a\ufffdb", "A\xffB", "é", "É"}
	for _, p := range texts {
		f, err := filter.Parse("id:"+escape(p), audit.Vocabulary)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		folded, ok := f.ExactText(filter.ID)
		if !ok {
			t.Fatalf("id:%s is not exact", p)
		}
		for _, s := range texts {
			id := &audit.Identity{Observation: audit.Observation{ID: s}}
			if got, want := filter.FoldText(s) == folded, f.Match(id, nil); got != want {
				t.Errorf("id:%q against %q: FoldText says %v, Match %v", p, s, got, want)
			}
		}
	}
	if filter.FoldText("github:acme:key/1") != "github:acme:key/1" {
		t.Error("FoldText changed folded text")
	}
	for _, expr := range []string{"id:github:acme:*", "id:github:acme:key?", "name:key", "id:a id:b", "id:a or id:b", "-id:a"} {
		f, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if folded, ok := f.ExactText(filter.ID); ok {
			t.Errorf("%s is exact (%q)", expr, folded)
		}
	}
}
