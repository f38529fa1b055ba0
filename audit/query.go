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
	"unique"
)

// ErrUnknownIdentity is returned for an identity ID the file has never seen.
var ErrUnknownIdentity = errors.New("unknown identity")

const identityColumns = `i.id, i.kind, i.source, i.first_seen, i.last_seen, i.last_snapshot, i.account,
	o.name, o.scope, o.created_at, o.last_used_at, o.rotated_at, o.expires_at, o.permissions, o.attributes,
	COALESCE(w.owner, '')`

const identityFrom = `FROM identities i
	JOIN observations o ON o.snapshot_id = i.last_snapshot AND o.identity_id = i.id
	LEFT JOIN owners w ON w.identity_id = i.id`

// Identities returns every identity the file knows, current and removed,
// each with its latest observation and owner, ordered by ID.
func (s *Store) Identities(ctx context.Context) ([]Identity, error) {
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.scanIdentities(ctx, judge)
	if err != nil {
		return nil, err
	}
	out, prev, err := s.followRenames(ctx, out)
	if err != nil {
		return nil, err
	}
	if err := s.evaluate(ctx, out, ""); err != nil {
		return nil, err
	}
	markRenamed(out, prev)
	return out, nil
}

// scanIdentities reads every identity with its latest observation and
// owner, ordered by ID, into a slice sized up front: growing a slice of
// 100,000 Identity values by doubling costs a tenth of the read.
func (s *Store) scanIdentities(ctx context.Context, judge *statusJudge) ([]Identity, error) {
	n, err := s.IdentityCount(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityColumns+` `+identityFrom+` ORDER BY i.id`)
	if err != nil {
		return nil, fmt.Errorf("reading identities: %w", err)
	}
	defer rows.Close()
	out := make([]Identity, 0, n)
	accounts := make([]string, 0, n)
	for rows.Next() {
		id, account, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		accounts = append(accounts, account)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if err := judge.judge(ctx, &out[i], accounts[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Identity returns one identity by ID, or ErrUnknownIdentity.
// An ID an identity had before its repository was renamed resolves to the
// identity as it is now.
func (s *Store) Identity(ctx context.Context, id string) (Identity, error) {
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return Identity{}, err
	}
	if id, err = s.resolveID(ctx, id); err != nil {
		return Identity{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityColumns+` `+identityFrom+` WHERE i.id = ?`, id)
	if err != nil {
		return Identity{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Identity{}, err
		}
		return Identity{}, fmt.Errorf("%w %q: list known IDs with `nhi identities`", ErrUnknownIdentity, id)
	}
	it, account, err := scanIdentity(rows)
	if err != nil {
		return Identity{}, err
	}
	rows.Close()
	if err := judge.judge(ctx, &it, account); err != nil {
		return Identity{}, err
	}
	one, prev, err := s.followRenames(ctx, []Identity{it})
	if err != nil {
		return Identity{}, err
	}
	if err := s.evaluate(ctx, one, id); err != nil {
		return Identity{}, err
	}
	markRenamed(one, prev)
	return one[0], nil
}

// scanIdentity reads one row of identityColumns, and the identity's
// account, then any more columns into more. Its status is left active: a
// statusJudge decides it.
func scanIdentity(rows *sql.Rows, more ...any) (Identity, string, error) {
	var (
		it                                  Identity
		kind, firstSeen, lastSeen, account  string
		created, lastUsed, rotated, expires sql.NullString
		perms, attrs                        string
	)
	err := rows.Scan(append([]any{&it.ID, &kind, &it.Source, &firstSeen, &lastSeen, &it.SnapshotID, &account,
		&it.Name, &it.Scope, &created, &lastUsed, &rotated, &expires, &perms, &attrs, &it.Owner}, more...)...)
	if err != nil {
		return it, "", fmt.Errorf("reading identity: %w", err)
	}
	// The strings a population repeats are kept once each: a million
	// identities share a few kinds, a few sources and accounts, and a scope
	// per repository.
	account = unique.Make(account).Value()
	it.Kind = Kind(unique.Make(kind).Value())
	it.Account = account
	it.Source = unique.Make(it.Source).Value()
	it.Scope = unique.Make(it.Scope).Value()
	it.Owner = unique.Make(it.Owner).Value()
	it.FirstSeen, _ = parseTime(firstSeen)
	it.LastSeen, _ = parseTime(lastSeen)
	it.CreatedAt = parseNullTime(created)
	it.LastUsedAt = parseNullTime(lastUsed)
	it.RotatedAt = parseNullTime(rotated)
	it.ExpiresAt = parseNullTime(expires)
	if err := unmarshalMap(perms, &it.Permissions); err != nil {
		return it, "", fmt.Errorf("identity %s: permissions: %w", it.ID, err)
	}
	if err := unmarshalMap(attrs, &it.Attributes); err != nil {
		return it, "", fmt.Errorf("identity %s: attributes: %w", it.ID, err)
	}
	it.Status = StatusActive
	it.Findings = []Finding{}
	return it, account, nil
}

func unmarshalMap(s string, m *map[string]string) error {
	if s == "{}" || s == "" {
		return nil
	}
	if fast, ok := parsePlainMap(s); ok {
		*m = fast
		return nil
	}
	return json.Unmarshal([]byte(s), m)
}

// parsePlainMap decodes the common shape mapJSON writes, {"k":"v",...}
// with no escapes, without reflection; ok is false for anything else,
// which encoding/json then decodes.
func parsePlainMap(s string) (map[string]string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	m := make(map[string]string, strings.Count(s, ":"))
	if !fillPlainMap(s, m) {
		return nil, false
	}
	return m, true
}

// fillPlainMap is parsePlainMap into m, which the caller clears first
// (and again when it fails part way).
func fillPlainMap(s string, m map[string]string) bool {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 {
		return false
	}
	rest := s[1 : len(s)-1]
	for rest != "" {
		k, after, ok := quoted(rest)
		if !ok || after == "" || after[0] != ':' {
			return false
		}
		v, after, ok := quoted(after[1:])
		if !ok {
			return false
		}
		m[k] = v
		if after == "" {
			break
		}
		if after[0] != ',' {
			return false
		}
		rest = after[1:]
	}
	return true
}

// quoted splits a leading "string" (without escapes) off s.
func quoted(s string) (str, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	return s[1 : end+1], s[end+2:], true
}

// parseTime reads a stored timestamp. The fixed layout is parsed by hand:
// time.Parse shows up when 100,000 identities load.
func parseTime(s string) (time.Time, error) {
	if len(s) == len(TimeLayout) && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		n := func(a, b int) (int, bool) {
			v := 0
			for i := a; i < b; i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := n(0, 4)
		mo, ok2 := n(5, 7)
		d, ok3 := n(8, 10)
		h, ok4 := n(11, 13)
		mi, ok5 := n(14, 16)
		sec, ok6 := n(17, 19)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 60 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), nil
		}
	}
	return time.Parse(TimeLayout, s)
}

func parseNullTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil
	}
	return &t
}

