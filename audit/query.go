package audit

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// evaluate fills in what is derived rather than stored: each identity's
// findings under the policy in force, as of the snapshot it was last seen
// in, with the owners recorded now; its new/changed mark; owner suggestions.
// With only set, change marks are computed for that one identity.
func (s *Store) evaluate(ctx context.Context, ids []Identity, only string) error {
	d, err := s.derivations(ctx, only, false)
	if err != nil {
		return err
	}
	return d.fill(ctx, ids)
}

// derivation holds what evaluate needs besides the identities: built once
// per read, then applied batch by batch, so a streamed read of a million
// identities (EachTableIdentity) holds only its current batch.
type derivation struct {
	s          *Store
	ev         *snapshotEvaluators
	marks      map[string]string
	principals principalIndex
	// Identities of a snapshot and scope whose source names no owner
	// share one suggestion list: they get the same suggestions, and a
	// million copies of them were a sixth of the memory the TUI held
	// (issue 21). Nothing changes a Suggestions slice in place.
	//
	// byScope holds the lists of Kubernetes namespaces (their labels'
	// suggestions). By snapshot, then scope: a map keyed by both was a
	// twentieth of a million-identity read.
	byScope map[int64]map[string][]OwnerSuggestion
	// scoped holds the lists of every other scope: what the principals
	// of each repository (or scope without one) suggest, by snapshot,
	// then principalScope, which an identity whose own attributes name
	// an owner gets after its own (scopeSuggestions); scopedLast is the
	// one looked up last.
	scoped     map[int64]map[string][]OwnerSuggestion
	scopedLast struct {
		snapshot int64
		key      string
		list     []OwnerSuggestion
		ok       bool
	}
	// perBatch: a read in batches (EachTableIdentity), whose reader
	// reads the marks of each page with it (tablemarks.go) and sets
	// marks to them before the page's fills, rather than once for the
	// whole file.
	perBatch bool
	// A read in batches reads each snapshot's principals whole on a
	// goroutine of its own (loads, begun with the first identity of the
	// snapshot, stopped and waited for by close), and the first
	// keyedLeft identities (keyedPrincipals) do not wait for it: their
	// fill reads the principals of their own scopes by key (keyed says
	// which entries of principals are such a part), so the first rows
	// of a million show without waiting for the half million principals
	// of a large organisation (issue 21).
	loads     map[int64]*principalLoad
	loadsCtx  context.Context
	stopLoads context.CancelFunc
	loading   sync.WaitGroup
	keyedLeft int
	keyed     map[int64]bool
	// passing: the read's caller keeps no suggestions (StreamIdentities):
	// every fill reads the principals of its identities' scopes by key,
	// none read whole, and drops the lists the last fill built.
	passing bool
}

// keyedPrincipals is how many identities a read in batches derives with
// the principals of their own scopes, read by key, before it waits for
// their snapshots' principals read whole: the first pages, which the
// TUI's first frame shows (its first batch is 256 rows). A variable so
// tests can derive every identity either way.
var keyedPrincipals = 4096

// wholePrincipals reads a snapshot's principals whole for a read in
// batches: a variable so a test can hold it back.
var wholePrincipals = func(ctx context.Context, s *Store, snapshot int64) (principals, error) {
	return s.principalsOfSnapshot(ctx, snapshot, nil)
}

// principalLoad is one snapshot's principals read whole: ps or err once
// done is closed.
type principalLoad struct {
	done chan struct{}
	ps   principals
	err  error
}

// scopeSuggestions is d.principals.scopeSuggestions(id), each scope's
// built once.
func (d *derivation) scopeSuggestions(id *Identity) []OwnerSuggestion {
	key, l := principalScope(id), &d.scopedLast
	if l.ok && l.snapshot == id.SnapshotID && l.key == key {
		return l.list
	}
	if d.scoped == nil {
		d.scoped = map[int64]map[string][]OwnerSuggestion{}
	}
	scopes := d.scoped[id.SnapshotID]
	if scopes == nil {
		scopes = map[string][]OwnerSuggestion{}
		d.scoped[id.SnapshotID] = scopes
	}
	list, ok := scopes[key]
	if !ok {
		list = d.principals.scopeSuggestions(id)
		// Its own copy: id's scope may share a whole row's memory.
		key = strings.Clone(key)
		scopes[key] = list
	}
	l.snapshot, l.key, l.list, l.ok = id.SnapshotID, key, list, true
	return list
}

