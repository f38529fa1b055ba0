package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Spec says what campaign to create.
type Spec struct {
	Name  string
	Scope string // filter expression; required (use id:* for everything)
	Due   string // YYYY-MM-DD, not before today (store clock, UTC)
	// Reviewers share the items evenly; at least one, unless ReviewerMap
	// names them all.
	Reviewers []string
	// ReviewerMap assigns the items of an owner (recorded owner, else the
	// source's natural owner; compared case-insensitively, @login = login)
	// to a reviewer. See ReadReviewerMap.
	ReviewerMap map[string]string
	// SnapshotID and SnapshotIDs pick the snapshots the scope is evaluated
	// over, at most one per source/account. Without them, the scope is
	// evaluated over the current snapshot of every source/account, or of
	// those Sources and Accounts name (case-insensitively).
	SnapshotID  int64
	SnapshotIDs []int64
	Sources     []string
	Accounts    []string
	// AllowPartial accepts a partial snapshot (some endpoints could not be
	// read, so the population may be incomplete). Without it a partial
	// snapshot is refused.
	AllowPartial bool
	// AllowAdminReview lets the creator (and whoever closes) review items;
	// without it separation of duties refuses them. RequireSigned refuses
	// decisions that are not signed (docs/people.md).
	AllowAdminReview bool
	RequireSigned    bool
	// CarryForward names a closed earlier campaign whose keep decisions are
	// pre-filled, awaiting confirmation, for identities unchanged since.
	CarryForward string
	// OnNoResponse is the rule for items nobody decides: "", keep,
	// decommission or escalate; escalate takes FallbackReviewer and
	// EscalateAfter (days; DefaultEscalateAfter when 0). See noresponse.go.
	OnNoResponse     string
	FallbackReviewer string
	EscalateAfter    int
}

// Created is what Create did.
type Created struct {
	Campaign   *Campaign
	Event      audit.Event
	Snapshot   audit.Snapshot   // the newest of Snapshots
	Snapshots  []audit.Snapshot // every snapshot the population was frozen from, in source/account order
	Assigned   map[string]int   // items per reviewer ("" for none eligible)
	Carried    int
	CarriedAs  map[string]string // carried from another ID, the identity's in the earlier campaign (renamed since): item -> it
	Unassigned []string          // items every reviewer owns: anyone else may decide them
	// Returned lists the identities outside the scope that are in the
	// population because their exception lapsed (exception-expired).
	Returned []string
	// NotRead are the accounts the campaign reviews whose newest run did
	// not finish (notread.go), in source/account order: the population
	// holds an older read of each, or nothing of one never read.
	NotRead []NotRead
	// Unevaluated counts the identities of the snapshots reviewed that the
	// scope could not judge, what it asks of them not read, and so left
	// out (docs/campaigns.md, "Identities the scope could not judge").
	Unevaluated int
}