// Snapshots returns every snapshot, newest first.
func (s *Store) Snapshots(ctx context.Context) ([]Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, account, api_url, credential, tool_version, started_at, finished_at, status, error, counts, digest, server_version, notes, reach
		FROM snapshots ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("reading snapshots: %w", err)
	}
	var out []Snapshot
	for rows.Next() {
		var (
			sn                     Snapshot
			started, counts, notes string
			reach                  string
			finished               sql.NullString
		)
		if err := rows.Scan(&sn.ID, &sn.Source, &sn.Account, &sn.APIURL, &sn.Credential, &sn.ToolVersion,
			&started, &finished, &sn.Status, &sn.Error, &counts, &sn.Digest, &sn.ServerVersion, &notes, &reach); err != nil {
			rows.Close()
			return nil, err
		}
		if reach != "" {
			sn.Reach = &Reach{}
			if err := json.Unmarshal([]byte(reach), sn.Reach); err != nil {
				rows.Close()
				return nil, fmt.Errorf("snapshot %d: reach: %w", sn.ID, err)
			}
		}
		if err := json.Unmarshal([]byte(notes), &sn.Notes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("snapshot %d: notes: %w", sn.ID, err)
		}
		sn.StartedAt, _ = parseTime(started)
		sn.FinishedAt = parseNullTime(finished)
		sn.Counts = map[Kind]int{}
		if err := json.Unmarshal([]byte(counts), &sn.Counts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("snapshot %d: counts: %w", sn.ID, err)
		}
		out = append(out, sn)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Gaps, err = gaps(ctx, s.db, out[i].ID); err != nil {
			return nil, err
		}
	}
	s.markRuns(ctx, out)
	return out, nil
}

// markRuns sets Runner or Stopped on each running snapshot of snaps
// (newest first): an account's newest running snapshot is its live
// lock's, if it has one; any other running snapshot was stopped (the
// next run of its account closes it). Nothing is set when the locks
// cannot be read.
func (s *Store) markRuns(ctx context.Context, snaps []Snapshot) {
	if !slices.ContainsFunc(snaps, func(sn Snapshot) bool { return sn.Status == SnapshotRunning }) {
		return
	}
	live, err := s.liveLocks(ctx)
	if err != nil {
		return
	}
	for i := range snaps {
		sn := &snaps[i]
		if sn.Status != SnapshotRunning {
			continue
		}
		key := sn.Source + "/" + sn.Account
		if r, ok := live[key]; ok {
			r.Snapshot = sn.ID
			sn.Runner = &r
			delete(live, key) // an older running one is not this run's
			continue
		}
		sn.Stopped = true
	}
}

