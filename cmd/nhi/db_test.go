package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// nhi db init on an empty PostgreSQL database creates nhi's tables and
// the four roles; run again it creates nothing and says the roles were
// there. On an evidence file it says it is for PostgreSQL and does
// nothing.
func TestDBInit(t *testing.T) {
	db := pgtest.URL(t)
	r := nhi(t, nil, "--db", db, "db", "init")
	if r.code != 0 || !strings.Contains(r.stdout, "Created the roles nhi_admin, nhi_connector, nhi_reviewer, nhi_auditor") ||
		!strings.Contains(r.stdout, "nhi's tables are in place in postgres://") || !strings.Contains(r.stdout, "it holds no evidence yet") {
		t.Fatalf("first nhi db init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "--db", db, "db", "init")
	if r.code != 0 || !strings.Contains(r.stdout, "were there") {
		t.Fatalf("second nhi db init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "--db", db, "verify"); r.code != 0 {
		t.Errorf("verify after db init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	file := filepath.Join(t.TempDir(), "nhi.db")
	r = nhi(t, nil, "--db", file, "db", "init")
	if r.code != 1 || !strings.Contains(r.stderr, "is for a PostgreSQL database") {
		t.Errorf("nhi db init on a file: exit %d\n%s", r.code, r.stderr)
	}
	if r := nhi(t, nil, "--db", file, "verify"); r.code == 0 {
		t.Errorf("nhi db init on a file created it:\n%s", r.stdout)
	}
}

// demoOnPostgres is the sample organisation (nhi demo, nhi db init) in a
// fresh PostgreSQL database, and a reviewer's login role in it,
// rita_<database>: the owner's URL, rita's, and her role's name.
func demoOnPostgres(t *testing.T) (owner, rita, role string) {
	t.Helper()
	owner = pgtest.URL(t)
	for _, args := range [][]string{{"demo", "--no-tui"}, {"db", "init"}} {
		if r := nhi(t, nil, append([]string{"--db", owner}, args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	role = "rita_" + pgtest.DatabaseName(owner)
	return owner, pgtest.LoginRole(t, owner, role, audit.RoleReviewer), role
}

// On PostgreSQL the actor is the database session's role: a reviewer's
// note is recorded in their role's name without --as; --as naming someone
// else is refused, naming both; once the directory of people gives the
// role as one of a person's aliases, the actor is that person, and --as
// may narrow to another of their aliases.
func TestDBActorIsTheSessionRole(t *testing.T) {
	owner, rita, role := demoOnPostgres(t)
	id := "github:northwind:github_deploy_key:api-gateway/80000240"

	r := nhi(t, []string{"NHI_REVIEWER=someone@else.test"}, "--db", rita, "note", "add", id, "asked the gateway team")
	if r.code == 0 || !strings.Contains(r.stderr, `connected as database role "`+role+`"`) || !strings.Contains(r.stderr, "someone@else.test") {
		t.Errorf("NHI_REVIEWER naming someone else: exit %d\n%s", r.code, r.stderr)
	}
	r = nhi(t, nil, "--db", rita, "--as", "sam@acme.com", "note", "add", id, "asked the gateway team")
	if r.code == 0 || !strings.Contains(r.stderr, "sam@acme.com") || !strings.Contains(r.stderr, role) {
		t.Errorf("--as naming someone else: exit %d\n%s", r.code, r.stderr)
	}
	r = nhi(t, nil, "--db", rita, "note", "add", id, "asked the gateway team")
	if r.code != 0 || !strings.Contains(r.stdout, "by "+role) {
		t.Fatalf("the reviewer's note in their role's name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The directory of people knows the role as rita's alias (imported by
	// the owner, in the owner's role's name).
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,github,status,left_at,manager,aliases,signing_key\n"+
		"rita@acme.com,Rita Diaz,rita-diaz,active,,,"+role+",\nsam@acme.com,Sam Lee,sam-lee,active,,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := nhi(t, nil, "--db", owner, "people", "import", csv); r.code != 0 {
		t.Fatalf("people import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "--db", rita, "note", "add", id, "the team answered")
	if r.code != 0 || !strings.Contains(r.stdout, "by rita@acme.com") {
		t.Errorf("the role mapped to its person: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "--db", rita, "--as", "rita-diaz", "note", "add", id, "narrowed to an alias")
	if r.code != 0 || !strings.Contains(r.stdout, "by rita@acme.com") {
		t.Errorf("--as narrowing to the person's alias: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "--db", rita, "--as", "sam-lee", "note", "add", id, "as sam")
	if r.code == 0 || !strings.Contains(r.stderr, "sam-lee") {
		t.Errorf("--as another person of the directory: exit %d\n%s", r.code, r.stderr)
	}
}
