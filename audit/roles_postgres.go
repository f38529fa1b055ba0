package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The roles `nhi db init` creates on PostgreSQL (docs/team.md): NOLOGIN
// group roles the database's administrator grants to people's login roles.
const (
	RoleAdmin     = "nhi_admin"     // campaigns, policy, owners, people
	RoleConnector = "nhi_connector" // snapshots
	RoleReviewer  = "nhi_reviewer"  // decisions and notes
	RoleAuditor   = "nhi_auditor"   // reads only
)

// Roles are the roles `nhi db init` creates, in the order it creates them.
var Roles = []string{RoleAdmin, RoleConnector, RoleReviewer, RoleAuditor}

// historyTables are the log and the snapshots: evidence no role but the
// tables' owner may update or delete (triggers refuse it even to the
// owner, schema_postgres.go). campaign_decisions is the decisions' own
// history, kept the same way.
var historyTables = []string{
	"events", "event_signatures",
	"snapshots", "snapshot_gaps", "observations", "principals", "snapshot_checkpoints", "snapshot_scopes",
	"campaign_decisions",
}

// rolePrivileges are the grants of each role beyond reading every table,
// from the statements each kind of write runs (grep the Write paths of
// AddNotes, campaigns' decide, and the snapshot writer). Every writer
// appends to the log, so inserts into events and event_signatures, and
// keeps the log's head in meta (log_head, log_length): UPDATE of meta's
// value column. A reviewer's decision updates the decision columns of
// campaign_items — the only UPDATE a reviewer has — and inserts into
// campaign_decisions. A connector updates a snapshot while it runs (the
// trigger refuses it once finished), the identities' last sighting, and
// the remediation columns of campaign_items a snapshot settles.
func rolePrivileges(schema string, exists func(table string) bool) []string {
	s := pgx.Identifier{schema}.Sanitize()
	writers := strings.Join([]string{RoleAdmin, RoleConnector, RoleReviewer}, ", ")
	all := strings.Join(Roles, ", ")
	stmts := []string{
		`GRANT USAGE ON SCHEMA ` + s + ` TO ` + all,
		`GRANT SELECT ON ALL TABLES IN SCHEMA ` + s + ` TO ` + all,
		`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ` + s + ` TO ` + writers,
	}
	grant := func(privs, to string, tables ...string) {
		var have []string
		for _, t := range tables {
			if exists(t) { // campaigns' tables exist when the build has them
				have = append(have, s+"."+pgx.Identifier{t}.Sanitize())
			}
		}
		if len(have) > 0 {
			stmts = append(stmts, `GRANT `+privs+` ON `+strings.Join(have, ", ")+` TO `+to)
		}
	}
	// The log and its head.
	grant(`INSERT`, writers, "events", "event_signatures")
	grant(`INSERT, UPDATE (value)`, writers, "meta")
	// Decisions (campaigns' decide, undo, reassign). Notes are events only.
	grant(`UPDATE (decision, reason, decided_by, decided_at, decision_seq, conflict)`, RoleReviewer, "campaign_items")
	grant(`INSERT`, RoleReviewer, "campaign_decisions")
	// A decision in one round trip is queued, then chained by the
	// owner's function (campaigns' group append), which checks it.
	grant(`INSERT`, RoleReviewer, "nhi_decision_queue")
	// Snapshots: inserts into their tables, the running snapshot's row,
	// the identities' last sighting, the snapshot lock in meta, and the
	// HTTP cache (not evidence).
	grant(`INSERT`, RoleConnector, "snapshots", "snapshot_gaps", "observations", "principals", "snapshot_checkpoints", "snapshot_scopes", "identities", "identity_aliases")
	// A snapshot records the policy it was evaluated under: a row keyed by
	// the digest of its body, added if new, never changed.
	grant(`INSERT`, RoleConnector, "policies")
	grant(`UPDATE (finished_at, status, error, counts, digest, scoped, server_version, notes, reach, credential)`, RoleConnector, "snapshots")
	grant(`UPDATE (last_snapshot, last_seen)`, RoleConnector, "identities")
	grant(`DELETE`, RoleConnector, "meta")
	// After a snapshot, which decommissioned items it no longer sees
	// (campaigns' VerifyAfterSnapshot): campaign.verify events and these
	// columns, never a decision.
	grant(`UPDATE (verification, verified_snapshot, verify_seq)`, RoleConnector, "campaign_items")
	grant(`INSERT, UPDATE, DELETE`, RoleConnector, "http_cache")
	// The owner's SECURITY DEFINER functions (campaigns' group append and
	// an offboarding's transfer of an owner) write past the triggers that
	// check who a write names, each checking what it writes itself: only
	// the roles that decide may call them, never PUBLIC, which PostgreSQL
	// grants every new function to (docs/team.md, "The owner's definer
	// functions").
	stmts = append(stmts, `DO $$
DECLARE f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.prosecdef AND p.pronamespace = `+quoteLiteral(schema)+`::regnamespace LOOP
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO `+RoleAdmin+`, `+RoleReviewer+`', f);
	END LOOP;
END $$`)
	// The administrator writes every table but the history ones, which it
	// may only append to.
	stmts = append(stmts, `DO $$
DECLARE t text;
BEGIN
	FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = `+quoteLiteral(schema)+` LOOP
		IF t = ANY (ARRAY[`+quoteList(historyTables)+`]) THEN
			EXECUTE format('GRANT INSERT ON %I.%I TO `+RoleAdmin+`', `+quoteLiteral(schema)+`, t);
		ELSE
			EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I.%I TO `+RoleAdmin+`', `+quoteLiteral(schema)+`, t);
		END IF;
	END LOOP;
END $$`)
	return stmts
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteLiteral(n)
	}
	return strings.Join(q, ", ")
}

