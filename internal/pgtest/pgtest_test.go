package pgtest

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each test gets its own empty database on one shared server, and the
// server is a real PostgreSQL: it answers its version and keeps what a
// test writes apart from another test's database.
func TestFreshDatabasePerTest(t *testing.T) {
	ctx := context.Background()
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	var version string
	if err := ca.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("server_version %s", version)
	if _, err := ca.Exec(ctx, "CREATE TABLE x (v int); INSERT INTO x VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s sees the table created in %s", DatabaseName(b), DatabaseName(a))
	}
}

// The server answers over TCP on loopback too, with the password TCPURL
// carries, and refuses a connection over TCP without it.
func TestTCPURL(t *testing.T) {
	ctx := context.Background()
	u := TCPURL(t)
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var addr string
	if err := c.QueryRow(ctx, "SELECT host(inet_client_addr())").Scan(&addr); err != nil || addr != "127.0.0.1" {
		t.Errorf("client address %q (%v), want 127.0.0.1: not over TCP", addr, err)
	}
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.User = url.User(Superuser)
	if c, err := pgx.Connect(ctx, p.String()); err == nil {
		c.Close(ctx)
		t.Error("connected over TCP without the password")
	}
}

// LoginRole makes a role that logs in to the test's database, member of
// the groups named, its name kept as written (an e-mail, capitals); made
// again, by this test or another, it is granted the groups as well.
func TestLoginRole(t *testing.T) {
	ctx := context.Background()
	u := URL(t)
	db := DatabaseName(u)
	reviewers, admins := "reviewers_"+db, "admins_"+db
	Exec(t, u, "CREATE ROLE "+reviewers+"; CREATE ROLE "+admins)
	role := "Rev@Example.com_" + db
	LoginRole(t, u, role, reviewers)
	as := LoginRole(t, u, role, reviewers, admins)
	c, err := pgx.Connect(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var who string
	var inReviewers, inAdmins bool
	if err := c.QueryRow(ctx, "SELECT current_user, pg_has_role($1, 'member'), pg_has_role($2, 'member')", reviewers, admins).Scan(&who, &inReviewers, &inAdmins); err != nil {
		t.Fatal(err)
	}
	if who != role || !inReviewers || !inAdmins {
		t.Errorf("connected as %q, member of %s %v and %s %v; want %q in both", who, reviewers, inReviewers, admins, inAdmins, role)
	}
}

// The server's CPU time counts what its connections do.
func TestServerCPUTime(t *testing.T) {
	ctx := context.Background()
	s := Shared(t)
	c, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	before, err := s.CPUTime()
	if err != nil {
		t.Skip(err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT sum(g) FROM generate_series(1, 20000000) g").Scan(&n); err != nil {
		t.Fatal(err)
	}
	after, err := s.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 100*time.Millisecond {
		t.Errorf("summing 20,000,000 numbers took %v of the server's CPU time", after-before)
	}
	t.Logf("%v", after-before)
}

// With NHI_PGTEST_STATEMENTS set when it starts, a server tracks the
// statements it runs, and WriteStatements lists them; without it,
// WriteStatements says what to set.
func TestWriteStatements(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "statements.txt")
	if err := Shared(t).WriteStatements(ctx, out); err == nil || !strings.Contains(err.Error(), StatementsEnv) {
		t.Errorf("statements of a server started without %s: %v; want an error naming it", StatementsEnv, err)
	}
	t.Setenv(StatementsEnv, out)
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.Exec(ctx, "postgres", "SELECT 424242 AS canary_statement"); err != nil {
		t.Fatal(err)
	}
	// A function's time, counted when the backend next goes idle
	// (forced: the counts are otherwise sent at most once a second).
	if err := s.Exec(ctx, "postgres", `CREATE FUNCTION canary_function() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$`); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "postgres", "SELECT canary_function(); SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteStatements(ctx, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "canary_statement") {
		t.Errorf("the statements do not list the one run:\n%s", b)
	}
	if !regexp.MustCompile(`(?m)^1\t[0-9.]+\t[0-9.]+\tcanary_function$`).Match(b) {
		t.Errorf("the functions do not list the one called, once:\n%s", b)
	}
}

// durability is what the server says of its flushes to disk.
func durability(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	var out []string
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := c.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
			tb.Fatal(err)
		}
		out = append(out, name+"="+v)
	}
	return strings.Join(out, " ")
}

// Tests run on a server that skips flushes to disk (their answers do not
// depend on them), unless the same binary runs benchmarks.
func TestTestsSkipFlushes(t *testing.T) {
	want := "fsync=off synchronous_commit=off full_page_writes=off"
	if benchmarking() {
		want = "fsync=on synchronous_commit=on full_page_writes=on"
	}
	if got := durability(t); got != want {
		t.Errorf("the server: %s, want %s", got, want)
	}
}

// BenchmarkServerIsDurable fails unless a benchmark's server flushes
// every commit as a default install does: the figures in the docs (a
// decision's latency on PostgreSQL) are a durable server's.
func BenchmarkServerIsDurable(b *testing.B) {
	if got, want := durability(b), "fsync=on synchronous_commit=on full_page_writes=on"; got != want {
		b.Fatalf("a benchmark's server: %s, want %s", got, want)
	}
	b.ResetTimer()
	for range b.N {
	}
}
