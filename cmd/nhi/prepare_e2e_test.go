package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

const (
	preparedLine    = "Prepared the review table of "
	notPreparedLine = "nhi will derive it when it opens"
)

// tableFiles is the table cache files in dir.
func tableFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.table"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPopulationCommandsPrepareTheTable: the commands that record a
// population in an evidence file (nhi demo, nhi import, nhi db import)
// prepare the review UI's table cache once at their end, in NHI_CACHE_DIR
// (else the user's cache folder), and say so on stderr; not with
// NHI_CACHE_DIR=off, not on a dry run; a folder that cannot be written
// is a line saying so, and the command still succeeds.
func TestPopulationCommandsPrepareTheTable(t *testing.T) {
	dir := t.TempDir()
	db, cache := filepath.Join(dir, "nhi.db"), filepath.Join(dir, "tables")
	csv := filepath.Join(dir, "bots.csv")
	if err := os.WriteFile(csv, []byte("key,kind,name\nB01,bot_token,deploy-bot\nB02,bot_token,old-bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"NHI_CACHE_DIR=" + cache}
	run := func(env []string, args ...string) result {
		t.Helper()
		r := nhi(t, env, args...)
		if r.code != 0 {
			t.Fatalf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}

	// Six snapshots (a GitHub organisation twice, three AWS accounts, a
	// cluster): one table, prepared once.
	r := run(env, "demo", "--no-tui", "--db", db)
	if n := strings.Count(r.stderr, preparedLine); n != 1 {
		t.Fatalf("the demo said %d times that it prepared the table, want once:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "identities for nhi (a cache, not evidence) in ") {
		t.Errorf("the line does not say what the table is:\n%s", r.stderr)
	}
	if files := tableFiles(t, cache); len(files) != 1 {
		t.Fatalf("after the demo the cache holds %v", files)
	}

	// A dry run records nothing, and prepares nothing.
	if r := run(env, "import", csv, "--source", "slack", "--dry-run", "--db", db); strings.Contains(r.stderr, "review table") {
		t.Errorf("a dry run prepared a table:\n%s", r.stderr)
	}
	r = run(env, "import", csv, "--source", "slack", "--db", db)
	if !strings.Contains(r.stderr, preparedLine) {
		t.Errorf("nhi import did not prepare the table:\n%s", r.stderr)
	}
	if files := tableFiles(t, cache); len(files) != 2 {
		t.Errorf("after the import the cache holds %v, want the two newest tables of the log", files)
	}

	// nhi db import into another file prepares its table (its log is the
	// demo's: in a folder of its own, else the demo's table would serve).
	copyCache := filepath.Join(dir, "copy-tables")
	r = run([]string{"NHI_CACHE_DIR=" + copyCache}, "db", "import", "--from", db, "--db", filepath.Join(dir, "copy.db"))
	if !strings.Contains(r.stderr, preparedLine) || len(tableFiles(t, copyCache)) != 1 {
		t.Errorf("nhi db import did not prepare the table (%v):\n%s", tableFiles(t, copyCache), r.stderr)
	}

	// Off: nothing, anywhere.
	home, xdg := filepath.Join(dir, "home"), filepath.Join(dir, "xdg")
	r = run([]string{"NHI_CACHE_DIR=off", "HOME=" + home, "XDG_CACHE_HOME=" + xdg}, "import", csv, "--source", "okta", "--db", db)
	if strings.Contains(r.stderr, "review table") {
		t.Errorf("NHI_CACHE_DIR=off prepared a table:\n%s", r.stderr)
	}
	for _, d := range []string{home, xdg} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("NHI_CACHE_DIR=off made %s (%v)", d, err)
		}
	}

	// Unset: the user's cache folder, as the UI's.
	if runtime.GOOS == "linux" {
		r = run([]string{"NHI_CACHE_DIR=", "XDG_CACHE_HOME=" + xdg}, "import", csv, "--source", "vault", "--db", db)
		if files := tableFiles(t, filepath.Join(xdg, "nhi", "tables")); !strings.Contains(r.stderr, preparedLine) || len(files) != 1 {
			t.Errorf("without NHI_CACHE_DIR the table should go to $XDG_CACHE_HOME/nhi/tables: %v\n%s", files, r.stderr)
		}
	}

	// A folder that cannot be made: said, and the import stands.
	r = run([]string{"NHI_CACHE_DIR=" + filepath.Join(csv, "tables")}, "import", csv, "--source", "jira", "--db", db)
	if !strings.Contains(r.stderr, "The review table was not prepared (") || !strings.Contains(r.stderr, notPreparedLine) ||
		!strings.Contains(r.stdout, "jira/default") {
		t.Errorf("a cache folder under a file:\n%s%s", r.stdout, r.stderr)
	}
	if r := run(nil, "identities", "--filter", "source:jira", "-o", "id", "--db", db); !strings.Contains(r.stdout, "jira:default:") {
		t.Errorf("the import is not in the evidence:\n%s", r.stdout)
	}
}

// TestPostgresPreparesNoTable: on PostgreSQL the commands that record a
// population leave no table cache behind (the cache belongs to each
// reviewer's machine, docs/team.md).
func TestPostgresPreparesNoTable(t *testing.T) {
	pgtest.Shared(t) // skips under -short, saying why
	dir := t.TempDir()
	cache, csv := filepath.Join(dir, "tables"), filepath.Join(dir, "bots.csv")
	if err := os.WriteFile(csv, []byte("key,kind,name\nB01,bot_token,deploy-bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, []string{"NHI_CACHE_DIR=" + cache}, "import", csv, "--source", "slack", "--db", pgtest.URL(t))
	if r.code != 0 || !strings.Contains(r.stdout, "slack/default") {
		t.Fatalf("nhi import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "review table") {
		t.Errorf("on PostgreSQL the import spoke of a table:\n%s", r.stderr)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("on PostgreSQL the import made the cache folder (%v)", err)
	}
}
