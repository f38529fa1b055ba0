package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A report attested by default by whoever exports it is not attested by
// a person the directory marks left: the export refuses, saying who
// they act as and when they left, and writes nothing, as every command
// that acts in someone's name does (docs/people.md). Another signer
// named with --signer attests as before.
func TestExportAttestedByALeaverIsRefused(t *testing.T) {
	db := separationDB(t)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "alice-smith", "--reviewer", "dan@northwind.example",
		"--db", db, "--as", "carol@northwind.example")
	out := filepath.Join(t.TempDir(), "bundle")
	r := nhi(t, nil, "export", "q", "--out", out, "--db", db, "--as", "bob@northwind.example")
	if r.code != 1 || !strings.Contains(r.stderr, `acting as "bob@northwind.example" (from --as), and bob@northwind.example left on 2026-10-31`) ||
		!strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("export attested by bob, who left: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused export left %s: %v", out, err)
	}
	ok(t, "export", "q", "--out", out, "--signer", "carol@northwind.example", "--db", db, "--as", "bob@northwind.example")
}
