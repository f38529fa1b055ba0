package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// VerifyResult is what Verify found. An empty Problems means the file is
// intact: the chain recomputes, and the tables match what it says.
type VerifyResult struct {
	Events    int64  // events in the log
	Head      string // hash of the last event, GenesisHash for an empty log
	Snapshots int    // finished snapshots whose digest was recomputed
	Signed    int    // signed events whose signature was checked
	// OldForm lists the snapshots finished before nhi recorded snapshots
	// in the log: their observations are checked against their digest, but
	// their status, credential, times, gaps and principals cannot be.
	OldForm  []int64
	Problems []string

	policyDigest string                 // of the last policy.set event
	records      map[int64]loggedRecord // snapshot.record events by snapshot
	refs         map[int64]int64        // snapshots other events name -> the first such event
	people       map[string]ownerRow    // e-mail -> record and seq, from person.set events
}

// OK reports whether nothing was found wrong.
func (r *VerifyResult) OK() bool { return len(r.Problems) == 0 }

func (r *VerifyResult) add(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify recomputes the event log's hash chain, replays it to rebuild the
// projections and compares them with the tables, and recomputes every
// finished snapshot's digest. Problems are listed in the order found, so
// the first names the first broken record.
func (s *Store) Verify(ctx context.Context) (*VerifyResult, error) {
	return s.VerifyWithSigners(ctx, nil)
}

// VerifyWithSigners is Verify, also accepting as a signed event's key one
// listed for its actor in allowed, an allowed_signers file (ssh-keygen's
// format, namespace nhi-decision); by default the key must be the actor's
// signing key in the directory of people as it stood then.
func (s *Store) VerifyWithSigners(ctx context.Context, allowed []byte) (*VerifyResult, error) {
	r := &VerifyResult{Head: GenesisHash, people: map[string]ownerRow{}}
	owners, err := s.verifyChain(ctx, r)
	if err != nil {
		return nil, err
	}
	// The head reported must not vanish in a crash (flushSeen).
	if err := s.flushSeen(ctx); err != nil {
		return nil, err
	}
	if err := s.verifyOwners(ctx, r, owners); err != nil {
		return nil, err
	}
	if err := s.verifyPeople(ctx, r); err != nil {
		return nil, err
	}
	if err := s.verifySignatures(ctx, r, allowed); err != nil {
		return nil, err
	}
	if err := s.verifyPolicies(ctx, r); err != nil {
		return nil, err
	}
	// The snapshots' digests (every observation hashed), the request
	// cache (every cached response hashed: 698 MB for a GitHub
	// organisation of 192,000 repositories) and the identities table
	// (every identity against its observations) are the long reads, and
	// independent: each runs on a connection of its own, beside the
	// others, and their problems are listed in the order the checks
	// were written in (records, cache, identities). The complete and
	// partial snapshots' observations are read once, by the identities'
	// check, which hashes them as it passes (sharesDigests): a second
	// read of a million observations cost about 4 s of CPU (issue 21).
	snaps, err := s.digestedSnaps(ctx)
	if err != nil {
		return nil, err
	}
	shared := s.sharesDigests(snaps)
	digests, cache := &VerifyResult{}, &VerifyResult{}
	apart := map[int64]snapDigest{}
	var digestsErr, cacheErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		digestsErr = s.digestSnapshots(ctx, snaps, func(sn digestedSnap) bool {
			return !shared || sn.status == SnapshotFailed
		}, apart)
	}()
	go func() {
		defer wg.Done()
		cacheErr = s.verifyCache(ctx, cache)
	}()
	rest, idents := &VerifyResult{}, &VerifyResult{}
	var beside map[int64]snapDigest
	restErr := s.verifySnapshotRecords(ctx, rest, r.records, r.refs)
	if restErr == nil {
		beside, restErr = s.verifyIdentities(ctx, idents, r.records)
	}
	wg.Wait()
	if err := errors.Join(digestsErr, restErr, cacheErr); err != nil {
		return nil, err
	}
	if err := s.verifySnapshots(ctx, digests, snaps, apart, beside); err != nil {
		return nil, err
	}
	r.Snapshots += digests.Snapshots
	r.OldForm = append(append(r.OldForm, rest.OldForm...), idents.OldForm...)
	for _, p := range [][]string{digests.Problems, rest.Problems, cache.Problems, idents.Problems} {
		r.Problems = append(r.Problems, p...)
	}
	return r, nil
}