// Create freezes a campaign's population and records it. The scope is
// evaluated over one finished snapshot as of that snapshot's start, with
// owners as recorded now and findings under the policy in force. On an
// evidence file it holds the write lock while it reads the population,
// which other writers wait for (recordLocked).
func Create(ctx context.Context, st *audit.Store, actor string, spec Spec) (*Created, error) {
	spec.Name = strings.TrimSpace(spec.Name)
	if err := checkName(spec.Name); err != nil {
		return nil, err
	}
	due, err := time.Parse(dateLayout, strings.TrimSpace(spec.Due))
	if err != nil {
		return nil, fmt.Errorf("%w %q: use YYYY-MM-DD, e.g. %s", ErrBadDue, audit.Printable(spec.Due), st.Now().AddDate(0, 0, 30).Format(dateLayout))
	}
	spec.Due = due.Format(dateLayout)
	if today := st.Now().Format(dateLayout); spec.Due < today {
		return nil, fmt.Errorf("%w %s: it is before today (%s)", ErrBadDue, spec.Due, today)
	}
	expr := strings.TrimSpace(spec.Scope)
	if expr == "" {
		return nil, fmt.Errorf("%w: say which identities to review with --scope EXPR (e.g. 'kind:deploy_key', or 'id:*' for all)", ErrEmptyScope)
	}
	f, err := filter.Parse(expr, audit.Vocabulary)
	if err != nil {
		return nil, err // a *filter.Error: the caller shows the caret
	}
	if f.String() == "" {
		return nil, fmt.Errorf("%w: %q selects nothing in particular; use 'id:*' to review every identity", ErrEmptyScope, expr)
	}
	reviewers := dedupe(spec.Reviewers)
	rmap := map[string]string{}
	for o, r := range spec.ReviewerMap {
		r = strings.TrimSpace(r)
		if strings.TrimSpace(o) == "" || r == "" {
			continue
		}
		// One spelling per person: a mapped reviewer also listed with
		// --reviewer is counted under the listed name.
		if i := slices.IndexFunc(reviewers, func(x string) bool { return sameActor(x, r) }); i >= 0 {
			r = reviewers[i]
		}
		rmap[normActor(o)] = r
	}
	if len(reviewers) == 0 && len(rmap) == 0 {
		return nil, fmt.Errorf("%w: name at least one with --reviewer (or give a reviewer map)", ErrNoReviewer)
	}
	reviewerAliases, err := resolveReviewers(ctx, st, actor, spec.AllowAdminReview, reviewers, rmap)
	if err != nil {
		return nil, err
	}
	if err := checkNoResponse(ctx, st, actor, &spec); err != nil {
		return nil, err
	}
	reviewers = dedupe(reviewers)

	snaps, all, err := pickSnapshots(ctx, st, spec)
	if err != nil {
		return nil, err
	}
	policy, _, err := st.Policy(ctx)
	if err != nil {
		return nil, err
	}
	var related func(filter.Subject, string) bool
	if people := f.People(); len(people) > 0 { // person: terms (docs/offboarding.md)
		if related, err = st.PersonRelated(ctx, people); err != nil {
			return nil, err
		}
	}
	uses := make([]SnapshotUse, len(snaps))
	envs := make(map[int64]*filter.Env, len(snaps))
	for si, snap := range snaps {
		uses[si] = SnapshotUse{ID: snap.ID, Source: snap.Source, Account: snap.Account, Status: snap.Status, Digest: snap.Digest,
			AsOf: snap.StartedAt.UTC().Format(time.RFC3339)}
		// Each snapshot as of its own start: the same scope over the same
		// snapshots always selects the same identities.
		envs[snap.ID] = &filter.Env{Now: snap.StartedAt, Related: related}
	}
	// The newest snapshot stands for the campaign where one is named (the
	// campaigns table, Campaign.SnapshotID and AsOf).
	snap := snaps[0]
	status := audit.SnapshotComplete
	for _, s := range snaps {
		if s.ID > snap.ID {
			snap = s
		}
		if s.Status == audit.SnapshotPartial {
			status = audit.SnapshotPartial
		}
	}
	pool := reviewers
	if len(pool) == 0 {
		for _, r := range rmap {
			pool = append(pool, r)
		}
		pool = dedupe(pool)
		slices.Sort(pool)
	}
	sep, err := newSeparation(ctx, st, &Campaign{SnapshotID: snap.ID, Snapshots: uses, AllowAdminReview: true})
	if err != nil {
		return nil, err
	}
	rmap, err = ownersAsPeople(sep.dir, rmap)
	if err != nil {
		return nil, err
	}
	c := &creation{st: st, actor: actor, spec: spec, expr: expr, scope: f, envs: envs,
		snaps: snaps, all: all, newest: snap, status: status, uses: uses, policy: policy.Digest(),
		aliases: reviewerAliases, rmap: rmap, pool: pool, listed: reviewers, sep: sep, notRead: campaignNotRead(all, snaps, spec)}
	if spec.CarryForward != "" {
		if c.carry, err = closedCampaign(ctx, st, spec.CarryForward); err != nil {
			return nil, err
		}
		// An identity the earlier campaign froze under another ID (its
		// repository renamed since) is matched through the renames.
		ren, err := readRenames(ctx, st)
		if err != nil {
			return nil, err
		}
		if len(ren) > 0 {
			c.lineages = ren.lineages()
		}
	}

	// The population streams from the store in ID order, a batch at a
	// time, so a campaign over a million identities never holds them all
	// (create_population.go): on an evidence file straight into the
	// transaction that records it, on PostgreSQL through a spool file.
	record := c.recordLocked
	if st.Remote() || createSpooled {
		record = c.recordSpooled
	}
	pop, ev, err := record(ctx)
	if err != nil {
		return nil, err
	}
	res := &Created{Snapshot: *snap, Event: ev, Assigned: pop.assigned, Carried: pop.carried,
		CarriedAs: pop.carriedAs, Unassigned: pop.unassigned, Returned: pop.returned, NotRead: c.notRead,
		Unevaluated: pop.unevaluated}
	for _, s := range snaps {
		res.Snapshots = append(res.Snapshots, *s)
	}
	if res.Campaign, err = load(ctx, st, spec.Name); err != nil {
		return nil, err
	}
	return res, nil
}

