package audit

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const peopleCSV = "\ufeffemail,name,github,status,left_at,manager,aliases,signing_key\n" +
	"Alice@Northwind.example,Alice Smith,alice-smith,active,,carol@northwind.example,asmith@old.example a.smith,\n" +
	"bob@northwind.example,Bob Jones,bobj,left,2026-10-31,carol@northwind.example,,\n" +
	"carol@northwind.example,Carol Diaz,,,,,,\n"

func TestPeopleImportLookupAndVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		in, err := ReadPeopleCSV(strings.NewReader(peopleCSV), "people.csv")
		if err != nil {
			t.Fatal(err)
		}
		if len(in.People) != 3 || in.Lines[0] != 2 || in.Lines[2] != 4 || in.People[0].Email != "Alice@Northwind.example" || in.Source != "import people.csv" {
			t.Fatalf("read: %+v", in)
		}
		dry, err := s.SetPeople(ctx, "root", *in, true)
		if err != nil || len(dry.Added) != 3 || len(dry.Events) != 0 {
			t.Fatalf("dry run: %+v %v", dry, err)
		}
		if d, _ := s.People(ctx); d.Len() != 0 {
			t.Fatalf("a dry run wrote %d people", d.Len())
		}
		ch, err := s.SetPeople(ctx, "root", *in, false)
		if err != nil || len(ch.Added) != 3 || len(ch.Events) != 3 || ch.Events[0].Type != EventPersonSet {
			t.Fatalf("import: %+v %v", ch, err)
		}
		d, err := s.People(ctx)
		if err != nil || d.Len() != 3 {
			t.Fatalf("directory: %v %v", d.Len(), err)
		}
		for _, alias := range []string{"alice@northwind.example", "ALICE-SMITH", "@alice-smith", "ASmith@old.example", "a.smith"} {
			if p := d.Lookup(alias); p == nil || p.Email != "alice@northwind.example" {
				t.Errorf("Lookup(%q) = %+v", alias, p)
			}
		}
		if p := d.Lookup("bobj"); p == nil || p.LeftNote() != "left on 2026-10-31" || p.Manager != "carol@northwind.example" {
			t.Errorf("bob: %+v", p)
		}
		if d.Lookup("mallory") != nil || !d.Same("a.smith", "@Alice-Smith") || d.Same("alice-smith", "bobj") {
			t.Error("Lookup/Same accept strangers or refuse aliases")
		}
		if c := d.Closest("alise-smith", 3); len(c) == 0 || c[0].Email != "alice@northwind.example" {
			t.Errorf("closest to alise-smith: %+v", c)
		}
		if c := d.Closest("zzzzzzzzzz", 3); len(c) != 0 {
			t.Errorf("closest to nonsense: %+v", c)
		}

		// Importing the same file again changes nothing; an update is one event.
		again, err := s.SetPeople(ctx, "root", *in, false)
		if err != nil || again.Unchanged != 3 || len(again.Events) != 0 {
			t.Fatalf("re-import: %+v %v", again, err)
		}
		upd := []Person{{Email: "carol@northwind.example", Name: "Carol Diaz", Status: "left", LeftAt: "2026-11-15"}}
		if ch, err := s.SetPeople(ctx, "root", PeopleImport{People: upd}, false); err != nil || len(ch.Updated) != 1 || len(ch.Events) != 1 {
			t.Fatalf("update: %+v %v", ch, err)
		}
		// A file with fewer columns leaves the others alone.
		partial, err := ReadPeopleCSV(strings.NewReader("email,github\nalice@northwind.example,alice-s\n"), "github.csv")
		if err != nil {
			t.Fatal(err)
		}
		if ch, err := s.SetPeople(ctx, "root", *partial, false); err != nil || len(ch.Updated) != 1 {
			t.Fatalf("partial update: %+v %v", ch, err)
		}
		if d, _ := s.People(ctx); d.Lookup("alice-s") == nil || d.Lookup("a.smith") == nil || d.Lookup("alice-smith") != nil || d.Lookup("alice-s").Manager != "carol@northwind.example" {
			t.Errorf("after a partial import: %+v", d.Lookup("alice@northwind.example"))
		}
		if r, _ := s.Verify(ctx); !r.OK() || r.Events != 5 {
			t.Fatalf("verify: %+v", r)
		}
		tamper(t, s, `UPDATE people SET record = replace(record, '"left"', '"active"') WHERE email = 'bob@northwind.example'`)
		// What differs is named: a leaver made active again, or a signing
		// key swapped, where it said only that the record differs.
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], `people: bob@northwind.example: status is "active" in the table but "left" by their last person.set event (`) {
			t.Errorf("verify after editing a person: %+v", r.Problems)
		}
	})
}

// A file with one bad record says so in the singular.
func TestOneRefusedRecordIsOneRecord(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	in, err := ReadPeopleCSV(strings.NewReader("email,name\nnot-an-email,X\n"), "bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SetPeople(ctx, "root", *in, false)
	if err == nil || !strings.HasPrefix(err.Error(), "1 record refused, nothing was written:") {
		t.Errorf("one bad record: %v", err)
	}
}

func TestPeopleImportIsAllOrNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		bad := "email,name,github,status,left_at,manager,aliases,signing_key\n" +
			"alice@northwind.example,Alice,alice,active,,,,\n" +
			"not-an-email,X,,,,,,\n" +
			"bob@northwind.example,Bob,ALICE,,,,,\n" +
			"carol@northwind.example,Carol,,gone,,,,\n" +
			"dan@northwind.example,Dan,,active,2026-01-01,,,\n" +
			"erin@northwind.example,Erin,,,,nobody@x.example,,\n" +
			"fay@northwind.example,Fay,,,,,,ssh-ed25519 nonsense\n" +
			"alice@northwind.example,Alice again,,,,,,\n"
		in, err := ReadPeopleCSV(strings.NewReader(bad), "bad.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.SetPeople(ctx, "root", *in, false)
		var errs PeopleErrors
		if !errors.As(err, &errs) {
			t.Fatalf("want every refusal, got %v", err)
		}
		for _, want := range []string{
			"line 3: email \"not-an-email\" is not an e-mail address",
			"line 4: alias ALICE already belongs to alice@northwind.example",
			"line 5: status \"gone\": use active or left",
			"line 6: left_at 2026-01-01 is set but status is active",
			"line 7: manager nobody@x.example is not in the file nor the directory",
			"line 8: signing_key is not an SSH public key line",
			"line 9: alice@northwind.example is listed twice (line 2)",
			"7 records refused, nothing was written",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("missing %q in:\n%v", want, err)
			}
		}
		if d, _ := s.People(ctx); d.Len() != 0 {
			t.Errorf("a refused import wrote %d people", d.Len())
		}

		for name, in := range map[string]string{
			"unknown column": "email,name,phone\n",
			"no email":       "name,github\nA,a\n",
			"empty":          "",
			"no rows":        "email,name\n",
			"short row":      "email,name\na@x.example\n",
		} {
			if _, err := ReadPeopleCSV(strings.NewReader(in), "f.csv"); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}