// verifyPolicies checks that every stored policy still matches its digest
// and that the policy in force is the one the last policy.set event named.
func (s *Store) verifyPolicies(ctx context.Context, r *VerifyResult) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, digest, body FROM policies ORDER BY id`)
	if err != nil {
		return fmt.Errorf("reading policies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var digest, body string
		if err := rows.Scan(&id, &digest, &body); err != nil {
			return err
		}
		if sum := sha256.Sum256([]byte(body)); hex.EncodeToString(sum[:]) != digest {
			r.add("policies: policy %d no longer matches its digest: the policy was edited", id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, _, inForce, err := s.policyInForceDigest(ctx)
	if err != nil {
		return err
	}
	if inForce != r.policyDigest {
		r.add("policies: the policy in force (%.12s) is not the one the event log last set (%.12s): the policy was changed behind nhi's back", orDefault(inForce), orDefault(r.policyDigest))
	}
	return nil
}

func orDefault(digest string) string {
	if digest == "" {
		return "built-in default"
	}
	return digest
}

// verifyChain checks every link and returns the owner projection the
// events imply.
func (s *Store) verifyChain(ctx context.Context, r *VerifyResult) (map[string]ownerRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, actor, type, payload, prev_hash, hash FROM events ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	owners := make(map[string]ownerRow)
	r.records, r.refs = map[int64]loggedRecord{}, map[int64]int64{}
	prev, want := GenesisHash, int64(1)
	for rows.Next() {
		var seq int64
		var at, actor, typ, payload, prevHash, hash string
		if err := rows.Scan(&seq, &at, &actor, &typ, &payload, &prevHash, &hash); err != nil {
			return nil, err
		}
		if seq != want {
			r.add("event log: event %d is missing (the log jumps from %d to %d): events were deleted", want, want-1, seq)
		}
		if prevHash != prev {
			r.add("event log: event %d (%s by %s at %s) does not link to the event before it: the log was rewritten", seq, typ, actor, at)
		}
		got, err := recordHash(prevHash, seq, at, actor, typ, payload)
		if err != nil {
			r.add("event log: event %d (%s by %s at %s): %v", seq, typ, actor, at, err)
		} else if got != hash {
			r.add("event log: event %d (%s by %s at %s) was edited: its contents no longer match its hash", seq, typ, actor, at)
		}
		if typ == EventPolicySet {
			var p PolicySet
			if err := json.Unmarshal([]byte(payload), &p); err == nil {
				r.policyDigest = p.Digest
			}
		}
		if typ == EventSnapshotRecord {
			// Without its cache map, which only verifyCache reads (its
			// own read of the records): a large organisation's lists
			// 192,000 responses, decoded into a map verify would hold
			// to its end for nothing (issue 21).
			var rec struct {
				SnapshotRecord
				Cache json.RawMessage `json:"cache,omitempty"`
			}
			if err := json.Unmarshal([]byte(payload), &rec); err != nil || rec.Snapshot == 0 || !stringMapJSON(rec.Cache) {
				r.add("event log: event %d (%s) is not a snapshot record nhi can read", seq, typ)
			} else if old, dup := r.records[rec.Snapshot]; dup {
				r.add("event log: events %d and %d both record snapshot %d finishing", old.seq, seq, rec.Snapshot)
			} else {
				r.records[rec.Snapshot] = loggedRecord{seq: seq, rec: rec.SnapshotRecord}
			}
		} else {
			// Any other event naming a snapshot (campaign.create, ...)
			// needs it to exist.
			var ref struct {
				Snapshot int64 `json:"snapshot"`
			}
			if json.Unmarshal([]byte(payload), &ref) == nil && ref.Snapshot > 0 {
				if _, seen := r.refs[ref.Snapshot]; !seen {
					r.refs[ref.Snapshot] = seq
				}
			}
		}
		if typ == EventPersonSet {
			var p PersonSet
			if err := json.Unmarshal([]byte(payload), &p); err == nil {
				rec, _ := canonicalJSON(p.Person)
				r.people[p.Email] = ownerRow{owner: rec, seq: seq}
			}
		}
		if typ == EventOwnerSet {
			var p OwnerSet
			if err := json.Unmarshal([]byte(payload), &p); err == nil {
				if p.Owner == "" {
					delete(owners, p.Identity)
				} else {
					owners[p.Identity] = ownerRow{owner: p.Owner, person: p.Person, seq: seq}
				}
			}
		}
		prev, want = hash, seq+1
		r.Events++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Head = prev
	// The chain alone cannot show a deleted tail; the head recorded with
	// every append can.
	var length, head sql.NullString
	_ = s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'log_length'`).Scan(&length)
	_ = s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'log_head'`).Scan(&head)
	if length.Valid {
		if n, _ := strconv.ParseInt(length.String, 10, 64); n != want-1 {
			r.add("event log: the file recorded %d events but the log holds %d: events were deleted or added behind nhi's back", n, want-1)
		} else if head.String != prev {
			r.add("event log: the last event's hash differs from the head the file recorded: the log was rewritten")
		}
	} else if r.Events > 0 {
		r.add("event log: the file has no recorded head: the log was rewritten")
	}
	return owners, nil
}

// stringMapJSON reports whether raw, valid JSON, decodes into a
// map[string]string, as SnapshotRecord's Cache: null, or an object whose
// every value is a text or null. Outside its texts, each ':' of such an
// object is followed by a value, which must begin with '"' or 'n'.
func stringMapJSON(raw []byte) bool {
	i := 0
	skip := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	skip()
	if i == len(raw) || raw[i] == 'n' {
		return true
	}
	if raw[i] != '{' {
		return false
	}
	for inText := false; i < len(raw); i++ {
		switch c := raw[i]; {
		case inText && c == '\\':
			i++
		case c == '"':
			inText = !inText
		case !inText && c == ':':
			i++
			skip()
			if i == len(raw) || raw[i] != '"' && raw[i] != 'n' {
				return false
			}
			i--
		}
	}
	return true
}

type ownerRow struct {
	owner, person string
	seq           int64
}

func (s *Store) verifyOwners(ctx context.Context, r *VerifyResult, want map[string]ownerRow) error {
	rows, err := s.db.QueryContext(ctx, `SELECT identity_id, owner, person, event_seq FROM owners`)
	if err != nil {
		return fmt.Errorf("reading owners: %w", err)
	}
	defer rows.Close()
	got := make(map[string]ownerRow)
	for rows.Next() {
		var id string
		var o ownerRow
		if err := rows.Scan(&id, &o.owner, &o.person, &o.seq); err != nil {
			return err
		}
		got[id] = o
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ids := make([]string, 0, len(got)+len(want))
	for id := range got {
		ids = append(ids, id)
	}
	for id := range want {
		if _, ok := got[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		g, inTable := got[id]
		w, inLog := want[id]
		if p := ownerProblem(g, w, inTable, inLog); p != "" {
			r.add("owners: %s %s: the table was edited", Printable(id), p)
		}
	}
	return nil
}

// ownerProblem says what of an identity's owners row (g, when inTable)
// differs from what its owner.set events make it (w, when inLog: an
// owner cleared leaves no row), or "" when nothing does. Each says what
// is actually wrong: a row with no owner that no event left, a row
// deleted, an owner, a person or the event named changed.
func ownerProblem(g, w ownerRow, inTable, inLog bool) string {
	switch {
	case !inLog && g.owner == "":
		return fmt.Sprintf("has a row in the owners table with no owner (naming event %d), which no owner.set event leaves: nhi deletes the row when an owner is cleared", g.seq)
	case !inLog:
		return fmt.Sprintf("has owner %q in the table (naming event %d) but no owner by the event log", Printable(g.owner), g.seq)
	case !inTable:
		return fmt.Sprintf("has no row in the owners table but owner %q by the event log (event %d)", Printable(w.owner), w.seq)
	case g.owner == "":
		return fmt.Sprintf("has a row in the owners table with no owner (naming event %d) but owner %q by the event log (event %d)", g.seq, Printable(w.owner), w.seq)
	case g.owner != w.owner:
		return fmt.Sprintf("has owner %q in the table but %q by the event log (event %d)", Printable(g.owner), Printable(w.owner), w.seq)
	case g.seq != w.seq:
		return fmt.Sprintf("has owner %q in the table and by the event log, but its row names event %d where the owner.set event that set it is event %d", Printable(g.owner), g.seq, w.seq)
	case g.person != w.person:
		return fmt.Sprintf("names person %q in the table but %q by the event log (event %d)", Printable(g.person), Printable(w.person), w.seq)
	}
	return ""
}

// verifyPeople checks the people table against the person.set events:
// each person's row is their last record, and nobody else has one.
func (s *Store) verifyPeople(ctx context.Context, r *VerifyResult) error {
	rows, err := s.db.QueryContext(ctx, `SELECT email, record, event_seq FROM people ORDER BY email`)
	if err != nil {
		return fmt.Errorf("reading people: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var email string
		var got ownerRow
		if err := rows.Scan(&email, &got.owner, &got.seq); err != nil {
			return err
		}
		seen[email] = true
		want, ok := r.people[email]
		switch {
		case !ok:
			r.add("people: %s is in the table but no event recorded them: the table was edited", email)
		case got != want:
			r.add("people: %s: %s: the table was edited", email, personDiff(got, want))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	missing := make([]string, 0)
	for email := range r.people {
		if !seen[email] {
			missing = append(missing, email)
		}
	}
	slices.Sort(missing)
	for _, email := range missing {
		r.add("people: %s was recorded (event %d) but is missing from the table: the table was edited", email, r.people[email].seq)
	}
	return rows.Err()
}

// personDiff names what of a person's row (got) differs from their last
// person.set event (want): each field of the record, so that an auditor
// sees a signing key swapped or a leaver made active again.
func personDiff(got, want ownerRow) string {
	var g, w map[string]json.RawMessage
	var out []string
	if json.Unmarshal([]byte(got.owner), &g) != nil || json.Unmarshal([]byte(want.owner), &w) != nil {
		out = append(out, fmt.Sprintf("the record is %q in the table but %q by their last person.set event (%d)", Printable(got.owner), Printable(want.owner), want.seq))
	} else {
		keys := slices.AppendSeq(slices.Collect(maps.Keys(g)), maps.Keys(w))
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			if !bytes.Equal(g[k], w[k]) {
				out = append(out, fmt.Sprintf("%s is %s in the table but %s by their last person.set event (%d)", Printable(k), orAbsent(g[k]), orAbsent(w[k]), want.seq))
			}
		}
	}
	if got.seq != want.seq {
		out = append(out, fmt.Sprintf("the table names event %d as their last person.set event, the log %d", got.seq, want.seq))
	}
	if len(out) == 0 {
		// The same fields, written otherwise (spaces, order).
		out = append(out, fmt.Sprintf("the record is not written as their last person.set event (%d) writes it", want.seq))
	}
	return strings.Join(out, ", and ")
}

// orAbsent is a record field's JSON, or "absent".
func orAbsent(raw json.RawMessage) string {
	if raw == nil {
		return "absent"
	}
	return Printable(string(raw))
}

// digestedSnap is a finished snapshot (complete, partial or failed) and
// the digest and counts it recorded.
type digestedSnap struct {
	id                     int64
	status, digest, counts string
}

// snapDigest is a snapshot's digest and counts per kind as recomputed.
type snapDigest struct {
	digest string
	counts map[Kind]int
}

// digestedSnaps lists the finished snapshots, by ID.
func (s *Store) digestedSnaps(ctx context.Context) ([]digestedSnap, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, status, digest, counts FROM snapshots WHERE status IN ('complete', 'partial', 'failed') ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []digestedSnap
	for rows.Next() {
		var sn digestedSnap
		if err := rows.Scan(&sn.id, &sn.status, &sn.digest, &sn.counts); err != nil {
			return nil, err
		}
		list = append(list, sn)
	}
	return list, rows.Err()
}

// sharesDigests reports whether verifyIdentities computes the digests of
// the complete and partial snapshots among snaps as it reads their
// observations (a cursor per snapshot: see observedInIDOrder), so that
// verifySnapshots need not read them again.
func (s *Store) sharesDigests(snaps []digestedSnap) bool {
	n := 0
	for _, sn := range snaps {
		if sn.status != SnapshotFailed {
			n++
		}
	}
	return s.engine != enginePostgres && n <= maxObservationCursors
}

// digestSnapshots recomputes the digest of each of snaps that want
// selects, reading its observations, into got.
func (s *Store) digestSnapshots(ctx context.Context, snaps []digestedSnap, want func(digestedSnap) bool, got map[int64]snapDigest) error {
	for _, sn := range snaps {
		if !want(sn) {
			continue
		}
		digest, counts, err := s.streamDigest(ctx, s.db, sn.id)
		if err != nil {
			return err
		}
		got[sn.id] = snapDigest{digest, counts}
	}
	return nil
}

// verifySnapshots compares each of snaps with its digest recomputed, in
// computed or else computed here, in the order of snaps.
func (s *Store) verifySnapshots(ctx context.Context, r *VerifyResult, snaps []digestedSnap, computed ...map[int64]snapDigest) error {
	for _, sn := range snaps {
		var d snapDigest
		found := false
		for _, m := range computed {
			if d, found = m[sn.id]; found {
				break
			}
		}
		if !found {
			// Not read beside the identities: its rows were out of
			// the digest's order there, or it finished after that read
			// began.
			digest, counts, err := s.streamDigest(ctx, s.db, sn.id)
			if err != nil {
				return err
			}
			d = snapDigest{digest, counts}
		}
		if d.digest != sn.digest {
			r.add("snapshot %d: its observations no longer match its digest (which covers what it read, too): the snapshot was edited", sn.id)
		}
		c, _ := json.Marshal(d.counts)
		if string(c) != sn.counts {
			r.add("snapshot %d: its counts per kind no longer match its observations: the snapshot was edited", sn.id)
		}
		r.Snapshots++
	}
	return nil
}

func snapshotRecords(ctx context.Context, q querier, id int64) (map[string][sha256.Size]byte, map[Kind]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM observations WHERE snapshot_id = ?`, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	records := make(map[string][sha256.Size]byte)
	counts := make(map[Kind]int)
	var rs recordScanner
	for rows.Next() {
		oid, kind, sum, err := rs.scan(rows)
		if err != nil {
			return nil, nil, err
		}
		records[oid] = sum
		counts[Kind(kind)]++
	}
	return records, counts, rows.Err()
}

