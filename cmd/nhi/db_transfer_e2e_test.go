package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

var verifiedHead = regexp.MustCompile(`(?m)^OK .*: (\d+) events, chain head ([0-9a-f]{64});`)

// verifyHead runs nhi verify on db and returns the event count and head
// it reports, failing the test unless it passes.
func verifyHead(t *testing.T, db string) string {
	t.Helper()
	r := nhi(t, nil, "verify", "--db", db)
	m := verifiedHead.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("nhi verify --db %s: exit %d\n%s%s", db, r.code, r.stdout, r.stderr)
	}
	return m[1] + ":" + m[2]
}

// TestDBExportImportThroughPostgres is the team's round trip: an
// auditor's evidence file is imported into a shared PostgreSQL database,
// a reviewer decides there, the database is exported to a new evidence
// file, which verifies on its own with the database's head; a file whose
// log went another way is refused, naming the event, and the database
// loses nothing.
func TestDBExportImportThroughPostgres(t *testing.T) {
	pgtest.Shared(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "auditor.db")
	shared := pgtest.URL(t)
	must := func(args ...string) result {
		t.Helper()
		r := nhi(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	must("demo", "--no-tui", "--db", file)
	must("campaign", "create", "q4", "--due", "2026-12-31", "--scope", "kind:deploy_key", "--snapshot", "4",
		"--reviewer", "rev@example.com", "--db", file, "--as", "lead@example.com")
	fileHead := verifyHead(t, file)

	r := must("db", "import", "--db", shared, "--from", file)
	if !strings.Contains(r.stdout, "events appended after the 0 it held") {
		t.Fatalf("import into the empty database: %s", r.stdout)
	}
	if h := verifyHead(t, shared); h != fileHead {
		t.Fatalf("the database verifies with head %s, the file %s", h, fileHead)
	}

	// The reviewer connects as their own role, which the database
	// authenticates (docs/team.md): --as may only name that role.
	must("db", "init", "--db", shared)
	rev := pgtest.LoginRole(t, shared, "rev@example.com", audit.RoleReviewer)
	must("decide", "q4", "--filter", "name:render.com", "decommission", "--reason", "unused", "--yes",
		"--db", rev, "--as", "rev@example.com")
	sharedHead := verifyHead(t, shared)
	if sharedHead == fileHead {
		t.Fatal("the decision on the database did not extend its log")
	}

	out := filepath.Join(dir, "export.db")
	r = must("db", "export", "--db", shared, "--to", out)
	if !strings.Contains(r.stdout, "verifies on its own") {
		t.Fatalf("export: %s", r.stdout)
	}
	if h := verifyHead(t, out); h != sharedHead {
		t.Fatalf("the export verifies with head %s, the database %s", h, sharedHead)
	}
	show := must("campaign", "show", "q4", "--db", out)
	if !strings.Contains(show.stdout, "Progress: 2/43 decided") {
		t.Fatalf("the exported campaign:\n%s", show.stdout)
	}
	r = nhi(t, nil, "db", "export", "--db", shared, "--to", out)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("export over an existing file: exit %d %s", r.code, r.stderr)
	}
	r = nhi(t, nil, "db", "export", "--db", shared, "--to", out, "--at", "3")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot be written faithfully") {
		t.Fatalf("export --at: exit %d %s", r.code, r.stderr)
	}

	// Meanwhile the auditor decided otherwise in the original file.
	must("decide", "q4", "--filter", "name:render.com", "keep", "--reason", "still used by deploys", "--yes",
		"--db", file, "--as", "rev@example.com")
	r = nhi(t, nil, "db", "import", "--db", shared, "--from", file)
	if r.code != 1 || !strings.Contains(r.stderr, "the event logs diverge at event 15") || !strings.Contains(r.stderr, "nothing was written") {
		t.Fatalf("conflicting import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if h := verifyHead(t, shared); h != sharedHead {
		t.Fatalf("a refused import changed the database: head %s, was %s", h, sharedHead)
	}

	// The export goes on in SQLite and comes back: the rest is appended.
	must("decide", "q4", "--filter", "name:render.com", "rotate", "--reason", "rotate it first", "--include-decided", "--yes",
		"--db", out, "--as", "rev@example.com")
	outHead := verifyHead(t, out)
	r = must("db", "import", "--db", shared, "--from", out)
	if !strings.Contains(r.stdout, "1 event appended after the 15 it held") {
		t.Fatalf("appending import: %s", r.stdout)
	}
	if h := verifyHead(t, shared); h != outHead {
		t.Fatalf("after the import the database has head %s, the file %s", h, outHead)
	}
}
