// Deriving: what an identity's row holds besides what is stored (findings
// under the policy in force, new/changed marks, owner suggestions), built
// once per read and applied a batch at a time (docs/performance.md, "One
// read of the population").

package audit

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"time"
)

// evaluate fills in what is derived rather than stored: each identity's
// findings under the policy in force, as of the snapshot it was last seen
// in, with the owners recorded now; its new/changed mark; owner suggestions.
// With only set, change marks are computed for that one identity.
func (s *Store) evaluate(ctx context.Context, ids []Identity, only string) error {
	d, err := s.derivations(ctx, only, false)
	if err != nil {
		return err
	}
	return d.fill(ctx, ids, nil)
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
	scoped map[int64]map[string][]OwnerSuggestion
	// hints are where the last scope's look-ups of principals ended
	// (whichever snapshot's: a hint changes no answer).
	hints      principalHints
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
	seen      map[int64]int // identities of each snapshot filled so far
	// noSuggestions: the read derives none and reads no principals
	// (EachTableIdentityWithoutSuggestions); a Suggester derives them
	// after.
	noSuggestions bool
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

// wholePrincipalsAfter is how many identities of a snapshot a read in
// batches derives before it reads the snapshot's principals whole (at
// most keyedPrincipals): fewer are derived with those of their own
// scopes, read by key (principalsFor). A variable so tests can cross it.
var wholePrincipalsAfter = 256

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
		list = d.principals.scopeSuggestions(id, &d.hints)
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
	// A snapshot's principals are read whole once it has had
	// wholeAfter identities in the read, not at its first: an older
	// snapshot of an account whose identities were mostly seen again
	// since holds few (the removed, the not checked), and reading its
	// half million principals whole for them was half the principals'
	// read of the sample (issue 21); theirs are read by key.
	wholeAfter := min(keyedPrincipals, wholePrincipalsAfter)
	for i := range ids {
		if sn := ids[i].SnapshotID; need[sn] {
			d.seen[sn]++
		}
	}
	for sn := range need {
		if d.passing {
			break // never read whole
		}
		if d.loads[sn] == nil && d.seen[sn] >= wholeAfter {
			ld := &principalLoad{done: make(chan struct{})}
			d.loads[sn] = ld
			d.loading.Go(func() {
				defer close(ld.done)
				ld.ps, ld.err = wholePrincipals(d.loadsCtx, d.s, sn)
			})
		}
	}
	keyedLeft := d.keyedLeft > 0
	d.keyedLeft -= len(ids)
	if !keyedLeft && !d.passing {
		// Past the first identities, a snapshot read whole is waited
		// for; the others are read by key.
		byKey := map[int64]bool{}
		for sn := range need {
			ld := d.loads[sn]
			if ld == nil {
				byKey[sn] = true
				continue
			}
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
		if len(byKey) == 0 {
			return nil
		}
		need = byKey
	}
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
			if v != "" && isOwnerAttribute(k) {
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

// isOwnerAttribute is ownerAttributes[k], but a name whose first byte
// and length no owner attribute has (most: lineage, fingerprint,
// repository_id) is told without hashing it for the map, which was a
// hash an attribute of every identity derived (issue 21).
func isOwnerAttribute(k string) bool {
	return k != "" && len(k) < 64 && ownerAttributeShapes[k[0]]&(1<<len(k)) != 0 && ownerAttributes[k]
}

// ownerAttributeShapes has, for each first byte of an owner attribute's
// name, a bit for each length such a name has.
var ownerAttributeShapes = func() (shapes [256]uint64) {
	for k := range ownerAttributes {
		shapes[k[0]] |= 1 << len(k)
	}
	return shapes
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
		d.loads, d.keyed, d.keyedLeft, d.seen = map[int64]*principalLoad{}, map[int64]bool{}, keyedPrincipals, map[int64]int{}
		d.loadsCtx, d.stopLoads = context.WithCancel(ctx)
	}
	return d, nil
}

// fill derives findings, marks and suggestions for ids in place; their
// findings are kept in slab when it is not nil and one worker derives
// (a table read's chunk), else in slabs of the workers' own.
func (d *derivation) fill(ctx context.Context, ids []Identity, slab *findingSlab) error {
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
	var shared []bool
	var scoped [][]OwnerSuggestion
	if !d.noSuggestions {
		var err error
		if shared, scoped, err = d.suggestShared(ctx, ids); err != nil {
			return err
		}
	}
	var (
		prepared     int64
		havePrepared bool
	)
	for i := range ids {
		if sn := ids[i].SnapshotID; !havePrepared || sn != prepared {
			// Identities in ID order come a snapshot at a time.
			d.ev.prepare(sn)
			prepared, havePrepared = sn, true
		}
	}
	// Evaluators are read-only once built: split the work across cores,
	// the larger part of opening a file of 100,000 identities.
	workers := min(runtime.GOMAXPROCS(0), 8, len(ids)/1000+1)
	work := func(w int, slab *findingSlab) {
		if slab == nil {
			slab = &findingSlab{} // the worker's own
		}
		cur := evalCursor{e: d.ev}
		for i := w; i < len(ids); i += workers {
			id := &ids[i]
			id.Findings = cur.findingsIn(id, slab)
			id.Change = d.marks[id.ID]
			if shared != nil && !shared[i] {
				id.Suggestions = suggestOwnersWith(id, d.ev.people, scoped[i])
			}
		}
	}
	if workers == 1 {
		work(0, slab) // a small batch (EachTableIdentity's chunks): no goroutine
		return nil
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { work(w, nil) })
	}
	wg.Wait()
	return nil
}

// suggestShared gives the identities of ids whose suggestions are their
// scope's list (shared) that list, and says which are; for each other,
// scoped is what its scope's principals suggest, to which its own
// suggestions are added (suggestOwnersWith). It reads the principals of
// ids' snapshots it has not read yet.
func (d *derivation) suggestShared(ctx context.Context, ids []Identity) (shared []bool, scoped [][]OwnerSuggestion, err error) {
	need := map[int64]bool{}
	for i := range ids {
		sn := ids[i].SnapshotID
		if _, ok := d.principals[sn]; !ok || d.keyed[sn] {
			need[sn] = true
		}
	}
	if len(need) > 0 {
		if err := d.principalsFor(ctx, ids, need); err != nil {
			return nil, nil, err
		}
	}
	// The shared suggestions are handed out here, once per identity:
	// identities in ID order come a scope at a time, so the last scope's
	// list serves most of them without a look-up in a map (two look-ups
	// an identity were 1.4 of the 5 CPU-s deriving a million, issue 21).
	shared = make([]bool, len(ids))
	// What the principals of its scope suggest, for each identity whose
	// own suggestions the workers add it to.
	scoped = make([][]OwnerSuggestion, len(ids))
	var (
		lastSnapshot int64
		lastScope    string
		lastList     []OwnerSuggestion
		haveLast     bool
	)
	for i := range ids {
		id := &ids[i]
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
	return shared, scoped, nil
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
// of batch, in place), which a read hands to its fn in that order; their
// findings are kept in slab (fill).
func (v *derivers) derive(ctx context.Context, batch []Identity, slab *findingSlab) ([]Identity, error) {
	for i := range batch {
		if err := v.judge.judge(ctx, &batch[i], batch[i].Account); err != nil {
			return nil, err
		}
	}
	kept := v.ren.follow(batch)
	if err := v.d.fill(ctx, kept, slab); err != nil {
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

// evalCursor is snapshotEvaluators.findingsIn for identities that come
// in runs of one snapshot and one kind, as a read in ID order gives them
// (IDs begin with their source, account and kind): the snapshot's
// evaluator and account, and the kind's rules, are those of the identity
// before unless it differs, where three look-ups in maps an identity
// were a twentieth of the findings' instructions (issue 21). One
// goroutine's: each worker of fill has its own.
type evalCursor struct {
	e       *snapshotEvaluators
	ok      bool
	sn      int64
	ev      *Evaluator
	account string
	kind    Kind
	kr      *kindRules
}

// findingsIn is c.e.findingsIn(id, slab); every snapshot in use is
// prepared.
func (c *evalCursor) findingsIn(id *Identity, slab *findingSlab) []Finding {
	if !c.ok || id.SnapshotID != c.sn {
		c.ok, c.sn, c.kr = true, id.SnapshotID, nil
		c.ev, c.account = c.e.evals[id.SnapshotID], c.e.info[id.SnapshotID].account
	}
	if c.kr == nil || id.Kind != c.kind {
		c.kind, c.kr = id.Kind, c.ev.rulesOf(id.Kind)
	}
	fs := c.ev.evaluateRules(c.kr, id, c.account, true, slab)
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