// recordColumns are the columns of an observation its snapshot's digest
// covers, in canonicalRow's order.
const recordColumns = `identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material`

// recordScanner reads rows of recordColumns into the same variables and
// the canonical row into the same buffer row after row: a snapshot of a
// million is read several times by verify, and a scan that allocated its
// destinations and an []any per row cost a fifth of its CPU (issue 21).
type recordScanner struct {
	cols [12]sql.NullString
	dest []any
	buf  []byte
	// scanPacked's row: the ID, and the rest packed.
	id, packed string
}

// scan reads one row: the identity, its kind, and the SHA-256 of its
// canonical row (canonicalRow's bytes: a NULL is 0xff, a text its
// length as a uvarint and its bytes).
func (rs *recordScanner) scan(rows *sql.Rows) (id, kind string, sum [sha256.Size]byte, err error) {
	if rs.dest == nil {
		rs.dest = make([]any, len(rs.cols))
		for i := range rs.cols {
			rs.dest[i] = &rs.cols[i]
		}
	}
	if err := rows.Scan(rs.dest...); err != nil {
		return "", "", sum, err
	}
	for i, c := range rs.cols {
		if !c.Valid && (i < 4 || i >= 8) {
			// Only the four times may be NULL: scanning into
			// strings names the column in its error.
			var s [12]string
			return "", "", sum, rows.Scan(&s[0], &s[1], &s[2], &s[3], &rs.cols[4], &rs.cols[5], &rs.cols[6], &rs.cols[7], &s[8], &s[9], &s[10], &s[11])
		}
	}
	return rs.cols[0].String, rs.cols[1].String, rs.sum(), nil
}

