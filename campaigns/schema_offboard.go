package campaigns

import "github.com/nhi-audit/nhi/audit"

// What an offboarding campaign offboards (offboard.go): a projection of
// offboard.create events, versioned apart from the campaigns' own tables
// ("schema.offboarding" in meta) so that it grows on its own. A campaign
// with a row in offboardings is an offboarding campaign; its kind says
// whether of a person or a system. This file sorts after schema.go, so
// its steps run after the campaigns tables exist.
func init() {
	audit.RegisterMigrations("offboarding",
		`
CREATE TABLE offboardings (
	campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id),
	kind        TEXT NOT NULL CHECK (kind IN ('person', 'system')),
	person      TEXT NOT NULL DEFAULT '',  -- the leaver's e-mail, '' for a system
	effective   TEXT NOT NULL,             -- YYYY-MM-DD: when they left, or the system retired
	event_seq   INTEGER NOT NULL REFERENCES events(seq)
);

-- Why each item of an offboarding campaign is in it.
CREATE TABLE offboard_items (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
	identity_id TEXT NOT NULL,
	snapshot_id INTEGER NOT NULL REFERENCES snapshots(id), -- the snapshot it was frozen from
	relations   TEXT NOT NULL,                             -- JSON array of {kind, detail}
	PRIMARY KEY (campaign_id, identity_id)
) WITHOUT ROWID;
`)
	audit.RegisterPostgresMigrations("offboarding", `
CREATE TABLE offboardings (
	campaign_id BIGINT PRIMARY KEY REFERENCES campaigns(id),
	kind        TEXT NOT NULL CHECK (kind IN ('person', 'system')),
	person      TEXT NOT NULL DEFAULT '',
	effective   TEXT NOT NULL,
	event_seq   BIGINT NOT NULL REFERENCES events(seq)
);

CREATE TABLE offboard_items (
	campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
	identity_id TEXT NOT NULL,
	snapshot_id BIGINT NOT NULL REFERENCES snapshots(id),
	relations   TEXT NOT NULL,
	PRIMARY KEY (campaign_id, identity_id)
);
`,
		// 2: a reviewer's transfer records its new owner through the
		// owner's function that checks it (schema_transfer.go).
		transferOwnerStep)
}
