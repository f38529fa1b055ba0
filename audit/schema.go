package audit

import (
	"context"
	"fmt"
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
	// v3: review campaigns (package campaigns), projections of the
	// campaign.* events. Items are the population frozen at creation; their
	// frozen columns are covered by the population digest in the
	// campaign.create event, their decision columns are replayed from the log.
	`
CREATE TABLE campaigns (
	id                INTEGER PRIMARY KEY,
	name              TEXT NOT NULL UNIQUE,
	scope             TEXT NOT NULL,             -- filter expression, canonical form
	due               TEXT NOT NULL,             -- YYYY-MM-DD, through the end of that day UTC
	snapshot_id       INTEGER NOT NULL REFERENCES snapshots(id),
	as_of             TEXT NOT NULL,             -- the snapshot's start: findings and time terms count from it
	policy_digest     TEXT NOT NULL,
	reviewers         TEXT NOT NULL,             -- JSON array
	carried_from      TEXT NOT NULL DEFAULT '',
	item_count        INTEGER NOT NULL,
	population_digest TEXT NOT NULL,
	created_at        TEXT NOT NULL,
	created_by        TEXT NOT NULL,
	create_seq        INTEGER NOT NULL REFERENCES events(seq),
	status            TEXT NOT NULL CHECK (status IN ('open', 'closed')),
	closed_at         TEXT,
	closed_by         TEXT NOT NULL DEFAULT '',
	close_seq         INTEGER REFERENCES events(seq)
);

CREATE TABLE campaign_items (
	campaign_id       INTEGER NOT NULL REFERENCES campaigns(id),
	identity_id       TEXT NOT NULL,
	-- frozen at creation
	kind              TEXT NOT NULL,
	name              TEXT NOT NULL,
	scope             TEXT NOT NULL,
	owner             TEXT NOT NULL,             -- recorded owner, '' when none
	natural_owner     TEXT NOT NULL,             -- who the source says holds it
	findings          TEXT NOT NULL,             -- JSON array
	permissions       TEXT NOT NULL,             -- JSON object
	reviewer          TEXT NOT NULL,             -- '' when every reviewer owns it
	carried           TEXT NOT NULL DEFAULT '',  -- decision carried forward, awaiting confirmation
	carried_reason    TEXT NOT NULL DEFAULT '',
	row_hash          TEXT NOT NULL,             -- SHA-256 of the canonical frozen row
	-- replayed from campaign.decide / confirm / undo / close / verify
	decision          TEXT NOT NULL DEFAULT '',  -- '', decommission, keep, rotate, no-response
	reason            TEXT NOT NULL DEFAULT '',
	decided_by        TEXT NOT NULL DEFAULT '',
	decided_at        TEXT,
	decision_seq      INTEGER REFERENCES events(seq),
	conflict          INTEGER NOT NULL DEFAULT 0,
	verification      TEXT NOT NULL DEFAULT '',  -- '', removed, still-present, not-checked
	verified_snapshot INTEGER REFERENCES snapshots(id),
	verify_seq        INTEGER REFERENCES events(seq),
	PRIMARY KEY (campaign_id, identity_id)
) WITHOUT ROWID;

-- Every decision ever made on an item, one row per item per event; an
-- undo is a row too, and the decision it reverses stays.
CREATE TABLE campaign_decisions (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
	identity_id TEXT NOT NULL,
	seq         INTEGER NOT NULL REFERENCES events(seq),
	decision    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	actor       TEXT NOT NULL,
	at          TEXT NOT NULL,
	via         TEXT NOT NULL,                   -- single, bulk, confirm, undo
	undoes      INTEGER NOT NULL DEFAULT 0,      -- for undo: the event whose decision it reverses
	PRIMARY KEY (campaign_id, identity_id, seq)
) WITHOUT ROWID;
`,
}

// SchemaVersion is the schema this build writes.
var SchemaVersion = len(migrations)

// migrate runs the migrations a file lacks, all in one transaction, so a
// killed process leaves the file at its old version, never between two.
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("%w: %s cannot be read as a database (%v)", ErrNotEvidence, s.path, err)
	}
	if v > SchemaVersion {
		return newerSchemaError(s.path, v)
	}
	if v == SchemaVersion {
		return nil
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s has schema version %d and needs upgrading to %d; open it once without read-only mode", ErrReadOnly, s.path, v, SchemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot migrate %s: %w", s.path, err)
	}
	defer tx.Rollback()
	// Re-read inside the write lock: another process may have migrated.
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrating %s to schema version %d: %w", s.path, i+1, err)
		}
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Move the new header into the file itself at once, so another process
	// reading only the header (checkFile) recognises the file.
	_, err = s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