// sum is the SHA-256 of cols' canonical row, built in buf.
func (rs *recordScanner) sum() [sha256.Size]byte {
	b := rs.buf[:0]
	for _, c := range rs.cols {
		if !c.Valid {
			b = append(b, 0xff)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(c.String)))
		b = append(b, c.String...)
	}
	rs.buf = b
	return sha256.Sum256(b)
}

// recordColumnsPacked are recordColumns on SQLite as two: the ID, and
// the rest packed into one text (tableread.go's packed) behind a number
// whose bits say which of the four times are NULL (packed, a NULL is the
// empty text). The driver's cost is per column (three calls, each taking
// the connection's mutex, and a string): twelve cost verify's read of a
// million observations about two seconds of CPU more (issue 21). Every
// column is of TEXT affinity, so the packed text holds each as a scan
// into a string reads it.
var recordColumnsPacked = `identity_id, ` + packed(
	`(created_at IS NULL) + 2*(last_used_at IS NULL) + 4*(rotated_at IS NULL) + 8*(expires_at IS NULL)`,
	"kind", "name", "scope", "ifnull(created_at,'')", "ifnull(last_used_at,'')", "ifnull(rotated_at,'')", "ifnull(expires_at,'')",
	"permissions", "attributes", "findings", "material")

// scanPacked is scan for a row of recordColumnsPacked. A row whose texts
// hold the separator is read again column by column (reread: the row of
// recordColumns with that ID).
func (rs *recordScanner) scanPacked(rows *sql.Rows, reread func(id string) (*sql.Rows, error)) (id, kind string, sum [sha256.Size]byte, err error) {
	if err := rows.Scan(&rs.id, &rs.packed); err != nil {
		return "", "", sum, err
	}
	var nulls string
	c := &rs.cols
	if !unpack(rs.packed, &nulls, &c[1].String, &c[2].String, &c[3].String, &c[4].String, &c[5].String, &c[6].String, &c[7].String,
		&c[8].String, &c[9].String, &c[10].String, &c[11].String) || len(nulls) > 2 {
		one, err := reread(rs.id)
		if err != nil {
			return "", "", sum, err
		}
		defer one.Close()
		if !one.Next() {
			if err := one.Err(); err != nil {
				return "", "", sum, err
			}
			return "", "", sum, fmt.Errorf("observation %s is gone: the file changed during verify", Printable(rs.id))
		}
		return rs.scan(one)
	}
	bits, err := strconv.Atoi(nulls)
	if err != nil {
		return "", "", sum, fmt.Errorf("observation %s: %w", Printable(rs.id), err)
	}
	c[0].String = rs.id
	for i := range c {
		c[i].Valid = i < 4 || i >= 8 || bits&(1<<(i-4)) == 0
	}
	return rs.id, c[1].String, rs.sum(), nil
}

