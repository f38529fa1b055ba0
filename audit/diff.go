package audit

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change kinds in a Diff.
const (
	ChangeNew     = "new"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
	// ChangeNotSeen: absent from the later snapshot, which did not read
	// where it lives (Details says why); it may be gone, or not.
	ChangeNotSeen = "not-seen"
)

// IdentityChange is one identity that differs between two snapshots.
type IdentityChange struct {
	ID      string   `json:"id"`
	Kind    Kind     `json:"kind"`
	Name    string   `json:"name"`
	Scope   string   `json:"scope"`
	Change  string   `json:"change"`  // new, removed, changed, not-seen
	Details []string `json:"details"` // for changed: "permission contents widened: read → write", ...
}

// Diff is what changed in one account between two finished snapshots.
type Diff struct {
	From      Snapshot         `json:"-"`
	To        Snapshot         `json:"-"`
	FromID    int64            `json:"from"`
	ToID      int64            `json:"to"`
	New       int              `json:"new"`
	Removed   int              `json:"removed"`
	Changed   int              `json:"changed"`
	NotSeen   int              `json:"not_seen"`
	Unchanged int              `json:"unchanged"`
	Changes   []IdentityChange `json:"changes"`
	// Single names, newest first, the sources/accounts ("k8s/prod")
	// snapshotted after To but only once, which a diff without snapshot
	// IDs passed over.
	Single []string `json:"-"`
}

// ErrNoSnapshot is returned when a diff has nothing to compare.
var ErrNoSnapshot = errors.New("no snapshot to compare")

// Diff compares two finished snapshots of the same account. With both 0
// it compares the newest finished snapshot of the source/account most
// recently snapshotted twice with the one before it (Diff.Single names the
// accounts snapshotted since then only once: a cluster read for the first
// time does not hide an organisation's changes). With only to 0 it takes
// the newest finished snapshot; with from 0 the one before it of the same
// account.
func (s *Store) Diff(ctx context.Context, from, to int64) (*Diff, error) {
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	var toSnap, fromSnap *Snapshot
	var single []string
	if from == 0 && to == 0 {
		if toSnap, fromSnap, single = newestPair(snaps, ""); toSnap == nil {
			return nil, noPair(snaps, single)
		}
	}
	return s.diff(ctx, snaps, from, to, toSnap, fromSnap, single)
}

// DiffAccount compares the newest two finished snapshots of one
// source/account: what changed there, whatever other accounts were read
// since.
func (s *Store) DiffAccount(ctx context.Context, source, account string) (*Diff, error) {
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	toSnap, fromSnap, single := newestPair(snaps, source+"/"+account)
	if toSnap == nil {
		return nil, noPair(snaps, single)
	}
	return s.diff(ctx, snaps, 0, 0, toSnap, fromSnap, nil)
}

func finished(sn *Snapshot) bool {
	return sn.Status == SnapshotComplete || sn.Status == SnapshotPartial
}

// newestPair finds, among snaps (newest first), the source/account
// whose newest finished snapshot is the newest of those that have an
// older finished one too (only account, "source/account", when given),
// and returns its newest two. single lists the accounts with a single
// finished snapshot newer than that pair (every account when there is no
// pair), newest first.
func newestPair(snaps []Snapshot, account string) (to, from *Snapshot, single []string) {
	two := map[string][]*Snapshot{} // source/account -> its newest two finished snapshots
	var order []string
	for i := range snaps {
		sn := &snaps[i]
		key := sn.Source + "/" + sn.Account
		if !finished(sn) || account != "" && key != account {
			continue
		}
		if len(two[key]) == 0 {
			order = append(order, key)
		}
		if len(two[key]) < 2 {
			two[key] = append(two[key], sn)
		}
	}
	for i, key := range order {
		if p := two[key]; len(p) == 2 {
			return p[0], p[1], order[:i]
		}
	}
	return nil, nil, order
}

