package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NotRead is one thing an identity's source did not tell nhi of it, as
// every view that shows the identity says it (docs/filter.md, "What was
// not read"): where a value is empty because it was not read, the view
// says "not read" and why, never "none", "never" or a dash.
type NotRead struct {
	// What was not read: "permissions", "trust", "last_used", "tags",
	// "expiry", "rotation". Stable: scripts read it (nhi identities
	// --json).
	What string `json:"what"`
	// Marker is the attribute that says so: policies_unknown,
	// trust_unknown, last_used_unknown, tags_unknown, expires_unknown,
	// rotated_unknown.
	Marker string `json:"marker"`
	// Why is what nhi knows of why, and what that leaves unknown, in
	// plain words.
	Why string `json:"why"`
}

// What a NotRead names.
const (
	NotReadPermissions = "permissions"
	NotReadTrust       = "trust"
	NotReadLastUse     = "last_used"
	NotReadTags        = "tags"
	NotReadExpiry      = "expiry"
	NotReadRotation    = "rotation"
)

// NotReadAdvice is what to do about what was not read, in the words
// campaign create's warning uses.
const NotReadAdvice = "give the credential what it lacks and snapshot again"

// Attributes a connector records beside a mark of what was not read,
// which say more of why (connectors/aws, connectors/kubernetes).
const (
	attrPoliciesUnreadable = "policies_unreadable" // AWS: the policies whose documents were not read
	attrPermissionsUnknown = "permissions_unknown" // Kubernetes: the roles or bindings not read
)

// NotReadOf lists what the source did not tell nhi of o, in a fixed
// order: permissions, trust, last use, tags, expiry, rotation. Nil when it told
// everything it keeps.
func NotReadOf(o *Observation) []NotRead {
	a := o.Attributes
	if len(a) == 0 {
		return nil
	}
	// fromFile says the file o was imported from left cell empty (or had
	// no such column): every mark on an imported kind, and those that
	// AttrEmptyInFile names on one of nhi's own.
	fromFile := func(cell string) bool {
		return o.Kind.Imported() || slices.Contains(strings.Fields(a[AttrEmptyInFile]), cell)
	}
	var out []NotRead
	if a[AttrPoliciesUnknown] == "true" {
		why := "what it is granted was not read (a gap of its snapshot), so no permission listed is not none"
		switch {
		case a[attrPoliciesUnreadable] != "":
			why = "the documents of its policies " + a[attrPoliciesUnreadable] + " are empty, do not parse or were not listed, so what it is granted is not known whole"
		case a[attrPermissionsUnknown] != "":
			why = "its roles or role bindings were not all read (" + a[attrPermissionsUnknown] + "), so what it is granted is not known whole"
		case fromFile("permissions"):
			why = "its source did not say what it is granted (an import's empty or missing permissions), so no permission listed is not none"
		}
		out = append(out, NotRead{NotReadPermissions, AttrPoliciesUnknown, why})
	}
	if a[AttrTrustUnknown] == "true" {
		why := "who may assume it was not read (its trust policy is empty or does not parse): no trusted principal is not nobody"
		if o.Kind == KindX509Certificate {
			why = "whether it chains to a trusted root is not known: the machine that read it trusts no root (no CA bundle)"
		}
		out = append(out, NotRead{NotReadTrust, AttrTrustUnknown, why})
	}
	if a[AttrLastUseUnknown] == "true" && o.LastUsedAt == nil {
		why := "its last use was not read (a gap of its snapshot): whether and when it was used is not known"
		if since, err := time.Parse(time.RFC3339, a[AttrUseTrackedSince]); err == nil && o.CreatedAt != nil && o.CreatedAt.Before(since) {
			why = "none recorded since " + since.UTC().Format(time.DateOnly) + ", when its source's record of use begins; older use is not recorded"
		} else if a[AttrUseTrackedSince] != "" {
			why = "its source does not say since when it records use: whether it was used is not known"
		} else if fromFile("last_used_at") {
			why = "its source did not say when it was last used (an import's empty last_used_at): whether and when it was used is not known"
		}
		out = append(out, NotRead{NotReadLastUse, AttrLastUseUnknown, why})
	}
	if a[AttrTagsUnknown] == "true" {
		out = append(out, NotRead{NotReadTags, AttrTagsUnknown, "its tags were not read (a gap of its snapshot), so no tag is not none, and they suggest no owner"})
	}
	if a[AttrExpiryUnknown] == "true" && o.ExpiresAt == nil {
		out = append(out, NotRead{NotReadExpiry, AttrExpiryUnknown, "its source did not say when it expires: whether it does is not known"})
	}
	if a[AttrRotationUnknown] == "true" && o.RotatedAt == nil {
		out = append(out, NotRead{NotReadRotation, AttrRotationUnknown, "its source did not say when its secret material last changed: whether it was rotated is not known"})
	}
	return out
}

