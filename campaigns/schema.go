package campaigns

import "github.com/nhi-audit/nhi/audit"

// The campaigns' tables are projections of the campaign.* events, kept in
// the evidence file beside audit's and versioned apart from them (see
// audit.RegisterMigrations). Append only: a released step never changes.
func init() {
	audit.RegisterMigrations("campaigns",
		// 1: campaigns, their frozen items and every decision. Files made
		// before campaigns owned its tables (audit schema v3) already have
		// them, hence IF NOT EXISTS. Items are the population frozen at
		// creation; their frozen columns are covered by the population digest
		// in the campaign.create event, their decision columns are replayed
		// from the log.
		`
CREATE TABLE IF NOT EXISTS campaigns (
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

CREATE TABLE IF NOT EXISTS campaign_items (
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
CREATE TABLE IF NOT EXISTS campaign_decisions (
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
		// 2: a decision event's items by its sequence number, for undo and
		// an identity's trail, without scanning every decision.
		`CREATE INDEX campaign_decisions_seq ON campaign_decisions (seq);`,
	)
}
