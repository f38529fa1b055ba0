package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestIdentitiesJSONIsIdentitiesEncoded: nhi identities --json streams
// (audit.Store.StreamIdentities, which reads each chunk's principals by
// key and keeps no repository's suggestions past it) byte for byte what
// encoding every identity Identities returns would print, on a demo whose
// repositories' CODEOWNERS, teams and admins suggest owners, and whose
// organisation's owners are suggested for its org-wide identities, across
// several of the read's chunks.
func TestIdentitiesJSONIsIdentitiesEncoded(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	if r := nhi(t, nil, "demo", "--no-tui", "--repos", "120", "--db", db); r.code != 0 {
		t.Fatalf("demo exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r := nhi(t, nil, "identities", "--json", "--filter", "status:any", "--db", db)
	if r.code != 0 {
		t.Fatalf("identities exit %d: %s", r.code, r.stderr)
	}
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(want)+"\n" {
		got, exp := strings.Split(r.stdout, "\n"), strings.Split(string(want)+"\n", "\n")
		for i := range min(len(got), len(exp)) {
			if got[i] != exp[i] {
				t.Fatalf("line %d of %d differs from Identities encoded (%d lines):\n got %s\nwant %s", i+1, len(got), len(exp), got[i], exp[i])
			}
		}
		t.Fatalf("%d lines, Identities encoded %d", len(got), len(exp))
	}
	// The fixture has what the comparison is for: more identities than a
	// chunk (256) and suggestions from their repositories' principals.
	scoped := 0
	for i := range all {
		for _, sg := range all[i].Suggestions {
			if strings.HasPrefix(sg.Source, "CODEOWNERS of ") || strings.HasSuffix(sg.Source, " team of "+all[i].Scope) {
				scoped++
				break
			}
		}
	}
	if len(all) < 600 || scoped < 100 {
		t.Errorf("the demo has %d identities, %d suggested from their repositories' principals: want several chunks, most of them suggested", len(all), scoped)
	}
	// And org-wide identities suggested the organisation's owners in
	// more than one chunk: the read keeps an organisation's list from
	// chunk to chunk rather than read its members again.
	chunks := map[int]bool{}
	for i := range all {
		for _, sg := range all[i].Suggestions {
			if strings.HasPrefix(sg.Source, "owner of the organisation ") {
				chunks[i/256] = true
				break
			}
		}
	}
	if len(chunks) < 2 {
		t.Errorf("the organisation's owners are suggested in %d chunks of 256 identities: want several", len(chunks))
	}
}
