package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// collector builds a report's rows as the campaign's items are read, a
// batch at a time (campaigns.EachAsOf): each row goes to the spool files
// of the long tables (spool.go), and what the rest of the report says of
// every row — counts, statistics, the events behind it — is accumulated
// as it passes.
type collector struct {
	ctx  context.Context
	st   *audit.Store
	r    *Report
	c    *campaigns.Campaign
	long *longTables
	asOf int64

	snaps []audit.Snapshot
	// register
	end           time.Time
	hasDue        bool
	pastDue       bool
	takenAfterDue map[int64]bool
	rem           Remediation
	checked       map[int64]bool
	converted     map[sharedFindings][]Finding
	n             int
	exceptions    *campaigns.ExceptionReader
	sigs          map[int64]audit.Signature
	// history
	filters   map[int64]string
	others    map[string][]HistoryEntry
	bulk      map[int64]*BulkDecision
	trail     []HistoryEntry
	trailRows map[int]Row
	trailsOut int // items with more than one event beyond the page
	itemTrail []HistoryEntry
	// notes: where each identity's notes are in notes
	notesOf map[string][]int
	notes   []Note
	// attestation and population
	sum        Summary
	rotation   rotationCounts
	inCampaign map[int64]map[string]int
	all        map[string]int
	reviewers  *reviewerAcc
	signed     map[string]int
	sigSeqs    map[int64]bool
	verifySeqs map[int64]bool
	offboard   *offboardAcc
	// policiesUnread are the items whose policies the snapshot they were
	// frozen from did not read (audit.AttrPoliciesUnknown).
	policiesUnread map[string]bool
	// verified are the reasons each campaign.verify event recorded, read
	// once per event.
	verified map[int64]*campaigns.VerifyPayload
	// self re-checks who decided, as nhi verify does; selfEvents are the
	// events it found a self-review in (docs/report.md, "Self-reviews").
	self       *campaigns.SelfReviews
	selfEvents map[int64]bool
	// rowSelf is the check of the decision in force of the item whose
	// row registerRow made last, which its history reuses (selfReview).
	rowSelf struct {
		seq int64
		sr  campaigns.SelfReview
		ok  bool
	}
}

type sharedFindings struct {
	first *audit.Finding
	n     int
}

func (k *collector) begin(c *campaigns.Campaign) error {
	k.c = c
	k.end, k.hasDue = dueEnd(c.Due)
	k.pastDue = k.hasDue && !k.r.generatedAt.Before(k.end)
	k.takenAfterDue = map[int64]bool{}
	for i := range k.snaps {
		k.takenAfterDue[k.snaps[i].ID] = k.hasDue && !k.snaps[i].StartedAt.Before(k.end)
	}
	k.rem = Remediation{Rows: []Row{}, Snapshots: []SnapshotRef{}}
	k.checked, k.converted = map[int64]bool{}, map[sharedFindings][]Finding{}
	var err error
	if k.exceptions, err = campaigns.NewExceptionReader(k.ctx, k.st, c, k.asOf); err != nil {
		return err
	}
	if k.sigs, err = k.st.Signatures(k.ctx); err != nil {
		return err
	}
	k.filters, k.bulk, k.trailRows = map[int64]string{}, map[int64]*BulkDecision{}, map[int]Row{}
	if k.others, err = decisionEvents(k.ctx, k.st, c.Name, k.asOf); err != nil {
		return err
	}
	all, err := k.st.NotesUpTo(k.ctx, k.asOf)
	if err != nil {
		return err
	}
	k.notesOf = map[string][]int{}
	for i, n := range all {
		k.notesOf[n.Identity] = append(k.notesOf[n.Identity], i)
		k.notes = append(k.notes, Note{Event: n.Seq, At: ts(n.At), Actor: clean(n.Actor), Text: clean(n.Text)})
	}
	k.inCampaign, k.all = map[int64]map[string]int{}, map[string]int{}
	k.reviewers = newReviewerAcc(c)
	k.signed, k.sigSeqs, k.verifySeqs = map[string]int{}, map[int64]bool{}, map[int64]bool{}
	if k.offboard, err = startOffboarding(k.ctx, k.st, c, k.asOf); err != nil {
		return err
	}
	if k.policiesUnread, err = policiesUnread(k.ctx, k.st, c); err != nil {
		return err
	}
	if k.self, err = campaigns.ReadSelfReviews(k.ctx, k.st, c.Name, k.asOf); err != nil {
		return err
	}
	k.selfEvents = map[int64]bool{}
	return nil
}

