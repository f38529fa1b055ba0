package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A removal is a claim about the world: "this credential is gone". It may
// be made only where a later snapshot looked and did not find it. A
// snapshot's gaps say where it could not look, but not where it never
// thought to (a repository the credential cannot see is no gap in a list
// it never appears in), so connectors also record positive evidence: each
// (scope, kind) they read in full, and each scope whose every child scope
// they read. ARCHITECTURE.md ("Removals") describes the rule; Looked is
// it, and identity status, diff and campaign verification all ask it.

// ChildrenKind, as the kind of a snapshot_scopes row, says every scope
// directly below its scope that exists was read. A row of kind "" says
// only that the scope exists: the snapshot reached it but could read
// nothing in it.
const ChildrenKind = "*"

// StatusNotChecked is the status of an identity absent from a later
// snapshot that did not read where it lives: it may be gone, or not.
const StatusNotChecked = "not-checked"

// ScopeRead is positive evidence of what a snapshot read: at Scope, every
// identity of each of Kinds was listed in full; with Children, every scope
// directly below Scope that exists was read as well (an organisation's
// repositories when the credential demonstrably sees them all, a
// repository's environments), so a scope below it that was not read no
// longer exists.
type ScopeRead struct {
	Scope    string
	Kinds    []Kind
	Children bool
}

func scopeKey(scope, kind string) string { return "\x00" + scope + "\x00" + kind }

// Scope records what the connector read in full (see ScopeRead). Once a
// snapshot records any, absence from it is judged by them alone.
func (w *SnapshotWriter) Scope(r ScopeRead) error {
	kinds := make([]string, 0, len(r.Kinds)+1)
	for _, k := range r.Kinds {
		kinds = append(kinds, string(k))
	}
	if r.Children {
		kinds = append(kinds, ChildrenKind)
	}
	if len(kinds) == 0 {
		kinds = append(kinds, "") // the scope exists, though nothing in it could be read
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("snapshot already finished")
	}
	if w.scopes == nil {
		w.scopes = map[string][sha256.Size]byte{}
	}
	q := `INSERT INTO snapshot_scopes (snapshot_id, scope, kind) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?),", len(kinds)), ",") + ` ON CONFLICT DO NOTHING`
	args := make([]any, 0, 3*len(kinds))
	for _, k := range kinds {
		args = append(args, w.id, r.Scope, k)
	}
	// Like every write of the run, only while the run holds the lock: a
	// run taken over must not add "read in full" rows, which turn
	// "not checked" into "removed".
	err := w.ownTx(context.Background(), func(tx *sql.Tx) error {
		if !w.scoped {
			if _, err := tx.Exec(`UPDATE snapshots SET scoped = 1 WHERE id = ?`, w.id); err != nil {
				return err
			}
		}
		_, err := tx.Exec(q, args...)
		return err
	})
	if errors.Is(err, ErrLockLost) {
		return err
	}
	if err != nil {
		return fmt.Errorf("recording what was read at %s: %w", r.Scope, err)
	}
	w.scoped = true
	for _, k := range kinds {
		key := scopeKey(r.Scope, k)
		w.scopes[key] = sha256.Sum256([]byte(key))
	}
	return nil
}

// Scoped says, before anything is read, that the snapshot records every
// place it reads in full (Scope), so absence from it is judged by those
// rows alone even when it records none: a certificate scan whose every
// endpoint was unreachable looked nowhere. Without it, a snapshot with no
// rows is judged by its status, a partial one having looked everywhere
// but its gaps, and the certificates an earlier run found in files were
// called removed.
func (w *SnapshotWriter) Scoped() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("snapshot already finished")
	}
	if w.scoped {
		return nil
	}
	err := w.ownTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE snapshots SET scoped = 1 WHERE id = ?`, w.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording that the snapshot says what it read: %w", err)
	}
	w.scoped = true
	return nil
}

