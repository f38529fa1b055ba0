package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Remediation is the state of a closed campaign's decommission decisions in
// one later snapshot. A campaign over several sources or accounts has one
// per source/account: a snapshot checks only the items of its own.
type Remediation struct {
	Campaign string
	Due      string
	// Base is the campaign's snapshot of the source/account Snapshot is a
	// later snapshot of.
	Base     audit.Snapshot
	Snapshot audit.Snapshot
	// Each decommission item of Base is in exactly one list, in ID order.
	Removed      []string          // gone from the snapshot
	StillPresent []string          // still there
	NotChecked   []string          // where it lives was not read (audit.Coverage.Looked)
	Why          map[string]string // why, for each not-checked item
	// As names, for a still-present item that continues under another ID
	// (its repository renamed, a token request approved), that ID.
	As map[string]string
	// Overdue lists the still-present items when Snapshot was taken after
	// the campaign's due date: approved for removal, not removed in time.
	Overdue []string
	// Rotate decisions (rotation.go): rotated, not rotated, or removed
	// since (listed under Removed), or not checked (under NotChecked);
	// transfer decisions: transferred or not. Detail says why, for each.
	Rotated        []string
	NotRotated     []string
	Transferred    []string
	NotTransferred []string
	Detail         map[string]string
	// RotateChecks are the rotate items listed under Removed or
	// NotChecked, so that what is said of decommissions counts them
	// apart (the campaign.verify event lists them there, as before).
	RotateChecks []string
	// Access is, for an offboarding campaign of a person, whether the
	// leaver's tokens and SSO authorizations are gone from this snapshot
	// ("revoked"), still there ("held", listed in AccessHeld) or
	// "not-checked"; "" otherwise.
	Access     string
	AccessHeld []string
	// ByRule are the items nobody decided that the campaign's no-response
	// rule decommissions (on-no-response: decommission): verified like a
	// reviewer's decommission, and each is in one of the lists above too.
	ByRule []string
	// Recorded says a campaign.verify event was appended; false when this
	// snapshot (or a newer one) was already recorded for the campaign.
	Recorded bool
	Event    audit.Event
}

// VerifyRemediation checks a closed campaign's decommission decisions
// against the newest finished snapshot of each of its sources/accounts
// taken after the campaign's own, and records each result
// (campaign.verify) unless that snapshot was already recorded for it. It
// returns one Remediation per source/account that has such a snapshot, in
// the campaign's order; ErrNoSnapshot when none has. The items of a
// source/account without one stay unverified: nothing else may claim them.
func VerifyRemediation(ctx context.Context, st *audit.Store, actor, name string) ([]Remediation, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusClosed {
		return nil, fmt.Errorf("%w: close %s first (`nhi campaign close %s`); its decisions are verified once they are final", ErrOpen, c.Name, c.Name)
	}
	snaps, err := st.Snapshots(ctx) // newest first
	if err != nil {
		return nil, err
	}
	// Every source/account's items are read in one pass (verifyAll), and
	// each result then recorded in the campaign's order.
	var checks []*accountCheck
	var waiting []string
	for _, id := range c.snapshotIDs() {
		base := findSnapshot(snaps, id)
		if base == nil {
			// Those before it are verified and recorded first, as when
			// each was checked in turn.
			out, err := verifyAll(ctx, st, actor, c, checks)
			if err != nil {
				return out, err
			}
			return nil, fmt.Errorf("campaign %s: its snapshot %d is missing from the file", c.Name, id)
		}
		later := newestAfter(snaps, base)
		if later == nil {
			waiting = append(waiting, fmt.Sprintf("%s/%s since snapshot %d", audit.Printable(base.Source), audit.Printable(base.Account), base.ID))
			continue
		}
		checks = append(checks, &accountCheck{base: base, snap: later})
	}
	out, err := verifyAll(ctx, st, actor, c, checks)
	if err != nil {
		return out, err
	}
	if len(out) == 0 {
		what := "it"
		if len(waiting) > 1 {
			what = "any of them" // one is enough to check its items
		}
		return nil, fmt.Errorf("%w of %s (campaign %s's population): take a new snapshot of %s (`nhi snapshot SOURCE ...`), then verify again",
			ErrNoSnapshot, strings.Join(waiting, ", nor of "), c.Name, what)
	}
	return out, nil
}

