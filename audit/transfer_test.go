package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verified opens the evidence at where read-only and fails the test
// unless it verifies; it returns the head nhi verify reports.
func verified(t *testing.T, where string) *VerifyResult {
	t.Helper()
	s, err := Open(ctx, where, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("%s does not verify: %v", where, r.Problems)
	}
	return r
}

// storeWithHistory is a store with two snapshots and owners set between
// them: rows of every kind the log and the projections hold.
func storeWithHistory(t *testing.T, where string) *Store {
	t.Helper()
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("acme/api/key-1", KindGitHubDeployKey), obs("acme/api/key-2", KindGitHubDeployKey))
	if _, err := s.SetOwner(ctx, "ana@example.com", dk("acme/api/key-1"), "team-api"); err != nil {
		t.Fatal(err)
	}
	snapshot(t, s, nil, nil, obs("acme/api/key-1", KindGitHubDeployKey), obs("acme/web/key-3", KindGitHubDeployKey))
	if _, err := s.SetOwner(ctx, "ana@example.com", dk("acme/web/key-3"), "team-web"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExportIsTheSameChainAndVerifies(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		s := storeWithHistory(t, where)
		out := filepath.Join(t.TempDir(), "evidence.db")
		res, err := s.Export(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		orig := verified(t, where)
		copied := verified(t, out)
		if copied.Head != orig.Head || copied.Events != orig.Events || copied.Snapshots != orig.Snapshots {
			t.Fatalf("the export holds %d events, head %s, %d snapshots; the store %d, %s, %d",
				copied.Events, copied.Head, copied.Snapshots, orig.Events, orig.Head, orig.Snapshots)
		}
		if res.Head != orig.Head || res.Rows["observations"] != 4 || res.Rows["owners"] != 2 {
			t.Fatalf("Export says head %s, rows %v", res.Head, res.Rows)
		}
		// The events are the same bytes, not only the same hashes.
		f := openAt(t, out)
		for _, q := range []string{
			`SELECT group_concat(seq || at || actor || type || payload || prev_hash || hash, '|') FROM (SELECT * FROM events ORDER BY seq) e`,
		} {
			var a, b string
			if err := s.db.QueryRowContext(ctx, strings.ReplaceAll(q, "group_concat", exportConcat(s))).Scan(&a); err != nil {
				t.Fatal(err)
			}
			if err := f.db.QueryRowContext(ctx, q).Scan(&b); err != nil {
				t.Fatal(err)
			}
			if a != b || a == "" {
				t.Fatalf("events differ:\n store %q\n file  %q", a, b)
			}
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the export's mode: %v %v", fi.Mode(), err)
		}
		// A second export to the same file is refused, and leaves it be.
		before, _ := os.ReadFile(out)
		if _, err := s.Export(ctx, out); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("export over an existing file: %v", err)
		}
		if after, _ := os.ReadFile(out); string(after) != string(before) {
			t.Fatal("a refused export changed the existing file")
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*partial*")); len(left) > 0 {
			t.Fatalf("temporary files left behind: %v", left)
		}
	})
}

// exportConcat is group_concat on SQLite, string_agg on PostgreSQL.
func exportConcat(s *Store) string {
	if s.engine == enginePostgres {
		return "string_agg"
	}
	return "group_concat"
}

func TestImportAppendsAndRefusesADivergedLog(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		// The auditor's file: the history, then one more owner.
		dir := t.TempDir()
		file := storeWithHistory(t, filepath.Join(dir, "auditor.db"))

		// An empty shared store takes the file whole.
		shared := openAt(t, eng.new(t))
		res, err := shared.Import(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		if res.StoreEvents != 0 || res.Events != 4 {
			t.Fatalf("import into an empty store: %+v", res)
		}
		if r := verified(t, shared.Path()); r.Head != res.Head {
			t.Fatalf("head %s after import, file's %s", r.Head, res.Head)
		}
		// A new snapshot on the shared store takes the next id.
		snapshot(t, shared, nil, nil, obs("acme/api/key-1", KindGitHubDeployKey))

		// The file goes on (a prefix of it is in the store): the rest is appended.
		if _, err := file.SetOwner(ctx, "ana@example.com", dk("acme/api/key-1"), "team-platform"); err != nil {
			t.Fatal(err)
		}
		// ... but the shared store has moved on too: its log diverges.
		if _, err := shared.SetOwner(ctx, "bo@example.com", dk("acme/web/key-3"), "team-edge"); err != nil {
			t.Fatal(err)
		}
		before := verified(t, shared.Path())
		_, err = shared.Import(ctx, file)
		if !errors.Is(err, ErrChainsDiverge) || !strings.Contains(err.Error(), "at event 5: ") {
			t.Fatalf("diverged import: %v", err)
		}
		if after := verified(t, shared.Path()); after.Head != before.Head || after.Events != before.Events {
			t.Fatalf("a refused import changed the store: %s/%d, was %s/%d", after.Head, after.Events, before.Head, before.Events)
		}
	})
}

