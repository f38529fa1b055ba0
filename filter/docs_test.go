package filter

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the field table in docs/filter.md from the field list")

// TestDocsFieldTable keeps docs/filter.md's field table what the field list
// says: a field added to the list without its docs, or docs edited by hand
// without the list, fails here. go test ./filter -run TestDocsFieldTable
// -update rewrites the table.
func TestDocsFieldTable(t *testing.T) {
	const path = "../docs/filter.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	const header = "| term | matches identities that… |\n"
	start := strings.Index(doc, header)
	if start < 0 {
		t.Fatalf("%s has no field table (a line %q)", path, strings.TrimSpace(header))
	}
	end := start
	for end < len(doc) && doc[end] == '|' { // the table: consecutive lines starting with "|"
		end += strings.IndexByte(doc[end:], '\n') + 1
	}
	got, want := doc[start:end], fieldsMarkdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the field table in %s differs from the field list in terms.go; "+
		"run go test ./filter -run TestDocsFieldTable -update\ngot:\n%s\nwant:\n%s", path, got, want)
}

// The hint in errors, which the TUI shows under the filter prompt, lists
// every field of the table: a field added to the list shows there too.
func TestFieldsHintListsEveryField(t *testing.T) {
	hint := fieldsHint()
	for _, f := range fields {
		name := f.name
		if f.keyOnly {
			name += "." + f.key
		}
		if !strings.Contains(hint, " "+name+",") && !strings.HasSuffix(hint, " "+name) {
			t.Errorf("fields hint %q does not list %q", hint, name)
		}
		if len(f.docs) == 0 {
			t.Errorf("field %q has no rows for docs/filter.md", f.name)
		}
		if _, err := parse(f.exampleFor(f.name), &Vocabulary{Kinds: []string{"github_deploy_key"}, Rules: []string{"stale"},
			Severities: []string{"low", "high"}, Statuses: []string{"active"}}); err != nil && f.example != "" {
			t.Errorf("field %q: its example %q does not parse: %v", f.name, f.example, err)
		}
	}
}