// Awaiting counts, for each snapshot of c, its decommission decisions
// (with the no-response items its rule decommissions): what waits for a
// later snapshot of that source/account. An item is of the snapshot
// ItemSnapshots says. Counted in SQL, where nhi campaign verify read the
// campaign whole (campaigns.Get) and mapped every item's snapshot to count
// them (issue 21).
func Awaiting(ctx context.Context, st *audit.Store, c *Campaign) (map[int64]int, error) {
	fourth := Decommission // listed twice: no-response items are kept
	if c.NoResponse.On == OnNoResponseDecommission {
		fourth = NoResponse
	}
	out := map[int64]int{}
	ids := c.snapshotIDs()
	if len(ids) == 1 {
		var n int
		if err := st.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE campaign_id = ? AND decision IN (?, ?)`,
			c.ID, string(Decommission), string(fourth)).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting campaign items: %w", err)
		}
		out[ids[0]] = n
		return out, nil
	}
	bySource := c.snapshotBySource()
	rows, err := st.Query(ctx, `SELECT i.source, i.account, count(*) FROM campaign_items ci JOIN identities i ON i.id = ci.identity_id
		WHERE ci.campaign_id = ? AND ci.decision IN (?, ?) GROUP BY i.source, i.account`, c.ID, string(Decommission), string(fourth))
	if err != nil {
		return nil, fmt.Errorf("counting campaign items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var source, account string
		var n int
		if err := rows.Scan(&source, &account, &n); err != nil {
			return nil, err
		}
		out[bySource[[2]string{source, account}]] += n
	}
	return out, rows.Err()
}

// verifiedAccount, when set (by a test), runs after each source/account's
// result is recorded, with everything the verification holds still held:
// where a heap profile sees what it keeps.
var verifiedAccount func()

// newestAfter is the newest finished snapshot of base's source/account
// taken after it, or nil.
func newestAfter(snaps []audit.Snapshot, base *audit.Snapshot) *audit.Snapshot {
	for i := range snaps { // newest first
		s := &snaps[i]
		if s.ID > base.ID && finished(s) && s.Source == base.Source && s.Account == base.Account {
			return s
		}
	}
	return nil
}

// VerifyAfterSnapshot checks every closed campaign with a snapshot of the
// same account that predates this one, and records each result: the items
// of that account only. It is meant to run right after a snapshot
// finishes:
//
//	snap, err := connectors.Snapshot(ctx, st, conn, version)
//	if err == nil && snap != nil {
//		results, err := campaigns.VerifyAfterSnapshot(ctx, st, actor, snap.ID)
//		...
//	}
//
// Campaigns without decommission decisions are left out.
func VerifyAfterSnapshot(ctx context.Context, st *audit.Store, actor string, snapshotID int64) ([]Remediation, error) {
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	snap := findSnapshot(snaps, snapshotID)
	if snap == nil || !finished(snap) {
		return nil, fmt.Errorf("%w: snapshot %d does not exist or did not finish", ErrNoSnapshot, snapshotID)
	}
	list, err := List(ctx, st)
	if err != nil {
		return nil, err
	}
	var out []Remediation
	for i := range list {
		c := &list[i]
		if c.Status != StatusClosed {
			continue
		}
		if c.Progress.ByDecision[Decommission]+c.Progress.ByDecision[Rotate]+c.Progress.ByDecision[Transfer] == 0 {
			if c.Progress.ByDecision[NoResponse] == 0 {
				continue
			}
			if rule, err := noResponseRule(ctx, st, c); err != nil {
				return out, err
			} else if rule.On != OnNoResponseDecommission {
				continue
			}
		}
		for _, id := range c.snapshotIDs() {
			base := findSnapshot(snaps, id)
			if base == nil || base.ID >= snap.ID || base.Source != snap.Source || base.Account != snap.Account {
				continue
			}
			rs, err := verifyAll(ctx, st, actor, c, []*accountCheck{{base: base, snap: snap}})
			if err != nil {
				return out, err
			}
			if r := &rs[0]; len(r.Removed)+len(r.StillPresent)+len(r.NotChecked)+len(r.Rotated)+len(r.NotRotated)+len(r.Transferred)+len(r.NotTransferred) > 0 || r.Access != "" {
				out = append(out, *r)
			}
		}
	}
	return out, nil
}

// Reason is why item id stands as state after this verification, in the
// words nhi campaign verify prints under it (verifyReason).
func (r *Remediation) Reason(id, state string) string {
	return verifyReason(state, r.Why[id], r.Detail[id])
}

// Reason is why item id stands as state after the verification this
// event recorded, in the words nhi campaign verify printed under it: the
// evidence report gives each row these (verifyReason).
func (p *VerifyPayload) Reason(id, state string) string {
	return verifyReason(state, p.Why[id], p.Detail[id])
}

// NotCheckedWords say what a not-checked item is when its event recorded
// no reason (written before reasons were): campaign verify's heading.
const NotCheckedWords = "the checking snapshot did not read where it lives, so it may or may not be gone"

// verifyReason is the one wording of why a verified item stands as it
// does, for campaign verify, the trail and the report alike: why it was
// not checked (the gap the snapshot recorded, or the rotation's words:
// "updated_at …, on …, the day they left, whose hour is not known"), or
// what the snapshot showed of a rotate or transfer decision; "" for a
// removal or a still-present item, which need none.
func verifyReason(state, why, detail string) string {
	switch {
	case why != "":
		return why
	case detail != "":
		return detail
	case state == NotChecked:
		return NotCheckedWords
	}
	return ""
}

// NotVerifiedReason is why the decisions (n of them) of a campaign frozen
// from snapshot base of source/account are not verified: no check of a
// later snapshot is recorded for them. Campaign verify says it of an
// account, the report of each such row.
func NotVerifiedReason(source, account string, base int64, n int) string {
	return fmt.Sprintf("no snapshot of %s/%s taken since snapshot %d has checked %s yet", audit.Printable(source), audit.Printable(account), base, audit.Plural(n, "it", "them"))
}

// Decommissions are the lists of decommission items alone: Removed,
// StillPresent and NotChecked without the rotate items among them.
func (r *Remediation) Decommissions() (removed, stillPresent, notChecked []string) {
	rot := r.rotateSet()
	return without(r.Removed, rot, true), r.StillPresent, without(r.NotChecked, rot, true)
}

// RotateRemoved are the rotate items gone from the snapshot, and
// RotateNotChecked those it could not check.
func (r *Remediation) RotateRemoved() []string { return without(r.Removed, r.rotateSet(), false) }

func (r *Remediation) RotateNotChecked() []string { return without(r.NotChecked, r.rotateSet(), false) }

func (r *Remediation) rotateSet() map[string]bool {
	set := make(map[string]bool, len(r.RotateChecks))
	for _, id := range r.RotateChecks {
		set[id] = true
	}
	return set
}

// without is ids without those in set (drop), or only those (!drop).
func without(ids []string, set map[string]bool, drop bool) []string {
	var out []string
	for _, id := range ids {
		if set[id] != drop {
			out = append(out, id)
		}
	}
	return out
}

func finished(s *audit.Snapshot) bool {
	return s.Status == audit.SnapshotComplete || s.Status == audit.SnapshotPartial
}

func findSnapshot(snaps []audit.Snapshot, id int64) *audit.Snapshot {
	for i := range snaps {
		if snaps[i].ID == id {
			return &snaps[i]
		}
	}
	return nil
}

// accountCheck is the verification of one source/account of a campaign:
// its snapshot in the campaign (base), the later one its items are
// checked against (snap), what judges them there, and the result.
type accountCheck struct {
	base, snap *audit.Snapshot
	r          *Remediation
	read       *audit.Coverage  // what snap read
	cov        *renamedCoverage // read, with the scopes renamed since base
	aliasSeen  map[string]bool  // the renamed identities' IDs now that snap holds
	rot        *rotationCheck   // made at its first rotate item
}

// verifyAll checks the decommission, rotate and transfer items of c
// against each check's later snapshot and records each result, in the
// order of checks. The campaign's items are read once for all of them,
// through a cursor, one at a time (judgeItems): what is kept of them is
// the lists of IDs the campaign.verify events record.
func verifyAll(ctx context.Context, st *audit.Store, actor string, c *Campaign, checks []*accountCheck) ([]Remediation, error) {
	if len(checks) == 0 {
		return nil, nil
	}
	// An identity whose repository was renamed is still there under its
	// new ID (see audit's lineage.go).
	aliases, err := st.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	ob, err := offboardingOf(ctx, st, c.ID)
	if err != nil {
		return nil, err
	}
	rule, err := noResponseRule(ctx, st, c)
	if err != nil {
		return nil, err
	}
	for _, k := range checks {
		if k.aliasSeen, err = observedAmong(ctx, st, k.snap.ID, aliases); err != nil {
			return nil, err
		}
		if k.read, err = st.Coverage(ctx, k.snap.ID); err != nil {
			return nil, err
		}
		if k.cov, err = renamedScopes(ctx, st, k.read, k.base, k.snap, aliases); err != nil {
			return nil, err
		}
		k.r = &Remediation{Campaign: c.Name, Due: c.Due, Base: *k.base, Snapshot: *k.snap,
			Removed: []string{}, StillPresent: []string{}, NotChecked: []string{}, Overdue: []string{}, Why: map[string]string{}, As: map[string]string{},
			Detail: map[string]string{}}
	}
	if err := judgeItems(ctx, st, c, checks, aliases, ob, rule.On == OnNoResponseDecommission); err != nil {
		return nil, err
	}
	for _, k := range checks {
		k.rot = nil // the snapshots it holds whole are not needed to record
	}
	var out []Remediation
	for _, k := range checks {
		if err := k.record(ctx, st, actor, c, ob); err != nil {
			return out, err
		}
		out = append(out, *k.r)
		if verifiedAccount != nil {
			verifiedAccount()
		}
	}
	return out, nil
}

// judgeItems reads the items of c that a later snapshot checks, in ID
// order, and puts each in the lists of its check's result.
func judgeItems(ctx context.Context, st *audit.Store, c *Campaign, checks []*accountCheck, aliases map[string]string, ob *Offboarding, byRule bool) error {
	rows, err := verifyItems(ctx, st, c, checks, byRule)
	if err != nil || rows == nil {
		return err
	}
	defer rows.Close()
	var dir *audit.Directory
	for rows.Next() {
		var it verifyItem
		var of sql.NullInt64
		if err := rows.Scan(&it.id, &it.kind, &it.scope, &it.decision, &it.seq, &of, &it.observed); err != nil {
			return fmt.Errorf("reading campaign items: %w", err)
		}
		if !of.Valid {
			continue // of a source/account no later snapshot checks
		}
		k := checks[of.Int64]
		r := k.r
		d := it.decision
		if d == NoResponse {
			// Decommissioned by the campaign's rule (verifyItems reads
			// no-response items only then): proven gone like a
			// reviewer's decommission (docs/campaigns.md, "No response").
			d = Decommission
			r.ByRule = append(r.ByRule, it.id)
		}
		cur := it.id
		if a, ok := aliases[it.id]; ok && k.aliasSeen[a] && !it.observed {
			r.As[it.id], cur = a, a
		}
		switch d {
		case Rotate:
			if k.rot == nil {
				if k.rot, err = newRotation(ctx, st, ob, k.base, k.snap, k.cov); err != nil {
					return err
				}
				// Both snapshots were read whole beside the open cursor,
				// which would then read its pages from the file again for
				// each item (docs/performance.md, "One page cache for the
				// process"); a failure here is no failure of the check.
				_ = st.ReleasePageCache(ctx)
			}
			s, why := k.rot.judge(it.id, cur, audit.Kind(it.kind), it.scope)
			if audit.Kind(it.kind) == audit.KindGitHubDeployKey {
				replacement, err := decidedReplacement(ctx, st, it.seq)
				if err != nil {
					return err
				}
				if replacement != "" {
					s, why = k.rot.judgeReplacement(it.id, cur, it.scope, replacement)
				}
			}
			switch s {
			case Rotated:
				r.Rotated = append(r.Rotated, it.id)
				r.Detail[it.id] = why
			case NotRotated:
				r.NotRotated = append(r.NotRotated, it.id)
				r.Detail[it.id] = why
			case Removed:
				r.Removed = append(r.Removed, it.id)
				r.Detail[it.id] = why
				r.RotateChecks = append(r.RotateChecks, it.id)
			default:
				r.NotChecked = append(r.NotChecked, it.id)
				r.Why[it.id] = why
				r.RotateChecks = append(r.RotateChecks, it.id)
			}
			continue
		case Transfer:
			if dir == nil {
				if dir, err = st.People(ctx); err != nil {
					return err
				}
			}
			s, why, err := judgeTransfer(ctx, st, dir, it.id, it.seq, aliases[it.id])
			if err != nil {
				return err
			}
			r.Detail[it.id] = why
			if s == Transferred {
				r.Transferred = append(r.Transferred, it.id)
			} else {
				r.NotTransferred = append(r.NotTransferred, it.id)
			}
			continue
		}
		if it.observed || k.aliasSeen[aliases[it.id]] {
			r.StillPresent = append(r.StillPresent, it.id)
			continue
		}
		// Removed only where the snapshot read the place it lived: the one
		// rule identity status and nhi diff follow too.
		switch looked, why := k.cov.Looked(audit.Kind(it.kind), it.scope); {
		case !looked:
			r.NotChecked = append(r.NotChecked, it.id)
			r.Why[it.id] = why
		default:
			r.Removed = append(r.Removed, it.id)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	return nil
}

// record completes k's result (what is overdue, an offboarding's access)
// and records it as a campaign.verify event with its items' states,
// unless this snapshot or a newer one was already recorded for them.
func (k *accountCheck) record(ctx context.Context, st *audit.Store, actor string, c *Campaign, ob *Offboarding) error {
	r, snap := k.r, k.snap
	// Overdue on the snapshot's word, as the report says it: one taken
	// after the due date still shows it. Verified later against one taken
	// by then, it is still present, no more (docs/campaigns.md).
	if pastDue(c.Due, snap.StartedAt) {
		r.Overdue = slices.Clip(r.StillPresent) // the same IDs: nothing appends to either
	}
	if ob != nil && ob.Person != "" && snap.Source == "github" {
		if err := checkAccess(ctx, st, ob, snap, k.read, r); err != nil {
			return err
		}
	}
	// Each item verified is in exactly one list, which names its state;
	// a list holds its items in the cursor's order, their key's.
	byState := r.byState()
	if len(byState) == 0 && r.Access == "" {
		return nil
	}
	return st.Write(ctx, func(tx *audit.Tx) error {
		// Already recorded against this snapshot or a newer one of the
		// same source/account?
		var newest int64
		if len(byState) > 0 {
			// A look-up per state, each over IDs in their key's order
			// (campaign_items' primary key), so its IN list's temporary
			// index is built in order and the look-up goes through the
			// table's pages in order, as the updates below do: in a
			// map's order each went to a page of its own, which the
			// transaction's small cache had let go (the updates of
			// 100,631 items read their pages back from the WAL 178,000
			// times, and the IN list's index 55,000 times:
			// docs/performance.md, "One page cache for the process").
			for _, s := range byState {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT COALESCE(max(verified_snapshot), 0) FROM campaign_items
			WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))`, c.ID, jsonStrings(s.ids)).Scan(&n); err != nil {
					return err
				}
				newest = max(newest, n)
			}
		} else {
			// Only the leaver's access was checked here (no decision of
			// this source/account is verified): it is recorded all the
			// same, once per snapshot, for the report reads each
			// account's (docs/offboarding.md, "Proof").
			if err := tx.QueryRow(ctx, `SELECT COALESCE(max(s.id), 0) FROM events e
			JOIN snapshots s ON s.id = CAST(json_extract(e.payload, '$.snapshot') AS INTEGER)
			WHERE e.type = ? AND json_extract(e.payload, '$.campaign') = ? AND s.source = ? AND s.account = ?`,
				EventVerify, c.Name, snap.Source, snap.Account).Scan(&newest); err != nil {
				return err
			}
		}
		if newest >= snap.ID {
			return nil
		}
		p := VerifyPayload{Campaign: c.Name, Snapshot: snap.ID,
			Removed: r.Removed, StillPresent: r.StillPresent, NotChecked: r.NotChecked, Why: r.Why,
			Rotated: r.Rotated, NotRotated: r.NotRotated, Transferred: r.Transferred, NotTransferred: r.NotTransferred,
			Access: r.Access, AccessHeld: r.AccessHeld, ByRule: r.ByRule}
		if len(r.Detail) > 0 {
			p.Detail = r.Detail
		}
		ev, err := tx.Append(ctx, actor, EventVerify, p)
		if err != nil {
			return err
		}
		r.Event, r.Recorded = ev, true
		// One statement per state (removed, still-present, ...), each over
		// its items' IDs, as writeDecisions records a bulk decision. An
		// update of one item a statement wrote the page it changed to the
		// statement journal each time (the foreign keys make every
		// statement one that may have to be undone): 100,631 items wrote
		// 103,000 pages of 32 KiB, 3.4 GB, to that temporary file, and
		// each statement cost its parse and a seek besides. A statement
		// over many items journals each page it changes once.
		for _, s := range byState {
			if _, err := tx.Exec(ctx, `UPDATE campaign_items SET verification = ?, verified_snapshot = ?, verify_seq = ?
				WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))`, s.state, snap.ID, ev.Seq, c.ID, jsonStrings(s.ids)); err != nil {
				return fmt.Errorf("recording verification (%s): %w", s.state, err)
			}
		}
		return nil
	})
}