// SetServer records what answered the run and what the connector says
// once of it (see Snapshot.ServerVersion, Snapshot.Notes).
func (w *SnapshotWriter) SetServer(ctx context.Context, version string, notes []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("snapshot already finished")
	}
	if notes == nil {
		notes = []string{}
	}
	b, err := json.Marshal(notes)
	if err != nil {
		return err
	}
	err = w.ownTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE snapshots SET server_version = ?, notes = ? WHERE id = ?`, version, string(b), w.id)
		return err
	})
	if errors.Is(err, ErrLockLost) {
		return err
	}
	if err != nil {
		return fmt.Errorf("recording the server version: %w", err)
	}
	w.server, w.notes = version, notes
	return nil
}

// SetReach records how much of its source the run read and what the
// connector cannot see (see Reach).
func (w *SnapshotWriter) SetReach(ctx context.Context, r Reach) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.NotRead == nil {
		r.NotRead = []string{}
	}
	if r.NotCollected == nil {
		r.NotCollected = []string{}
	}
	if r.CannotSee == nil {
		r.CannotSee = []string{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err = w.s.execWaiting(ctx, w.token, `UPDATE snapshots SET reach = ? WHERE id = ?`, string(b), w.id); err != nil {
		return fmt.Errorf("recording what the run reached: %w", err)
	}
	w.reach = &r
	return nil
}

// PlacesRead counts the places snapshot id read in full: its (scope, kind)
// rows (see Recorder.Scope). scoped is false for a snapshot that does not
// say what it read (an import, a snapshot before schema v5): n means
// nothing then.
func (s *Store) PlacesRead(ctx context.Context, id int64) (n int, scoped bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM snapshot_scopes WHERE snapshot_id = s.id), s.scoped FROM snapshots s WHERE s.id = ?`, id).Scan(&n, &scoped)
	return n, scoped, err
}