// noPair says why there is nothing to compare.
func noPair(snaps []Snapshot, single []string) error {
	switch len(single) {
	case 0:
		if len(snaps) > 0 {
			return fmt.Errorf("%w: no snapshot has finished yet (see `nhi snapshots`)", ErrNoSnapshot)
		}
		return fmt.Errorf("%w: take one with `nhi demo` or `nhi snapshot github --org ORG`", ErrNoSnapshot)
	case 1:
		return fmt.Errorf("%w: %s has only one finished snapshot; take another to see what changed", ErrNoSnapshot, single[0])
	}
	return fmt.Errorf("%w: no source/account has two finished snapshots yet (%s have one each); take another of one to see what changed", ErrNoSnapshot, strings.Join(single, ", "))
}

// diff compares fromSnap with toSnap, choosing them from from and to
// (snapshot IDs, 0 for the default) when they are nil.
func (s *Store) diff(ctx context.Context, snaps []Snapshot, from, to int64, toSnap, fromSnap *Snapshot, single []string) (*Diff, error) {
	find := func(id int64) *Snapshot {
		for i := range snaps {
			if snaps[i].ID == id {
				return &snaps[i]
			}
		}
		return nil
	}
	switch {
	case toSnap != nil:
	case to == 0:
		for i := range snaps {
			if finished(&snaps[i]) {
				toSnap = &snaps[i]
				break
			}
		}
		if toSnap == nil {
			return nil, fmt.Errorf("%w: take one with `nhi demo` or `nhi snapshot github --org ORG`", ErrNoSnapshot)
		}
	default:
		if toSnap = find(to); toSnap == nil || !finished(toSnap) {
			return nil, fmt.Errorf("%w: snapshot %d does not exist or did not finish (see `nhi snapshots`)", ErrNoSnapshot, to)
		}
	}
	switch {
	case fromSnap != nil:
	case from == 0:
		for i := range snaps { // newest first
			if snaps[i].ID < toSnap.ID && finished(&snaps[i]) && snaps[i].Account == toSnap.Account && snaps[i].Source == toSnap.Source {
				fromSnap = &snaps[i]
				break
			}
		}
		if fromSnap == nil {
			return nil, fmt.Errorf("%w: snapshot %d is the first of %s/%s; take another to see what changed", ErrNoSnapshot, toSnap.ID, toSnap.Source, toSnap.Account)
		}
	default:
		if fromSnap = find(from); fromSnap == nil || !finished(fromSnap) {
			return nil, fmt.Errorf("%w: snapshot %d does not exist or did not finish", ErrNoSnapshot, from)
		}
	}
	if fromSnap.Account != toSnap.Account || fromSnap.Source != toSnap.Source {
		return nil, fmt.Errorf("snapshots %d (%s/%s) and %d (%s/%s) are of different accounts", fromSnap.ID, fromSnap.Source, fromSnap.Account, toSnap.ID, toSnap.Source, toSnap.Account)
	}
	// Both snapshots are read at once through two cursors, in ID order,
	// an observation of each at a time (issue 21: a million identities):
	// what the diff holds is its changes, not the snapshots.
	d := &Diff{From: *fromSnap, To: *toSnap, FromID: fromSnap.ID, ToID: toSnap.ID, Single: single, Changes: []IdentityChange{}}
	// A renamed repository's identities are changes, not removed and new.
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	was := map[string]string{}          // new ID -> its ID in from
	wasObs := map[string]*observation{} // new ID -> its observation in from
	renamedAway := map[string]bool{}    // the IDs in from that continue in to under another
	moved := MovedScopes{}              // the scopes of from that continue in to under another name
	for old, cur := range aliases {
		oa, err := s.observation(ctx, fromSnap.ID, old)
		if err != nil || oa == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		ob, err := s.observation(ctx, toSnap.ID, cur)
		if err != nil || ob == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		curInA, err := s.observed(ctx, fromSnap.ID, cur)
		if err != nil {
			return nil, err
		}
		oldInB, err := s.observed(ctx, toSnap.ID, old)
		if err != nil {
			return nil, err
		}
		if !curInA && !oldInB {
			was[cur], wasObs[cur], renamedAway[old] = old, oa, true
			moved.Add(oa.Scope, ob.Scope)
		}
	}
	owners, err := s.ownersBetween(ctx, fromSnap.StartedAt, toSnap.StartedAt, was)
	if err != nil {
		return nil, err
	}
	cov, err := s.Coverage(ctx, toSnap.ID)
	if err != nil {
		return nil, err
	}
	// Each kind of change is met in ID order: the four lists, one after
	// the other, are the diff's order (new, changed, removed, not seen).
	var added, changed, removed, notSeen []IdentityChange
	inB := func(ob, oa *observation) {
		id := ob.ID
		old, renamed := was[id]
		if renamed {
			oa = wasObs[id]
		}
		if oa == nil {
			added = append(added, IdentityChange{ID: id, Kind: ob.Kind, Name: ob.Name, Scope: ob.Scope, Change: ChangeNew, Details: []string{}})
			d.New++
			return
		}
		details := compareObservations(oa, ob)
		if renamed {
			details = append([]string{renamedFrom(old)}, details...)
		}
		if ownerA, ownerB := owners.of(id, old); ownerA != ownerB {
			details = append(details, fmt.Sprintf("owner changed: %s → %s", orNone(ownerA), orNone(ownerB)))
		}
		if len(details) == 0 {
			d.Unchanged++
			return
		}
		changed = append(changed, IdentityChange{ID: id, Kind: ob.Kind, Name: ob.Name, Scope: ob.Scope, Change: ChangeChanged, Details: details})
		d.Changed++
	}
	onlyInA := func(oa *observation) {
		if renamedAway[oa.ID] {
			return
		}
		if looked, why := cov.LookedMoved(moved.Names(oa.Scope), oa.Kind, oa.Scope); !looked {
			notSeen = append(notSeen, IdentityChange{ID: oa.ID, Kind: oa.Kind, Name: oa.Name, Scope: oa.Scope, Change: ChangeNotSeen, Details: []string{why}})
			d.NotSeen++
			return
		}
		removed = append(removed, IdentityChange{ID: oa.ID, Kind: oa.Kind, Name: oa.Name, Scope: oa.Scope, Change: ChangeRemoved, Details: []string{}})
		d.Removed++
	}
	a, err := s.openObservations(ctx, fromSnap.ID)
	if err != nil {
		return nil, err
	}
	defer a.close()
	b, err := s.openObservations(ctx, toSnap.ID)
	if err != nil {
		return nil, err
	}
	defer b.close()
	oa, ob := a.next(), b.next()
	for oa != nil || ob != nil {
		switch {
		case oa == nil || ob != nil && ob.ID < oa.ID:
			inB(ob, nil)
			ob = b.next()
		case ob == nil || oa.ID < ob.ID:
			onlyInA(oa)
			oa = a.next()
		default:
			inB(ob, oa)
			oa, ob = a.next(), b.next()
		}
	}
	if err := cmp.Or(a.err(), b.err()); err != nil {
		return nil, err
	}
	for _, list := range [][]IdentityChange{added, changed, removed, notSeen} {
		d.Changes = append(d.Changes, list...)
	}
	return d, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// observation is one stored observation with its frozen findings.
type observation struct {
	Observation
	findings []Finding
}

// diffColumns are what a diff reads of an observation.
const diffColumns = `identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings`

// scanObservation reads one row of diffColumns.
func scanObservation(rows interface{ Scan(...any) error }) (*observation, error) {
	var (
		o                                   observation
		kind, perms, attrs, findings        string
		created, lastUsed, rotated, expires sql.NullString
	)
	if err := rows.Scan(&o.ID, &kind, &o.Name, &o.Scope, &created, &lastUsed, &rotated, &expires, &perms, &attrs, &findings); err != nil {
		return nil, err
	}
	o.Kind = Kind(kind)
	o.CreatedAt, o.LastUsedAt, o.RotatedAt, o.ExpiresAt = parseNullTime(created), parseNullTime(lastUsed), parseNullTime(rotated), parseNullTime(expires)
	if err := unmarshalMap(perms, &o.Permissions); err != nil {
		return nil, err
	}
	if err := unmarshalMap(attrs, &o.Attributes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(findings), &o.findings); err != nil {
		return nil, fmt.Errorf("identity %s: findings: %w", o.ID, err)
	}
	return &o, nil
}

// observation is snapshot snapshotID's observation of id, nil when it has
// none.
func (s *Store) observation(ctx context.Context, snapshotID int64, id string) (*observation, error) {
	o, err := scanObservation(s.db.QueryRowContext(ctx, `SELECT `+diffColumns+` FROM observations WHERE snapshot_id = ? AND identity_id = ?`, snapshotID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	return o, nil
}

// observed says whether snapshot snapshotID observed id.
func (s *Store) observed(ctx context.Context, snapshotID int64, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM observations WHERE snapshot_id = ? AND identity_id = ?`, snapshotID, id).Scan(&n); err != nil {
		return false, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	return n > 0, nil
}

// diffCursor reads a snapshot's observations in their IDs' order,
// byte by byte as Go compares strings, one at a time.
type diffCursor struct {
	snapshotID int64
	rows       *sql.Rows
	failed     error
}

// diffHeld, when a test sets it, is told each observation a diff's
// cursors decode: a diff holds one of each snapshot at a time.
var diffHeld func(*observation)

func (s *Store) openObservations(ctx context.Context, snapshotID int64) (*diffCursor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+diffColumns+`
		FROM observations WHERE snapshot_id = ? ORDER BY `+s.byteOrder("identity_id"), snapshotID)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	return &diffCursor{snapshotID: snapshotID, rows: rows}, nil
}

// next is the next observation, nil at the end or on an error (err says).
func (c *diffCursor) next() *observation {
	if c.failed != nil || !c.rows.Next() {
		return nil
	}
	o, err := scanObservation(c.rows)
	if err != nil {
		c.failed = fmt.Errorf("reading snapshot %d: %w", c.snapshotID, err)
		return nil
	}
	if diffHeld != nil {
		diffHeld(o)
	}
	return o
}

func (c *diffCursor) err() error {
	if c.failed != nil {
		return c.failed
	}
	if err := c.rows.Err(); err != nil {
		return fmt.Errorf("reading snapshot %d: %w", c.snapshotID, err)
	}
	return nil
}

func (c *diffCursor) close() { c.rows.Close() }

// diffOwners are the owners, as of two moments, of the identities whose
// owner may differ between them: those an owner.set event between the two
// moments names, and the two IDs of each renamed identity. Any other
// identity had the same owner at both.
type diffOwners struct {
	a, b map[string]string
}

// of is id's owners at the two moments; a renamed identity (old, its ID
// in the older snapshot, not "") without an owner of its own takes its
// old ID's.
func (o *diffOwners) of(id, old string) (string, string) {
	a, b := o.a[id], o.b[id]
	if old != "" {
		if a == "" {
			a = o.a[old]
		}
		if b == "" {
			b = o.b[old]
		}
	}
	return a, b
}

// ownersBetween replays owner.set events to give the owners as of t1 and
// t2 of the identities that may differ (diffOwners). It reads the log's
// owner.set events twice, through the index of types, and holds only
// the owners of those identities.
func (s *Store) ownersBetween(ctx context.Context, t1, t2 time.Time, renamed map[string]string) (*diffOwners, error) {
	lo, hi := t1, t2
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	need := map[string]bool{}
	for cur, old := range renamed {
		need[cur], need[old] = true, true
	}
	each := func(fn func(at time.Time, p *OwnerSet)) error {
		rows, err := s.db.QueryContext(ctx, `SELECT at, payload FROM events WHERE type = ? ORDER BY seq`, EventOwnerSet)
		if err != nil {
			return fmt.Errorf("reading the event log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var at, payload string
			if err := rows.Scan(&at, &payload); err != nil {
				return err
			}
			var p OwnerSet
			if err := json.Unmarshal([]byte(payload), &p); err != nil {
				continue
			}
			t, _ := time.Parse(eventTimeLayout, at)
			fn(t, &p)
		}
		return rows.Err()
	}
	// An owner set after one moment and not after the other.
	if err := each(func(at time.Time, p *OwnerSet) {
		if at.After(lo) && !at.After(hi) {
			need[p.Identity] = true
		}
	}); err != nil {
		return nil, err
	}
	o := &diffOwners{a: map[string]string{}, b: map[string]string{}}
	if len(need) == 0 {
		return o, nil
	}
	if err := each(func(at time.Time, p *OwnerSet) {
		if !need[p.Identity] {
			return
		}
		if !at.After(t1) {
			o.a[p.Identity] = p.Owner
		}
		if !at.After(t2) {
			o.b[p.Identity] = p.Owner
		}
	}); err != nil {
		return nil, err
	}
	return o, nil
}

// comparedAttributes are the attributes whose change matters to a reviewer;
// the rest (a webhook's last response, ...) move on their own.
var comparedAttributes = []string{"repository_selection", "visibility", "read_only", "suspended", "active", "insecure_ssl", "has_secret", "url", "status"}

// reachAttributes say what an identity reaches or may bypass (which
// repositories, a runner group's visibility, rulesets). They count for the
// material digest only when set, so observations recorded before nhi read
// them keep their digests (and are not all shown changed).
var reachAttributes = []string{"repositories", "runner_group_visibility", "bypasses_rulesets"}

// changeMarks says, for identities in the newest finished snapshot of their
// account, whether they are new or changed since the one before, as the
// review UI marks them; with only set, of that one identity. It compares
// in SQL to stay cheap at open. (The table read finds the same marks a
// page at a time: tablemarks.go.)
func (s *Store) changeMarks(ctx context.Context, only string) (map[string]string, error) {
	filter, args := "", []any{}
	if only != "" {
		filter, args = " AND i.id = ?", []any{only, only}
	}
	cfilter := strings.Replace(filter, "i.id", "c.identity_id", 1)
	rows, err := s.db.QueryContext(ctx, `
		WITH `+markPairsCTE+`
		SELECT i.id, 'new' FROM identities i JOIN pair ON i.last_snapshot = pair.cur AND pair.prev IS NOT NULL AND i.first_snapshot > pair.prev`+filter+`
		UNION ALL
		SELECT c.identity_id, 'changed' FROM pair
			JOIN observations c ON c.snapshot_id = pair.cur
			JOIN observations p ON p.snapshot_id = pair.prev AND p.identity_id = c.identity_id
		WHERE pair.prev IS NOT NULL AND c.material <> p.material`+cfilter, args...)
	if err != nil {
		return nil, fmt.Errorf("comparing snapshots: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, mark string
		if err := rows.Scan(&id, &mark); err != nil {
			return nil, err
		}
		out[id] = mark
	}
	return out, rows.Err()
}

// levelRank orders permission levels so widening can be told from narrowing.
func levelRank(level string) int {
	switch level {
	case "":
		return 0
	case "read":
		return 1
	case "write":
		return 2
	case "admin":
		return 3
	}
	return 2 // an unknown level is treated as write: never reported as narrower than it may be
}

// compareObservations lists, in plain words, how b differs from a.
func compareObservations(a, b *observation) []string {
	var out []string
	names := map[string]bool{}
	for k := range a.Permissions {
		names[k] = true
	}
	for k := range b.Permissions {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		la, lb := a.Permissions[k], b.Permissions[k]
		switch {
		case la == lb:
		case levelRank(lb) > levelRank(la):
			out = append(out, fmt.Sprintf("permission %s widened: %s → %s", k, orNone(la), lb))
		default:
			out = append(out, fmt.Sprintf("permission %s narrowed: %s → %s", k, la, orNone(lb)))
		}
	}
	for _, attr := range append(comparedAttributes[:len(comparedAttributes):len(comparedAttributes)], reachAttributes...) {
		if va, vb := a.Attributes[attr], b.Attributes[attr]; va != vb {
			out = append(out, fmt.Sprintf("%s changed: %s → %s", attr, orNone(va), orNone(vb)))
		}
	}
	if !sameTime(a.RotatedAt, b.RotatedAt) {
		out = append(out, fmt.Sprintf("rotated: %s → %s", dayOrNone(a.RotatedAt), dayOrNone(b.RotatedAt)))
	}
	if !sameTime(a.ExpiresAt, b.ExpiresAt) {
		out = append(out, fmt.Sprintf("expiry changed: %s → %s", dayOrNone(a.ExpiresAt), dayOrNone(b.ExpiresAt)))
	}
	if a.Name != b.Name {
		out = append(out, fmt.Sprintf("renamed: %s → %s", a.Name, b.Name))
	}
	had := map[string]bool{}
	for _, f := range a.findings {
		had[f.Rule] = true
	}
	for _, f := range b.findings {
		if !had[f.Rule] {
			out = append(out, "new finding: "+f.Rule)
		}
	}
	return out
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func dayOrNone(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return day(t)
}