// itemBatch is how many campaign items are frozen, carried forward and
// inserted at a time: 500 rows of 12 parameters stay under SQLite's
// 32,766 bound parameters.
const itemBatch = 500

// itemInserter writes a campaign's items in statements of itemBatch
// rows. A full batch always has the same shape, so its statement is
// parsed once per campaign: parsing 13 × 500 placeholders for every
// batch of a million items took 3 s (issue 21). The campaign's ID is
// written into the statement, the same in every row, rather than bound
// a million times.
type itemInserter struct {
	tx         *audit.Tx
	campaignID int64
	full       *sql.Stmt // the statement of a full batch, once prepared
	args       []any
}

// itemParams are the parameters of an item's row.
const itemParams = 12

func newItemInserter(tx *audit.Tx, campaignID int64) *itemInserter {
	return &itemInserter{tx: tx, campaignID: campaignID, args: make([]any, 0, itemParams*itemBatch)}
}

func (w *itemInserter) sql(rows int) string {
	row := "(" + strconv.FormatInt(w.campaignID, 10) + ",?,?,?,?,?,?,?,?,?,?,?,?)"
	return `INSERT INTO campaign_items (campaign_id, ` + frozenColumns + `, row_hash) VALUES ` + strings.Repeat(row+",", rows-1) + row
}

// insert writes items with their row hashes.
func (w *itemInserter) insert(ctx context.Context, items []frozen, hashes []string) error {
	for start := 0; start < len(items); start += itemBatch {
		end := min(start+itemBatch, len(items))
		args := w.args[:0]
		for i := start; i < end; i++ {
			f := &items[i]
			args = append(args, f.id, f.kind, f.name, f.scope, f.owner, f.naturalOwner,
				f.findings, f.permissions, f.reviewer, f.carried, f.carriedReason, hashes[i])
		}
		var err error
		if end-start == itemBatch {
			if w.full == nil {
				if w.full, err = w.tx.Prepare(ctx, w.sql(itemBatch)); err != nil {
					return fmt.Errorf("recording the campaign's population: %w", err)
				}
			}
			_, err = w.full.ExecContext(ctx, args...)
		} else {
			_, err = w.tx.Exec(ctx, w.sql(end-start), args...)
		}
		clear(args) // the strings of this batch are not kept past it
		if err != nil {
			return fmt.Errorf("recording the campaign's population: %w", err)
		}
	}
	return nil
}