// close releases what a read in batches prepared, and stops the reads
// of principals still running.
func (d *derivation) close() {
	if d.stopLoads != nil {
		d.stopLoads()
		d.loading.Wait()
	}
}

// principalsFor reads the principals of the snapshots need names, which
// ids lie in: whole, or for a read in batches (perBatch), as its fields
// say.
func (d *derivation) principalsFor(ctx context.Context, ids []Identity, need map[int64]bool) error {
	if !d.perBatch {
		more, err := d.s.principalsOf(ctx, need)
		if err != nil {
			return err
		}
		maps.Copy(d.principals, more)
		return nil
	}
	for sn := range need {
		if d.passing {
			break // never read whole
		}
		if d.loads[sn] == nil {
			ld := &principalLoad{done: make(chan struct{})}
			d.loads[sn] = ld
			d.loading.Go(func() {
				defer close(ld.done)
				ld.ps, ld.err = wholePrincipals(d.loadsCtx, d.s, sn)
			})
		}
	}
	if d.keyedLeft <= 0 && !d.passing {
		for sn := range need {
			ld := d.loads[sn]
			select {
			case <-ld.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if ld.err != nil {
				return ld.err
			}
			d.principals[sn] = ld.ps
			delete(d.keyed, sn)
		}
		return nil
	}
	d.keyedLeft -= len(ids)
	// The scopes whose suggestions fill will look up (those of every
	// kind but Kubernetes', scopeSuggestions) and has not built yet.
	scopes := map[int64][]string{}
	type scopeOf struct {
		snapshot int64
		scope    string
	}
	seen := map[scopeOf]bool{}
	for i := range ids {
		id := &ids[i]
		if !need[id.SnapshotID] || isK8s(id.Kind) {
			continue
		}
		key := principalScope(id)
		if _, built := d.scoped[id.SnapshotID][key]; built || seen[scopeOf{id.SnapshotID, key}] {
			continue
		}
		seen[scopeOf{id.SnapshotID, key}] = true
		scopes[id.SnapshotID] = append(scopes[id.SnapshotID], key)
	}
	for sn := range need {
		list := scopes[sn]
		if list == nil {
			list = []string{} // none: an empty part, not the whole
		}
		ps, err := d.s.principalsOfSnapshot(ctx, sn, list)
		if err != nil {
			return err
		}
		d.principals[sn], d.keyed[sn] = ps, true
	}
	return nil
}

// namesOwner reports whether id's attributes name a likely owner, which
// makes its suggestions its own: one of ownerAttributes is set. Most
// identities have a few attributes, so they are walked rather than the
// sixteen names looked up (issue 21).
func namesOwner(id *Identity) bool {
	if len(id.Attributes) <= len(ownerAttributes)/2 {
		for k, v := range id.Attributes {
			if v != "" && ownerAttributes[k] {
				return true
			}
		}
		return false
	}
	for k := range ownerAttributes {
		if id.Attributes[k] != "" {
			return true
		}
	}
	return false
}

// ownerAttributes are the attributes through which suggestOwners finds
// an identity's own owners: who the source says holds it, its owner tags
// (its IAM user's too), and a Kubernetes object's own owner labels and
// annotations (k8sSuggestions; its namespace's are shared by the scope).
var ownerAttributes = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range naturalOwnerSources {
		m[n.attr] = true
	}
	for _, tag := range ownerTags {
		m["tag."+tag], m["user_tag."+tag] = true, true
	}
	for _, key := range []string{"owner", "team"} {
		m["label."+key], m["annotation."+key] = true, true
	}
	return m
}()

