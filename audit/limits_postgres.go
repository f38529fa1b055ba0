package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ServerAdvice is what to do about err when it is a limit the server's
// owner set that stopped a read or a write — a statement_timeout, a
// lock_timeout, an idle_in_transaction_session_timeout or a
// transaction_timeout, a read-only session (default_transaction_read_only,
// or a standby) — or the server ending the session, and "" for any
// other error: PostgreSQL's words name the setting or the symptom at
// most, not that nothing was written nor what
// to do (docs/team.md, "The server's limits"). Commands print it after
// the error; the TUI adds it to what it says. (A write whose connection
// is lost says itself what became of it: lost_postgres.go.)
func ServerAdvice(err error) string {
	if lostConnection(err) {
		return "The server ended the session (a restart or a shutdown, or an administrator ending it) before nhi had its answer: nothing half-read is used. Run the command again once the server answers."
	}
	pe, ok := errors.AsType[*pgconn.PgError](err)
	if !ok {
		return ""
	}
	lift := func(setting, value string) string {
		return fmt.Sprintf("Ask the database's owner to lift it for your role (ALTER ROLE <role> SET %s = %s), or lift it for one command: PGOPTIONS='-c %s=%s' nhi …", setting, value, setting, value)
	}
	switch {
	case pe.Code == "53300":
		return noConnectionLeft
	case pe.Code == "25006":
		return "The database took the session as read-only (default_transaction_read_only is on for your role or the database, or the server is a standby): nothing was written. Connect to the primary server, or ask the database's owner to turn it off for your role (ALTER ROLE <role> RESET default_transaction_read_only)."
	case pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout"):
		return "The server's statement_timeout stopped the statement before it finished: nothing it was writing was recorded. " + lift("statement_timeout", "0")
	case pe.Code == "55P03" && strings.Contains(pe.Message, "lock timeout"):
		return "The server's lock_timeout ended the wait for a lock, which nhi's writers queue for one at a time (docs/team.md): nothing was written. " + lift("lock_timeout", "0")
	case pe.Code == "25P03":
		return "The server's idle_in_transaction_session_timeout ended the session while nhi held a transaction open between its reads: nothing was written. " + lift("idle_in_transaction_session_timeout", "0")
	case pe.Code == "25P04":
		return "The server's transaction_timeout ended the transaction before it finished: nothing it was writing was recorded. " + lift("transaction_timeout", "0")
	}
	return ""
}

// lostConnection reports whether err is the server ending the session:
// shutting down or restarting (a fast shutdown ends every session with
// 57P01), after a crash (57P02), or starting up (57P03), or an
// administrator's pg_terminate_backend (57P01). A connection cut without
// a word (an EOF, a reset) is not told apart here from a connector's
// network failing.
func lostConnection(err error) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
}

// noConnectionLeft is what to do when the server refuses nhi a
// connection (53300, too_many_connections): its max_connections, or a
// CONNECTION LIMIT of the role or the database, is reached. Forty
// reviewers with their TUIs open hold some two hundred connections,
// twice the server's default (docs/team.md, "The server's limits").
const noConnectionLeft = "The server has no connection left for you (its max_connections, or a CONNECTION LIMIT on your role or the database, is reached): what needed one was not done. An open nhi TUI keeps up to five connections (one listening, four for its reads and writes), a command one or two (docs/team.md, \"The server's limits\"): close the sessions you do not use, or ask the database's owner to raise the limit."