// freeze is an identity as a campaign item records it: findings and
// permissions in the JSON encoding/json writes (appendFindingsJSON,
// appendPermissionsJSON), which row hashes and population digests cover.
func freeze(id *audit.Identity) (frozen, error) {
	return frozen{
		id: id.ID, kind: string(id.Kind), name: id.Name, scope: id.Scope,
		owner: id.Owner, naturalOwner: audit.NaturalOwner(&id.Observation),
		findings:    string(appendFindingsJSON(make([]byte, 0, findingsSize(id.Findings)), id.Findings)),
		permissions: string(appendPermissionsJSON(nil, id.Permissions)),
	}, nil
}

func describeSnapshots(snaps []*audit.Snapshot) string {
	var each []string
	for _, c := range snaps {
		each = append(each, fmt.Sprintf("%s/%s #%d", audit.Printable(c.Source), audit.Printable(c.Account), c.ID))
	}
	if len(each) == 1 {
		return "snapshot " + each[0]
	}
	return "snapshots " + strings.Join(each, ", ")
}

// pickSnapshots chooses the snapshots a campaign's population comes from,
// in source/account order: the ones named, else the current snapshot of
// every source/account the spec's Sources and Accounts allow. It also
// returns every snapshot of the file, newest first.
func pickSnapshots(ctx context.Context, st *audit.Store, spec Spec) ([]*audit.Snapshot, []audit.Snapshot, error) {
	all, err := st.Snapshots(ctx) // newest first
	if err != nil {
		return nil, nil, err
	}
	var picked []*audit.Snapshot
	named := slices.Clone(spec.SnapshotIDs)
	if spec.SnapshotID != 0 {
		named = append(named, spec.SnapshotID)
	}
	if len(named) > 0 {
		if len(spec.Sources) > 0 || len(spec.Accounts) > 0 {
			return nil, nil, fmt.Errorf("%w: --snapshot names the snapshots itself; leave out --source and --account", ErrSnapshotChoice)
		}
		seen := map[[2]string]int64{}
		for _, id := range named {
			s := findSnapshot(all, id)
			if s == nil || !finished(s) {
				return nil, nil, fmt.Errorf("%w: snapshot %d does not exist or did not finish (see `nhi snapshots`)", ErrNoSnapshot, id)
			}
			k := [2]string{s.Source, s.Account}
			if prev, ok := seen[k]; ok {
				if prev == id {
					continue
				}
				return nil, nil, fmt.Errorf("%w: snapshots %d and %d are both of %s/%s; a campaign reviews one snapshot per source and account",
					ErrSnapshotChoice, prev, id, audit.Printable(s.Source), audit.Printable(s.Account))
			}
			seen[k] = id
			picked = append(picked, s)
		}
	} else {
		cur := audit.CurrentOf(all)
		if len(cur) == 0 {
			return nil, nil, fmt.Errorf("%w to review yet: take one with `nhi snapshot github --org ORG` (or `nhi demo`)", ErrNoSnapshot)
		}
		for i := range cur {
			if wanted(spec.Sources, cur[i].Source) && wanted(spec.Accounts, cur[i].Account) {
				picked = append(picked, findSnapshot(all, cur[i].ID))
			}
		}
		if len(picked) == 0 {
			var each []string
			for _, c := range cur {
				each = append(each, fmt.Sprintf("%s/%s", audit.Printable(c.Source), audit.Printable(c.Account)))
			}
			return nil, nil, fmt.Errorf("%w: no source/account matches --source %s --account %s; the evidence file holds %s",
				ErrNoSnapshot, orAny(spec.Sources), orAny(spec.Accounts), strings.Join(each, ", "))
		}
	}
	slices.SortFunc(picked, func(a, b *audit.Snapshot) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Account, b.Account))
	})
	return picked, all, nil
}

