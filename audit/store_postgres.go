package audit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens the evidence store in the PostgreSQL database rawURL
// names (docs/team.md). The database must exist; Create makes nhi's
// tables in it when it has none (and no other tables).
func openPostgres(ctx context.Context, rawURL string, opts OpenOptions) (*Store, error) {
	shown := redactedURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s; a URL looks like postgres://ROLE:PASSWORD@HOST:PORT/DATABASE?sslmode=require, "+
			"a space, @, :, / or %% in the role or password written %%20, %%40, %%3A, %%2F or %%25 (docs/team.md)", ErrBadURL, badURLReason(err))
	}
	if opts.ReadOnly {
		// The server refuses every write of a read-only open, nhi's own
		// mistakes included.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := sql.OpenDB(postgresConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if ctx.Err() != nil {
			// Stopped (ctrl-c, or the output's reader gone), not refused:
			// the server may well be there.
			return nil, fmt.Errorf("connecting to %s: %w", shown, ctx.Err())
		}
		return nil, fmt.Errorf("%w at %s: %s%s", ErrNoConnection, shown, connectReason(err), connectHint(cfg, err))
	}
	s := &Store{db: db, path: shown, engine: enginePostgres, readOnly: opts.ReadOnly, clock: opts.Now, closed: make(chan struct{}), pgConfig: cfg}
	if s.clock == nil {
		s.clock = time.Now
	}
	if !opts.AnyTextOrder {
		if err := s.checkTextOrder(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.migratePostgres(ctx, opts); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// textOrderProbe are texts that byte order and a language's collation
// sort apart: case, and the punctuation of identity IDs, which a
// collation passes over at first (ICU's en-US and glibc's en_US.UTF-8
// both put "northwind-api/…" before "northwind/.github/…", and "a"
// before "B").
var textOrderProbe = []string{
	"B", "a", "a b", "a-c", "a.d", "a/e", "a:f", "aa",
	"github:o:k:Northwind/b", "github:o:k:northwind-api/Y", "github:o:k:northwind/.github/X", "github:o:k:northwind/Z",
}

// checkTextOrder refuses a database that does not order text byte by
// byte, as SQLite and Go compare it (ErrTextOrder). nhi's reads of a
// population merge tables read in ID order, and check that order as they
// go: in a database created with a language's collation (createdb's
// default on most servers, en_US.UTF-8 or an ICU locale) they failed
// part way, after a snapshot had been written, with a message that did
// not say why (a separator of the packed read, or the order of IDs). A
// probe of texts rather than the database's settings: their names differ
// by version and provider (libc, ICU, builtin), and what nhi needs is the
// order itself; a collation that sorts these as bytes do but others not
// is still met by the reads' own checks.
func (s *Store) checkTextOrder(ctx context.Context) error {
	values := make([]string, len(textOrderProbe))
	for i, t := range textOrderProbe {
		values[i] = "('" + t + "')"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT x FROM (VALUES `+strings.Join(values, ", ")+`) AS probe(x) ORDER BY x`)
	if err != nil {
		return s.unreadable(ctx, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return s.unreadable(ctx, err)
		}
		got = append(got, t)
	}
	if err := rows.Err(); err != nil {
		return s.unreadable(ctx, err)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			return fmt.Errorf("%w (%s puts %q before %q), where nhi's reads need text in byte order; nothing was read or changed. "+
				"Create a database that sorts in byte order, `createdb --template=template0 --locale=C NAME` (PostgreSQL 15 and later: add --locale-provider=libc), and use it; "+
				"evidence already in this one moves with `nhi db export --db THIS --to FILE.db`, then `nhi db import --from FILE.db --db NEW` (docs/team.md, \"The database\")",
				ErrTextOrder, s.path, got[i-1], got[i])
		}
	}
	return nil
}

// connectReason is why a connection failed, in the server's words when it
// answered (its message and SQLSTATE), else the network's ("connection
// refused", "no such host"), where pgx's own text names the host once per
// address tried, each on a line of its own.
func connectReason(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("the server said: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " ")
}

// connectHint is what to do about a connection the server or the network
// refused, in a sentence after pgx's own words, which name the cause but
// not the remedy: a login refused, a database not there, no server at
// the address.
func connectHint(cfg *pgx.ConnConfig, err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return fmt.Sprintf("\nThe server refused the login of role %s: check the role's name and its password (PGPASSWORD, ~/.pgpass, or the URL's password); the database's owner creates each person's login role and grants it one of nhi's roles (docs/team.md, \"Roles\")", cfg.User)
		case "53300": // too_many_connections
			return "\n" + noConnectionLeft
		case "3D000": // invalid_catalog_name
			return fmt.Sprintf("\nThe server has no database %s: check its name in the URL, or have its owner create it (createdb %s, then nhi db init: docs/team.md, \"Roles\")", cfg.Database, cfg.Database)
		}
		return ""
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("\nThe host %s was not found: check the host in the URL", cfg.Host)
	}
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("\nNo PostgreSQL server answered at %s port %d: check the host and port in the URL, and that the server runs and accepts connections there", cfg.Host, cfg.Port)
	}
	return ""
}

// badURLReason says what is wrong with a URL pgx could not parse, from
// the kind of its error: pgx hides the password where it quotes the URL,
// but the parser's detail after it may quote a piece of the URL that
// holds part of one ("unexpected spaces found in \"ss@ho st/db\""), so
// none of its text is shown.
func badURLReason(err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "spaces"):
		return "it holds a space"
	case strings.Contains(msg, "invalid port"):
		return "its port is not a number from 1 to 65535"
	case strings.Contains(msg, "percent-encoded token") || strings.Contains(msg, "invalid url escape"):
		return "a % in it starts no percent-encoded character"
	case strings.Contains(msg, "ipv6"):
		return "an IPv6 host in it is not closed with ]"
	case strings.Contains(msg, "sslmode"):
		return "its sslmode is none of disable, allow, prefer, require, verify-ca, verify-full"
	case strings.Contains(msg, "userinfo"):
		return "its role or password holds a character to percent-encode"
	case strings.Contains(msg, "invalid character") && strings.Contains(msg, "host"):
		return "its host holds a character no host name has"
	}
	return "PostgreSQL's driver cannot read it (its words are not shown: they may quote a password)"
}

// redactedURL is a database URL as messages may show it: without its
// password, in the user part or as a parameter.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the postgres:// URL given"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// postgresConnector hands database/sql connections whose statements are
// rewritten from nhi's SQL into PostgreSQL's (rewritePostgres).
type postgresConnector struct{ driver.Connector }

func (c postgresConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &postgresConn{conn.(*stdlib.Conn)}, nil
}

// postgresConn is pgx's database/sql connection, every method of which it
// keeps (transactions, argument conversion, Raw), with the
// statements rewritten on their way in.
type postgresConn struct{ *stdlib.Conn }

func (c *postgresConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rewritePostgres(query))
}

func (c *postgresConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rewritePostgres(query))
}

func (c *postgresConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rewritePostgres(query), sqliteArgs(args))
}

func (c *postgresConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rewritePostgres(query), sqliteArgs(args))
}

// sqliteArgs passes a Go bool as SQLite stores it, 1 or 0: nhi's flags
// are INTEGER columns on both engines.
func sqliteArgs(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		if b, ok := a.Value.(bool); ok {
			args[i].Value = int64(0)
			if b {
				args[i].Value = int64(1)
			}
		}
	}
	return args
}

// applicationMark is what meta "application" holds in a PostgreSQL
// database nhi made: what application_id is in an evidence file.
const applicationMark = "nhi"

// migratePostgres checks that the database holds nhi's tables (or none,
// to be created) of a version this build knows, and runs the migrations
// it lacks, audit's and the registered packages', in one transaction that
// holds the write lock.
func (s *Store) migratePostgres(ctx context.Context, opts OpenOptions) error {
	pkgs := registeredMigrations()
	v, err := s.postgresVersion(ctx, s.db, opts)
	if err != nil {
		return err
	}
	missing, err := s.postgresPending(ctx, s.db, v, pkgs)
	if err != nil || len(missing) == 0 {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s lacks %s, which this nhi keeps in the database; nothing was changed: run nhi db init as the tables' owner (the role that first ran it) to add them, then open it again",
			ErrReadOnly, s.path, JoinAnd(missing))
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("cannot migrate %s: %w", s.path, err)
	}
	defer tx.Rollback()
	// Again under the lock: another process may have migrated.
	if v, err = s.postgresVersion(ctx, tx, opts); err != nil {
		return err
	}
	if missing, err := s.postgresPending(ctx, tx, v, pkgs); err != nil || len(missing) == 0 {
		return err
	}
	for i := v; i < len(postgresMigrations); i++ {
		if _, err := tx.ExecContext(ctx, postgresMigrations[i]); err != nil {
			return s.migrationError(fmt.Errorf("migrating %s to schema version %d: %w", s.path, i+1, err))
		}
	}
	for _, p := range pkgs {
		n, err := packageVersion(ctx, tx, 1, p.name)
		if err != nil {
			return err
		}
		for i := n; i < len(p.postgres); i++ {
			if _, err := tx.ExecContext(ctx, p.postgres[i]); err != nil {
				return s.migrationError(fmt.Errorf("migrating the %s tables of %s to version %d: %w", p.name, s.path, i+1, err))
			}
		}
		if n < len(p.postgres) {
			if err := setMeta(ctx, tx, "schema."+p.name, strconv.Itoa(len(p.postgres))); err != nil {
				return err
			}
		}
	}
	if err := setMeta(ctx, tx, "application", applicationMark); err != nil {
		return err
	}
	if err := setMeta(ctx, tx, "schema.audit", strconv.Itoa(len(postgresMigrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// migrationError says who may migrate when the session may not. Only the
// tables' owner can: a migration changes tables (triggers, indexes,
// columns), which PostgreSQL lets only a table's owner do, and making
// nhi_admin the owner would give it what the owner alone has — UPDATE and
// DELETE of the log, and turning its triggers off (docs/team.md).
func (s *Store) migrationError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		return err
	}
	return fmt.Errorf("%w: %s needs upgrading to this nhi's tables, which only their owner may do (the role that ran nhi db init; not nhi_admin, which may not change the log's tables): run nhi db init as the owner, then try again; nothing was changed (%v)",
		ErrNotPermitted, s.path, err)
}

// readDenied is the refusal of a login role that may not read nhi's
// tables: one granted none of nhi's roles (every one of them reads every
// table, docs/team.md), or any role of a database whose owner never ran
// nhi db init, which creates the roles and grants them.
func (s *Store) readDenied(ctx context.Context, q querier) error {
	who := "your database role"
	var user string
	if q.QueryRowContext(ctx, `SELECT session_user`).Scan(&user) == nil && user != "" {
		who = "database role " + user
	}
	return fmt.Errorf("%s may not read nhi's tables in %s, so nothing was read or changed: it has none of nhi's roles. Ask the database's owner to grant the one you need — GRANT %s TO %s to read; %s to decide, %s to snapshot, %s for campaigns, owners and people — after running nhi db init once, which creates them (docs/team.md, \"Roles\")",
		who, s.path, RoleAuditor, orRole(user), RoleReviewer, RoleConnector, RoleAdmin)
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// unreadable is the error of a read of the schema version that failed:
// a limit the server's owner set or the server ending the session is said
// as itself, wrapped so ServerAdvice finds it (a slow or restarting server
// is not a database of another application); a read stopped (ctx ended)
// is said as stopped; anything else is ErrNotEvidence.
func (s *Store) unreadable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		// Stopped (ctrl-c, or the output's reader gone), not refused.
		return fmt.Errorf("opening %s: %w", s.path, ctx.Err())
	}
	if ServerAdvice(err) != "" {
		return fmt.Errorf("%s: reading nhi's schema: %w", s.path, err)
	}
	return fmt.Errorf("%w: %s cannot be read (%v)", ErrNotEvidence, s.path, err)
}

// postgresVersion is the version of audit's tables in the database: 0
// when it has none and may have them created, or an error when it belongs
// to another application, is newer than this build or may not be created.
func (s *Store) postgresVersion(ctx context.Context, q querier, opts OpenOptions) (int, error) {
	var hasMeta bool
	if err := q.QueryRowContext(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&hasMeta); err != nil {
		return 0, s.unreadable(ctx, err)
	}
	if !hasMeta {
		var tables int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables); err != nil {
			return 0, err
		}
		switch {
		case tables > 0:
			return 0, fmt.Errorf("%w: %s holds tables of another application; use an empty database (nothing was changed)", ErrNotEvidence, s.path)
		case !opts.Create || opts.ReadOnly:
			return 0, fmt.Errorf("%w in %s: the database is empty; create the evidence with `nhi demo` or `nhi snapshot github --org ORG`, passing the same --db", ErrNotExist, s.path)
		}
		return 0, nil
	}
	var app, version string
	err := q.QueryRowContext(ctx, `SELECT
		coalesce((SELECT value FROM meta WHERE key = 'application'), ''),
		coalesce((SELECT value FROM meta WHERE key = 'schema.audit'), '')`).Scan(&app, &version)
	if err != nil {
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42501" {
			return 0, s.readDenied(ctx, q)
		}
		return 0, s.unreadable(ctx, err)
	}
	if app != applicationMark {
		return 0, fmt.Errorf("%w: %s has a meta table of another application; nothing was changed", ErrNotEvidence, s.path)
	}
	v, err := strconv.Atoi(version)
	if err != nil {
		return 0, fmt.Errorf("%w: %s records schema version %q", ErrNotEvidence, s.path, version)
	}
	if v > len(postgresMigrations) {
		return 0, fmt.Errorf("%w: %s has schema version %d but this nhi knows up to %d; upgrade nhi (nothing was changed)", ErrNewerSchema, s.path, v, len(postgresMigrations))
	}
	return v, nil
}

// postgresPending is what the database at version v lacks of audit's
// schema and of the registered packages', as a reader is told it (the
// SQLite side's pending); none when it is up to date.
func (s *Store) postgresPending(ctx context.Context, q querier, v int, pkgs []packageMigration) ([]string, error) {
	var missing []string
	if v < len(postgresMigrations) {
		missing = append(missing, fmt.Sprintf("audit's tables at schema version %d (it has %d)", len(postgresMigrations), v))
	}
	for _, p := range pkgs {
		if p.postgres == nil {
			return nil, fmt.Errorf("the %s tables have no PostgreSQL schema in this build: %w", p.name, errors.ErrUnsupported)
		}
		n, err := packageVersion(ctx, q, v, p.name)
		if err != nil {
			return nil, s.unreadable(ctx, fmt.Errorf("reading the schema version of %s: %w", p.name, err))
		}
		switch {
		case n > len(p.postgres):
			return nil, fmt.Errorf("%w: %s has %s tables of version %d but this nhi knows up to %d; upgrade nhi (nothing was changed)",
				ErrNewerSchema, s.path, p.name, n, len(p.postgres))
		case n == 0 && v > 0:
			// Made by a program that does not keep these tables: one
			// built without the package, or from before it kept them.
			missing = append(missing, "the "+p.name+" tables")
		case n < len(p.postgres):
			missing = append(missing, fmt.Sprintf("the %s tables at version %d (it has %d)", p.name, len(p.postgres), n))
		}
	}
	return missing, nil
}

// observationColumns are the columns of a row of observation parameters
// (SnapshotWriter.Record), in order: insertObservations's.
var observationColumns = []string{"snapshot_id", "identity_id", "kind", "name", "scope", "created_at", "last_used_at", "rotated_at", "expires_at", "permissions", "attributes", "findings", "material"}

// copyObservations writes rows of observation parameters with COPY, on
// conn inside the write transaction it holds open (ownConnTx): the
// server parses no statement and plans nothing per row. The table has no
// INSERT trigger (only BEFORE UPDATE and DELETE ones, which COPY does not
// fire), so the rows are stored exactly as an INSERT would store them.
func copyObservations(ctx context.Context, conn *sql.Conn, params []any) error {
	rows := len(params) / columnsPerRow
	return conn.Raw(func(dc any) error {
		pc := dc.(*postgresConn).Conn.Conn()
		n, err := pc.CopyFrom(ctx, pgx.Identifier{"observations"}, observationColumns,
			pgx.CopyFromSlice(rows, func(i int) ([]any, error) {
				return params[i*columnsPerRow : (i+1)*columnsPerRow], nil
			}))
		if err == nil && n != int64(rows) {
			err = fmt.Errorf("COPY wrote %d observations of %d", n, rows)
		}
		return err
	})
}

// analyzeAfter is how many observations make a snapshot large enough
// that PostgreSQL's statistics of the tables it grew are refreshed as it
// commits (analyzeGrown).
const analyzeAfter = 10_000

// analyzeGrown refreshes, on PostgreSQL, the planner's statistics of the
// tables a snapshot of n observations just grew, when n is large: without
// them the next reads of the population (the TUI's, a campaign's) are
// planned as if the tables were as small as before, until autovacuum
// gets to them. Only the tables' owner, the
// database's owner and superusers may ANALYZE; for any other role (a
// connector's, nhi_connector) there is nothing to do and nothing fails.
// Neither does the snapshot, already committed, when ANALYZE does:
// statistics are a help to the planner, not evidence.
func (s *Store) analyzeGrown(ctx context.Context, n int) {
	if s.engine != enginePostgres || n < analyzeAfter {
		return
	}
	var tables []string
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_class c
		WHERE c.oid IN ('observations'::regclass, 'identities'::regclass)
		AND (pg_has_role(current_user, c.relowner, 'USAGE')
			OR pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))
		ORDER BY c.relname`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if rows.Scan(&t) == nil {
			tables = append(tables, pgx.Identifier{t}.Sanitize())
		}
	}
	if rows.Close() != nil || rows.Err() != nil || len(tables) == 0 {
		return
	}
	_, _ = s.db.ExecContext(ctx, `ANALYZE `+strings.Join(tables, ", "))
}
