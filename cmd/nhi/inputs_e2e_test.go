package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPolicySetSaysExactlyWhatItDid: a threshold of 0, a fraction and a
// second YAML document are refused, naming the mistake, and nothing is
// recorded; before, each was accepted, 0 silently replaced by the default.
func TestPolicySetSaysExactlyWhatItDid(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	dir := t.TempDir()
	for name, c := range map[string]struct{ yaml, says string }{
		"zero":  {"version: 1\nrules:\n  unrotated:\n    days: 0\n", "rule unrotated needs days greater than 0 (0 would fire on everything); to turn the rule off, set enabled: false"},
		"frac":  {"version: 1\nrules:\n  unrotated:\n    days: 1.5\n", `line 4: "1.5" is not a whole number`},
		"multi": {"version: 1\nrules:\n  unrotated:\n    days: 30\n---\nversion: 1\nrules:\n  unrotated:\n    days: 900\n", "more than one YAML document"},
	} {
		f := filepath.Join(dir, name+".yaml")
		os.WriteFile(f, []byte(c.yaml), 0o600)
		refused(t, 1, c.says, "policy", "set", f, "--db", db, "--as", "lead")
	}
	if r := ok(t, "policy", "show", "--db", db); !strings.Contains(r.stdout, "days: 90") {
		t.Errorf("a refused policy changed the one in force:\n%s", r.stdout)
	}
	// Off, with 0: taken as written.
	f := filepath.Join(dir, "off.yaml")
	os.WriteFile(f, []byte("version: 1\nrules:\n  unrotated:\n    enabled: false\n    days: 0\n"), 0o600)
	ok(t, "policy", "set", f, "--db", db, "--as", "lead")
	if r := ok(t, "policy", "show", "--db", db); !strings.Contains(r.stdout, "days: 0") {
		t.Errorf("days: 0 of a rule turned off was not kept:\n%s", r.stdout)
	}
}

// TestOwnerImportInputs: Excel's "CSV UTF-8" (a byte order mark) is read,
// an empty owner cell is reported as clearing the owner, and an owner
// longer than 256 characters is refused with its line.
func TestOwnerImportInputs(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	dir := t.TempDir()
	bom := filepath.Join(dir, "owners.csv")
	os.WriteFile(bom, []byte("\ufeffid,owner\n"+keyID(0)+",alice@acme.test\n"+keyID(1)+",bob@acme.test\n"), 0o600)
	if r := ok(t, "owner", "import", bom, "--db", db, "--as", "lead"); !strings.Contains(r.stdout, "Set the owner of 2 identities and cleared it of 0, from 2 rows") {
		t.Errorf("import with a BOM: %s", r.stdout)
	}
	clear := filepath.Join(dir, "clear.csv")
	os.WriteFile(clear, []byte(keyID(0)+",\n"+keyID(2)+",carol@acme.test\n"), 0o600)
	if r := ok(t, "owner", "import", clear, "--dry-run", "--db", db, "--as", "lead"); !strings.Contains(r.stdout, keyID(0)+"\t(cleared)") ||
		!strings.Contains(r.stdout, "Would have set the owner of 1 identity and cleared it of 1, from 2 rows") {
		t.Errorf("dry run with an empty owner cell: %s", r.stdout)
	}
	if r := ok(t, "owner", "import", clear, "--db", db, "--as", "lead"); !strings.Contains(r.stdout, "Set the owner of 1 identity and cleared it of 1, from 2 rows") {
		t.Errorf("import with an empty owner cell: %s", r.stdout)
	}
	long := filepath.Join(dir, "long.csv")
	os.WriteFile(long, []byte(keyID(1)+",dave@acme.test\n"+keyID(2)+","+strings.Repeat("é", 257)+"\n"), 0o600)
	refused(t, 1, "long.csv:2: the owner is 257 characters long; at most 256", "owner", "import", long, "--db", db, "--as", "lead")
	refused(t, 1, "an owner is at most 256 characters; this one is 300", "owner", "set", keyID(1), strings.Repeat("x", 300), "--db", db, "--as", "lead")
	if r := ok(t, "identities", "--json", "--db", db); strings.Contains(r.stdout, "dave@acme.test") || strings.Contains(r.stdout, "éé") {
		t.Errorf("a refused import wrote something:\n%s", r.stdout)
	}
}

// TestExportCleansUpAfterAKilledExport: the temporary folder an export
// killed (SIGKILL) before it finished leaves beside its output is removed
// by the next export of that folder; one of an export still running is
// left alone.
func TestExportCleansUpAfterAKilledExport(t *testing.T) {
	db := reportDB(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "evidence")
	// What a killed export leaves: its temporary folder, named after its
	// process, which is gone.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(parent, ".evidence.nhi-export-"+strconv.Itoa(gone.Process.Pid)+"-123")
	running := filepath.Join(parent, ".evidence.nhi-export-"+strconv.Itoa(os.Getpid())+"-456")
	for _, d := range []string{killed, running} {
		os.Mkdir(d, 0o700)
		os.WriteFile(filepath.Join(d, "report.html"), []byte("<html>half"), 0o600)
	}
	ok(t, "export", "q", "--out", out, "--db", db, "--as", "lead")
	if _, err := os.Stat(killed); err == nil {
		t.Error("the killed export's temporary folder is still there")
	}
	if _, err := os.Stat(running); err != nil {
		t.Error("the running export's temporary folder was removed")
	}
	left, _ := filepath.Glob(filepath.Join(parent, ".evidence.nhi-export-*"))
	if len(left) != 1 {
		t.Errorf("temporary folders after the export: %v", left)
	}
}