// InitRoles creates nhi's roles where missing and grants them their
// privileges on the store's tables (docs/team.md). It runs as the tables'
// owner, who needs CREATEROLE (or is a superuser) to create the roles.
// Run again it changes nothing: created is then empty. The grants cover
// the tables that exist, so it is run again after an upgrade of nhi adds
// tables.
func (s *Store) InitRoles(ctx context.Context) (created []string, err error) {
	if s.engine != enginePostgres {
		return nil, fmt.Errorf("%s is an evidence file: roles are for a PostgreSQL database (--db postgres://…); an evidence file's access is its file permissions", s.path)
	}
	err = s.Write(ctx, func(tx *Tx) error {
		created = created[:0]
		for _, r := range Roles {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?)`, r).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			if _, err := tx.Exec(ctx, `CREATE ROLE `+r+` NOLOGIN`); err != nil {
				return fmt.Errorf("creating role %s (the role running nhi db init needs CREATEROLE): %w", r, err)
			}
			created = append(created, r)
		}
		var schema string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return err
		}
		tables := map[string]bool{}
		rows, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = ?`, schema)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			tables[t] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range rolePrivileges(schema, func(t string) bool { return tables[t] }) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("granting the roles their privileges (%.60s…): %w", q, err)
			}
		}
		return nil
	})
	return created, err
}

// ErrNotPermitted is a write the database refused to the session's role.
var ErrNotPermitted = errors.New("the database refused the write")

var deniedTable = regexp.MustCompile(`permission denied for (?:table|relation|sequence) (\S+)`)

// permissionError turns PostgreSQL's refusal of a write for want of a
// privilege into a message that names the roles that may do it and the
// grant to ask for.
func (s *Store) permissionError(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	if s.engine != enginePostgres || !errors.As(err, &pe) || pe.Code != "42501" {
		return err
	}
	what, need := "this table", RoleReviewer
	if pe.ConstraintName == LeaverRefusal {
		// The database's check of a leaver (schema step 12): its words
		// already say whom the directory says left, when, and that
		// nothing was recorded.
		msg := fmt.Sprintf("%s, in %s", pe.Message, s.path)
		if pe.Hint != "" {
			msg += ": " + pe.Hint
		}
		return fmt.Errorf("%w: %s", ErrActorLeft, msg)
	}
	if m := deniedTable.FindStringSubmatch(pe.Message); m != nil {
		what, need = "table "+m[1], roleFor(m[1])
	} else if pe.Message != "" {
		// One of nhi's own checks (schema_postgres.go: an event or a
		// decision in someone else's name) says what it refused, and why.
		msg := fmt.Sprintf("%s in %s, so nothing was written", pe.Message, s.path)
		if pe.Hint != "" {
			msg += ": " + pe.Hint
		}
		return fmt.Errorf("%w: %s", ErrNotPermitted, msg)
	}
	who := "your database role"
	var user string
	if s.db.QueryRowContext(ctx, `SELECT session_user`).Scan(&user) == nil && user != "" {
		who = "database role " + user
	}
	return fmt.Errorf("%w: %s may not write to %s in %s. Decisions and notes need %s, snapshots %s, campaigns, policy and owners %s; %s only reads (docs/team.md). Ask the database's owner: GRANT %s TO %s",
		ErrNotPermitted, who, what, s.path, RoleReviewer, RoleConnector, RoleAdmin, RoleAuditor, need, orRole(user))
}

