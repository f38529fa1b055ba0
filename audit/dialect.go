package audit

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// engine is the database an evidence store lives in. nhi's SQL is written
// once, in SQLite's dialect, which SQLite runs as it is; everything that
// differs on PostgreSQL is here and in store_postgres.go and
// schema_postgres.go (docs/team.md): the statements are rewritten on their
// way to the server (rewritePostgres: placeholders, and the few SQLite
// functions nhi uses, which the PostgreSQL schema defines as nhi_*
// functions), the schema has its own migrations, and a write transaction
// takes an advisory lock where SQLite takes its write lock.
type engine int

const (
	engineSQLite engine = iota
	enginePostgres
)

func (e engine) String() string {
	if e == enginePostgres {
		return "postgres"
	}
	return "sqlite"
}

// IsPostgresURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than an evidence file.
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// logLockKey is the advisory lock every PostgreSQL write transaction
// takes first: the lock SQLite's BEGIN IMMEDIATE takes on the file. nhi's
// writes read the log's head and the projections, decide, and append, so
// they must not interleave; holding it, a transaction's every statement
// sees what the previous writer committed (READ COMMITTED). The value is
// ApplicationID ("NHI1"); advisory locks are per database.
const logLockKey = ApplicationID

// beginWrite starts a write transaction that holds the store's write
// lock: BEGIN IMMEDIATE on SQLite (the DSN's _txlock), the advisory lock
// on PostgreSQL.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	return s.beginWriteOn(ctx, s.db)
}

// txBeginner is a *sql.DB or a *sql.Conn.
type txBeginner interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}

// beginWriteOn is beginWrite on a connection the caller holds (a
// *sql.Conn), so it can reach the transaction's connection through pgx
// too (copyObservations), or on any of the pool's (the *sql.DB).
func (s *Store) beginWriteOn(ctx context.Context, on txBeginner) (*sql.Tx, error) {
	tx, err := on.BeginTx(ctx, nil)
	if err != nil || s.engine != enginePostgres {
		return tx, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(logLockKey)); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// isBusy reports whether err says another writer was in the way and
// trying the transaction again can work: SQLite's SQLITE_BUSY or
// SQLITE_LOCKED, PostgreSQL's serialization failure or deadlock.
func isBusy(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return isSQLiteBusy(err)
}

// postgresFunctions are the SQLite functions nhi's SQL uses, and the
// functions of the PostgreSQL schema (schema_postgres.go) that do the same
// on the JSON text nhi stores. They have names of their own because
// PostgreSQL has a json_each of another shape, and JSON_ARRAY is syntax
// there from version 16 on.
var postgresFunctions = map[string]string{
	"json_extract": "nhi_json_extract",
	"json_each":    "nhi_json_each",
	"json_set":     "nhi_json_set",
	"json_array":   "nhi_json_array",
}

// rewritten caches rewritePostgres: SQLite statement (or rewriteKey) ->
// PostgreSQL statement. nhi's statements are a few hundred, but some are built
// (IN lists of as many placeholders as values), so the cache is bounded:
// once it holds maxRewritten statements it is emptied, and the statements
// that repeat are soon back in it.
var (
	rewritten      sync.Map
	rewrittenCount atomic.Int64
)

const maxRewritten = 4096

// rewritePostgres turns a statement in nhi's SQL (SQLite's dialect) into
// PostgreSQL's: "?" placeholders become $1, $2, …, "?N" becomes $N, and
// the SQLite functions of postgresFunctions are called by their nhi_*
// names. String literals, quoted names, comments and dollar-quoted bodies
// pass unchanged. Statements repeat, so each is rewritten once.
func rewritePostgres(q string) string { return rewriteCached(q, 0) }

// rewriteSeqArgs is rewritePostgres for a statement that follows
// nhi_append_event in its transaction (AppendChecked): each placeholder
// $k whose bit k-1 is set in seqArgs, the argument being a stand-in for
// the new event's number, is read as nhi_event_seq($k), the number itself.
func rewriteSeqArgs(q string, seqArgs uint64) string { return rewriteCached(q, seqArgs) }

// rewriteKey is a statement of rewriteSeqArgs in the cache.
type rewriteKey struct {
	q       string
	seqArgs uint64
}

func rewriteCached(q string, seqArgs uint64) string {
	var key any = q
	if seqArgs != 0 {
		key = rewriteKey{q, seqArgs}
	}
	if v, ok := rewritten.Load(key); ok {
		return v.(string)
	}
	out := rewrite(q, seqArgs)
	if rewrittenCount.Add(1) > maxRewritten {
		rewritten.Clear()
		rewrittenCount.Store(1)
	}
	rewritten.Store(key, out)
	return out
}

func rewrite(q string, seqArgs uint64) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // '' inside a literal
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j + 1
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end
		case c == '$' && i+1 < len(q) && (q[i+1] == '$' || isIdentStart(q[i+1])):
			// A dollar-quoted body ($$ … $$, $fn$ … $fn$) in PostgreSQL DDL.
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				k := strings.Index(q[j+1:], tag)
				end := len(q)
				if k >= 0 {
					end = j + 1 + k + len(tag)
				}
				b.WriteString(q[i:end])
				i = end
				continue
			}
			b.WriteByte(c)
			i++
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			k := 0
			if j > i+1 {
				k, _ = strconv.Atoi(q[i+1 : j])
			} else {
				n++
				k = n
			}
			if k >= 1 && k <= 64 && seqArgs&(1<<(k-1)) != 0 {
				b.WriteString("nhi_event_seq($" + strconv.Itoa(k) + ")")
			} else {
				b.WriteString("$" + strconv.Itoa(k))
			}
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			word := q[i:j]
			if to, ok := postgresFunctions[strings.ToLower(word)]; ok && j < len(q) && q[j] == '(' {
				word = to
			}
			b.WriteString(word)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
