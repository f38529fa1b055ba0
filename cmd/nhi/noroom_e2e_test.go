package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImportPastTheFileSizeLimit: an import that grows the evidence file
// past the process's file size limit (ulimit -f, as a FAT32 disk's 4 GB
// does) fails naming the limit and what to do, where SQLite's "disk I/O
// error (778)" named nothing; the file still verifies, and the import is
// not current: what was not written is not claimed.
func TestImportPastTheFileSizeLimit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	db := campaignDB(t, 3)
	var csv strings.Builder
	csv.WriteString("key,kind,name,scope,owner\n")
	for i := range 20000 {
		fmt.Fprintf(&csv, "K%07d,bot_token,bot number %d,channel-%d,owner%d@example.com\n", i, i, i%100, i%50)
	}
	file := filepath.Join(t.TempDir(), "bots.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// 1 MiB (or half that: sh counts blocks of 512 bytes or 1024): the
	// file of 3 identities is a few pages; 20,000 rows are several MB of
	// observations.
	stderr := failsPastFileLimit(t, 1024, "", nil, "import", file, "--source", "slack", "--db", db, "--as", "lead")
	for _, says := range []string{"Could not write to " + db, "(ulimit -f), and nhi's write needed more", "run the command again"} {
		if !strings.Contains(stderr, says) {
			t.Errorf("import past the limit does not say %q:\n%s", says, stderr)
		}
	}
	ok(t, "verify", "--db", db)
	if r := ok(t, "identities", "--filter", "source:slack", "-o", "id", "--db", db); r.stdout != "" {
		t.Errorf("the import that failed is current:\n%s", r.stdout)
	}
}

// TestOpenPastTheFileSizeLimit: opening writes too (a new file's first
// page; the 32 KiB -shm file SQLite reads the write-ahead log through),
// and under a small file size limit (ulimit -f) that failed as "not an nhi
// evidence file", which sent the user looking at a good file. It says
// what stopped it and what to do; the file is as it was, and the same
// command with room succeeds.
func TestOpenPastTheFileSizeLimit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "bots.csv")
	if err := os.WriteFile(file, []byte("key,kind,name,scope,owner\nK1,bot_token,bot,channel,owner@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "new.db")
	db := campaignDB(t, 3)
	for _, c := range []struct {
		what string
		args []string
	}{
		{"a new file", []string{"import", file, "--source", "slack", "--db", fresh, "--as", "lead"}},
		{"an evidence file", []string{"owner", "set", keyID(1), "alice@example.com", "--db", db, "--as", "lead"}},
	} {
		// 4 or 8 KB (sh's blocks are 512 bytes or 1024): less than the
		// first page of a new file (32 KiB) and than the -shm file.
		stderr := failsPastFileLimit(t, 8, "", nil, c.args...)
		if strings.Contains(stderr, "not an nhi evidence file") || !strings.Contains(stderr, "(ulimit -f), and nhi's write needed more") ||
			!strings.Contains(stderr, "run the command again") {
			t.Errorf("opening %s past the limit says:\n%s", c.what, stderr)
		}
		ok(t, c.args...)
	}
	ok(t, "verify", "--db", db)
	ok(t, "verify", "--db", fresh)
}

// TestExportPastTheFileSizeLimit: an export that finds no room says so in
// one sentence, the first file it could not write and that nothing was
// written to --out, where it printed a line for each file written side by
// side, each in a temporary folder gone by then; and nothing is there.
func TestExportPastTheFileSizeLimit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	db := campaignDB(t, 2000)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", "2030-01-01", "--reviewer", "rita", "--db", db, "--as", "lead")
	out := filepath.Join(t.TempDir(), "bundle")
	// 64 or 128 KB (sh's blocks are 512 bytes or 1024): the report of
	// 2,000 items is larger.
	got := failsPastFileLimit(t, 128, "", nil, "export", "q", "--out", out, "--db", db, "--as", "lead")
	if !strings.HasPrefix(got, "nhi: no room to write the bundle: ") || strings.Count(got, "\n") != 1 ||
		!strings.Contains(got, "file too large (past a file size limit: ulimit -f") || !strings.Contains(got, "nothing was written to "+out) ||
		strings.Contains(got, ".nhi-export-") {
		t.Errorf("export past the limit says:\n%s", got)
	}
	if entries, err := os.ReadDir(filepath.Dir(out)); err != nil || len(entries) != 0 {
		t.Errorf("the export that failed left %v (%v)", entries, err)
	}
}

