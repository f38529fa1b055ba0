package main

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// nhi db import of a file whose log the store holds, but which has since
// recorded part of a snapshot (a run interrupted: no event yet), copies
// that snapshot's rows and says so, where it said "Nothing to import";
// once they are in, a further import has nothing to do.
func TestDBImportAgainBringsAnUnfinishedSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := campaignDB(t, 3)
	store := filepath.Join(t.TempDir(), "store.db")
	ok(t, "db", "import", "--from", file, "--db", store)

	st, err := audit.Open(ctx, file, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Record(audit.Observation{ID: keyID(7), Kind: audit.KindGitHubDeployKey, Name: "key-7", Scope: "acme/r2"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Suspend(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	r := ok(t, "db", "import", "--from", file, "--db", store)
	if !regexp.MustCompile(`^Imported the rows of a snapshot .*nhi.db has not finished \(no event records one until it finishes\) into .*store.db, which held its 1 event already: observations 1, snapshots 1; chain head [0-9a-f]{64}\n$`).MatchString(r.stdout) {
		t.Errorf("the second import says:\n%s", r.stdout)
	}
	if r := ok(t, "db", "import", "--from", file, "--db", store); !regexp.MustCompile(`^Nothing to import: `).MatchString(r.stdout) {
		t.Errorf("the third import says:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", store)
}
