package tui

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// longLog is an evidence file of 1,000 identities and a log of 1,000,000
// owner and note events, written once per test binary.
var longLog struct {
	once sync.Once
	dir  string
	path string
	err  error
}

const longLogEvents = 1_000_000

func longLogEvidence(tb testing.TB) string {
	tb.Helper()
	longLog.once.Do(func() {
		longLog.dir, longLog.err = os.MkdirTemp("", "nhi-tui-bench-log-")
		if longLog.err != nil {
			return
		}
		longLog.path = filepath.Join(longLog.dir, "nhi.db")
		if longLog.err = writeBigEvidence(longLog.path, 1000); longLog.err == nil {
			longLog.err = appendEvents(longLog.path, longLogEvents)
		}
	})
	if longLog.err != nil {
		tb.Fatal(longLog.err)
	}
	return longLog.path
}

// appendEvents fills the log with n owner.set and note.add events in one
// statement, after those the snapshot wrote (its record is an event),
// behind nhi's back (the hashes are placeholders, so the chain
// does not verify; the benchmark only reads). One event in 100 is about
// one of the file's identities, ten each; the rest are about 100,000
// others, as in a file with a long history.
func appendEvents(path string, n int) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TEMP TABLE known AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM identities`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
		SELECT (SELECT max(seq) FROM events) + i, '2025-05-01T00:00:00.000000Z', 'user-' || (i % 200) || '@acme.test',
			CASE WHEN i % 3 = 0 THEN 'note.add' ELSE 'owner.set' END,
			CASE WHEN i % 3 = 0
				THEN json_object('identity', who, 'text', 'note ' || i)
				ELSE json_object('identity', who, 'owner', 'team-' || (i % 50)) END,
			printf('%064x', i - 1), printf('%064x', i)
		FROM (SELECT i, CASE WHEN i % 100 = 0
			THEN (SELECT id FROM known WHERE k = (i / 100) % (SELECT count(*) FROM known))
			ELSE 'github:acme:other:' || (i % 100000) END AS who FROM n)`,
	} {
		var args []any
		if !strings.HasPrefix(q, "CREATE") {
			args = append(args, n)
		}
		if _, err := db.Exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkDetailOpen1MEvents is opening the detail of one identity in a
// file whose log holds a million events: enter, the owner trail, the
// notes and the campaign trail read from the file, the view drawn. It
// must stay far below what an auditor notices (20 ms).
func BenchmarkDetailOpen1MEvents(b *testing.B) {
	path := longLogEvidence(b)
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n < longLogEvents {
		b.Fatal(n, err)
	}
	snap, err := st.LatestSnapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m := New(snap, ids, Options{Now: clock, Store: st, Reviewer: campaignsReviewer{st}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 200})
	// Once outside the timing: the snapshot diff, read once a session, and
	// a check that the detail shows the identity's history.
	press(b, m, "enter")
	if v := m.View(); !strings.Contains(v, "set owner team-") || !strings.Contains(v, "Notes (3)") {
		b.Fatalf("the detail lacks the history:\n%s", v)
	}
	press(b, m, "esc")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		press(b, m, "enter")
		_ = m.View()
		press(b, m, "esc")
	}
}
