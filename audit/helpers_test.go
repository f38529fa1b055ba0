package audit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

func openNew(t testing.TB) *Store {
	t.Helper()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func obs(id string, kind Kind) Observation {
	return Observation{
		ID: IdentityID("github", "acme", kind, id), Kind: kind, Name: id, Scope: "acme/" + id,
		CreatedAt: ts("2024-01-02T03:04:05Z"), RotatedAt: ts("2024-06-01T00:00:00Z"),
		Permissions: map[string]string{"contents": "write"},
		Attributes:  map[string]string{"added_by": "alice"},
	}
}

func snapshot(t testing.TB, s *Store, runErr error, gaps []Gap, o ...Observation) *Snapshot {
	t.Helper()
	return recordSnapshot(t, s, snapshotSpec{runErr: runErr, gaps: gaps}, o...)
}

// snapshotSpec is what a test snapshot reads: github/acme over loopback
// unless it says otherwise.
type snapshotSpec struct {
	source, account, apiURL string
	runErr                  error
	gaps                    []Gap
	reads                   []ScopeRead
}

// recordSnapshot records a snapshot of o as sp describes and finishes it.
func recordSnapshot(t testing.TB, s *Store, sp snapshotSpec, o ...Observation) *Snapshot {
	t.Helper()
	info := SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"}
	if sp.source != "" {
		info.Source, info.Account, info.APIURL = sp.source, sp.account, sp.apiURL
	}
	w, err := s.BeginSnapshot(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range o {
		if err := w.Record(x); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range sp.gaps {
		if err := w.Gap(g); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range sp.reads {
		if err := w.Scope(r); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := w.Finish(ctx, sp.runErr)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func slices2(s []string) []string { return append([]string(nil), s...) }

func statuses(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ids, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, i := range ids {
		m[i.ID] = i.Status
	}
	return m
}

// tamper edits the file the way someone with the sqlite3 shell would:
// triggers dropped, foreign keys off. On PostgreSQL it is the database's
// owner with psql: session_replication_role = replica turns triggers and
// foreign keys off for the session, so statements dropping a trigger are
// passed over.
func tamper(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if s.engine == enginePostgres {
		if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "RESET session_replication_role")
		for _, q := range stmts {
			if strings.HasPrefix(q, "DROP TRIGGER") {
				continue
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return
	}
	conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF")
	for _, trig := range []string{"events_no_update", "events_no_delete", "observations_no_update", "observations_no_delete", "snapshots_finished", "snapshots_no_delete", "principals_no_update"} {
		conn.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+trig)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
}
