package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nhi import end to end, with the real binary: a dry run records nothing,
// an import is a snapshot next to a GitHub one, the next import removes what
// the file no longer lists, and a file with a secret column is refused
// without a trace of its values in the evidence file.
func TestImportEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example := filepath.Join("..", "..", "testdata", "import", "identities.csv")
	if abs, err := filepath.Abs(example); err == nil {
		example = abs
	}

	// One GitHub snapshot (no week of changes): the counts below are its.
	db := demoCopy(t, "--history=false", "--repos", "2")
	r := nhi(t, nil, "import", example, "--source", "slack", "--account", "acme", "--dry-run", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "would record 4 identities of slack/acme (4 new; 0 now current would be marked removed). Nothing was recorded.") {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "import", example, "--source", "slack", "--account", "acme", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "of slack/acme: complete, 4 identities") || !strings.Contains(r.stdout, "Read with: import of identities.csv (sha256 ") {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Both sources are current, each with its own snapshot.
	r = nhi(t, nil, "snapshots", "--db", db)
	if !strings.Contains(r.stdout, "SOURCE/ACCOUNT") || !strings.Contains(r.stdout, "github/northwind") || !strings.Contains(r.stdout, "slack/acme") {
		t.Errorf("snapshots:\n%s", r.stdout)
	}
	var snaps []struct {
		Source  string `json:"source"`
		Current bool   `json:"current"`
	}
	r = nhi(t, nil, "snapshots", "--json", "--db", db)
	// The demo holds the GitHub organisation, three AWS accounts and a
	// Kubernetes cluster.
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil || len(snaps) != 2+3+1 {
		t.Errorf("snapshots --json: %v %+v", err, snaps)
	}
	for _, sn := range snaps {
		if !sn.Current {
			t.Errorf("snapshot of %s is not current: %+v", sn.Source, snaps)
		}
	}

	// The next file lacks three of the four: they are removed, the github
	// population is untouched.
	next := filepath.Join(dir, "next.csv")
	os.WriteFile(next, []byte("key,kind,name\nB01HX2,bot_token,deploy-bot\n"), 0o600)
	r = nhi(t, nil, "import", next, "--source", "slack", "--account", "acme", "--dry-run", "--db", db)
	if !strings.Contains(r.stdout, "(0 new; 3 now current would be marked removed)") {
		t.Errorf("second dry run:\n%s%s", r.stdout, r.stderr)
	}
	if r = nhi(t, nil, "import", next, "--source", "slack", "--account", "acme", "--db", db); r.code != 0 {
		t.Fatalf("second import: %s", r.stderr)
	}
	// Removed identities are listed only when the filter asks for them.
	r = nhi(t, nil, "identities", "--json", "--filter", "status:any", "--db", db)
	var ids []struct {
		ID, Source, Account, Status string
	}
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, id := range ids {
		count[id.Source+"/"+id.Account+" "+id.Status]++
	}
	if count["slack/acme active"] != 1 || count["slack/acme removed"] != 3 || count["github/northwind removed"] != 0 || count["github/northwind active"] == 0 {
		t.Errorf("after the second import: %v", count)
	}
	if r = nhi(t, nil, "diff", "--db", db); !strings.Contains(r.stdout, "removed") {
		t.Errorf("diff after the second import:\n%s", r.stdout)
	}

	// A secret column: refused, exit 1, nothing of it in the file.
	const canary = "xoxb-CANARY-1f2e3d4c5b6a"
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("key,name,Bot Token\nB9,leaky-bot,"+canary+"\n"), 0o600)
	r = nhi(t, nil, "import", bad, "--source", "slack", "--account", "acme", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "nhi stores metadata only") || strings.Contains(r.stderr+r.stdout, canary) {
		t.Errorf("secret column: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{db, db + "-wal"} {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(canary)) {
			t.Errorf("the canary is in %s", f)
		}
	}
	// Usage mistakes exit 2.
	if r = nhi(t, nil, "import", next, "--db", db); r.code != 2 || !strings.Contains(r.stderr, "--source is required") {
		t.Errorf("no --source: %d %s", r.code, r.stderr)
	}
	if r = nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after imports: %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// A file of one identity says "1 identity", in the dry run and in the
// snapshot's summary, and "1 endpoint" where one was not read.
func TestImportOfOneIdentitySaysIdentity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	file := filepath.Join(dir, "one.csv")
	if err := os.WriteFile(file, []byte("key,kind,name\nB01HX2,bot_token,deploy-bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, nil, "import", file, "--source", "slack", "--account", "acme", "--dry-run", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "would record 1 identity of slack/acme (1 new;") {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "import", file, "--source", "slack", "--account", "acme", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "of slack/acme: complete, 1 identity in ") {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