// verifyItem is what a verification reads of an item, and no more: an
// item's findings and permissions, which a liveItem holds, are most of its
// bytes.
type verifyItem struct {
	id, kind, scope string
	decision        Decision
	seq             int64
	observed        bool // the later snapshot holds its ID
}

// verifyItems reads, in ID order, the items of c that a later snapshot
// checks (decommission, rotate and transfer decisions, and no-response
// ones where byRule, the campaign's rule decommissioning them): the
// columns of verifyItem, with the index in checks of the check of the
// item's source/account (NULL for none) before its observed. It is nil
// when no item can be of any check. An item is of the snapshot of c
// whose source/account its identity has, as ItemSnapshots says. Read so,
// a campaign's items are never all held at once (issue 21), where they
// were read whole, findings and permissions too, with a map of every
// item's snapshot and a set of every ID each later snapshot holds.
func verifyItems(ctx context.Context, st *audit.Store, c *Campaign, checks []*accountCheck, byRule bool) (*sql.Rows, error) {
	fourth := Decommission // a decision listed twice: no-response is not verified
	if byRule {
		fourth = NoResponse
	}
	var of, later string // the check's index and its later snapshot, as SQL
	var args []any
	multi := len(c.snapshotIDs()) > 1
	if !multi {
		id := c.snapshotIDs()[0]
		k := slices.IndexFunc(checks, func(k *accountCheck) bool { return k.base.ID == id })
		if k < 0 {
			return nil, nil
		}
		of, later = strconv.Itoa(k), strconv.FormatInt(checks[k].snap.ID, 10)
	} else {
		// ItemSnapshots' rule: the snapshot of c of the item's
		// source/account, the last listed where two share one. The
		// source/account is asked of the identity, one look-up an item,
		// once for all the checks.
		bySource := c.snapshotBySource()
		var ofCase, laterCase strings.Builder
		var pairArgs []any
		for _, u := range c.Snapshots {
			p := [2]string{u.Source, u.Account}
			if bySource[p] != u.ID {
				continue // a later one of the same source/account is the item's
			}
			k := slices.IndexFunc(checks, func(k *accountCheck) bool { return k.base.ID == bySource[p] })
			if k < 0 {
				continue
			}
			fmt.Fprintf(&ofCase, " WHEN i.source = ? AND i.account = ? THEN %d", k)
			fmt.Fprintf(&laterCase, " WHEN i.source = ? AND i.account = ? THEN %d", checks[k].snap.ID)
			pairArgs = append(pairArgs, p[0], p[1])
		}
		if len(pairArgs) == 0 {
			return nil, nil
		}
		of, later = "CASE"+ofCase.String()+" END", "CASE"+laterCase.String()+" END"
		args = append(append(args, pairArgs...), pairArgs...)
	}
	q := `SELECT ci.identity_id, ci.kind, ci.scope, ci.decision, COALESCE(ci.decision_seq, 0), ` + of + `,
		EXISTS (SELECT 1 FROM observations o WHERE o.snapshot_id = ` + later + ` AND o.identity_id = ci.identity_id)
		FROM campaign_items ci`
	if multi {
		q += ` JOIN identities i ON i.id = ci.identity_id`
	}
	q += ` WHERE ci.campaign_id = ? AND ci.decision IN (?, ?, ?, ?) ORDER BY ci.identity_id`
	args = append(args, c.ID, string(Decommission), string(Rotate), string(Transfer), string(fourth))
	rows, err := st.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	return rows, nil
}