// scopeRecords are a snapshot's scope rows as digest records: the snapshot
// digest covers them, so deleting one (turning "not checked" into
// "removed") fails nhi verify. Snapshots before schema v5 have none, and
// their digests are unchanged.
func (s *Store) scopeRecords(ctx context.Context, id int64) (map[string][sha256.Size]byte, bool, error) {
	var scoped bool
	if err := s.db.QueryRowContext(ctx, `SELECT scoped FROM snapshots WHERE id = ?`, id).Scan(&scoped); err != nil {
		return nil, false, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT scope, kind FROM snapshot_scopes WHERE snapshot_id = ?`, id)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := map[string][sha256.Size]byte{}
	for rows.Next() {
		var scope, kind string
		if err := rows.Scan(&scope, &kind); err != nil {
			return nil, false, err
		}
		key := scopeKey(scope, kind)
		out[key] = sha256.Sum256([]byte(key))
	}
	return out, scoped, rows.Err()
}

// withScopes is records and scopes in one map, for the digest.
func withScopes(records, scopes map[string][sha256.Size]byte) map[string][sha256.Size]byte {
	if len(scopes) == 0 {
		return records
	}
	all := make(map[string][sha256.Size]byte, len(records)+len(scopes))
	for k, v := range records {
		all[k] = v
	}
	for k, v := range scopes {
		all[k] = v
	}
	return all
}

// Coverage is where one finished snapshot looked.
type Coverage struct {
	ID     int64
	status string
	scoped bool
	gaps   []Gap
	read   map[string]map[string]bool // scope -> kinds (and ChildrenKind)
}

// Coverage loads where snapshot id looked.
func (s *Store) Coverage(ctx context.Context, id int64) (*Coverage, error) {
	return s.coverageOf(ctx, id, true)
}

// coverageOf is Coverage, with its scope rows (scopes) or without them.
func (s *Store) coverageOf(ctx context.Context, id int64, scopes bool) (*Coverage, error) {
	c := &Coverage{ID: id, read: map[string]map[string]bool{}}
	err := s.db.QueryRowContext(ctx, `SELECT status, scoped FROM snapshots WHERE id = ?`, id).Scan(&c.status, &c.scoped)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("%w: snapshot %d does not exist", ErrNoSnapshot, id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", id, err)
	}
	if c.gaps, err = gaps(ctx, s.db, id); err != nil {
		return nil, err
	}
	if !scopes {
		return c, nil
	}
	return c, s.readScopes(ctx, c, nil)
}

// readScopes adds to c the scope rows of its snapshot: those of the
// scopes named, or every row when none is.
func (s *Store) readScopes(ctx context.Context, c *Coverage, scopes []any) error {
	q, args := `SELECT scope, kind FROM snapshot_scopes WHERE snapshot_id = ?`, []any{c.ID}
	if len(scopes) > 0 {
		q += ` AND scope IN (?` + strings.Repeat(",?", len(scopes)-1) + `)`
		args = append(args, scopes...)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading snapshot %d: %w", c.ID, err)
	}
	defer rows.Close()
	return c.scanScopes(rows)
}

// scanScopes adds the scope rows (scope, kind) of rows to c.read.
func (c *Coverage) scanScopes(rows *sql.Rows) error {
	for rows.Next() {
		var scope, kind string
		if err := rows.Scan(&scope, &kind); err != nil {
			return err
		}
		m := c.read[scope]
		if m == nil {
			m = map[string]bool{}
			c.read[scope] = m
		}
		m[kind] = true
	}
	return rows.Err()
}

// Looked reports whether the snapshot read the place where an identity of
// kind at scope lives, so that its absence from the snapshot is a removal.
// When it did not, reason says why, in words for the auditor.
//
// The place was read when the snapshot read kind at scope, or when it read
// every child of an enclosing scope and scope was not among them (the
// repository or environment no longer exists) and no gap names it (a
// place a gap names was reached: it exists). A snapshot that recorded no
// scopes (taken before schema v5, or by a connector that does not say what
// it read) looked everywhere when complete, and everywhere but its gaps
// when partial.
func (c *Coverage) Looked(kind Kind, scope string) (ok bool, reason string) {
	if !c.scoped {
		if c.status == SnapshotComplete {
			return true, ""
		}
		if g := c.gapFor(kind, scope); g != nil {
			return false, gapReason(g)
		}
		return true, ""
	}
	if kinds, found := c.read[scope]; found {
		if kinds[string(kind)] {
			return true, ""
		}
		return false, c.why(kind, scope, fmt.Sprintf("snapshot %d did not read the %ss of %s", c.ID, kind.Label(), scope))
	}
	for p := parentScope(scope); p != ""; p = parentScope(p) {
		kinds, found := c.read[p]
		if !found {
			continue
		}
		child := childOf(p, scope)
		if kinds[ChildrenKind] {
			if !c.gapIn(child) {
				return true, "" // the place itself is gone
			}
			// A gap names it: the snapshot reached it and could not read
			// it, as when an environment's secrets answer 403.
			return false, c.why(kind, scope, fmt.Sprintf("snapshot %d could not read %s", c.ID, child))
		}
		return false, c.why(kind, scope, fmt.Sprintf("%s was not visible to the credential of snapshot %d", child, c.ID))
	}
	return false, c.why(kind, scope, fmt.Sprintf("snapshot %d did not read %s", c.ID, scope))
}

// why is the reason of the most specific gap covering kind at scope, or
// fallback when none does.
func (c *Coverage) why(kind Kind, scope, fallback string) string {
	if g := c.gapFor(kind, scope); g != nil {
		return gapReason(g)
	}
	return fallback
}

// gapIn reports whether a gap, of any kind, names scope or a scope below
// it: the snapshot reached scope, so it exists, whatever its parent's
// ChildrenKind row says of scopes not read.
func (c *Coverage) gapIn(scope string) bool {
	for i := range c.gaps {
		if inFolder(c.gaps[i].Scope, scope) {
			return true
		}
	}
	return false
}

func gapReason(g *Gap) string { return g.Endpoint + ": " + g.Reason }

// gapFor is the gap of kind (or of every kind) whose scope is, or most
// closely contains, scope.
func (c *Coverage) gapFor(kind Kind, scope string) *Gap {
	var best *Gap
	for i := range c.gaps {
		g := &c.gaps[i]
		if g.Kind != "" && g.Kind != kind {
			continue
		}
		if g.Scope != "" && !inFolder(scope, g.Scope) {
			continue
		}
		if best == nil || len(g.Scope) > len(best.Scope) || (len(g.Scope) == len(best.Scope) && best.Kind == "" && g.Kind != "") {
			best = g
		}
	}
	return best
}

// parentScope is "acme/api" for "acme/api/prod", "" for "acme"; for a
// file's path below a file system's root (the x509 connector's --path /
// names what is there /etc and /a.pem), "/" for "/etc", and "" for "/".
func parentScope(scope string) string {
	i := strings.LastIndexByte(scope, '/')
	switch {
	case i < 0 || scope == "/":
		return ""
	case i == 0:
		return "/"
	}
	return scope[:i]
}

// childOf is the scope directly below parent on the way to scope.
func childOf(parent, scope string) string {
	prefix := parent + "/"
	if parent == "/" {
		prefix = parent
	}
	rest := strings.TrimPrefix(scope, prefix)
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return prefix + rest[:i]
	}
	return scope
}

// inFolder reports whether scope is folder or below it (everything of a
// file system is below /).
func inFolder(scope, folder string) bool {
	return scope == folder || strings.HasPrefix(scope, folder+"/") || folder == "/" && strings.HasPrefix(scope, "/")
}

// statusJudge decides the status of identities not seen in their
// account's newest finished snapshot: removed when a later snapshot looked
// where they live, else not-checked. Coverages load once, when needed,
// and of a scoped snapshot only the scopes asked about (judgedCoverage):
// a whole-population read judges a few identities left behind by a
// later snapshot, and the scope rows of that snapshot, every kind read
// at each of 192,000 repositories in the sample file of a million
// identities, were read whole into a map of maps for them (issue 21).
type statusJudge struct {
	s        *Store
	finished map[string][]int64 // source NUL account -> finished snapshots, oldest first
	cov      map[int64]*judgedCoverage
	moved    map[string]MovedScopes // source NUL account -> scopes renamed
	// last is the source and account judged last and their finished
	// snapshots: identities in ID order come an account at a time, and
	// the key built and looked up for each was a fortieth of the
	// derive of a table read (issue 21).
	last struct {
		source, account string
		finished        []int64
		ok              bool
	}
}

// finishedOf is j.finished of source and account.
func (j *statusJudge) finishedOf(source, account string) []int64 {
	l := &j.last
	if !l.ok || l.source != source || l.account != account {
		// Copies: the identity's texts may share a page read whole.
		l.source, l.account = strings.Clone(source), strings.Clone(account)
		l.finished, l.ok = j.finished[source+"\x00"+account], true
	}
	return l.finished
}

func (s *Store) newStatusJudge(ctx context.Context) (*statusJudge, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, account, id FROM snapshots WHERE status IN ('complete', 'partial') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading snapshots: %w", err)
	}
	defer rows.Close()
	j := &statusJudge{s: s, finished: map[string][]int64{}, cov: map[int64]*judgedCoverage{}}
	for rows.Next() {
		var src, acct string
		var id int64
		if err := rows.Scan(&src, &acct, &id); err != nil {
			return nil, err
		}
		j.finished[src+"\x00"+acct] = append(j.finished[src+"\x00"+acct], id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if j.moved, err = readMovedScopes(ctx, s.db); err != nil {
		return nil, err
	}
	return j, nil
}

// judge sets it.Status and it.StatusReason; account is its account.
func (j *statusJudge) judge(ctx context.Context, it *Identity, account string) error {
	it.Status, it.StatusReason = StatusActive, ""
	later := j.finishedOf(it.Source, account)
	i, _ := slices.BinarySearch(later, it.SnapshotID+1)
	later = later[i:]
	if len(later) == 0 {
		return nil
	}
	var reason string
	// A scope renamed since is read under its new names too (LookedMoved).
	names := j.moved[it.Source+"\x00"+account].Names(it.Scope)
	for _, id := range later {
		c, err := j.coverage(ctx, id, it.Scope)
		if err != nil {
			return err
		}
		for _, to := range names {
			if _, err := j.coverage(ctx, id, to); err != nil {
				return err
			}
		}
		ok, why := c.LookedMoved(names, it.Kind, it.Scope)
		if ok {
			it.Status = StatusRemoved
			return nil
		}
		reason = why // the newest snapshot's reason wins
	}
	it.Status, it.StatusReason = StatusNotChecked, reason
	return nil
}

// coverage is snapshot id's Coverage, holding at least what Looked reads
// of it for an identity at scope.
func (j *statusJudge) coverage(ctx context.Context, id int64, scope string) (*Coverage, error) {
	jc := j.cov[id]
	if jc == nil {
		c, err := j.s.coverageOf(ctx, id, false)
		if err != nil {
			return nil, err
		}
		jc = &judgedCoverage{c: c, whole: !c.scoped, asked: map[string]bool{}}
		j.cov[id] = jc
	}
	if err := jc.ask(ctx, j.s, scope); err != nil {
		return nil, err
	}
	return jc.c, nil
}

// judgedCoverage is a Coverage whose scope rows are read as identities
// ask about them: Looked reads those of an identity's scope and of the
// scopes above it, nothing else, so those read are all it needs.
type judgedCoverage struct {
	c     *Coverage
	whole bool            // every row read (or none to read: not scoped)
	asked map[string]bool // the scopes whose rows are read
}

// coverageByKey is how many scopes a judgedCoverage reads by key before
// it reads the snapshot's rows whole: a seek each, where many identities
// of many scopes left behind are cheaper read in one pass. A variable so
// tests can judge either way.
var coverageByKey = 2048

// ask reads the rows of scope and of the scopes above it, unless read.
func (jc *judgedCoverage) ask(ctx context.Context, s *Store, scope string) error {
	if jc.whole {
		return nil
	}
	var need []any
	if !jc.asked[scope] {
		need = append(need, scope)
	}
	for p := parentScope(scope); p != ""; p = parentScope(p) {
		if !jc.asked[p] {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		return nil
	}
	if len(jc.asked)+len(need) > coverageByKey {
		// Every row, into the same Coverage: adding a row read already
		// changes nothing.
		if err := s.readScopes(ctx, jc.c, nil); err != nil {
			return err
		}
		jc.whole, jc.asked = true, nil
		return nil
	}
	if err := s.readScopes(ctx, jc.c, need); err != nil {
		return err
	}
	for _, p := range need {
		jc.asked[p.(string)] = true
	}
	return nil
}