// refusePartial refuses the partial snapshots that gave items to the
// population (counts, by snapshot ID), unless allowed: their population may
// be incomplete. A partial snapshot the scope took nothing from stays in
// the campaign, listed with its gaps, and create warns of it: the scope
// may have excluded its source, or its gaps hidden what it would select.
func refusePartial(all []audit.Snapshot, picked []*audit.Snapshot, counts map[int64]int, allow bool) error {
	if allow {
		return nil
	}
	var partial []string
	var example string
	for _, snap := range picked {
		if snap.Status != audit.SnapshotPartial || counts[snap.ID] == 0 {
			continue
		}
		msg := fmt.Sprintf("snapshot %d (%s/%s) could not read %s", snap.ID, audit.Printable(snap.Source), audit.Printable(snap.Account), audit.Counted(len(snap.Gaps), "endpoint", "endpoints"))
		if len(snap.Gaps) > 0 && example == "" {
			g := snap.Gaps[0]
			example = fmt.Sprintf(" (e.g. %s: %s)", audit.Printable(g.Endpoint), audit.Printable(g.Reason))
		}
		for i := range all {
			if all[i].Status == audit.SnapshotComplete && all[i].Source == snap.Source && all[i].Account == snap.Account {
				msg += fmt.Sprintf("; its newest complete one is --snapshot %d (%s)", all[i].ID, all[i].StartedAt.Format(time.RFC3339))
				break
			}
		}
		partial = append(partial, msg)
	}
	if len(partial) > 0 {
		hint := "--snapshot ID to pick a complete one"
		if len(picked) > 1 {
			hint = "--snapshot ID for each source/account to pick complete ones, --source/--account to leave it out"
		}
		return fmt.Errorf("%w: %s%s, so the population may be incomplete. Take a complete snapshot, pass --allow-partial to review it anyway (its gaps stay on record), or %s",
			ErrPartial, strings.Join(partial, "; "), example, hint)
	}
	return nil
}

func orAny(list []string) string {
	if len(list) == 0 {
		return "(any)"
	}
	return audit.Printable(strings.Join(list, ","))
}

// assigner gives every item a reviewer, deterministically, one item at a
// time as the population streams past in ID order, keeping only each
// reviewer's load: an item whose owner the map names goes to the mapped
// reviewer; any other goes to the eligible reviewer with the fewest
// items so far, ties to the one listed first. A reviewer is never
// assigned an item they own; an item every reviewer owns gets none ("").
type assigner struct {
	pool    []string
	rmap    map[string]string
	dir     *audit.Directory
	ownedBy func(*frozen, string) bool
	load    map[string]int
}

func newAssigner(pool []string, rmap map[string]string, dir *audit.Directory, ownedBy func(*frozen, string) bool) *assigner {
	return &assigner{pool: pool, rmap: rmap, dir: dir, ownedBy: ownedBy, load: map[string]int{}}
}

// assign gives f its reviewer, the next in ID order after those before.
func (a *assigner) assign(f *frozen) {
	owns := func(r string) bool { return a.ownedBy(f, r) }
	if r, ok := mappedReviewer(f, a.rmap, a.dir); ok && !owns(r) {
		f.reviewer = r
		a.load[normActor(r)]++
		return
	}
	best := ""
	for _, r := range a.pool {
		if owns(r) {
			continue
		}
		if best == "" || a.load[normActor(r)] < a.load[normActor(best)] {
			best = r
		}
	}
	f.reviewer = best
	if best != "" {
		a.load[normActor(best)]++
	}
}