// snapshotDigest recomputes snapshot id's digest (digestRecords over its
// observations and scopes) and its counts per kind, reading the
// observations in ID order and hashing as they come: memory stays flat
// however many the snapshot holds (issue 21, verify over a million). A
// database that orders the IDs otherwise than byte by byte (another
// collation) is noticed, and the digest is then computed the long way.
func snapshotDigest(ctx context.Context, q querier, id int64, scopes map[string][sha256.Size]byte) (string, map[Kind]int, error) {
	keys := slices.Sorted(maps.Keys(scopes))
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM observations WHERE snapshot_id = ? ORDER BY identity_id`, id)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	h := sha256.New()
	put := func(key string, sum [sha256.Size]byte) {
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	counts := make(map[Kind]int)
	prev, k := "", 0
	var rs recordScanner
	for n := 0; rows.Next(); n++ {
		oid, kind, sum, err := rs.scan(rows)
		if err != nil {
			return "", nil, err
		}
		if n > 0 && oid <= prev {
			rows.Close()
			records, counts, err := snapshotRecords(ctx, q, id)
			if err != nil {
				return "", nil, err
			}
			return digestRecords(withScopes(records, scopes)), counts, nil
		}
		prev = oid
		counts[Kind(kind)]++
		for k < len(keys) && keys[k] < oid {
			put(keys[k], scopes[keys[k]])
			k++
		}
		if k < len(keys) && keys[k] == oid {
			continue // withScopes: the scope's record stands for both
		}
		put(oid, sum)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	for ; k < len(keys); k++ {
		put(keys[k], scopes[keys[k]])
	}
	return hex.EncodeToString(h.Sum(nil)), counts, nil
}

// streamDigest is snapshotDigest without holding the snapshot's scope rows
// in a map: a snapshot of a large organisation records millions (1.76
// million for 192,000 repositories), and the map, its sort and its
// collection were a third of verify's CPU time (issue 21). Every scope
// key begins with a NUL byte, so the keys, read in their primary key's
// order, all come before the observations' identity IDs and are hashed
// first, as they come. When the order read is not the digest's (another
// collation, a scope holding a NUL, an identity ID that sorts among the
// scope keys), the digest is computed the long way.
func (s *Store) streamDigest(ctx context.Context, q querier, id int64) (string, map[Kind]int, error) {
	long := func() (string, map[Kind]int, error) {
		scopes, _, err := s.scopeRecords(ctx, id)
		if err != nil {
			return "", nil, err
		}
		return snapshotDigest(ctx, q, id, scopes)
	}
	d, err := startRowDigest(ctx, q, id)
	if err != nil {
		return "", nil, err
	}
	if d == nil {
		return long()
	}
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM observations WHERE snapshot_id = ? ORDER BY identity_id`, id)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var rs recordScanner
	for rows.Next() {
		oid, kind, sum, err := rs.scan(rows)
		if err != nil {
			return "", nil, err
		}
		if !d.add(oid, kind, sum) {
			rows.Close()
			return long()
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	return d.sum(), d.counts, nil
}

// rowDigest is a snapshot's digest as streamDigest computes it, its scope
// records hashed, fed its observations in ID order a row at a time: by
// streamDigest's own read, or by the read verifyIdentities makes of the
// same rows, so verify reads a snapshot's observations once (issue 21).
type rowDigest struct {
	h       hash.Hash
	counts  map[Kind]int
	prev    []byte // the last key hashed: a scope key, then an ID
	started bool   // whether prev holds one
	buf     []byte
}

// startRowDigest hashes snapshot id's scope records, read on q; nil when
// they are not in the digest's order (the digest is then computed the
// long way).
func startRowDigest(ctx context.Context, q querier, id int64) (*rowDigest, error) {
	h := sha256.New()
	last, inOrder, err := hashScopes(ctx, q, id, h)
	if err != nil || !inOrder {
		return nil, err
	}
	return &rowDigest{h: h, counts: make(map[Kind]int), prev: last, started: last != nil}, nil
}

// add hashes the next observation, reporting false when its ID does not
// follow the last key hashed (another collation, a scope holding a NUL,
// an ID among the scope keys, and not equal to one either: withScopes
// would keep the scope's record for both): the digest is then not the
// one digestRecords computes, and must be computed the long way.
func (d *rowDigest) add(oid, kind string, sum [sha256.Size]byte) bool {
	if d.started && oid <= string(d.prev) {
		return false
	}
	d.prev, d.started = append(d.prev[:0], oid...), true
	d.counts[Kind(kind)]++
	// One write of the key, a NUL and the row's hash, as digestRecords writes them.
	d.buf = append(append(append(d.buf[:0], oid...), 0), sum[:]...)
	d.h.Write(d.buf)
	return true
}

func (d *rowDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// hashScopes feeds snapshot id's scope records into h in the order read,
// as digestRecords would: the key, a NUL, the key's SHA-256. It returns
// the last key, and whether every key followed the one before it (when
// not, h holds nothing useful).
func hashScopes(ctx context.Context, q querier, id int64, h hash.Hash) (last []byte, inOrder bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT scope, kind FROM snapshot_scopes WHERE snapshot_id = ? ORDER BY scope, kind`, id)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var scope, kind sql.RawBytes
	var key, prev []byte
	for rows.Next() {
		if err := rows.Scan(&scope, &kind); err != nil {
			return nil, false, err
		}
		// scopeKey's bytes, built in a buffer of the verify's own.
		key = append(append(append(append(key[:0], 0), scope...), 0), kind...)
		if prev != nil && bytes.Compare(key, prev) <= 0 {
			return nil, false, rows.Close()
		}
		sum := sha256.Sum256(key)
		h.Write(key)
		h.Write([]byte{0})
		h.Write(sum[:])
		key, prev = prev, key
	}
	return prev, true, rows.Err()
}
