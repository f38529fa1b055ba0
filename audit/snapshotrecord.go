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
	"strconv"
	"time"
)

// EventSnapshotRecord is the event that records how a snapshot finished:
// everything the evidence says about it beyond its observations (status,
// credential, API URL, times, counts, gaps, principals, the policy it was
// taken under) and the request-cache entries the run stored. Being in the
// hash-chained log, it is covered by `nhi verify --head`; `nhi verify`
// recomputes it from the tables. Snapshots finished before nhi wrote these
// records are verified by their digest alone and said to be in the old
// form (see docs/verify.md).
const EventSnapshotRecord = "snapshot.record"

// SnapshotRecordForm is the form of record this build writes. Form 3
// added the renames a snapshot linked (Aliases, AliasesDigest); records of
// earlier forms are not checked for them.
const SnapshotRecordForm = 3

// SnapshotRecord is the payload of a snapshot.record event.
type SnapshotRecord struct {
	Form             int             `json:"form"`
	Snapshot         int64           `json:"snapshot"`
	Source           string          `json:"source"`
	Account          string          `json:"account"`
	APIURL           string          `json:"api_url"`
	ServerVersion    string          `json:"server_version,omitempty"`
	Notes            string          `json:"notes,omitempty"` // JSON array, as stored
	Reach            string          `json:"reach,omitempty"` // JSON object, as stored
	Scoped           bool            `json:"scoped,omitempty"`
	Credential       string          `json:"credential"`
	ToolVersion      string          `json:"tool_version"`
	StartedAt        string          `json:"started_at"`
	FinishedAt       string          `json:"finished_at"`
	Status           string          `json:"status"`
	Error            string          `json:"error"`
	Counts           json.RawMessage `json:"counts"`
	Digest           string          `json:"digest"` // of the observations, as Snapshot.Digest
	Policy           string          `json:"policy"` // digest of the policy it was taken under
	Gaps             int             `json:"gaps"`
	GapsDigest       string          `json:"gaps_digest"`
	Principals       int             `json:"principals"`
	PrincipalsDigest string          `json:"principals_digest"`
	// Aliases and AliasesDigest: the identity_aliases rows the snapshot
	// linked when it finished (old ID, current ID), which decide that a
	// renamed repository's identities were not removed.
	Aliases       int    `json:"aliases,omitempty"`
	AliasesDigest string `json:"aliases_digest,omitempty"`
	// Cache is what the run stored in the request cache: key -> SHA-256 of
	// the value. A cached answer is replayed only while it still hashes
	// to what the newest record says (see CacheGet).
	Cache map[string]string `json:"cache,omitempty"`
}

// stored is what a writer already knows of its snapshot, so finishing
// does not read every observation back.
type stored struct {
	digest    string
	counts    map[Kind]int
	own       bool // the run finishing is the snapshot's own
	continues bool // and it resumed an interrupted run's snapshot
}

// finish marks snapshot id finished inside tx, makes its identities
// current unless it failed, and appends its record to the log. Without
// known (a snapshot closed by another run than its own), the digest and
// counts are computed from the file and the request-cache entries stored
// since it started are not vouched for: only a run that finishes its own
// snapshot records them.
func (s *Store) finish(ctx context.Context, tx *sql.Tx, id int64, status, errText, actor string, known *stored) (time.Time, error) {
	if known == nil {
		scopes, _, err := s.scopeRecords(ctx, id)
		if err != nil {
			return time.Time{}, err
		}
		digest, counts, err := snapshotDigest(ctx, tx, id, scopes)
		if err != nil {
			return time.Time{}, err
		}
		known = &stored{digest: digest, counts: counts}
	}
	finished := s.now().Truncate(time.Second)
	var source, account, started string
	if err := tx.QueryRowContext(ctx, `SELECT source, account, started_at FROM snapshots WHERE id = ?`, id).Scan(&source, &account, &started); err != nil {
		return finished, err
	}
	if status != SnapshotFailed {
		// The run's identities become current in the same transaction that
		// marks it finished: a crash leaves either both or neither.
		_, err := tx.ExecContext(ctx, `INSERT INTO identities (id, kind, source, account, first_snapshot, last_snapshot, first_seen, last_seen)
			SELECT identity_id, kind, ?, ?, snapshot_id, snapshot_id, ?, ? FROM observations WHERE snapshot_id = ? AND true
			ON CONFLICT (id) DO UPDATE SET last_snapshot = excluded.last_snapshot, last_seen = excluded.last_seen`,
			source, account, started, started, id)
		if err != nil {
			return finished, err
		}
	}
	counts, _ := json.Marshal(known.counts)
	if _, err := tx.ExecContext(ctx, `UPDATE snapshots SET finished_at = ?, status = ?, error = ?, counts = ?, digest = ? WHERE id = ?`,
		formatTime(finished), status, errText, string(counts), known.digest, id); err != nil {
		return finished, err
	}
	rec, err := recordFromFile(ctx, tx, id)
	if err != nil {
		return finished, err
	}
	if known.own {
		s.cacheMu.Lock()
		put := s.cachePut
		s.cacheMu.Unlock()
		if rec.Cache, err = cacheStoredSince(ctx, tx, started, put, known.continues, formatTime(s.now())); err != nil {
			return finished, err
		}
	}
	if _, err := appendEvent(ctx, tx, s.now(), actor, EventSnapshotRecord, rec); err != nil {
		return finished, err
	}
	s.cacheMu.Lock()
	s.cacheWant = nil // reloaded with this record on the next CacheGet
	s.cacheMu.Unlock()
	return finished, nil
}

