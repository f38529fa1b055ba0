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

// An owner recorded under an alias (nhi owner set ID r.jones) stays that
// person's: an import that drops the alias, moves it to someone else or
// changes the GitHub login an owner is recorded as is refused, naming
// the identity and what to do, since separation of duties and the
// orphaned rule read the owner through the directory as it is. Once the
// owner is recorded as the person's e-mail, the alias may go; a name no
// owner is recorded under goes freely.
func TestDroppingANameAnOwnerIsRecordedUnder(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey)
		snapshot(t, s, nil, nil, a, b)
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
			{Email: "rita@acme.test", GitHub: "rita", Aliases: []string{"r.jones", "rj"}},
			{Email: "sam@acme.test", GitHub: "sam"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		for id, owner := range map[string]string{a.ID: "r.jones", b.ID: "@rita"} {
			if _, err := s.SetOwner(ctx, "root", id, owner); err != nil {
				t.Fatal(err)
			}
		}
		for name, tc := range map[string]struct {
			csv, want string
		}{
			"alias dropped": {"email,aliases\nrita@acme.test,rj\n",
				"line 2: rita@acme.test would no longer go by r.jones, which the owner of " + a.ID + " is recorded as: the owner would quietly stop being them (it names no one then); record them as its owner first (nhi owner set ID rita@acme.test), or keep the name"},
			"alias moved": {"email,aliases\nrita@acme.test,rj\nsam@acme.test,r.jones\n",
				"line 2: rita@acme.test would no longer go by r.jones, which the owner of " + a.ID + " is recorded as: the owner would quietly stop being them (it names sam@acme.test then)"},
			"login changed": {"email,github\nrita@acme.test,rita-j\n", "line 2: rita@acme.test would no longer go by @rita, which the owner of " + b.ID},
		} {
			in, err := ReadPeopleCSV(strings.NewReader(tc.csv), "hr.csv")
			if err != nil {
				t.Fatal(err)
			}
			for _, dry := range []bool{true, false} {
				if _, err := s.SetPeople(ctx, "root", *in, dry); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s (dry run %v): want %q, got %v", name, dry, tc.want, err)
				}
			}
		}
		if d, _ := s.People(ctx); d.Lookup("r.jones").Email != "rita@acme.test" || d.Lookup("rita").Email != "rita@acme.test" {
			t.Fatal("a refused import changed the directory")
		}
		// A name no owner is recorded under goes; once the owner is her
		// e-mail, so does r.jones.
		in, _ := ReadPeopleCSV(strings.NewReader("email,aliases\nrita@acme.test,r.jones\n"), "hr.csv")
		if _, err := s.SetPeople(ctx, "root", *in, false); err != nil {
			t.Errorf("dropping rj, which no owner is recorded as: %v", err)
		}
		if _, err := s.SetOwner(ctx, "root", a.ID, "rita@acme.test"); err != nil {
			t.Fatal(err)
		}
		in, _ = ReadPeopleCSV(strings.NewReader("email,aliases\nrita@acme.test,\n"), "hr.csv")
		if _, err := s.SetPeople(ctx, "root", *in, false); err != nil {
			t.Errorf("dropping r.jones once the owner is rita@acme.test: %v", err)
		}
	})
}

// An owner recorded as nhi prints a person ("Rita Jones <rita@acme.test>",
// what nhi owner set's warning suggests) is that person: the owner.set
// event and the owners table name her, and when she leaves the identity
// is orphaned.
func TestOwnerAsNhiPrintsAPerson(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a := obs("a", KindGitHubDeployKey)
		snapshot(t, s, nil, nil, a)
		rita := Person{Email: "rita@acme.test", Name: "Rita Jones", GitHub: "rita"}
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{rita}}, false); err != nil {
			t.Fatal(err)
		}
		ev, err := s.SetOwner(ctx, "root", a.ID, " Rita Jones <Rita@acme.test> ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ev.Payload), `"person":"rita@acme.test"`) {
			t.Errorf("owner.set payload %s does not name rita@acme.test", ev.Payload)
		}
		var person string
		if err := s.QueryRow(ctx, `SELECT person FROM owners WHERE identity_id = ?`, a.ID).Scan(&person); err != nil || person != "rita@acme.test" {
			t.Errorf("owners.person = %q %v", person, err)
		}
		rita.Status, rita.LeftAt = PersonLeft, "2026-09-30"
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{rita}}, false); err != nil {
			t.Fatal(err)
		}
		ids, err := s.Identities(ctx)
		if err != nil || len(ids) != 1 {
			t.Fatalf("identities: %d %v", len(ids), err)
		}
		var orphaned string
		for _, f := range ids[0].Findings {
			if f.Rule == RuleOrphaned {
				orphaned = f.Message
			}
		}
		if want := "owner Rita Jones <Rita@acme.test> left on 2026-09-30"; orphaned != want {
			t.Errorf("orphaned: %q; want %q", orphaned, want)
		}
	})
}
