// Package pgtest runs a real PostgreSQL server for the tests of the
// packages whose store also runs on PostgreSQL (docs/team.md): one server
// per test binary, started on first use in a temporary folder and reached
// over a unix socket there (URL) or over TCP on loopback (TCPURL, for
// benchmarks that measure what a team's network adds), and a fresh
// database per test.
//
// The server is Debian's (package postgresql): initdb and postgres are
// looked up on PATH, then in /usr/lib/postgresql/*/bin (newest first).
// initdb refuses to run as root, and tests run as root in CI, so when the
// test binary is root the server's processes run as the user "nobody"
// (the exec.Cmd's SysProcAttr.Credential, which is what setpriv does),
// owning only the temporary folder. Under -short the tests that need it
// skip, saying so; without the binaries they fail, naming the fix.
//
// A test binary that uses it calls Main from its TestMain, so the server
// stops when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstallHint is what to do when the server's binaries are missing.
const InstallHint = "install Debian's PostgreSQL server (apt-get install postgresql), or run .ci/run, which does it"

// Superuser is the role initdb creates and tests connect as.
const Superuser = "postgres"

// Server is a running PostgreSQL server owned by this test binary.
type Server struct {
	dir      string // the temporary folder: data/ and the socket
	bin      string // the folder of initdb and postgres
	cmd      *exec.Cmd
	done     chan error // the postgres process's exit
	dbs      atomic.Int64
	port     int    // the TCP port on 127.0.0.1 (and the socket's name)
	password string // the superuser's over TCP: random, this server's only
	durable  bool   // flushes to disk whether or not benchmarking (StartDurable)
	settings []string
}

var (
	mu      sync.Mutex
	running *Server
	failed  error
)

// Main runs the tests and then stops the server, if one was started.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if running != nil {
		if out := os.Getenv(StatementsEnv); out != "" {
			if err := running.WriteStatements(context.Background(), out); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}
		if err := running.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		running = nil
	}
	return code
}

// URL returns the URL of a fresh, empty database on the test binary's
// server, starting it on first use. It skips the test under -short and
// fails it when the server cannot start.
func URL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs against a real PostgreSQL server; run it without -short")
	}
	s, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TCPURL is URL over TCP on loopback: a fresh, empty database, reached
// as a team's reviewers reach theirs (less the network).
func TCPURL(t testing.TB) string {
	t.Helper()
	return Shared(t).TCPURL(DatabaseName(URL(t)))
}

// shared starts the test binary's server once; a failure is remembered,
// so every test says the same thing without trying again.
func shared() (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if running == nil && failed == nil {
		running, failed = Start()
	}
	return running, failed
}

