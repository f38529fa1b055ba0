package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// nhi db init on an empty PostgreSQL database creates nhi's tables and
// the four roles; run again it creates nothing and says the roles were
// there. On an evidence file it says it is for PostgreSQL and does
// nothing.
func TestDBInit(t *testing.T) {
	db := pgtest.URL(t)
	r := nhi(t, nil, "--db", db, "db", "init")
	if r.code != 0 || !strings.Contains(r.stdout, "Created the roles nhi_admin, nhi_connector, nhi_reviewer, nhi_auditor") {
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
