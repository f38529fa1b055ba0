package audit

import (
	"strings"
	"testing"
)

// A name that reads as another person's is refused: one with a character
// that prints nothing, and an alias that, full-width, in another
// script's letters or with an accent, reads as someone else's. Names of
// other scripts that read as nobody's, and a person's own variants, are
// accepted.
func TestNamesThatReadAsAnothersAreRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
			{Email: "rita@acme.test", GitHub: "rita", Aliases: []string{"jose"}},
		}}, false); err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			p    Person
			want string
		}{
			"zero-width space": {Person{Email: "rita\u200b@acme.test"}, `alias "rita\u200b@acme.test" has an invisible character (U+200B), so it would read as rita@acme.test`},
			"soft hyphen":      {Person{Email: "sam@acme.test", GitHub: "ri\u00adta"}, `alias "ri\u00adta" has an invisible character (U+00AD)`},
			"word joiner":      {Person{Email: "sam@acme.test", Aliases: []string{"sam\u2060"}}, `(U+2060)`},
			"full-width":       {Person{Email: "sam@acme.test", Aliases: []string{"ｒｉｔａ"}}, `alias ｒｉｔａ ("\uff52\uff49\uff54\uff41") reads as rita, an alias of rita@acme.test`},
			"cyrillic i":       {Person{Email: "r\u0456ta@acme.test"}, `alias rіta@acme.test ("r\u0456ta@acme.test") reads as rita@acme.test, an alias of rita@acme.test`},
			"greek o":          {Person{Email: "sam@acme.test", GitHub: "j\u03bfse"}, `reads as jose, an alias of rita@acme.test`},
			"accent":           {Person{Email: "sam@acme.test", Aliases: []string{"josé"}}, `alias josé ("jos\u00e9") reads as jose, an alias of rita@acme.test`},
		} {
			_, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{tc.p}}, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: want %q, got %v", name, tc.want, err)
			}
		}
		if d, _ := s.People(ctx); d.Len() != 1 {
			t.Fatalf("refused imports wrote %d people", d.Len())
		}
		// Reported on the record imported, whichever of the two sorts first.
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{{Email: "aaa@acme.test", Aliases: []string{"ｒｉｔａ"}}}}, false); err == nil || !strings.Contains(err.Error(), `aaa@acme.test: alias ｒｉｔａ ("\uff52\uff49\uff54\uff41") reads as rita, an alias of rita@acme.test`) {
			t.Errorf("a lookalike sorting before the person it reads as: %v", err)
		}
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
			{Email: "иван@acme.test", Name: "Иван"},
			{Email: "rita@acme.test", GitHub: "rita", Aliases: []string{"jose", "ｒｉｔａ"}},
		}}, false); err != nil {
			t.Errorf("a name of another script, and a person's own variant: %v", err)
		}
	})
}