// Binaries returns the folder holding initdb and postgres, or an error
// naming what is missing and how to install it.
func Binaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if target, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(target) // /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb
		}
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	// Newest first: 15 before 9.6, compared as numbers.
	sort.Slice(found, func(i, j int) bool { return majorOf(found[i]) > majorOf(found[j]) })
	for _, p := range found {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb and postgres) on PATH or in /usr/lib/postgresql/*/bin: %s", InstallHint)
}

func majorOf(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// Start initialises a database cluster in a new temporary folder and
// starts a server on a unix socket there (trust) and on a free TCP port
// of 127.0.0.1 (the superuser's random password).
func Start() (*Server, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, done: make(chan error, 1)}
	if err := s.start(); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	owner, err := serverUser()
	if err != nil {
		return err
	}
	if owner != nil {
		if err := os.Chown(s.dir, int(owner.Uid), int(owner.Gid)); err != nil {
			return fmt.Errorf("handing %s to the server's user: %w", s.dir, err)
		}
	}
	data := filepath.Join(s.dir, "data")
	if err := s.initdb(owner, data); err != nil {
		return err
	}
	// Trust on the socket, a password over TCP: another user of the
	// machine can reach the loopback port, not the folder.
	hba := "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return err
	}
	if owner != nil {
		if err := os.Chown(filepath.Join(data, "pg_hba.conf"), int(owner.Uid), int(owner.Gid)); err != nil {
			return err
		}
	}
	if s.port, err = freePort(); err != nil {
		return err
	}
	if err := s.launch(owner); err != nil {
		return err
	}
	s.password = rand.Text()
	return s.Exec(context.Background(), "postgres", "ALTER ROLE "+Superuser+" PASSWORD '"+s.password+"'")
}

// launch starts postgres on s's data folder and waits until it answers.
func (s *Server) launch(owner *ids) error {
	data := filepath.Join(s.dir, "data")
	// shared_buffers is PostgreSQL's default: with less, a table of
	// 100,000 observations no longer fits, and a benchmark measures the
	// server copying pages from the OS rather than nhi's queries.
	args := []string{"-D", data,
		"-k", s.dir, "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.port),
		"-c", "max_connections=200", "-c", "shared_buffers=128MB",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning"}
	if !benchmarking() && !s.durable {
		// Tests skip the flushes to disk; their answers do not depend on
		// them. A benchmark's server flushes as a default install does.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for _, kv := range s.settings {
		args = append(args, "-c", kv)
	}
	if os.Getenv(StatementsEnv) != "" {
		args = append(args, "-c", "shared_preload_libraries=pg_stat_statements",
			"-c", "pg_stat_statements.track=all", "-c", "pg_stat_statements.track_planning=on",
			"-c", "track_functions=all")
	}
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), args...)
	s.cmd.SysProcAttr = asUser(owner)
	// Appended to: a restarted server (Restart) keeps the log before it.
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	done := make(chan error, 1)
	s.done = done
	go func() { done <- s.cmd.Wait() }()
	return s.waitReady()
}

// StartDurable starts a server of the test's own, stopped when the test
// ends, that flushes to disk as a default install does (fsync,
// synchronous_commit and full_page_writes on) even in a test binary
// that is not benchmarking, with settings (name=value) added: for tests
// of what a commit's acknowledgement promises, with Crash and Restart.
func StartDurable(t testing.TB, settings ...string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs against a real PostgreSQL server; run it without -short")
	}
	bin, err := Binaries()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, bin: bin, done: make(chan error, 1), durable: true, settings: settings}
	if err := s.start(); err != nil {
		s.cleanup()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Crash stops the server at once, as a power cut stops it for what it
// has not handed to the operating system: SIGQUIT to the postmaster
// (pg_ctl stop -m immediate), so its processes exit without writing
// what is still in shared memory — the write-ahead log's buffers among
// it — and the next start recovers from the log on disk. (Written but
// not yet flushed data survives a crash of the server, not of the
// machine: Crash loses less than a power cut can.)
func (s *Server) Crash() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("the server is not running")
	}
	if err := quit(s.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("postgres did not stop within 20 s of SIGQUIT; killed")
	}
}

// Restart starts the server again on the same data folder and port,
// after Crash: it replays its write-ahead log before it answers.
func (s *Server) Restart() error {
	owner, err := serverUser()
	if err != nil {
		return err
	}
	return s.launch(owner)
}

// benchmarking says the test binary runs benchmarks (-test.bench): its
// server then keeps PostgreSQL's defaults for durability (fsync,
// synchronous_commit, full_page_writes), so a figure such as a
// decision's latency is what a team's server, set up as Debian sets it
// up, gives — every commit flushed before it is acknowledged.
func benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

// freePort is a TCP port on 127.0.0.1 nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free loopback port for postgres: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// initdb makes the cluster in data: a copy of the one initdb made the
// first time, kept in the user's cache (initdb takes seconds on a loaded
// machine; the copy, a fraction of one).
func (s *Server) initdb(owner *ids, data string) error {
	cache, err := os.UserCacheDir()
	if err != nil {
		return s.runInitdb(owner, data)
	}
	version, err := exec.Command(filepath.Join(s.bin, "postgres"), "--version").Output()
	if err != nil {
		return fmt.Errorf("postgres --version: %w", err)
	}
	key := strings.NewReplacer(" ", "-", "(", "", ")", "", "/", "-").Replace(strings.TrimSpace(string(version)))
	template := filepath.Join(cache, "nhi-tools", "pgtest-"+key)
	if _, err := os.Stat(filepath.Join(template, "PG_VERSION")); err != nil {
		// Made beside the template and renamed into place, so a
		// concurrent test binary never copies half a cluster.
		if err := os.MkdirAll(filepath.Dir(template), 0o755); err != nil {
			return s.runInitdb(owner, data)
		}
		if err := s.runInitdb(owner, data); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(filepath.Dir(template), "pgtest-new-")
		if err != nil {
			return nil
		}
		if out, err := exec.Command("cp", "-a", data, filepath.Join(tmp, "data")).CombinedOutput(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("keeping the initialised cluster: %v: %s", err, out)
		}
		if err := os.Rename(filepath.Join(tmp, "data"), template); err != nil {
			os.RemoveAll(tmp) // another binary got there first
		}
		os.RemoveAll(tmp)
		return nil
	}
	// cp -a keeps the owner (nobody when root runs the tests).
	if out, err := exec.Command("cp", "-a", template, data).CombinedOutput(); err != nil {
		return fmt.Errorf("copying the initialised cluster %s: %v: %s", template, err, out)
	}
	if owner == nil {
		return nil
	}
	return filepath.WalkDir(data, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(owner.Uid), int(owner.Gid))
	})
}

// runInitdb initialises a cluster in data. No fsync and trust on the
// socket: a throwaway cluster for tests, reachable only through a folder
// only its owner can write.
func (s *Server) runInitdb(owner *ids, data string) error {
	initdb := exec.Command(filepath.Join(s.bin, "initdb"), "-D", data, "-U", Superuser,
		"--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = asUser(owner)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// waitReady connects until the server answers, or gives its log when it
// exits or takes too long.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.url("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("postgres exited (%v):\n%s", werr, s.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 30 s: %v\n%s", err, s.log())
		}
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

// url is the URL of database name as the superuser, over the socket.
func (s *Server) url(name string) string {
	q := url.Values{}
	q.Set("host", s.dir)
	q.Set("port", strconv.Itoa(s.port))
	q.Set("user", Superuser)
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", Path: "/" + name, RawQuery: q.Encode()}).String()
}

// TCPURL is the URL of database name on s as the superuser, over TCP on
// 127.0.0.1 (with a password).
func (s *Server) TCPURL(name string) string {
	q := url.Values{}
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(Superuser, s.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// URL is the URL of database name on s, connecting as the superuser.
func (s *Server) URL(name string) string { return s.url(name) }

// CreateDatabase creates a new empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	c, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	// template0 and FILE_COPY: a copy of a few files, no WAL of every page.
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 STRATEGY FILE_COPY"); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return s.url(name), nil
}

// Stop shuts the server down (fast: running sessions are ended) and
// removes its folder.
func (s *Server) Stop() error {
	defer s.cleanup()
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	if err := interrupt(s.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("postgres did not stop within 20 s; killed")
	}
}

func (s *Server) cleanup() { _ = os.RemoveAll(s.dir) }

// ids is a user's numeric uid and gid.
type ids struct{ Uid, Gid uint32 }

// serverUser is the user the server runs as: nil (this process's) unless
// this process is root, which initdb and postgres refuse; then "nobody".
func serverUser() (*ids, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, the test server needs the unprivileged user nobody: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user nobody: %w", err)
	}
	return &ids{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Exec runs SQL on database name as the superuser (setup a test needs
// beyond what nhi does: roles, grants).
func (s *Server) Exec(ctx context.Context, name, sql string) error {
	c, err := pgx.Connect(ctx, s.url(name))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// Exec runs sql on the database of u (from URL or TCPURL) as the
// superuser, failing t when it fails: the setup a test needs beyond
// what nhi does (roles, grants, tables as an older nhi left them).
func Exec(t testing.TB, u, sql string) {
	t.Helper()
	if err := Shared(t).Exec(context.Background(), DatabaseName(u), sql); err != nil {
		t.Fatal(err)
	}
}

// Connect connects to u (from URL, TCPURL, AsRole or LoginRole),
// failing t when it cannot; the connection closes when t ends.
func Connect(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// WaitNoSessions waits until no session of database db is open on the
// server admin is connected to, failing t if one stays open for a minute:
// the server counts a session's statistics (pg_stat_wal's flushes) when
// the session ends, after its client has closed it.
func WaitNoSessions(t testing.TB, admin *pgx.Conn, db string) {
	t.Helper()
	for range 6000 {
		var left int
		if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, db).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("sessions of %s still open after a minute", db)
}

// BeginAs begins a transaction on c, a superuser's connection, acting as
// role (SET SESSION AUTHORIZATION): what the role may do, tried in a
// transaction the caller rolls back.
func BeginAs(t testing.TB, c *pgx.Conn, role string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SET SESSION AUTHORIZATION "+pgx.Identifier{role}.Sanitize()); err != nil {
		tx.Rollback(ctx)
		t.Fatal(err)
	}
	return tx
}

// LoginRole creates the login role role granted groups (nhi's roles, or
// none), as a DBA would for a person (docs/team.md), and returns the URL
// of u's database reached as it (AsRole). Roles are the server's, not a
// database's: a role of that name another test made is granted groups
// too, and a test makes a role its own by naming it after its database
// (DatabaseName).
func LoginRole(t testing.TB, u, role string, groups ...string) string {
	t.Helper()
	name := pgx.Identifier{role}.Sanitize()
	sql := "DO $$ BEGIN CREATE ROLE " + name + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
	if len(groups) > 0 {
		quoted := make([]string, len(groups))
		for i, g := range groups {
			quoted[i] = pgx.Identifier{g}.Sanitize()
		}
		sql += "; GRANT " + strings.Join(quoted, ", ") + " TO " + name
	}
	Exec(t, u, sql)
	return AsRole(t, u, role)
}

// Shared returns the test binary's server, starting it on first use; it
// skips under -short as URL does.
func Shared(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs against a real PostgreSQL server; run it without -short")
	}
	s, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// CPUTime is the CPU time the server has used so far, user and system, its
// every process (one per connection) included: with the benchmark's own
// (benchmem.CPUTime), what an operation cost on a loaded machine, whose
// wall time stretches. Linux only; elsewhere an error.
func (s *Server) CPUTime() (time.Duration, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, errors.New("the server is not running")
	}
	return cpuOf(s.cmd.Process.Pid)
}

// AsRole is the URL u (from URL or TCPURL) with its user set to role:
// the same database, reached as a role the test created, as a DBA would
// for a person (docs/team.md).
func AsRole(t testing.TB, u, role string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set("user", role)
	p.RawQuery = q.Encode()
	return p.String()
}

// DatabaseName is the database a URL from URL names.
func DatabaseName(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(p.Path, "/")
}

// StatementsEnv names the file Main writes, when the variable is set,
// the statements the server spent most time on: the server is started
// with pg_stat_statements (Debian's postgresql package has it), every
// statement of every database tracked, nested ones (triggers, functions)
// included, and then every function's calls and time (track_functions)
// — where a benchmark's server time goes (docs/team.md, "Many writers,
// one chain"):
//
//	NHI_PGTEST_STATEMENTS=/tmp/statements.txt go test ./campaigns/ -run '^$' -bench ConcurrentDecisions/postgres$ -benchtime 1x
const StatementsEnv = "NHI_PGTEST_STATEMENTS"

// WriteStatements writes to file the 60 statements the server spent most
// time executing and planning, with their calls, plans and rows summed
// over the roles that ran them (a statement planned far fewer times than
// it ran is run on a kept plan) and the shared buffers they read, hit or
// not (a measure the machine's load does not move), one a line, the
// costliest first, then the functions (writeFunctions). The server must
// have been started with StatementsEnv set.
func (s *Server) WriteStatements(ctx context.Context, file string) error {
	c, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return fmt.Errorf("pg_stat_statements (set %s before the server starts): %w", StatementsEnv, err)
	}
	// One line a statement, whichever role ran it (the server counts each
	// role's apart: 40 reviewers are 40 lines of one statement).
	rows, err := c.Query(ctx, `SELECT sum(calls)::bigint, sum(total_exec_time), sum(plans)::bigint, sum(total_plan_time), sum(rows)::bigint,
		sum(shared_blks_hit + shared_blks_read)::bigint, toplevel,
		left(regexp_replace(query, '\s+', ' ', 'g'), 400) AS q
		FROM pg_stat_statements GROUP BY toplevel, q ORDER BY sum(total_exec_time + total_plan_time) DESC LIMIT 60`)
	if err != nil {
		return fmt.Errorf("pg_stat_statements (set %s before the server starts): %w", StatementsEnv, err)
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString("calls\texec ms\tplans\tplan ms\trows\tbuffers\ttop level\tstatement\n")
	for rows.Next() {
		var (
			calls, plans, n, bufs int64
			exec, plan            float64
			top                   bool
			query                 string
		)
		if err := rows.Scan(&calls, &exec, &plans, &plan, &n, &bufs, &top, &query); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%d\t%.1f\t%d\t%.1f\t%d\t%d\t%v\t%s\n", calls, exec, plans, plan, n, bufs, top, query)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pg_stat_statements (set %s before the server starts): %w", StatementsEnv, err)
	}
	if err := s.writeFunctions(ctx, c, &b); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// writeFunctions adds to b what the server spent in each function
// (track_functions, which a server started with StatementsEnv set has
// on), summed over every database: triggers' functions run inside the
// statements above and are timed apart here. total ms includes the
// functions a function called, self ms does not.
func (s *Server) writeFunctions(ctx context.Context, c *pgx.Conn, b *strings.Builder) error {
	rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate")
	if err != nil {
		return err
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	type fn struct {
		calls       int64
		total, self float64
	}
	sum := map[string]*fn{}
	for _, db := range dbs {
		dc, err := pgx.Connect(ctx, s.url(db))
		if err != nil {
			return err
		}
		rows, err := dc.Query(ctx, "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions")
		if err == nil {
			for rows.Next() {
				var (
					name        string
					calls       int64
					total, self float64
				)
				if err = rows.Scan(&name, &calls, &total, &self); err != nil {
					break
				}
				f := sum[name]
				if f == nil {
					f = &fn{}
					sum[name] = f
				}
				f.calls += calls
				f.total += total
				f.self += self
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		dc.Close(ctx)
		if err != nil {
			return err
		}
	}
	names := make([]string, 0, len(sum))
	for n := range sum {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return sum[names[i]].total > sum[names[j]].total })
	b.WriteString("\ncalls\ttotal ms\tself ms\tfunction\n")
	for _, n := range names {
		fmt.Fprintf(b, "%d\t%.1f\t%.1f\t%s\n", sum[n].calls, sum[n].total, sum[n].self, n)
	}
	return nil
}