// recordFromFile is snapshot id's record as the tables state it now,
// without Cache. Verify compares it with the record in the log.
func recordFromFile(ctx context.Context, q querier, id int64) (*SnapshotRecord, error) {
	r := &SnapshotRecord{Form: SnapshotRecordForm, Snapshot: id}
	var finished, policy sql.NullString
	var counts string
	err := q.QueryRowContext(ctx, `SELECT s.source, s.account, s.api_url, s.credential, s.tool_version, s.started_at, s.finished_at,
			s.status, s.error, s.counts, s.digest, p.digest, s.server_version, s.notes, s.scoped, s.reach
		FROM snapshots s LEFT JOIN policies p ON p.id = s.policy_id WHERE s.id = ?`, id).
		Scan(&r.Source, &r.Account, &r.APIURL, &r.Credential, &r.ToolVersion, &r.StartedAt, &finished,
			&r.Status, &r.Error, &counts, &r.Digest, &policy, &r.ServerVersion, &r.Notes, &r.Scoped, &r.Reach)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	r.FinishedAt, r.Policy, r.Counts = finished.String, policy.String, json.RawMessage(counts)
	if r.Gaps, r.GapsDigest, err = digestRows(ctx, q, `SELECT seq, endpoint, kind, scope, status, reason FROM snapshot_gaps WHERE snapshot_id = ? ORDER BY seq`, id); err != nil {
		return nil, err
	}
	if r.Principals, r.PrincipalsDigest, err = digestRows(ctx, q, `SELECT type, scope, login, role FROM principals WHERE snapshot_id = ? ORDER BY type, scope, login`, id); err != nil {
		return nil, err
	}
	if r.Aliases, r.AliasesDigest, err = digestRows(ctx, q, `SELECT id, current FROM identity_aliases WHERE snapshot_id = ? ORDER BY id`, id); err != nil {
		return nil, err
	}
	if r.Aliases == 0 {
		r.AliasesDigest = ""
	}
	return r, nil
}

// digestRows is the number of rows a query returns and SHA-256 over them,
// each column length-prefixed (as canonicalRow), in the query's order.
func digestRows(ctx context.Context, q querier, query string, args ...any) (int, string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, "", err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	h := sha256.New()
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		var b []byte
		for _, v := range vals {
			if !v.Valid {
				b = append(b, 0xff)
				continue
			}
			b = binary.AppendUvarint(b, uint64(len(v.String)))
			b = append(b, v.String...)
		}
		h.Write(b)
		n++
	}
	return n, hex.EncodeToString(h.Sum(nil)), rows.Err()
}

// cacheStoredSince hashes the request-cache entries written since a
// snapshot started: by this run, or by an interrupted run it resumed.
// known holds the hashes of what this process stored. The other values
// are read back only when the run resumed one (resumed) and only those
// stored no later than now: a run vouches for nothing else, or an entry
// edited behind nhi's back and dated ahead was vouched for by whatever
// run finished next (another account's, which stores nothing), and then
// replayed on a 304 as what the server said.
func cacheStoredSince(ctx context.Context, q querier, started string, known map[string]string, resumed bool, now string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, stored_at FROM http_cache WHERE stored_at >= ?`, started)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var unknown []string
	for rows.Next() {
		var key, at string
		if err := rows.Scan(&key, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if h, ok := known[key]; ok {
			out[key] = h
		} else if resumed && at <= now {
			unknown = append(unknown, key)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, key := range unknown {
		var value []byte
		if err := q.QueryRowContext(ctx, `SELECT value FROM http_cache WHERE key = ?`, key).Scan(&value); err != nil {
			return nil, err
		}
		out[key] = hashValue(value)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

func hashValue(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:])
}

// cacheHashes is, for every request-cache key, the value hash the newest
// snapshot record holds, read from the log once per Store.
func (s *Store) cacheHashes(ctx context.Context) (map[string]string, error) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cacheWant != nil {
		return s.cacheWant, nil
	}
	want, _, err := recordedCache(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.cacheWant = want
	return want, nil
}

// recordedCache replays the snapshot records' cache maps: key -> newest
// hash, and the snapshot that recorded it.
func recordedCache(ctx context.Context, q querier) (map[string]string, map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT payload FROM events WHERE type = ? ORDER BY seq`, EventSnapshotRecord)
	if err != nil {
		return nil, nil, fmt.Errorf("reading snapshot records: %w", err)
	}
	defer rows.Close()
	want, by := map[string]string{}, map[string]int64{}
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			return nil, nil, err
		}
		var rec SnapshotRecord
		if json.Unmarshal([]byte(payload), &rec) != nil {
			continue // verify reports it
		}
		for k, h := range rec.Cache {
			want[k], by[k] = h, rec.Snapshot
		}
	}
	return want, by, rows.Err()
}