// resolveReviewers makes each reviewer the person the directory knows
// (their e-mail), in place, and returns the aliases that were typed
// instead. With a directory, a reviewer it does not know is refused, and
// so is the creator reviewing without allowAdmin. Without one, names stay
// as typed.
func resolveReviewers(ctx context.Context, st *audit.Store, actor string, allowAdmin bool, reviewers []string, rmap map[string]string) (map[string]string, error) {
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	aliases := map[string]string{}
	canon := func(r string) (string, error) {
		if dir.Len() == 0 {
			return r, nil
		}
		p := dir.Lookup(r)
		if p == nil {
			return "", dir.Unknown("reviewer", r)
		}
		if p.Status == audit.PersonLeft {
			return "", fmt.Errorf("%w: reviewer %s (%s) %s; name someone still here", ErrNoReviewer, audit.Printable(r), p.Email, p.LeftNote())
		}
		if p.Email != r {
			aliases[p.Email] = r
		}
		return p.Email, nil
	}
	for i, r := range reviewers {
		if reviewers[i], err = canon(r); err != nil {
			return nil, err
		}
	}
	for o, r := range rmap {
		if rmap[o], err = canon(r); err != nil {
			return nil, fmt.Errorf("--reviewer-map: %w", err)
		}
	}
	if !allowAdmin {
		for _, r := range append(slices.Clone(reviewers), slices.Collect(maps.Values(rmap))...) {
			if dir.Same(r, actor) {
				return nil, fmt.Errorf("%w: %s creates this campaign and is also a reviewer of it; the creator may not review items. Name other reviewers, or pass --allow-admin-review (the report shows it)",
					ErrSeparation, audit.Printable(actor))
			}
		}
	}
	if len(aliases) == 0 {
		return nil, nil
	}
	return aliases, nil
}

func mappedReviewer(f *frozen, rmap map[string]string, dir *audit.Directory) (string, bool) {
	if len(rmap) == 0 {
		return "", false
	}
	for _, o := range []string{f.owner, f.naturalOwner} {
		if o == "" {
			continue
		}
		if r, ok := rmap[ownerKey(dir, o)]; ok {
			return r, true
		}
	}
	return "", false
}

// ownerKey is how an owner is looked up in a reviewer map: the person's
// e-mail when the directory knows the name under any alias (so a map
// written with e-mails finds identities owned by GitHub logins), else
// the name itself, case-folded, without a login's "@".
func ownerKey(dir *audit.Directory, owner string) string {
	if p := dir.Lookup(owner); p != nil {
		return normActor(p.Email)
	}
	return normActor(owner)
}

// ownersAsPeople rewrites a reviewer map's owners as ownerKey sees them.
// Two owners that are aliases of one person mapped to different reviewers
// are an error: which one applies would depend on how the identity's owner
// happens to be spelled.
func ownersAsPeople(dir *audit.Directory, rmap map[string]string) (map[string]string, error) {
	if len(rmap) == 0 || dir.Len() == 0 {
		return rmap, nil
	}
	out := make(map[string]string, len(rmap))
	from := map[string]string{}
	for _, o := range slices.Sorted(maps.Keys(rmap)) {
		k, r := ownerKey(dir, o), rmap[o]
		if prev, ok := out[k]; ok && !dir.Same(prev, r) {
			return nil, fmt.Errorf("--reviewer-map: %s and %s are the same person (%s) but are mapped to different reviewers (%s and %s); keep one row",
				audit.Printable(from[k]), audit.Printable(o), k, audit.Printable(prev), audit.Printable(r))
		}
		out[k], from[k] = r, o
	}
	return out, nil
}

// closedCampaign is the campaign --carry-forward names, which must be
// closed so its decisions are final.
func closedCampaign(ctx context.Context, st *audit.Store, name string) (*Campaign, error) {
	prev, err := load(ctx, st, name)
	if err != nil {
		return nil, fmt.Errorf("--carry-forward: %w", err)
	}
	if prev.Status != StatusClosed {
		return nil, fmt.Errorf("--carry-forward: %w: close %s first, so its decisions are final", ErrOpen, prev.Name)
	}
	return prev, nil
}