// derivations prepares fill: with only, for that one identity; with
// perBatch, for a read in batches (the change marks of each batch are read
// with it); else for every identity.
func (s *Store) derivations(ctx context.Context, only string, perBatch bool) (*derivation, error) {
	ev, err := s.evaluators(ctx)
	if err != nil {
		return nil, err
	}
	var marks map[string]string
	if !perBatch {
		if marks, err = s.changeMarks(ctx, only); err != nil {
			return nil, err
		}
	}
	d := &derivation{s: s, ev: ev, marks: marks, principals: principalIndex{}, byScope: map[int64]map[string][]OwnerSuggestion{}, perBatch: perBatch}
	if perBatch {
		d.loads, d.keyed, d.keyedLeft = map[int64]*principalLoad{}, map[int64]bool{}, keyedPrincipals
		d.loadsCtx, d.stopLoads = context.WithCancel(ctx)
	}
	return d, nil
}

// fill derives findings, marks and suggestions for ids in place.
func (d *derivation) fill(ctx context.Context, ids []Identity) error {
	if d.passing {
		// What the last fill built served identities already handed
		// over and kept by nobody: a million identities' scopes were
		// 50 MB held to the end of the read (issue 21). An
		// organisation's list stays: a few owners each, of a few
		// organisations (or AWS accounts), and read again it was a scan
		// of every member of the organisation for its admins (the
		// principals' key has no role) in each chunk of its org-wide
		// identities, 48,000 members a chunk in the sample's.
		for _, scopes := range d.scoped {
			for key := range scopes {
				if strings.Contains(key, "/") {
					delete(scopes, key)
				}
			}
		}
		clear(d.byScope)
	}
	need := map[int64]bool{}
	for i := range ids {
		sn := ids[i].SnapshotID
		if _, ok := d.principals[sn]; !ok || d.keyed[sn] {
			need[sn] = true
		}
	}
	if len(need) > 0 {
		if err := d.principalsFor(ctx, ids, need); err != nil {
			return err
		}
	}
	// The shared suggestions are handed out here, once per identity:
	// identities in ID order come a scope at a time, so the last scope's
	// list serves most of them without a look-up in a map (two look-ups
	// an identity were 1.4 of the 5 CPU-s deriving a million, issue 21).
	shared := make([]bool, len(ids))
	// What the principals of its scope suggest, for each identity whose
	// own suggestions the workers add it to.
	scoped := make([][]OwnerSuggestion, len(ids))
	var (
		lastSnapshot int64
		lastScope    string
		lastList     []OwnerSuggestion
		haveLast     bool
	)
	for i := range ids {
		id := &ids[i]
		d.ev.prepare(id.SnapshotID)
		if namesOwner(id) || d.ev.people.personNamed(id) != nil {
			if !isK8s(id.Kind) {
				scoped[i] = d.scopeSuggestions(id)
			}
			continue
		}
		shared[i] = true
		if !isK8s(id.Kind) {
			// Its attributes name nobody: what its scope's principals
			// suggest is all there is (nil for none).
			id.Suggestions = d.scopeSuggestions(id)
			continue
		}
		if !haveLast || id.SnapshotID != lastSnapshot || id.Scope != lastScope {
			scopes := d.byScope[id.SnapshotID]
			if scopes == nil {
				scopes = map[string][]OwnerSuggestion{}
				d.byScope[id.SnapshotID] = scopes
			}
			list, ok := scopes[id.Scope]
			if !ok {
				list = suggestOwnersWith(id, d.ev.people, nil)
				// Its own copy of the scope: the identity's may share
				// the memory of a whole row read (tableread.go).
				scopes[strings.Clone(id.Scope)] = list
			}
			lastSnapshot, lastScope, lastList, haveLast = id.SnapshotID, id.Scope, list, true
		}
		id.Suggestions = lastList
	}
	// Evaluators are read-only once built: split the work across cores,
	// the larger part of opening a file of 100,000 identities.
	workers := min(runtime.GOMAXPROCS(0), 8, len(ids)/1000+1)
	work := func(w int) {
		var slab findingSlab // the worker's own
		for i := w; i < len(ids); i += workers {
			id := &ids[i]
			id.Findings = d.ev.findingsIn(id, &slab)
			id.Change = d.marks[id.ID]
			if !shared[i] {
				id.Suggestions = suggestOwnersWith(id, d.ev.people, scoped[i])
			}
		}
	}
	if workers == 1 {
		work(0) // a small batch (EachTableIdentity's chunks): no goroutine
		return nil
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { work(w) })
	}
	wg.Wait()
	return nil
}

