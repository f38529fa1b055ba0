package filter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// person: asks the caller (Env.Related) whether an identity is related to
// a person; the filter names the people it needs and prints them back.
func TestPersonTerm(t *testing.T) {
	f, err := filter.Parse(`person:alice or (kind:deploy_key -person:"bob@acme.test" -person:ALICE)`, audit.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.People(); !slices.Equal(got, []string{"alice", "bob@acme.test", "ALICE"}) {
		t.Errorf("People() = %v", got)
	}
	again, err := filter.Parse(f.String(), audit.Vocabulary)
	if err != nil || again.String() != f.String() {
		t.Errorf("canonical %q re-parses to %q (%v)", f.String(), again.String(), err)
	}
	related := map[string][]string{"k1": {"alice"}, "k2": {"bob@acme.test"}, "k3": nil}
	var asked []string
	env := &filter.Env{Related: func(s filter.Subject, person string) bool {
		asked = append(asked, person)
		return slices.Contains(related[s.FilterText(filter.Name)], person)
	}}
	var got []string
	for _, name := range []string{"k1", "k2", "k3"} {
		id := &audit.Identity{Observation: audit.Observation{ID: name, Name: name, Kind: audit.KindGitHubDeployKey}}
		if f.Match(id, env) {
			got = append(got, name)
		}
	}
	// k1 is alice's; k2 is bob's (excluded); k3 is a deploy key nobody's.
	if !slices.Equal(got, []string{"k1", "k3"}) || len(asked) == 0 {
		t.Errorf("matched %v (asked %v)", got, asked)
	}
	if _, err := filter.Parse("person:ali*", audit.Vocabulary); err == nil || !strings.Contains(err.Error(), "not a pattern") {
		t.Errorf("a glob: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a person term without Env.Related did not panic")
		}
	}()
	f.Match(&audit.Identity{}, &filter.Env{})
}
