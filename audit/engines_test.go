package audit

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// The store's tests run on both engines (docs/team.md); the PostgreSQL
// server is one per test binary, stopped here when the tests end.
// Re-executed as a lock holder (holdLockElsewhere), the binary holds
// the lock and runs no test.
func TestMain(m *testing.M) {
	if os.Getenv(holdLockEnv) != "" {
		os.Exit(holdLockHere())
	}
	os.Exit(pgtest.Main(m))
}

// testEngine is an engine a test runs on.
type testEngine struct{ name string }

// new is where a new, empty store lives: a file path in a temporary
// folder, or the URL of a fresh PostgreSQL database.
func (e testEngine) new(t testing.TB) string {
	t.Helper()
	if e.name == "postgres" {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "nhi.db")
}

// eachEngine runs f once per engine, as subtests "sqlite" and "postgres".
func eachEngine(t *testing.T, f func(t *testing.T, e testEngine)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" {
				pgtest.Shared(t) // skips under -short, saying why
			}
			f(t, testEngine{name})
		})
	}
}

// openAt opens (creating) the store at where and closes it when the test ends.
func openAt(t testing.TB, where string) *Store {
	t.Helper()
	s, err := Open(ctx, where, OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The chain's hashes do not depend on the engine: the same events,
// appended at the same times on SQLite and on PostgreSQL, give the same
// head, so an evidence file exported from a shared database verifies
// against the same anchored head.
func TestSameEventsSameHeadOnBothEngines(t *testing.T) {
	heads := map[string]string{}
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		at := time.Date(2026, 11, 30, 9, 0, 0, 123456000, time.UTC)
		s, err := Open(ctx, where, OpenOptions{Create: true, Now: func() time.Time { at = at.Add(time.Second); return at }})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubWebhook)
		snapshot(t, s, nil, nil, a, b)
		for _, owner := range []string{"alice", "Zoë <zoe@acme.test>", "@acme/platform", ""} {
			if _, err := s.SetOwner(ctx, "auditor@acme.test", a.ID, owner); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddNotes(ctx, "bob", []string{b.ID}, "rotated by hand \"today\" \u2028 <ok>"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Verify(ctx)
		if err != nil || !r.OK() || r.Events != 6 {
			t.Fatalf("verify: %+v, %v", r, err)
		}
		heads[t.Name()] = r.Head
	})
	if len(heads) == 2 && heads[t.Name()+"/sqlite"] != heads[t.Name()+"/postgres"] {
		t.Errorf("heads differ: %v", heads)
	}
}

// What PostgreSQL receives for nhi's SQL: numbered placeholders, the
// nhi_* JSON functions, and literals, quoted names and comments as they
// were.
func TestRewritePostgres(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{`SELECT seq FROM e WHERE x = ?2 OR y = ?1 OR z = ?2`, `SELECT seq FROM e WHERE x = $2 OR y = $1 OR z = $2`},
		{`SELECT json_extract(payload, '$.identity') FROM events WHERE type = '?' AND "a?" = ?`, `SELECT nhi_json_extract(payload, '$.identity') FROM events WHERE type = '?' AND "a?" = $1`},
		{`SELECT value FROM json_each(?) -- json_each(?) in a comment`, `SELECT value FROM nhi_json_each($1) -- json_each(?) in a comment`},
		{`SELECT 'it''s ?', JSON_ARRAY(a, b), json_extract_x(?) /* ? */`, `SELECT 'it''s ?', nhi_json_array(a, b), json_extract_x($1) /* ? */`},
		{`CREATE FUNCTION f() RETURNS text AS $$ SELECT json_extract('?', '$') $$; SELECT ?`, `CREATE FUNCTION f() RETURNS text AS $$ SELECT json_extract('?', '$') $$; SELECT $1`},
		{`SELECT json_set AS json_each FROM t`, `SELECT json_set AS json_each FROM t`},
	} {
		if got := rewritePostgres(c.in); got != c.want {
			t.Errorf("rewritePostgres(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// A statement that follows the event appended in one round trip reads
// the event's number where its argument is the stand-in (bit k-1 of the
// mask: placeholder $k), and the same statement without a mask is
// rewritten as before: the two are cached apart.
func TestRewriteSeqArgs(t *testing.T) {
	q := `UPDATE t SET a = ?, seq = ? WHERE id = ? AND note = '?'`
	if got, want := rewriteSeqArgs(q, 1<<1), `UPDATE t SET a = $1, seq = nhi_event_seq($2) WHERE id = $3 AND note = '?'`; got != want {
		t.Errorf("rewriteSeqArgs = %q\nwant %q", got, want)
	}
	if got, want := rewritePostgres(q), `UPDATE t SET a = $1, seq = $2 WHERE id = $3 AND note = '?'`; got != want {
		t.Errorf("rewritePostgres after it = %q\nwant %q", got, want)
	}
	if got, want := rewriteSeqArgs(`SELECT ?2, ?1, ?2`, 1<<1), `SELECT nhi_event_seq($2), $1, nhi_event_seq($2)`; got != want {
		t.Errorf("numbered placeholders: %q\nwant %q", got, want)
	}
}

// The cache of rewritten statements stays bounded however many distinct
// statements pass (built ones: IN lists of every length), and a cached
// statement is still rewritten right.
func TestRewriteCacheBounded(t *testing.T) {
	for i := range 3 * maxRewritten {
		q := `SELECT a FROM t WHERE b IN (?` + strings.Repeat(", ?", i%50) + `) AND c = ` + strconv.Itoa(i)
		rewritePostgres(q)
		rewritePostgres(q)
	}
	n := 0
	rewritten.Range(func(any, any) bool { n++; return true })
	if n > maxRewritten {
		t.Errorf("%d statements cached after %d distinct ones; want at most %d", n, 3*maxRewritten, maxRewritten)
	}
	if got := rewritePostgres(`SELECT ? AND ?`); got != `SELECT $1 AND $2` {
		t.Errorf("after the cache was emptied: %q", got)
	}
}

// A database URL's password never reaches a message: a canary in the
// user part and in a parameter, for a database that cannot be reached.
func TestPostgresURLPasswordNotShown(t *testing.T) {
	const canary = "canary-pw-7f3a"
	for _, u := range []string{
		"postgres://alice:" + canary + "@127.0.0.1:1/nhi?connect_timeout=1",
		"postgres:///nhi?host=127.0.0.1&port=1&user=alice&password=" + canary + "&connect_timeout=1",
	} {
		_, err := Open(ctx, u, OpenOptions{})
		if err == nil {
			t.Fatalf("opened %s", u)
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