// IdentityCount is how many identities the file knows, current and
// removed: what Identities would return.
func (s *Store) IdentityCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM identities`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting identities: %w", err)
	}
	return n, nil
}

// eachBatch is how many identities a whole-population read
// (EachTableIdentity, EachIdentityInSnapshots) reads and evaluates at a
// time: enough to keep every core busy evaluating; a variable so tests can
// cross batch boundaries with a small file.
var eachBatch = 4096

// derivers are what every identity of a whole-population read is derived
// with: its status, the renames to follow and the findings, marks and
// suggestions. EachTableIdentity derives each batch through each.
type derivers struct {
	judge *statusJudge
	ren   *renameView
	d     *derivation
}

func (s *Store) wholeDerivers(ctx context.Context) (*derivers, error) {
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return nil, err
	}
	ren, err := s.renames(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.derivations(ctx, "", true)
	if err != nil {
		return nil, err
	}
	return &derivers{judge, ren, d}, nil
}

// close releases what the derivers prepared.
func (v *derivers) close() { v.d.close() }

// derive derives a batch read in ID order, in the steps of Identities
// and in its order, and gives the identities the renames keep (a prefix
// of batch, in place), which a read hands to its fn in that order.
func (v *derivers) derive(ctx context.Context, batch []Identity) ([]Identity, error) {
	for i := range batch {
		if err := v.judge.judge(ctx, &batch[i], batch[i].Account); err != nil {
			return nil, err
		}
	}
	kept := v.ren.follow(batch)
	if err := v.d.fill(ctx, kept); err != nil {
		return nil, err
	}
	markRenamed(kept, v.ren.prev)
	return kept, nil
}

// Refresh re-reads the owners of ids and re-evaluates their findings in
// place, after owners changed: the cheap alternative to reloading every
// identity. Change marks and suggestions are kept as they were.
func (s *Store) Refresh(ctx context.Context, ids []*Identity) error {
	if len(ids) == 0 {
		return nil
	}
	r, err := s.Refresher(ctx)
	if err != nil {
		return err
	}
	return r.Refresh(ctx, ids)
}

// Refresher is Refresh for identities refreshed a chunk at a time (the
// TUI's reload, 4,096 at a time): what findings depend on besides the
// identity — the policy, the members, the people and the standing
// exceptions (every kept item with findings, through the campaigns
// package's index of them) — is read once, when it is made, for every
// chunk.
// One goroutine at a time.
type Refresher struct {
	s  *Store
	ev *snapshotEvaluators
}

// Refresher reads what the findings of the identities it refreshes
// depend on, as the store stands now: read again only when the log moved
// since the last Refresher (refreshCache).
func (s *Store) Refresher(ctx context.Context) (*Refresher, error) {
	ev, err := s.refresh.evaluators(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Refresher{s: s, ev: ev}, nil
}

// refreshCache keeps the evaluators a Refresher read, by the head of the
// log it was made at. What findings depend on — the policy, the members
// of the finished snapshots, the snapshots, the people, the standing
// exceptions — changes only by an event appended, so while the head
// stands they are the same: the TUI refreshes the rows each watch notice
// and each owner set names (a few at a time), and reading every member
// and every kept item with findings again for each cost about a second
// at a million identities. The head is read before the evaluators, so
// they are never older than the head they are kept by.
type refreshCache struct {
	mu   sync.Mutex
	head int64
	ev   *snapshotEvaluators
}

func (c *refreshCache) evaluators(ctx context.Context, s *Store) (*snapshotEvaluators, error) {
	h, err := s.LogHead(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.ev != nil && c.head == h.Seq {
		ev := c.ev
		c.mu.Unlock()
		return ev, nil
	}
	c.mu.Unlock()
	ev, err := s.evaluators(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.head, c.ev = h.Seq, ev
	c.mu.Unlock()
	return ev, nil
}

// Refresh is Store.Refresh, with what findings depend on as it was read
// when r was made; the owners are read now.
func (r *Refresher) Refresh(ctx context.Context, ids []*Identity) error {
	s := r.s
	owners := make(map[string]string, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id.ID
		}
		rows, err := s.db.QueryContext(ctx, `SELECT identity_id, owner FROM owners WHERE identity_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("reading owners: %w", err)
		}
		for rows.Next() {
			var id, owner string
			if err := rows.Scan(&id, &owner); err != nil {
				rows.Close()
				return err
			}
			owners[id] = owner
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	ev := r.ev
	// Refreshers made at one head share ev (refreshCache), whose
	// evaluators are built as snapshots are met.
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, id := range ids {
		ev.prepare(id.SnapshotID)
		id.Owner = owners[id.ID]
		id.Findings = ev.findings(id)
	}
	return nil
}

