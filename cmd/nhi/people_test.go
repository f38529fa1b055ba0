package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// northwindPeople is a directory as HR would export it, BOM and all:
// user0..user6 are the GitHub logins campaignDB's deploy keys were added by.
const northwindPeople = "\ufeffemail,name,github,status,left_at,manager,aliases,signing_key\n" +
	"alice@northwind.example,Alice Smith,user0,active,,carol@northwind.example,alice-smith asmith@old.example,\n" +
	"bob@northwind.example,Bob Jones,user1,left,2026-10-31,carol@northwind.example,,\n" +
	"carol@northwind.example,Carol Diaz,user2,active,,,,\n" +
	"dan@northwind.example,Dan Wu,user3,active,,carol@northwind.example,,\n"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withPeople is campaignDB with the northwind directory imported.
func withPeople(t *testing.T, n int) string {
	t.Helper()
	db := campaignDB(t, n)
	ok(t, "people", "import", writeFile(t, "people.csv", northwindPeople), "--db", db, "--as", "carol@northwind.example")
	return db
}

func TestPeopleDirectory(t *testing.T) {
	db := campaignDB(t, 3)
	csv := writeFile(t, "people.csv", northwindPeople)

	r := ok(t, "people", "import", csv, "--dry-run", "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "Would add 4, updated 0, unchanged 0 people from 4 rows (dry run: nothing written)") {
		t.Errorf("dry run:\n%s", r.stdout)
	}
	if r := ok(t, "people", "list", "--db", db); !strings.Contains(r.stdout, "The directory is empty") {
		t.Errorf("a dry run wrote people:\n%s", r.stdout)
	}
	r = ok(t, "people", "import", csv, "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "Added 4, updated 0, unchanged 0 people from 4 rows (events 1–4, by carol@northwind.example)") {
		t.Errorf("import:\n%s", r.stdout)
	}
	if r := ok(t, "people", "import", csv, "--db", db, "--as", "carol@northwind.example"); !strings.Contains(r.stdout, "unchanged 4") {
		t.Errorf("re-import:\n%s", r.stdout)
	}

	// Found by any alias, whatever the case.
	for _, alias := range []string{"ALICE-SMITH", "@User0", "asmith@old.example", "Alice@Northwind.Example"} {
		r := ok(t, "people", "show", alias, "--db", db)
		if !strings.HasPrefix(r.stdout, "Alice Smith <alice@northwind.example>\n") || !strings.Contains(r.stdout, "manager:     carol@northwind.example") {
			t.Errorf("show %s:\n%s", alias, r.stdout)
		}
	}
	if r := ok(t, "people", "show", "bob@northwind.example", "--db", db); !strings.Contains(r.stdout, "status:      left on 2026-10-31") {
		t.Errorf("show bob:\n%s", r.stdout)
	}
	refused(t, 1, `"alise-smith" is not in the directory of people; did you mean Alice Smith <alice@northwind.example>?`, "people", "show", "alise-smith", "--db", db)

	var list []struct {
		Email   string   `json:"email"`
		Status  string   `json:"status"`
		LeftAt  *string  `json:"left_at"`
		Aliases []string `json:"aliases"`
	}
	r = ok(t, "people", "list", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 4 {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	if list[1].Email != "bob@northwind.example" || list[1].LeftAt == nil || *list[1].LeftAt != "2026-10-31" || list[0].LeftAt != nil ||
		strings.Join(list[0].Aliases, " ") != "user0 alice-smith asmith@old.example" {
		t.Errorf("list --json: %+v", list)
	}

	// All or nothing, every bad line named.
	bad := writeFile(t, "bad.csv", "email,name,github,status,left_at,manager,aliases,signing_key\n"+
		"erin@northwind.example,Erin,erin,active,,,,\n"+
		"fay@northwind.example,Fay,USER0,,,,,\n"+
		"gus@northwind.example,Gus,,retired,,,,\n")
	r = nhi(t, nil, "people", "import", bad, "--db", db, "--as", "carol@northwind.example")
	for _, want := range []string{"line 3: alias USER0 already belongs to alice@northwind.example", "line 4: status \"retired\": use active or left", "nothing was written"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bad import: exit %d, want %q in\n%s", r.code, want, r.stderr)
		}
	}
	refused(t, 1, `"erin" is not in the directory of people`, "people", "show", "erin", "--db", db)
	ok(t, "verify", "--db", db)
}
