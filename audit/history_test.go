package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// An identity's owner history is its owner.set events, undos included,
// and nobody else's.
func TestOwnerHistory(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubWebhook)
		// #1 records the snapshot.
		snapshot(t, s, nil, nil, a, b)
		if _, err := s.SetOwner(ctx, "lead", a.ID, "alice"); err != nil { // #2
			t.Fatal(err)
		}
		if _, err := s.AddNotes(ctx, "lead", []string{a.ID}, "asked alice"); err != nil { // #3
			t.Fatal(err)
		}
		if _, err := s.SetOwner(ctx, "lead", b.ID, "bob"); err != nil { // #4
			t.Fatal(err)
		}
		if _, err := s.SetOwner(ctx, "rita", a.ID, "@platform"); err != nil { // #5
			t.Fatal(err)
		}
		if _, err := s.UndoOwnerSet(ctx, "rita", 5); err != nil { // #6
			t.Fatal(err)
		}
		h, err := s.OwnerHistory(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range h {
			got = append(got, c.Actor+" "+c.Owner+" "+itoa(c.Seq)+"/"+itoa(c.Undoes))
			if c.At.IsZero() {
				t.Errorf("event %d has no time", c.Seq)
			}
		}
		if want := "lead alice 2/0,rita @platform 5/0,rita alice 6/5"; strings.Join(got, ",") != want {
			t.Errorf("owner history of a: %q, want %q", strings.Join(got, ","), want)
		}
		if h, _ := s.OwnerHistory(ctx, b.ID); len(h) != 1 || h[0].Owner != "bob" {
			t.Errorf("owner history of b: %+v", h)
		}
		if h, err := s.OwnerHistory(ctx, "github:acme:nope"); err != nil || len(h) != 0 {
			t.Errorf("owner history of an unknown identity: %+v %v", h, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Neither OwnerHistory nor Notes reads the whole log: SQLite answers them
// from the events_identity index (a detail view opens in milliseconds on a
// log of a million events; see BenchmarkDetailOpen in tui).
func TestIdentityHistoryUsesIndex(t *testing.T) {
	s := openNew(t)
	for _, q := range []struct{ sql, typ string }{
		{`SELECT seq, at, actor, payload FROM events WHERE json_extract(payload, '$.identity') = ? AND type = ? ORDER BY seq`, EventOwnerSet},
		{`SELECT seq, at, actor, payload FROM events WHERE type = ? AND json_extract(payload, '$.identity') = ? ORDER BY seq`, EventNoteAdd},
	} {
		rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q.sql, "x", q.typ)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "INDEX events_identity") || strings.Contains(p, "SCAN") {
			t.Errorf("%s\nplan: %s", q.sql, p)
		}
	}
}

// A package's own migrations run on open after audit's, once, and a file
// whose package tables are newer than this build knows is refused.
func TestRegisterMigrations(t *testing.T) {
	saved := registeredMigrations()
	defer func() { packageMigrations = saved }()
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, err := Open(ctx, path, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The file was written by a program without the package: a read-only
	// open says what is missing and how to add it, not a version it has.
	RegisterMigrations("widgets", `CREATE TABLE widgets (id INTEGER PRIMARY KEY)`, `ALTER TABLE widgets ADD COLUMN name TEXT`)
	_, err = Open(ctx, path, OpenOptions{ReadOnly: true})
	if want := path + " lacks the widgets tables, which this nhi keeps in the file; nothing was changed: open it once for writing to add them"; !errors.Is(err, ErrReadOnly) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("read-only open of a file lacking a package's tables:\n%v\nwant it to say\n%s", err, want)
	}
	for range 2 { // the second open has nothing to do
		s, err = Open(ctx, path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(`INSERT INTO widgets (name) VALUES ('w')`); err != nil {
			t.Errorf("package table after migration: %v", err)
		}
		var v string
		if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema.widgets'`).Scan(&v); err != nil || v != "2" {
			t.Errorf("recorded version %q %v", v, err)
		}
		s.Close()
	}

	packageMigrations = append(saved, packageMigration{name: "widgets", steps: []string{`CREATE TABLE widgets (id INTEGER PRIMARY KEY)`}})
	if _, err := Open(ctx, path, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "widgets tables of version 2 but this nhi knows up to 1; upgrade nhi") {
		t.Errorf("file with newer package tables: %v", err)
	}
}