// roleFor is the role whose grants (rolePrivileges) cover a write to
// table, for the grant a refusal asks for: a reviewer refused an owner
// change needs nhi_admin, not the nhi_reviewer they have. The log, its
// head and the decisions are a reviewer's (every writer appends to the
// log, and notes are events only); the snapshots' tables a connector's;
// the rest — owners, people, campaigns, offboardings, the policy — the
// administrator's. policies takes a connector's insert too, but only as
// the policy a snapshot was evaluated under: a refused write there is
// nhi policy set.
func roleFor(table string) string {
	table = strings.TrimSuffix(strings.Trim(table, `"`), "_id_seq") // a sequence: its table's
	switch table {
	case "events", "event_signatures", "meta", "campaign_items", "campaign_decisions":
		return RoleReviewer
	case "snapshots", "snapshot_gaps", "observations", "principals", "snapshot_checkpoints", "snapshot_scopes",
		"identities", "identity_aliases", "http_cache":
		return RoleConnector
	}
	return RoleAdmin
}

// importPermissionError is permissionError for nhi db import. It needs
// the tables' owner (docs/team.md): it copies the log and the snapshots
// as upserts (INSERT … ON CONFLICT DO UPDATE), so that a row differing
// from the store's under the same key reaches the append-only triggers
// and is refused, and an upsert needs UPDATE, which no role but the
// owner has on those tables.
func (s *Store) importPermissionError(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	if s.engine != enginePostgres || !errors.As(err, &pe) || pe.Code != "42501" {
		return err
	}
	who := "your database role"
	var user string
	if s.db.QueryRowContext(ctx, `SELECT session_user`).Scan(&user) == nil && user != "" {
		who = "database role " + user
	}
	return fmt.Errorf("%w: %s may not import into %s (%s), so nothing was written: nhi db import needs the tables' owner, the role that ran nhi db init (not %s: the import may update rows of the log, which no other role may, so that the append-only triggers judge any difference); run it as the owner",
		ErrNotPermitted, who, s.path, pe.Message, RoleAdmin)
}

func orRole(user string) string {
	if user == "" {
		return "YOUR_ROLE"
	}
	if plainRole.MatchString(user) {
		return user
	}
	return pgx.Identifier{user}.Sanitize()
}

// plainRole is a role name SQL takes without quotes.
var plainRole = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// MaySetOwners says whether this session may record owner changes (nhi
// owner set, the review UI's o), before any is tried: why is "" where it
// may, else why not, as the refused write would say it. Only on
// PostgreSQL can it not: owners are the administrator's (rolePrivileges),
// so a role that has nhi_reviewer alone may add notes and decide, never
// set an owner. err is a failed question, which tells nothing either way.
func (s *Store) MaySetOwners(ctx context.Context) (why string, err error) {
	if s.engine != enginePostgres {
		return "", nil
	}
	var may bool
	var user string
	if err := s.db.QueryRowContext(ctx, `SELECT has_table_privilege(current_user, 'owners', 'INSERT'), session_user`).Scan(&may, &user); err != nil {
		return "", err
	}
	if may {
		return "", nil
	}
	return fmt.Sprintf("database role %s may not set owners in %s: owners are %s's to set, decisions and notes %s's (docs/team.md). Ask the database's owner: GRANT %s TO %s",
		Printable(user), s.path, RoleAdmin, RoleReviewer, RoleAdmin, orRole(user)), nil
}