// snapshotEvaluators hands out one Evaluator per snapshot: the policy in
// force, as of that snapshot's start, with the members known now.
type snapshotEvaluators struct {
	mu         sync.Mutex // Refresher.Refresh's, when shared
	policy     Policy
	people     *Directory
	exceptions map[string]Exception
	members    map[string][]string
	info       map[int64]snapshotAccount
	evals      map[int64]*Evaluator
}

func (s *Store) evaluators(ctx context.Context) (*snapshotEvaluators, error) {
	p, _, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	m, err := members(ctx, s.db)
	if err != nil {
		return nil, err
	}
	info, err := s.snapshotAccounts(ctx)
	if err != nil {
		return nil, err
	}
	people, err := s.People(ctx)
	if err != nil {
		return nil, err
	}
	x, err := s.exceptions(ctx)
	if err != nil {
		return nil, err
	}
	return &snapshotEvaluators{policy: p, people: people, exceptions: x, members: m, info: info, evals: map[int64]*Evaluator{}}, nil
}

// prepare builds the evaluator of a snapshot. After every snapshot in use
// is prepared, findings is safe for concurrent use.
func (e *snapshotEvaluators) prepare(snapshotID int64) {
	if e.evals[snapshotID] != nil {
		return
	}
	ev := NewEvaluator(e.policy, e.info[snapshotID].started)
	ev.SetPeople(e.people)
	ev.SetExceptions(e.exceptions)
	for acct, logins := range e.members {
		ev.SetMembers(acct, logins)
	}
	e.evals[snapshotID] = ev
}

// findings evaluates id under its snapshot's evaluator; never nil.
func (e *snapshotEvaluators) findings(id *Identity) []Finding {
	return e.findingsIn(id, nil)
}

// findingsIn is findings kept in slab (nil: an allocation of their own).
func (e *snapshotEvaluators) findingsIn(id *Identity, slab *findingSlab) []Finding {
	fs := e.evals[id.SnapshotID].evaluate(id, e.info[id.SnapshotID].account, true, slab)
	if fs == nil {
		fs = []Finding{}
	}
	return fs
}

type snapshotAccount struct {
	account string
	started time.Time
}

func (s *Store) snapshotAccounts(ctx context.Context) (map[int64]snapshotAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, account, started_at FROM snapshots`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]snapshotAccount{}
	for rows.Next() {
		var id int64
		var a snapshotAccount
		var started string
		if err := rows.Scan(&id, &a.account, &started); err != nil {
			return nil, err
		}
		a.started, _ = parseTime(started)
		out[id] = a
	}
	return out, rows.Err()
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
	return out, nil
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
	slices.SortFunc(out, func(a, b Snapshot) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Account, b.Account))
	})
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