// policiesUnread are the identities of c's snapshots whose policies were
// not read (audit.AttrPoliciesUnknown): their permissions, frozen empty
// or in part, are not all they are granted. The LIKE finds the marker's
// text without decoding each row's attributes; json_extract confirms it.
func policiesUnread(ctx context.Context, st *audit.Store, c *campaigns.Campaign) (map[string]bool, error) {
	out := map[string]bool{}
	for _, u := range c.Snapshots {
		rows, err := st.Query(ctx, `SELECT identity_id FROM observations WHERE snapshot_id = ?
			AND attributes LIKE '%"`+audit.AttrPoliciesUnknown+`":"true"%' AND json_extract(attributes, '$.`+audit.AttrPoliciesUnknown+`') = 'true'`, u.ID)
		if err != nil {
			return nil, fmt.Errorf("reading what was not read of snapshot %d: %w", u.ID, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// permissionsNotRead is the permissions cell of an item whose policies
// were not read: "not read", or what was read and that it is not all.
func permissionsNotRead(perms string) string {
	if perms == "" {
		return "not read (" + audit.AttrPoliciesUnknown + ")"
	}
	return perms + "; not read whole (" + audit.AttrPoliciesUnknown + ")"
}

// add takes one batch of items.
func (k *collector) add(b *campaigns.Batch) error {
	xs, err := k.exceptions.Of(k.ctx, k.st, b)
	if err != nil {
		return err
	}
	if len(k.converted) > 10_000 {
		clear(k.converted)
	}
	for i := range b.Items {
		it := &b.Items[i]
		k.n++
		row, decommissioned := k.registerRow(it, b.Events[i], k.n)
		if err := k.verificationReason(&row, it.ID, b.Snapshots[i]); err != nil {
			return err
		}
		if decommissioned {
			// Listed as the register had it before exception terms and
			// signatures were added (none of which a decommission has).
			k.long.addRow(tableDecommissions, &row)
			if len(k.rem.Rows) < pageRows {
				k.rem.Rows = append(k.rem.Rows, row)
			}
		}
		if x := xs[row.ID]; x != nil {
			row.ExceptionExpires, row.ExceptionApprovedBy, row.ExceptionState = x.Expires, clean(x.ApprovedBy), x.State
			if n := x.NotApproved; n != nil {
				// Here and in the approval's line of the item's trail.
				row.ExceptionNotApproved = clean(n.String())
				for j, h := range k.others[row.ID] {
					if h.Event == n.Event {
						k.others[row.ID][j].Detail = joinDetail(h.Detail, row.ExceptionNotApproved)
					}
				}
			}
		}
		if isException(&row) {
			k.long.noteReason(&row)
			k.long.addRow(tableExceptions, &row)
			if len(k.r.Exceptions) < pageRows {
				k.r.Exceptions = append(k.r.Exceptions, row)
			}
		}
		if err := k.history(it, &row); err != nil {
			return err
		}
		for _, j := range k.notesOf[row.ID] {
			k.notes[j].N, k.notes[j].ID, k.notes[j].Name = row.N, row.ID, row.Name
		}
		k.count(&row)
		k.reviewers.add(it, &row)
		k.inCampaign[b.Snapshots[i]] = countKind(k.inCampaign[b.Snapshots[i]], row.Kind)
		k.all[row.Kind]++
		if sg, ok := k.sigs[row.Event]; ok && row.Via != "" {
			row.SignedBy = sg.Fingerprint
			k.signed[normActor(row.DecidedBy)]++
			k.sigSeqs[row.Event] = true
		}
		if v := row.VerifyEvent; v != 0 {
			k.verifySeqs[v] = true
		}
		if k.offboard != nil {
			if err := k.offboard.add(k.ctx, k.st, &row); err != nil {
				return err
			}
		}
		k.long.addRow(tableRegister, &row)
		if len(k.r.Register) < pageRows {
			k.r.Register = append(k.r.Register, row)
		}
	}
	return nil
}

func countKind(m map[string]int, kind string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[kind]++
	return m
}

// registerRow is item it's row of the register (n is its number) and
// whether it is a decommission the remediation lists.
func (k *collector) registerRow(it *campaigns.Item, ev campaigns.ItemEvents, n int) (Row, bool) {
	c := k.c
	row := Row{
		N: n, ID: clean(it.ID), Kind: clean(string(it.Kind)), KindLabel: clean(it.Kind.Label()),
		Name: clean(it.Name), Scope: clean(it.Scope), Owner: clean(it.Owner), Holder: clean(it.NaturalOwner),
		Permissions: permissions(it.Permissions), Findings: k.conv(it.Findings), Reviewer: clean(it.Reviewer),
		Decision: it.State(), DecidedBy: clean(it.DecidedBy), DecidedAt: tsp(it.DecidedAt), Event: ev.Decision,
		Reason: clean(it.Reason), Carried: string(it.Carried), CarriedWhy: clean(it.CarriedReason),
	}
	if k.policiesUnread[it.ID] {
		row.Permissions = permissionsNotRead(row.Permissions)
	}
	// The flags gather in a small array, then take one allocation of
	// their size (none without flags).
	var flagBuf [16]string
	flags := flagBuf[:0]
	if it.Decision != campaigns.Pending && it.Decision != campaigns.NoResponse {
		row.Via = via(it, ev.Decision)
	}
	if it.Decision == campaigns.NoResponse {
		// Nobody decided: the close is not a decision time.
		row.DecidedBy, row.DecidedAt, row.ClosedAt = "", "", tsp(c.ClosedAt)
	}
	flag := func(ok bool, f string) {
		if ok {
			flags = append(flags, f)
		}
	}
	decided := it.Decision != campaigns.Pending && it.Decision != campaigns.NoResponse
	flag(it.Decision == campaigns.NoResponse, FlagNoResponse)
	flag(it.Reviewer == "", FlagUnassigned)
	flag(decided && it.Reviewer != "" && !it.Assigned(), FlagNotAssignee)
	flag(it.Conflict, FlagConflict)
	flag(it.Carried != campaigns.Pending, FlagCarried)
	flag(row.Via == campaigns.ViaBulk || row.Via == campaigns.ViaConfirm, FlagBulk)
	flag(len(it.History) > 1, FlagChanged)
	flag(decided && k.hasDue && it.DecidedAt != nil && !it.DecidedAt.Before(k.end), FlagLate)
	if it.Escalated != nil {
		row.EscalatedTo, row.EscalateEvent = clean(it.Escalated.To), it.Escalated.Seq
		flag(true, FlagEscalated)
	}
	if it.Decision == campaigns.NoResponse {
		flag(c.NoResponse.On == campaigns.OnNoResponseKeep, FlagKeptByRule)
		flag(c.NoResponse.On == campaigns.OnNoResponseDecommission, FlagDecommissionByRule)
	}
	if it.CurrentID != "" {
		row.CurrentID = clean(it.CurrentID)
		flag(true, FlagRenamed)
	}
	k.rowSelf.seq = 0
	if decided {
		k.rowSelf.seq = ev.Decision
		k.rowSelf.sr, k.rowSelf.ok = k.self.Of(ev.Decision, it)
		flag(k.rowSelf.ok, FlagSelfReview)
	}
	if (it.Decision == campaigns.Rotate || it.Decision == campaigns.Transfer) && it.Verification != "" {
		// What a later snapshot (or the log, for a transfer) showed.
		row.Verification, row.VerifiedSnapshot, row.VerifyEvent = it.Verification, it.VerifiedSnapshot, ev.Verify
	}
	// An item the no-response rule decommissions is proven gone like a
	// reviewer's decommission, and listed with them.
	decommissioned := it.Decision == campaigns.Decommission || it.Decision == campaigns.NoResponse && c.NoResponse.On == campaigns.OnNoResponseDecommission
	if decommissioned {
		rem := &k.rem
		row.Verification, row.VerifiedSnapshot, row.VerifyEvent = it.Verification, it.VerifiedSnapshot, ev.Verify
		if row.Verification == "" {
			row.Verification = NotVerified
		}
		// Overdue only on a snapshot's word: one taken after the due
		// date still shows it. Past due without one, it is not yet
		// checked — never assumed removed, never assumed overdue.
		afterDue := k.takenAfterDue[it.VerifiedSnapshot] && row.Verification != NotVerified
		row.Overdue = afterDue && row.Verification == campaigns.StillPresent
		flag(row.Overdue, FlagOverdue)
		notYet := k.pastDue && row.Verification != campaigns.Removed && !row.Overdue &&
			!(afterDue && row.Verification == campaigns.StillPresent)
		flag(notYet, FlagNotYetChecked)
		if notYet {
			rem.NotYetChecked++
		}
		if it.VerifiedSnapshot != 0 {
			k.checked[it.VerifiedSnapshot] = true
		}
		rem.Decommission++
		switch row.Verification {
		case campaigns.Removed:
			rem.Removed++
		case campaigns.StillPresent:
			rem.StillPresent++
		case campaigns.NotChecked:
			rem.NotChecked++
		default:
			rem.NotVerified++
		}
		if row.Overdue {
			rem.Overdue++
		}
	}
	row.Flags = noFlags
	if len(flags) > 0 {
		row.Flags = slices.Clone(flags)
	}
	return row, decommissioned
}

var (
	noFlags    = []string{}
	noFindings = []Finding{}
)

// verificationReason gives a row with a verification why it stands so,
// in the words campaign verify printed: the reasons its campaign.verify
// event recorded, or, for a decommission no later snapshot has checked,
// that none has (id is the item's ID as frozen, base the snapshot it was
// frozen from).
func (k *collector) verificationReason(row *Row, id string, base int64) error {
	switch {
	case row.Verification == NotVerified:
		if s := findSnapshot(k.snaps, base); s != nil {
			row.VerificationReason = campaigns.NotVerifiedReason(s.Source, s.Account, s.ID, 1)
		}
		return nil
	case row.Verification == "" || row.VerifyEvent == 0:
		return nil
	}
	p := k.verified[row.VerifyEvent]
	if p == nil {
		e, err := k.st.EventAt(k.ctx, row.VerifyEvent)
		if err != nil {
			return err
		}
		// Only the reasons are kept: the lists may name a million items.
		var why struct {
			Why    map[string]string `json:"not_checked_why"`
			Detail map[string]string `json:"detail"`
		}
		if err := unmarshal(e, &why); err != nil {
			return err
		}
		p = &campaigns.VerifyPayload{Why: why.Why, Detail: why.Detail}
		if k.verified == nil {
			k.verified = map[int64]*campaigns.VerifyPayload{}
		}
		k.verified[row.VerifyEvent] = p
	}
	row.VerificationReason = clean(p.Reason(id, row.Verification))
	return nil
}

// conv converts an item's findings; items with the same findings text
// share one decoded slice (see campaigns.EachAsOf): convert each once.
func (k *collector) conv(fs []audit.Finding) []Finding {
	if len(fs) == 0 {
		return noFindings
	}
	key := sharedFindings{&fs[0], len(fs)}
	out, ok := k.converted[key]
	if !ok {
		out = findings(fs)
		k.converted[key] = out
	}
	return out
}

// count adds a row to the attestation's summary and the rotation claim.
func (k *collector) count(row *Row) {
	s := &k.sum
	s.Items++
	switch campaigns.Decision(row.Decision) {
	case campaigns.Decommission:
		s.Decommission++
	case campaigns.Keep:
		s.Keep++
	case campaigns.Rotate:
		s.Rotate++
	case campaigns.Transfer:
		s.Transfer++
	case campaigns.NoResponse:
		s.NoResponse++
	default:
		s.Pending++
	}
	if len(row.Findings) > 0 {
		s.WithFindings++
	}
	if slices.Contains(row.Flags, FlagNotAssignee) {
		s.NotAssignee++
	}
	if slices.Contains(row.Flags, FlagConflict) {
		s.Conflicts++
	}
	if row.Overdue {
		s.Overdue++
	}
	if slices.Contains(row.Flags, FlagNotYetChecked) {
		s.NotYetChecked++
	}
	if slices.Contains(row.Flags, FlagLate) {
		s.Late++
	}
	if slices.Contains(row.Flags, FlagSelfReview) {
		s.SelfReviewsInForce++
	}
	if row.ExceptionNotApproved != "" {
		s.ExceptionsNotApproved++
	}
	k.rotation.add(row)
}

// history writes item it's decision trail (its row is row) to the
// history table, and keeps what the HTML and Markdown reports show of it.
func (k *collector) history(it *campaigns.Item, row *Row) error {
	out, err := k.itemHistory(it, row, k.itemTrail[:0])
	if err != nil {
		return err
	}
	k.itemTrail = out
	for i := range out {
		e := &out[i]
		k.long.addHistory(e)
		if _, ok := k.sigs[e.Event]; ok {
			k.sigSeqs[e.Event] = true
		}
		if e.Via == campaigns.ViaBulk || e.Via == campaigns.ViaConfirm {
			bd := k.bulk[e.Event]
			if bd == nil {
				d := e.Decision
				if e.Via == campaigns.ViaConfirm {
					d = "confirm carried"
				}
				bd = &BulkDecision{Event: e.Event, Type: e.Type, At: e.At, Actor: e.Actor, Decision: d, Filter: e.Filter, Reason: e.Reason}
				k.bulk[e.Event] = bd
			}
			bd.Items++
		}
	}
	if row.N <= pageRows {
		k.r.History = append(k.r.History, out...)
	}
	if len(out) > 1 {
		if len(k.trailRows) < pageRows {
			k.trail = append(k.trail, out...)
			k.trailRows[row.N] = *row
		} else {
			k.trailsOut++
		}
	}
	return nil
}

// filterOf is the filter of a bulk decision or confirmation event.
func (k *collector) filterOf(seq int64) (string, error) {
	if f, ok := k.filters[seq]; ok {
		return f, nil
	}
	e, err := k.st.EventAt(k.ctx, seq)
	if err != nil {
		return "", err
	}
	var p struct {
		Filter string `json:"filter"`
	}
	if err := unmarshal(e, &p); err != nil {
		return "", err
	}
	k.filters[seq] = clean(p.Filter)
	return k.filters[seq], nil
}

// finish completes the report once every item has passed.
func (k *collector) finish() {
	r := k.r
	k.long.review = reviewLimits{minChars: r.review.MinReasonChars, maxKinds: r.review.MaxReasonKinds}
	for i := range r.Register {
		k.long.judge(&r.Register[i])
	}
	for i := range r.Exceptions {
		k.long.judge(&r.Exceptions[i])
	}
	for n, row := range k.trailRows {
		k.long.judge(&row)
		k.trailRows[n] = row
	}
	for i := len(k.snaps) - 1; i >= 0; i-- { // Snapshots is newest first
		if s := &k.snaps[i]; k.checked[s.ID] {
			k.rem.Snapshots = append(k.rem.Snapshots, SnapshotRef{ID: s.ID, Started: ts(s.StartedAt), Status: s.Status, Digest: s.Digest})
		}
	}
	r.Remediation = k.rem
	if r.Exceptions == nil {
		r.Exceptions = []Row{}
	}
	if r.Register == nil {
		r.Register = []Row{}
	}
	if r.History == nil {
		r.History = []HistoryEntry{}
	}
	r.BulkDecisions = []BulkDecision{}
	for _, b := range k.bulk {
		r.BulkDecisions = append(r.BulkDecisions, *b)
	}
	slices.SortFunc(r.BulkDecisions, func(a, b BulkDecision) int { return cmp.Compare(a.Event, b.Event) })
	// Notes in log order, of the population's identities only.
	r.Notes = []Note{}
	for _, n := range k.notes {
		if n.N != 0 {
			r.Notes = append(r.Notes, n)
		}
	}
	r.trail, r.trailRows, r.trailsOut = k.trail, k.trailRows, k.trailsOut
	for reason, n := range k.long.reasonCount {
		if len(k.long.reasonKinds[reason]) > k.long.review.maxKinds {
			r.reusedReasons += n
		}
	}
	r.shortReasons = k.long.short
	k.sum.SelfReviewEvents = sortedSeqs(k.selfEvents)
}

// rotationCounts are what the PCI DSS 8.6.3 row says (rotationClaim):
// of the rotate decisions, how each stands after its verification; of
// the items flagged unrotated or no-expiry, what was decided.
type rotationCounts struct {
	n, rotated, not, removed, notChecked int
	flagged                              int
	flaggedBy                            map[string]int // decision (state) of the flagged items
}

func (c *rotationCounts) add(row *Row) {
	for i := range row.Findings {
		if r := row.Findings[i].Rule; r == audit.RuleUnrotated || r == audit.RuleNoExpiry {
			c.flagged++
			if c.flaggedBy == nil {
				c.flaggedBy = map[string]int{}
			}
			c.flaggedBy[row.Decision]++
			break
		}
	}
	if row.Decision != string(campaigns.Rotate) {
		return
	}
	c.n++
	switch row.Verification {
	case campaigns.Rotated:
		c.rotated++
	case campaigns.NotRotated:
		c.not++
	case campaigns.Removed:
		c.removed++
	case campaigns.NotChecked:
		c.notChecked++
	}
}

// trailRow is the register row of an item whose trail the HTML and
// Markdown reports show.
func (r *Report) trailRow(n int) *Row {
	row := r.trailRows[n]
	return &row
}

// count is how many rows table t has.
func (r *Report) count(t table) int {
	if r.long != nil {
		return r.long.n[t]
	}
	switch t {
	case tableRegister:
		return len(r.Register)
	case tableExceptions:
		return len(r.Exceptions)
	case tableDecommissions:
		return len(r.Remediation.Rows)
	}
	return len(r.History)
}

// eachRow calls fn with every row of table t in order: from the spool
// files while a bundle is written, else from the report's slices.
func (r *Report) eachRow(t table, fn func(*Row)) error {
	if r.long != nil {
		return r.long.eachRow(t, true, fn)
	}
	rows := r.Register
	switch t {
	case tableExceptions:
		rows = r.Exceptions
	case tableDecommissions:
		rows = r.Remediation.Rows
	}
	for i := range rows {
		fn(&rows[i])
	}
	return nil
}

// eachHistory calls fn with every entry of the decision history in order.
func (r *Report) eachHistory(fn func(*HistoryEntry)) error {
	if r.long != nil {
		return r.long.eachHistory(true, fn)
	}
	for i := range r.History {
		fn(&r.History[i])
	}
	return nil
}

// materialise reads the long tables back into the report's slices and
// deletes their spool files: the report Build returns holds every row.
func (r *Report) materialise() error {
	l := r.long
	if l == nil {
		return nil
	}
	defer l.remove()
	read := func(t table) ([]Row, error) {
		out := make([]Row, 0, l.n[t])
		err := l.eachRow(t, false, func(x *Row) { out = append(out, *x) })
		return out, err
	}
	var err error
	if r.Register, err = read(tableRegister); err != nil {
		return err
	}
	if r.Exceptions, err = read(tableExceptions); err != nil {
		return err
	}
	if r.Remediation.Rows, err = read(tableDecommissions); err != nil {
		return err
	}
	h := make([]HistoryEntry, 0, l.n[tableHistory])
	if err := l.eachHistory(false, func(e *HistoryEntry) { h = append(h, *e) }); err != nil {
		return err
	}
	r.History = h
	r.long = nil
	return nil
}

// close deletes what a report built for a bundle keeps on disk while the
// bundle is written. Reports from Build keep nothing; Close does nothing.
func (r *Report) close() {
	if r.long != nil {
		r.long.remove()
		r.long = nil
	}
}

// sortedSeqs lists a set's events in order.
func sortedSeqs(set map[int64]bool) []int64 {
	return slices.Sorted(maps.Keys(set))
}

// trails yields the trails the report prints, an item's events each, in
// item order: the first pageRows items with more than one event, which
// the collector kept (the others, trailsOut, are left to history.csv and
// report.json). The HTML and Markdown pages print the same ones.
func (r *Report) trails() iter.Seq[[]HistoryEntry] {
	return func(yield func([]HistoryEntry) bool) {
		h := r.trail
		for i := 0; i < len(h); {
			j := i + 1
			for j < len(h) && h[j].N == h[i].N {
				j++
			}
			if !yield(h[i:j]) {
				return
			}
			i = j
		}
	}
}