// carryForward pre-fills the keep decisions of a closed earlier campaign
// for items unchanged since: same owner (recorded, and natural), no finding
// the earlier item did not have, same permissions. Decommission and rotate
// decisions are never carried (they asked for a change that should have
// happened), nor is no-response. It reads the earlier items of this batch
// only, so a population streams through it.
//
// An item is matched by its ID, else, when its repository was renamed
// since the earlier campaign froze it, by an ID its identity had then
// (lin, the renames as create read them: renames.go): the earlier item's
// keep is carried as any is, and as[item] records the earlier ID, which
// the campaign.create event lists (carried_as). n counts both.
func carryForward(ctx context.Context, st *audit.Store, prev *Campaign, items []frozen, lin *lineages, as map[string]string) (n int, err error) {
	if len(items) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(items)+1)
	args = append(args, prev.ID)
	for i := range items {
		args = append(args, items[i].id)
	}
	var others map[string][]string // item -> the other IDs of its identity
	for i := range items {
		if ids := lin.others(items[i].id); len(ids) > 0 {
			if others == nil {
				others = map[string][]string{}
			}
			others[items[i].id] = ids
			for _, id := range ids {
				args = append(args, id)
			}
		}
	}
	rows, err := st.Query(ctx, `SELECT `+frozenColumns+`, `+stateColumns+` FROM campaign_items
		WHERE campaign_id = ? AND identity_id IN (?`+strings.Repeat(",?", len(args)-2)+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("reading campaign %s's items: %w", prev.Name, err)
	}
	defer rows.Close()
	byID := make(map[string]*liveItem, len(items))
	for rows.Next() {
		it := new(liveItem)
		if err := scanFrozen(rows, &it.frozen, it.scanArgs()...); err != nil {
			return 0, err
		}
		byID[it.id] = it
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i := range items {
		cur := &items[i]
		p, from := byID[cur.id], ""
		if p == nil {
			// The first by ID, as renamedItem takes, so the same
			// earlier item is always the one carried.
			for _, id := range others[cur.id] {
				if p = byID[id]; p != nil {
					from = id
					break
				}
			}
		}
		if p == nil || p.decision != Keep || !unchanged(&p.frozen, cur) {
			continue
		}
		cur.carried, cur.carriedReason = string(Keep), p.reason
		if from != "" {
			as[cur.id] = from
		}
		n++
	}
	return n, nil
}

func unchanged(prev, cur *frozen) bool {
	if normActor(prev.owner) != normActor(cur.owner) || normActor(prev.naturalOwner) != normActor(cur.naturalOwner) {
		return false
	}
	if prev.permissions != cur.permissions {
		return false
	}
	var a, b []audit.Finding
	if json.Unmarshal([]byte(prev.findings), &a) != nil || json.Unmarshal([]byte(cur.findings), &b) != nil {
		return false
	}
	had := map[string]bool{}
	for _, f := range a {
		had[f.Rule] = true
	}
	for _, f := range b {
		if !had[f.Rule] {
			return false
		}
	}
	return true
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || slices.ContainsFunc(out, func(o string) bool { return sameActor(o, s) }) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ReadReviewerMap reads an owner→reviewer mapping: CSV rows "owner,reviewer";
// a first row "owner,reviewer" is a header; blank lines and lines starting
// with "#" are skipped. An owner listed twice is an error.
func ReadReviewerMap(r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	out := map[string]string{}
	line := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("reviewer map: %w", err)
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("reviewer map: row %d has %d fields; want owner,reviewer", line, len(rec))
		}
		owner, reviewer := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if line == 1 && strings.EqualFold(owner, "owner") && strings.EqualFold(reviewer, "reviewer") {
			continue
		}
		if owner == "" || reviewer == "" {
			return nil, fmt.Errorf("reviewer map: row %d: owner and reviewer must both be given", line)
		}
		if prev, ok := out[normActor(owner)]; ok {
			return nil, fmt.Errorf("reviewer map: owner %s is mapped twice (to %s and %s)", audit.Printable(owner), audit.Printable(prev), audit.Printable(reviewer))
		}
		out[normActor(owner)] = reviewer
	}
	return out, nil
}
