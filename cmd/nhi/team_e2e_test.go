package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// TestTeamFlowsThroughPostgres runs the flows that matter through the
// binary against a PostgreSQL database (docs/team.md), beside the same on
// an evidence file: the demo's snapshots, identities (the same
// population, statuses and owners as the file's), a campaign, a
// reviewer's decision under the role the database authenticated, verify,
// and the campaign's evidence report, which verifies against the
// database.
func TestTeamFlowsThroughPostgres(t *testing.T) {
	pgtest.Shared(t) // skips under -short, saying why
	dir := t.TempDir()
	file, shared := filepath.Join(dir, "nhi.db"), pgtest.URL(t)
	must := func(args ...string) result {
		t.Helper()
		r := nhi(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	population := func(db string) []string {
		t.Helper()
		var ids []map[string]any
		if err := json.Unmarshal([]byte(must("identities", "--db", db, "--json").stdout), &ids); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range ids {
			out = append(out, fmt.Sprint(id["id"], " ", id["kind"], " ", id["status"], " owner=", id["owner"], " findings=", len(id["findings"].([]any))))
		}
		return out
	}
	for _, db := range []string{file, shared} {
		must("demo", "--history=false", "--no-tui", "--db", db)
	}
	onFile, onPG := population(file), population(shared)
	if len(onPG) < 50 || !slices.Equal(onFile, onPG) {
		t.Fatalf("nhi identities on PostgreSQL (%d) differs from the same demo on a file (%d):\n%s\n---\n%s",
			len(onPG), len(onFile), strings.Join(onPG, "\n"), strings.Join(onFile, "\n"))
	}

	// A reviewer with a role of their own decides; the owner of the
	// database created the campaign.
	must("db", "init", "--db", shared)
	// Roles are the server's, not the database's: another test may have
	// made this one.
	rev := pgtest.LoginRole(t, shared, "rev@example.com", audit.RoleReviewer)
	must("campaign", "create", "q4", "--due", "2026-12-31", "--scope", "kind:deploy_key",
		"--reviewer", "rev@example.com", "--db", shared)
	// render.com has two deploy keys.
	r := must("decide", "q4", "--filter", "name:render.com", "decommission", "--reason", "unused", "--yes",
		"--db", rev)
	if !strings.Contains(r.stdout+r.stderr, "decommission") {
		t.Errorf("decide says:\n%s%s", r.stdout, r.stderr)
	}
	show := must("campaign", "show", "q4", "--db", shared).stdout
	if !strings.Contains(show, "Progress: 2/43 decided") || !strings.Contains(show, "rev@example.com  43        2") {
		t.Errorf("the campaign after the decision:\n%s", show)
	}
	if r := must("verify", "--db", shared); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify: %s", r.stdout)
	}
	bundle := filepath.Join(dir, "report")
	must("export", "q4", "--out", bundle, "--db", shared)
	// The report's signer, unless --signer says, is who the database
	// authenticated, as every actor there: not git's user.email.
	r = must("export", "q4", "--out", filepath.Join(dir, "by-reviewer"), "--db", rev)
	if !strings.Contains(r.stdout, ", signer rev@example.com\n") {
		t.Errorf("export as the reviewer's role names another signer:\n%s", r.stdout)
	}
	// Its checks of the store name the database: there is no file.
	if r := must("verify", "--db", shared, "--report", bundle); !strings.HasPrefix(r.stdout, "OK") ||
		!strings.Contains(r.stdout, "\nOK   database: event ") || strings.Contains(r.stdout, "evidence file") {
		t.Errorf("verify --report: %s", r.stdout)
	}
}