// loggedRecord is a snapshot record as found in the log.
type loggedRecord struct {
	seq int64
	rec SnapshotRecord
}

// verifySnapshotRecords compares every snapshot with its record in the
// log, finds snapshots the log refers to that are gone, and checks the
// request cache against the records. records and refs come from the chain.
func (s *Store) verifySnapshotRecords(ctx context.Context, r *VerifyResult, records map[int64]loggedRecord, refs map[int64]int64) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, status FROM snapshots ORDER BY id`)
	if err != nil {
		return err
	}
	status := map[int64]string{}
	var ids []int64
	for rows.Next() {
		var id int64
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			rows.Close()
			return err
		}
		status[id] = st
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Snapshots finished before this build are in the old form; any
	// finished from the first recorded one on must have a record.
	from, newest := int64(1<<62-1), int64(0)
	for id := range records {
		from, newest = min(from, id), max(newest, id)
	}
	var fromMeta sql.NullString
	_ = s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'snapshot_records_from'`).Scan(&fromMeta)
	if fromMeta.Valid {
		if n, err := strconv.ParseInt(fromMeta.String, 10, 64); err == nil {
			from = min(from, n)
		}
	} else if len(records) > 0 {
		r.add("snapshots: the file no longer says from which snapshot on nhi recorded snapshots in the log: meta was edited")
	}
	for _, id := range ids {
		lr, ok := records[id]
		st := status[id]
		switch {
		case ok && st == SnapshotRunning:
			r.add("snapshot %d: the log recorded it %s (event %d) but the file says it is still running: the snapshot was edited", id, lr.rec.Status, lr.seq)
		case ok:
			got, err := recordFromFile(ctx, s.db, id)
			if err != nil {
				return err
			}
			for _, d := range recordDiff(&lr.rec, got) {
				r.add("snapshot %d: %s: the snapshot was edited (its record is event %d)", id, d, lr.seq)
			}
		case id < 1:
			// Every engine numbers snapshots from 1, an earlier nhi's
			// too: one below is no old form, whatever the marker says.
			r.add("snapshot %d: nhi numbers snapshots from 1, and the event log has no record of this one: it was added behind nhi's back", id)
		case st == SnapshotRunning:
		case id >= from && id > newest:
			// Its record may have been the log's tail, cut off with meta's
			// head set to match: verify cannot tell which (docs/verify.md).
			r.add("snapshot %d: it is %s but the event log has no record of it finishing: its status or contents were set behind nhi's back, or the newest events of the log were cut off, its record with them (a head recorded earlier, nhi verify --head, tells which)", id, st)
		case id >= from:
			r.add("snapshot %d: it is %s but the event log has no record of it finishing: its status or contents were set behind nhi's back", id, st)
		default:
			r.OldForm = append(r.OldForm, id)
		}
	}
	for id, lr := range records {
		if _, ok := status[id]; !ok {
			r.add("snapshot %d, recorded by event %d, is missing from the file: it was deleted", id, lr.seq)
		}
	}
	for id, seq := range refs {
		if _, ok := status[id]; !ok {
			if _, recorded := records[id]; !recorded {
				r.add("snapshot %d, which event %d refers to, is missing from the file: it was deleted", id, seq)
			}
		}
	}
	// The request cache is checked beside this (verifyCache), on a
	// connection of its own: see VerifyWithSigners.
	return s.verifyAliasOwners(ctx, r, status)
}