func TestImportAppendsTheRestOfTheFile(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		file := storeWithHistory(t, filepath.Join(t.TempDir(), "auditor.db"))
		shared := openAt(t, eng.new(t))
		if _, err := shared.Import(ctx, file); err != nil {
			t.Fatal(err)
		}
		if _, err := file.SetOwner(ctx, "ana@example.com", dk("acme/api/key-1"), "team-platform"); err != nil {
			t.Fatal(err)
		}
		res, err := shared.Import(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		if res.StoreEvents != 4 || res.Events != 1 {
			t.Fatalf("second import: %+v", res)
		}
		r := verified(t, shared.Path())
		if r.Head != res.Head {
			t.Fatalf("head %s after import, file's %s", r.Head, res.Head)
		}
		var owner string
		if err := shared.db.QueryRowContext(ctx, `SELECT owner FROM owners WHERE identity_id = ?`, dk("acme/api/key-1")).Scan(&owner); err != nil || owner != "team-platform" {
			t.Fatalf("owner after import: %q %v", owner, err)
		}
		// Importing the same file again changes nothing; an older file
		// (the store is ahead) neither.
		again, err := shared.Import(ctx, file)
		if err != nil || again.Events != 0 || !again.AlreadyHeld || again.AlreadyAhead || again.StoreEvents != 5 || again.Head != r.Head {
			t.Fatalf("importing the same file again: %+v %v", again, err)
		}
		if after := verified(t, shared.Path()); after.Head != r.Head || after.Events != 5 {
			t.Fatalf("importing the same file again changed the store: %s/%d", after.Head, after.Events)
		}
	})
}

// dk is the ID of the deploy key obs names id.
func dk(id string) string { return IdentityID("github", "acme", KindGitHubDeployKey, id) }

// A file imported, then snapshotted again and the run interrupted, has
// the same log as the store and rows the store lacks: the unfinished
// snapshot's, which no event records until it finishes. Importing it
// again copies them, saying which (Unlogged), where it said there was
// nothing to import; a third import has nothing left to bring.
func TestImportAgainBringsAnUnfinishedSnapshot(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		file := storeWithHistory(t, filepath.Join(t.TempDir(), "auditor.db"))
		shared := openAt(t, eng.new(t))
		if _, err := shared.Import(ctx, file); err != nil {
			t.Fatal(err)
		}
		w, err := file.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []Observation{obs("acme/api/key-1", KindGitHubDeployKey), obs("acme/api/key-9", KindGitHubDeployKey)} {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Suspend(ctx); err != nil { // ctrl-c: what was read is kept
			t.Fatal(err)
		}
		verified(t, file.Path())
		res, err := shared.Import(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		if res.AlreadyHeld || res.Events != 0 || res.Unlogged["snapshots"] != 1 || res.Unlogged["observations"] != 2 {
			t.Fatalf("importing the file with an unfinished snapshot: %+v", res)
		}
		var status string
		var n int
		if err := shared.db.QueryRowContext(ctx, `SELECT s.status, count(o.identity_id) FROM snapshots s JOIN observations o ON o.snapshot_id = s.id
			WHERE s.id = ? GROUP BY s.status`, w.ID()).Scan(&status, &n); err != nil || status != "running" || n != 2 {
			t.Fatalf("the unfinished snapshot in the store: %q, %d observations, %v", status, n, err)
		}
		verified(t, shared.Path())
		again, err := shared.Import(ctx, file)
		if err != nil || !again.AlreadyHeld || len(again.Unlogged) != 0 {
			t.Fatalf("a third import: %+v %v", again, err)
		}
	})
}