// NotReadWhat is the What of each of nr, in order.
func NotReadWhat(nr []NotRead) []string {
	out := make([]string, len(nr))
	for i, n := range nr {
		out[i] = n.What
	}
	return out
}

// NotReadInSnapshots is NotReadOf of each observation of the snapshots
// that has anything to say, by identity ID: what a campaign's frozen item
// (which keeps no attributes) was not read for, as of the snapshot it was
// frozen from. One LIKE scan a snapshot finds the rows that carry a
// marker (every one ends in "_unknown") without decoding the others. It
// holds every such identity's: a reader of a campaign's items a batch at
// a time asks NotReadBetween for each batch's instead.
func (s *Store) NotReadInSnapshots(ctx context.Context, snapshotIDs []int64) (map[string][]NotRead, error) {
	out := map[string][]NotRead{}
	for _, id := range snapshotIDs {
		if err := s.notReadOfRows(ctx, notReadRows, []any{id}, nil, out); err != nil {
			return nil, fmt.Errorf("reading what was not read of snapshot %d: %w", id, err)
		}
	}
	return out, nil
}

// NotReadBetween is NotReadInSnapshots of the identities whose IDs lie
// from first to last, both included, in the database's order of
// identity_id (the order of a read ORDER BY identity_id), and of those
// only the ones want is true of (nil: every one), put into out: what a
// batch of a campaign's items, read in ID order, was not read for. Each
// snapshot's rows are found by a range of the observations' key
// (snapshot_id, identity_id), so what is held is the batch's, where
// NotReadInSnapshots held every marked identity of the snapshots before
// the first item was read (issue 21: 805,000 of a million imported
// identities, some 400 MB). As there, a snapshot later in snapshotIDs
// has the last word on an identity two of them mark.
func (s *Store) NotReadBetween(ctx context.Context, snapshotIDs []int64, first, last string, want func(id string) bool, out map[string][]NotRead) error {
	for _, id := range snapshotIDs {
		if err := s.notReadOfRows(ctx, notReadRows+` AND identity_id >= ? AND identity_id <= ?`, []any{id, first, last}, want, out); err != nil {
			return fmt.Errorf("reading what was not read of snapshot %d: %w", id, err)
		}
	}
	return nil
}

// NotReadAmong is NotReadBetween of the identities the JSON array list
// names, each found by the observations' key (snapshot_id, identity_id):
// for a batch whose IDs lie far apart (a sample's items), of
// which the range from the first to the last is most of a snapshot, read
// again for every batch (issue 21: a campaign's reminders to 200
// reviewers at 100,000 items took 17 CPU-s, to three 2.8). list holds
// valid UTF-8 only: JSON would carry other bytes as U+FFFD, naming
// another ID.
func (s *Store) NotReadAmong(ctx context.Context, snapshotIDs []int64, list []byte, want func(id string) bool, out map[string][]NotRead) error {
	for _, id := range snapshotIDs {
		if err := s.notReadOfRows(ctx, notReadRows+` AND identity_id IN (SELECT value FROM json_each(?))`, []any{id, string(list)}, want, out); err != nil {
			return fmt.Errorf("reading what was not read of snapshot %d: %w", id, err)
		}
	}
	return nil
}

// notReadRowRead, when set (a test), is called for each marked row a
// read of what was not read decodes or passes over.
var notReadRowRead func()

// notReadRows selects the observations of a snapshot that carry a mark of
// what was not read.
const notReadRows = `SELECT identity_id, kind, created_at, last_used_at, rotated_at, expires_at, attributes
		FROM observations WHERE snapshot_id = ? AND attributes LIKE '%_unknown":"true"%'`

// notReadOfRows puts into out NotReadOf of each row q selects (with
// notReadRows' columns) that want is true of (nil: every one).
func (s *Store) notReadOfRows(ctx context.Context, q string, args []any, want func(id string) bool, out map[string][]NotRead) error {
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if notReadRowRead != nil {
			notReadRowRead()
		}
		var (
			o                                   Observation
			kind, attrs                         string
			created, lastUsed, rotated, expires sql.NullString
		)
		if err := rows.Scan(&o.ID, &kind, &created, &lastUsed, &rotated, &expires, &attrs); err != nil {
			rows.Close()
			return err
		}
		if want != nil && !want(o.ID) {
			continue
		}
		o.Kind = Kind(kind)
		o.CreatedAt, o.LastUsedAt = parseNullTime(created), parseNullTime(lastUsed)
		o.RotatedAt, o.ExpiresAt = parseNullTime(rotated), parseNullTime(expires)
		if err := unmarshalMap(attrs, &o.Attributes); err != nil {
			rows.Close()
			return fmt.Errorf("identity %s: attributes: %w", o.ID, err)
		}
		if nr := NotReadOf(&o); nr != nil {
			out[o.ID] = nr
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}