// CurrentSnapshots returns, for every source and account the file knows,
// its newest finished (complete or partial) snapshot, ordered by source
// and account: the population of each, side by side. A source/account
// whose every run failed or is still running is left out.
func (s *Store) CurrentSnapshots(ctx context.Context) ([]Snapshot, error) {
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	return CurrentOf(snaps), nil
}

// CurrentOf picks, from snaps (any order), the newest finished snapshot of
// each source and account, ordered by source and account.
func CurrentOf(snaps []Snapshot) []Snapshot {
	best := map[[2]string]int{}
	for i := range snaps {
		sn := &snaps[i]
		if sn.Status != SnapshotComplete && sn.Status != SnapshotPartial {
			continue
		}
		k := [2]string{sn.Source, sn.Account}
		if j, ok := best[k]; !ok || snaps[j].ID < sn.ID {
			best[k] = i
		}
	}
	out := make([]Snapshot, 0, len(best))
	for _, i := range best {
		out = append(out, snaps[i])
	}
	slices.SortFunc(out, byAccount)
	return out
}

// byAccount orders snapshots by source, then account.
func byAccount(a, b Snapshot) int {
	return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Account, b.Account))
}

// Accounts is every source and account, each by its current snapshot
// (cur: CurrentOf) or, when none finished, its newest (unread: UnreadOf),
// by source and account: what a list of accounts shows.
func Accounts(cur, unread []Snapshot) []Snapshot {
	all := append(slices.Clip(cur), unread...)
	slices.SortStableFunc(all, byAccount)
	return all
}

// UnreadOf picks, from snaps (any order), the newest snapshot of each
// source and account that has no finished one, ordered by source and
// account: an account nhi tried to read and could not, whose every run
// failed or did not finish. CurrentOf leaves it out, as it has no
// population; a list of accounts must still show it, with its state and
// no counts, since an account not read is not an empty one.
func UnreadOf(snaps []Snapshot) []Snapshot {
	newest, read := map[[2]string]int{}, map[[2]string]bool{}
	for i := range snaps {
		sn := &snaps[i]
		k := [2]string{sn.Source, sn.Account}
		if sn.Status == SnapshotComplete || sn.Status == SnapshotPartial {
			read[k] = true
		}
		if j, ok := newest[k]; !ok || snaps[j].ID < sn.ID {
			newest[k] = i
		}
	}
	var out []Snapshot
	for k, i := range newest {
		if !read[k] {
			out = append(out, snaps[i])
		}
	}
	slices.SortFunc(out, byAccount)
	return out
}

// FailedSince gives, for each snapshot of current (CurrentOf), the newest
// failed snapshot of its source and account taken after it, or stopped
// before it finished (a running one no live process holds: Stopped),
// keyed by the current one's ID: the population shown is older than the
// last attempt to read it, and a reader of that population must be told
// so, or an auditor takes the older read for the state of things now.
func FailedSince(snaps, current []Snapshot) map[int64]Snapshot {
	cur := make(map[[2]string]int64, len(current))
	for _, c := range current {
		cur[[2]string{c.Source, c.Account}] = c.ID
	}
	out := map[int64]Snapshot{}
	for _, sn := range snaps {
		id, ok := cur[[2]string{sn.Source, sn.Account}]
		if !ok || sn.Status != SnapshotFailed && !sn.Stopped || sn.ID < id {
			continue
		}
		if f, seen := out[id]; !seen || f.ID < sn.ID {
			out[id] = sn
		}
	}
	return out
}

// LatestSnapshot returns the newest finished (complete or partial)
// snapshot, or nil when there is none.
func (s *Store) LatestSnapshot(ctx context.Context) (*Snapshot, error) {
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	for i := range snaps {
		if snaps[i].Status == SnapshotComplete || snaps[i].Status == SnapshotPartial {
			return &snaps[i], nil
		}
	}
	return nil, nil
}

func gaps(ctx context.Context, q querier, snapshotID int64) ([]Gap, error) {
	rows, err := q.QueryContext(ctx, `SELECT endpoint, kind, scope, status, reason FROM snapshot_gaps WHERE snapshot_id = ? ORDER BY seq`, snapshotID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var g Gap
		var kind string
		if err := rows.Scan(&g.Endpoint, &kind, &g.Scope, &g.Status, &g.Reason); err != nil {
			return nil, err
		}
		g.Kind = Kind(kind)
		out = append(out, g)
	}
	return out, rows.Err()
}
