package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// migrations bring a file from version i to i+1. Append only: a released
// migration never changes, because files in the field already ran it.
var migrations = []string{
	// v1: snapshots, identities, the event log and its owner projection.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE snapshots (
	id           INTEGER PRIMARY KEY,
	source       TEXT NOT NULL,
	account      TEXT NOT NULL,
	api_url      TEXT NOT NULL,
	credential   TEXT NOT NULL DEFAULT '',
	tool_version TEXT NOT NULL,
	started_at   TEXT NOT NULL,
	finished_at  TEXT,
	status       TEXT NOT NULL CHECK (status IN ('running', 'complete', 'partial', 'failed')),
	error        TEXT NOT NULL DEFAULT '',
	counts       TEXT NOT NULL DEFAULT '{}',
	digest       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE snapshot_gaps (
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
	seq         INTEGER NOT NULL,
	endpoint    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	scope       TEXT NOT NULL,
	status      INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;

CREATE TABLE observations (
	snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
	identity_id  TEXT NOT NULL,
	kind         TEXT NOT NULL,
	name         TEXT NOT NULL,
	scope        TEXT NOT NULL,
	created_at   TEXT,
	last_used_at TEXT,
	rotated_at   TEXT,
	expires_at   TEXT,
	permissions  TEXT NOT NULL,
	attributes   TEXT NOT NULL,
	PRIMARY KEY (snapshot_id, identity_id)
) WITHOUT ROWID;

-- One row per identity ever seen; last_snapshot points at its latest observation.
CREATE TABLE identities (
	id             TEXT PRIMARY KEY,
	kind           TEXT NOT NULL,
	source         TEXT NOT NULL,
	account        TEXT NOT NULL,
	first_snapshot INTEGER NOT NULL REFERENCES snapshots(id),
	last_snapshot  INTEGER NOT NULL REFERENCES snapshots(id),
	first_seen     TEXT NOT NULL,
	last_seen      TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
	seq       INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	type      TEXT NOT NULL,
	payload   TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL UNIQUE
);

-- Projection of owner.set events.
CREATE TABLE owners (
	identity_id TEXT PRIMARY KEY REFERENCES identities(id),
	owner       TEXT NOT NULL,
	event_seq   INTEGER NOT NULL REFERENCES events(seq)
) WITHOUT ROWID;

-- Evidence is append-only. These triggers stop accidents through nhi's own
-- code paths; deliberate edits with other tools are what nhi verify catches.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
CREATE TRIGGER snapshots_finished BEFORE UPDATE ON snapshots WHEN OLD.status <> 'running'
BEGIN SELECT RAISE(ABORT, 'a finished snapshot is immutable'); END;
CREATE TRIGGER snapshots_no_delete BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
`,
	// v2: context for ownership, resumable runs, conditional requests,
	// and findings stored with the policy that produced them.
	`
-- People and teams a connector read as context (who may own what), per snapshot.
CREATE TABLE principals (
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
	type        TEXT NOT NULL,  -- member, team, codeowner, collaborator
	scope       TEXT NOT NULL,  -- org, or org/repo
	login       TEXT NOT NULL,
	role        TEXT NOT NULL,  -- member, admin, maintain, ...
	PRIMARY KEY (snapshot_id, type, scope, login)
) WITHOUT ROWID;

-- Units of work (an endpoint, a repository) an unfinished run has fully recorded.
CREATE TABLE snapshot_checkpoints (
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
	unit        TEXT NOT NULL,
	PRIMARY KEY (snapshot_id, unit)
) WITHOUT ROWID;

-- Conditional-request cache: what a connector derived from a URL's last
-- answer (never a raw body that could hold a secret), under its ETag.
CREATE TABLE http_cache (
	key       TEXT PRIMARY KEY,
	etag      TEXT NOT NULL,
	value     BLOB NOT NULL,
	stored_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE policies (
	id         INTEGER PRIMARY KEY,
	digest     TEXT NOT NULL UNIQUE,  -- SHA-256 of body
	body       TEXT NOT NULL,         -- canonical JSON of the effective policy
	created_at TEXT NOT NULL
);

-- Findings as of the snapshot's start under its policy (JSON array), frozen
-- with the observation and covered by the snapshot digest. Owner-dependent
-- findings (orphaned) are evaluated live instead.
ALTER TABLE observations ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
-- A digest of what a reviewer cares about (name, permissions, rotation,
-- expiry, scope-widening attributes): equal digests, nothing to re-review.
ALTER TABLE observations ADD COLUMN material TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN policy_id INTEGER REFERENCES policies(id);

CREATE TRIGGER principals_no_update BEFORE UPDATE ON principals
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
`,
	// v3 created the review campaigns' tables. Package campaigns now owns
	// them and creates them through RegisterMigrations (idempotently, so
	// the files this step already ran on keep theirs); the step stays, empty,
	// so that version numbers keep their meaning.
	`SELECT 1;`,
	// v4: an identity's owner changes and notes (Store.OwnerHistory,
	// Store.Notes), and the events of one type, found without reading the
	// whole log.
	`
CREATE INDEX events_identity ON events (json_extract(payload, '$.identity'), type, seq);
CREATE INDEX events_type ON events (type, seq);
`,
	// v5: positive evidence of what a snapshot read (see coverage.go), so
	// a removal is claimed only where a later snapshot looked.
	`
-- A kind read in full at a scope, or kind '*': every scope directly below
-- it that exists was read too (an organisation's repositories, a
-- repository's environments), so one that was not does not exist.
CREATE TABLE snapshot_scopes (
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
	scope       TEXT NOT NULL,
	kind        TEXT NOT NULL,
	PRIMARY KEY (snapshot_id, scope, kind)
) WITHOUT ROWID;
-- 1: snapshot_scopes says what the snapshot read; 0 (snapshots taken before
-- schema v5, or by a connector that does not say): only its status and gaps do.
ALTER TABLE snapshots ADD COLUMN scoped INTEGER NOT NULL DEFAULT 0;
-- What answered (a GitHub Enterprise Server version; '' for the cloud), and
-- what the connector says once of the whole run (JSON array of strings).
ALTER TABLE snapshots ADD COLUMN server_version TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
CREATE TRIGGER snapshot_scopes_no_update BEFORE UPDATE ON snapshot_scopes
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
-- An identity that continues under another ID (its repository was
-- renamed): derived from the observations' lineage attribute when a
-- snapshot finishes (lineage.go). Old IDs keep resolving through it.
CREATE TABLE identity_aliases (
	id          TEXT PRIMARY KEY,
	current     TEXT NOT NULL,
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id)
) WITHOUT ROWID;
`,
	// v6: the directory of people (docs/people.md), the person behind each
	// recorded owner, and the signatures of signed events.
	`
-- Projection of person.set events: each person's latest record (canonical JSON).
CREATE TABLE people (
	email     TEXT PRIMARY KEY,
	record    TEXT NOT NULL,
	event_seq INTEGER NOT NULL REFERENCES events(seq)
) WITHOUT ROWID;

-- The person (e-mail) the owner as typed resolved to, '' when none.
ALTER TABLE owners ADD COLUMN person TEXT NOT NULL DEFAULT '';

-- SSH signatures (SSHSIG, namespace nhi-decision) over signed events'
-- canonical bytes; append-only like the log.
CREATE TABLE event_signatures (
	seq         INTEGER PRIMARY KEY REFERENCES events(seq),
	fingerprint TEXT NOT NULL,  -- SHA256:... of the key
	public_key  TEXT NOT NULL,  -- "TYPE BASE64"
	signature   TEXT NOT NULL   -- armored, as ssh-keygen -Y sign writes it
);
CREATE TRIGGER event_signatures_no_update BEFORE UPDATE ON event_signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
CREATE TRIGGER event_signatures_no_delete BEFORE DELETE ON event_signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
`,
	// v7: how much of its source a snapshot read, as its connector counted,
	// and what the connector cannot see (Snapshot.Reach; JSON, '' when the
	// connector did not say).
	`ALTER TABLE snapshots ADD COLUMN reach TEXT NOT NULL DEFAULT '';`,
}

// SchemaVersion is the schema this build writes: the version of audit's
// own tables. Packages that keep tables in the file version theirs apart
// (RegisterMigrations).
var SchemaVersion = len(migrations)

// packageMigration is the schema of a package that keeps its own tables in
// the evidence file, as RegisterMigrations received it.
type packageMigration struct {
	name     string
	steps    []string
	postgres []string // RegisterPostgresMigrations; nil: the package has no PostgreSQL schema
}

var (
	packageMu         sync.Mutex
	packageMigrations []packageMigration
)

// RegisterMigrations adds the schema of a package that keeps its own
// projections in the evidence file (campaigns), the way it appends its
// own events: steps bring the package's tables from version i to i+1, and
// the same rules as audit's own apply (append only; a released step never
// changes). They run on open after audit's, in the same transaction; the
// file records the package's version in meta under "schema.NAME". Call it
// from an init function, so every program that imports the package
// creates its tables.
func RegisterMigrations(name string, steps ...string) {
	packageMu.Lock()
	defer packageMu.Unlock()
	for _, p := range packageMigrations {
		if p.name == name {
			panic("audit: migrations of " + name + " registered twice")
		}
	}
	packageMigrations = append(packageMigrations, packageMigration{name: name, steps: steps})
}

func registeredMigrations() []packageMigration {
	packageMu.Lock()
	defer packageMu.Unlock()
	return slices.Clone(packageMigrations)
}

// packageVersion is the version of package name's tables in the file; 0
// for a file without audit's meta table yet.
func packageVersion(ctx context.Context, q querier, v int, name string) (int, error) {
	if v == 0 {
		return 0, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?`, "schema."+name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// pending is what the file at audit version v lacks of audit's schema and
// of the registered packages', as a reader is told it ("the campaigns
// tables"); none when it is up to date.
func (s *Store) pending(ctx context.Context, q querier, v int, pkgs []packageMigration) ([]string, error) {
	if v > SchemaVersion {
		return nil, newerSchemaError(s.path, v)
	}
	var missing []string
	if v < SchemaVersion {
		missing = append(missing, fmt.Sprintf("audit's tables at schema version %d (it has %d)", SchemaVersion, v))
	}
	for _, p := range pkgs {
		n, err := packageVersion(ctx, q, v, p.name)
		if err != nil {
			if ctx.Err() != nil {
				// Stopped (ctrl-c, or the output's reader gone), not
				// refused: the file is as it was, and nhi's.
				return nil, fmt.Errorf("opening %s: %w", s.path, ctx.Err())
			}
			return nil, fmt.Errorf("%w: %s: reading the schema version of %s: %v", ErrNotEvidence, s.path, p.name, err)
		}
		switch {
		case n > len(p.steps):
			return nil, fmt.Errorf("%w: %s has %s tables of version %d but this nhi knows up to %d; upgrade nhi (nothing was changed)",
				ErrNewerSchema, s.path, p.name, n, len(p.steps))
		case n == 0:
			// Written by a program that does not keep these tables: one
			// built without the package, or from before it kept them.
			missing = append(missing, "the "+p.name+" tables")
		case n < len(p.steps):
			missing = append(missing, fmt.Sprintf("the %s tables at version %d (it has %d)", p.name, len(p.steps), n))
		}
	}
	return missing, nil
}

// needsUpgradeError is a read-only open's refusal of a file that lacks
// what this build keeps in it: what is missing, and how to add it.
func needsUpgradeError(path string, missing []string) error {
	return fmt.Errorf("%w: %s lacks %s, which this nhi keeps in the file; nothing was changed: open it once for writing to add them (nhi, the review UI, does on opening without --readonly; so does any command that records)",
		ErrReadOnly, path, JoinAnd(missing))
}

// migrate runs the migrations a file lacks, all in one transaction, so a
// killed process leaves the file at its old version, never between two.
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		if Damaged(err) {
			// checkFile found nhi's header: the file is nhi's, and damaged.
			return fmt.Errorf("%w: %s cannot be read (SQLite: %v); nothing was changed", ErrDamaged, s.path, err)
		}
		if ctx.Err() != nil {
			// Stopped (ctrl-c), not refused: the file is as it was.
			return fmt.Errorf("opening %s: %w", s.path, ctx.Err())
		}
		if NoRoom(err) {
			// Opening writes too: a new file's first page, the -shm file
			// SQLite reads the write-ahead log through (32 KiB). Past a
			// file size limit (ulimit -f) that fails, and the file is no
			// less nhi's for it: the caller says what stopped it.
			return fmt.Errorf("cannot open %s: %w", s.path, err)
		}
		if isSQLiteBusy(err) {
			// checkFile read nhi's header: the file is nhi's, and another
			// program holds it.
			return lockedError(s.path, err)
		}
		if folderNotWritable(err, s.path) {
			// checkFile found nhi's header and the file writable: the
			// folder is what refuses, not the file.
			return folderReadOnlyError(s.path, err)
		}
		return fmt.Errorf("%w: %s cannot be read as a database (%v)", ErrNotEvidence, s.path, err)
	}
	pkgs := registeredMigrations()
	missing, err := s.pending(ctx, s.db, v, pkgs)
	if err != nil || len(missing) == 0 {
		return err
	}
	if s.readOnly {
		return needsUpgradeError(s.path, missing)
	}
	tx, err := s.beginWriteWaiting(ctx, nil, "")
	if err != nil {
		return fmt.Errorf("cannot migrate %s: %w", s.path, err)
	}
	defer tx.Rollback()
	// Re-read inside the write lock: another process may have migrated.
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if missing, err := s.pending(ctx, tx, v, pkgs); err != nil || len(missing) == 0 {
		return err
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrating %s to schema version %d: %w", s.path, i+1, err)
		}
	}
	for _, p := range pkgs {
		n, err := packageVersion(ctx, tx, v, p.name)
		if err != nil {
			return err
		}
		for i := n; i < len(p.steps); i++ {
			if _, err := tx.ExecContext(ctx, p.steps[i]); err != nil {
				return fmt.Errorf("migrating the %s tables of %s to version %d: %w", p.name, s.path, i+1, err)
			}
		}
		if n < len(p.steps) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, "schema."+p.name, strconv.Itoa(len(p.steps))); err != nil {
				return err
			}
		}
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
			return err
		}
	}
	if v < SchemaVersion {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Move the new header into the file itself at once, so another process
	// reading only the header (checkFile) recognises the file.
	_, err = s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