// verifyAliasOwners finds renames (identity_aliases rows) that no
// finished snapshot linked: each record covers its own rows (form 3 on),
// but a row naming a snapshot that is gone, still running or failed was
// added behind nhi's back.
func (s *Store) verifyAliasOwners(ctx context.Context, r *VerifyResult, status map[int64]string) error {
	rows, err := s.db.QueryContext(ctx, `SELECT snapshot_id, count(*) FROM identity_aliases GROUP BY snapshot_id ORDER BY snapshot_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if st, ok := status[id]; !ok || st == SnapshotRunning || st == SnapshotFailed {
			r.add("renames: %d identity_aliases rows name snapshot %d, which did not finish linking them (%s): they were added behind nhi's back", n, id, orGone(st, ok))
		}
	}
	return rows.Err()
}

func orGone(status string, ok bool) string {
	if !ok {
		return "it does not exist"
	}
	return "it is " + status
}

// recordDiff names each way got differs from the logged record want.
func recordDiff(want, got *SnapshotRecord) []string {
	var out []string
	field := func(name, w, g string) {
		if w != g {
			out = append(out, fmt.Sprintf("its %s is %q but its record says %q", name, Printable(g), Printable(w)))
		}
	}
	field("source", want.Source, got.Source)
	field("account", want.Account, got.Account)
	field("status", want.Status, got.Status)
	field("credential", want.Credential, got.Credential)
	field("API URL", want.APIURL, got.APIURL)
	field("server version", want.ServerVersion, got.ServerVersion)
	field("notes", want.Notes, got.Notes)
	field("reach", want.Reach, got.Reach)
	if want.Scoped != got.Scoped {
		out = append(out, fmt.Sprintf("its scoped flag is %v but its record says %v", got.Scoped, want.Scoped))
	}
	field("start time", want.StartedAt, got.StartedAt)
	field("finish time", want.FinishedAt, got.FinishedAt)
	field("error", want.Error, got.Error)
	field("tool version", want.ToolVersion, got.ToolVersion)
	field("policy", want.Policy, got.Policy)
	field("digest", want.Digest, got.Digest)
	if !jsonEqual(want.Counts, got.Counts) {
		out = append(out, fmt.Sprintf("its counts per kind are %s but its record says %s", got.Counts, want.Counts))
	}
	if want.Gaps != got.Gaps || want.GapsDigest != got.GapsDigest {
		out = append(out, fmt.Sprintf("its gaps (endpoints not read) are %d rows that differ from the %d its record holds", got.Gaps, want.Gaps))
	}
	if want.Principals != got.Principals || want.PrincipalsDigest != got.PrincipalsDigest {
		out = append(out, fmt.Sprintf("its principals (members, teams, collaborators, CODEOWNERS) are %d rows that differ from the %d its record holds", got.Principals, want.Principals))
	}
	if want.Form >= 3 && (want.Aliases != got.Aliases || want.AliasesDigest != got.AliasesDigest) {
		out = append(out, fmt.Sprintf("the renames it linked (identity_aliases: an old ID that continues under a new one) are %d rows that differ from the %d its record holds", got.Aliases, want.Aliases))
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// verifyCache reports request-cache entries that differ from what the
// newest snapshot record says was stored. nhi does not use such an entry
// (CacheGet treats it as absent), but an edit is an edit. Entries written
// by a run still unfinished have no record yet.
func (s *Store) verifyCache(ctx context.Context, r *VerifyResult) error {
	want, by, err := recordedCache(ctx, s.db)
	if err != nil {
		return err
	}
	var running sql.NullString
	_ = s.db.QueryRowContext(ctx, `SELECT min(started_at) FROM snapshots WHERE status = 'running'`).Scan(&running)
	// stored_at is not read with the value: it is stored after it, on
	// the value's last overflow page, which SQLite then read a second
	// time (the value's pages are read straight into its buffer, not
	// through the page cache); only an entry that differs needs it.
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM http_cache ORDER BY key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	// The values are read without copying them (RawBytes, valid until the
	// next row): a large organisation's cache holds hundreds of megabytes
	// (698 MB for 192,000 repositories), and a copy of each cost verify
	// seconds of CPU and of collection (issue 21).
	var key, value sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&key, &value); err != nil {
			return err
		}
		h, ok := want[string(key)]
		if !ok || h == hashValue(value) {
			continue
		}
		if running.Valid {
			var at string
			err := s.db.QueryRowContext(ctx, `SELECT stored_at FROM http_cache WHERE key = ?`, string(key)).Scan(&at)
			if errors.Is(err, sql.ErrNoRows) || err == nil && at >= running.String {
				continue // written by the run still unfinished, or by one since
			}
			if err != nil {
				return err
			}
		}
		r.add("request cache: the entry %q differs from what snapshot %d recorded: it was edited (nhi will not replay it)", Printable(string(key)), by[string(key)])
	}
	return rows.Err()
}