// observedAmong is which of the IDs aliases names (each renamed
// identity's ID now) snapshot snap holds.
func observedAmong(ctx context.Context, st *audit.Store, snap int64, aliases map[string]string) (map[string]bool, error) {
	seen := map[string]bool{}
	if len(aliases) == 0 {
		return seen, nil
	}
	ids := slices.Compact(slices.Sorted(maps.Values(aliases)))
	rows, err := st.Query(ctx, `SELECT identity_id FROM observations WHERE snapshot_id = ? AND identity_id IN (SELECT value FROM json_each(?))`,
		snap, jsonStrings(ids))
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snap, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		seen[id] = true
	}
	return seen, rows.Err()
}

// stateIDs are the items a verification found in one state, in the
// cursor's order.
type stateIDs struct {
	state string
	ids   []string
}

// byState is r's items by the state each is recorded in, the states in
// their name's order, each list one of r's: every item verified is in
// exactly one of them.
func (r *Remediation) byState() []stateIDs {
	var out []stateIDs
	for _, s := range []stateIDs{{NotChecked, r.NotChecked}, {NotRotated, r.NotRotated}, {NotTransferred, r.NotTransferred},
		{Removed, r.Removed}, {Rotated, r.Rotated}, {StillPresent, r.StillPresent}, {Transferred, r.Transferred}} {
		if len(s.ids) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// renamedCoverage is what a later snapshot read, where a scope of the
// campaign's snapshot may continue under another name: a repository
// renamed since. An identity absent from its old scope is looked for only
// where the snapshot also read its scope now; the old name being gone
// from the listing proves nothing of it (docs/campaigns.md,
// "Verification").
type renamedCoverage struct {
	*audit.Coverage
	moved audit.MovedScopes // scope in the campaign's snapshot -> its names now
}

// Looked is audit's rule for a renamed scope (Coverage.LookedMoved), as
// nhi identities and nhi diff judge it.
func (c *renamedCoverage) Looked(kind audit.Kind, scope string) (bool, string) {
	return c.Coverage.LookedMoved(c.moved.Names(scope), kind, scope)
}

// renamedScopes is cov with the scopes of base that continue in snap under
// another name: those of the identities of base that a rename links to
// identities of snap in another scope (each repository of a secret
// renamed, and, path by path, the scopes above it: acme/api/production
// becoming acme/api-v2/production renames acme/api too).
func renamedScopes(ctx context.Context, st *audit.Store, cov *audit.Coverage, base, snap *audit.Snapshot, aliases map[string]string) (*renamedCoverage, error) {
	rc := &renamedCoverage{Coverage: cov, moved: audit.MovedScopes{}}
	if len(aliases) == 0 {
		return rc, nil
	}
	was := map[string]string{} // current ID -> the scope its old ID had in base
	rows, err := st.Query(ctx, `SELECT identity_id, scope FROM observations WHERE snapshot_id = ? AND identity_id IN (SELECT value FROM json_each(?))`,
		base.ID, jsonStrings(slices.Collect(maps.Keys(aliases))))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, scope string
		if err := rows.Scan(&id, &scope); err != nil {
			rows.Close()
			return nil, err
		}
		was[aliases[id]] = scope
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(was) == 0 {
		return rc, err
	}
	rows, err = st.Query(ctx, `SELECT identity_id, scope FROM observations WHERE snapshot_id = ? AND identity_id IN (SELECT value FROM json_each(?))`,
		snap.ID, jsonStrings(slices.Collect(maps.Keys(was))))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, to string
		if err := rows.Scan(&id, &to); err != nil {
			return nil, err
		}
		rc.moved.Add(was[id], to)
	}
	return rc, rows.Err()
}

func jsonStrings(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