// TestDBExportPastTheFileSizeLimit: nhi db export --to F that finds no
// room names F, and that nothing was written to it, where the advice after
// the error named the store it reads (--db) and told the user to make room
// there; nothing is left beside F.
func TestDBExportPastTheFileSizeLimit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	db := campaignDB(t, 2000)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", "2030-01-01", "--reviewer", "rita", "--db", db, "--as", "lead")
	to := filepath.Join(t.TempDir(), "copy.db")
	// 64 or 128 KB (sh's blocks are 512 bytes or 1024): more than the
	// store's -shm (32 KiB), less than a copy of 2,000 identities.
	got := failsPastFileLimit(t, 128, "", nil, "db", "export", "--to", to, "--db", db)
	// nhi's sentence first: SQLite's "disk I/O error (778)" came first,
	// a line of its own, before it.
	if !strings.HasPrefix(got, "nhi: could not write "+to+": this process may write no file larger than") {
		t.Errorf("db export past the limit does not begin with what stopped it:\n%s", got)
	}
	for _, says := range []string{"Nothing was written to " + to, db + " is as it was"} {
		if !strings.Contains(got, says) {
			t.Errorf("db export past the limit does not say %q:\n%s", says, got)
		}
	}
	if strings.Contains(got, "Could not write to "+db) {
		t.Errorf("db export past the limit names the store it reads:\n%s", got)
	}
	if entries, err := os.ReadDir(filepath.Dir(to)); err != nil || len(entries) != 0 {
		t.Errorf("the export that failed left %v (%v)", entries, err)
	}
	ok(t, "verify", "--db", db)
}

// TestOutputPastTheFileSizeLimit: identities written to a file that
// cannot grow (a full disk, a file size limit) fail saying the output is
// cut short, where only "write /dev/stdout: file too large" said so: a
// CSV cut after a row looks whole.
func TestOutputPastTheFileSizeLimit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	db := campaignDB(t, 2000)
	out := filepath.Join(t.TempDir(), "out.csv")
	// 64 or 128 KB (sh's blocks are 512 bytes or 1024): 2,000 rows are more.
	stderr := failsPastFileLimit(t, 128, `> "$OUT"`, []string{"OUT=" + out}, "identities", "-o", "csv", "--db", db)
	if !strings.Contains(stderr, "file too large") || !strings.Contains(stderr, "The output is cut short") {
		t.Errorf("output past the limit says:\n%s", stderr)
	}
}

// failsPastFileLimit runs the nhi binary with args under a file size
// limit of blocks of sh's (512 or 1,024 bytes: ulimit -f), its standard
// output redirected as redirect says ("" for none) with env added, and
// wants it to fail (exit 1); it returns what it printed on stderr.
func failsPastFileLimit(t *testing.T, blocks int, redirect string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -f %d && exec "$0" "$@" %s`, blocks, redirect), nhiBinary(t)}, args...)...)
	cmd.Env = append(append(os.Environ(), "NHI_DB=", "NHI_REVIEWER="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("nhi %s past the limit: %v, want exit %d\n%s%s", args[0], err, exitFailure, stdout.String(), stderr.String())
	}
	return stderr.String()
}

// TestEmptyDatabaseIsNotAnotherApplications: an SQLite file with no
// tables and no application ID, what an nhi stopped while it created
// the file leaves (killed, or past a file size limit after the first
// page), is called empty when read, where it was "an SQLite database of
// another application"; a command that records makes it an evidence
// file, as before.
func TestEmptyDatabaseIsNotAnotherApplications(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "nhi.db")
	c, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`CREATE TABLE t (x); DROP TABLE t`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r := nhi(t, nil, "identities", "--db", db)
	if r.code != exitFailure || strings.Contains(r.stderr, "another application") || !strings.Contains(r.stderr, "is an empty SQLite database") {
		t.Errorf("identities on an empty database: exit %d\n%s", r.code, r.stderr)
	}
	file := filepath.Join(t.TempDir(), "bots.csv")
	if err := os.WriteFile(file, []byte("key,kind\nK1,bot_token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", file, "--source", "slack", "--db", db, "--as", "lead")
	ok(t, "verify", "--db", db)
}

// TestDBExportThatFailsKeepsWhatWasThere: nhi db export --to F --force
// that cannot write its copy (here past a file size limit, at the first
// page) leaves the evidence file at F as it was, where --force removed it
// before writing, so the failure lost it; and the error names F, never
// the partial copy beside it (".F.partial-PID-…", gone by then).
func TestDBExportThatFailsKeepsWhatWasThere(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	db := demoCopy(t)
	dir := t.TempDir()
	to := filepath.Join(dir, "copy.db")
	ok(t, "db", "export", "--to", to, "--db", db)
	before, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"db", "export", "--to", to, "--force", "--db", db},
		{"db", "export", "--to", filepath.Join(dir, "new.db"), "--db", db},
	} {
		// 2 blocks of sh's (1 or 2 KB): less than the copy's first page.
		got := failsPastFileLimit(t, 2, "", nil, args...)
		if strings.Contains(got, ".partial-") || !strings.HasPrefix(got, "nhi: could not write "+args[3]+": this process may write no file larger than") {
			t.Errorf("nhi %s past the limit says:\n%s", strings.Join(args, " "), got)
		}
	}
	if after, err := os.ReadFile(to); err != nil || !bytes.Equal(before, after) {
		t.Errorf("db export --force that failed did not leave %s as it was (%v)", to, err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("the exports that failed left %v beside %s (%v)", entries, to, err)
	}
	ok(t, "verify", "--db", to)
}
