package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

const (
	tsLayout    = "2006-01-02T15:04:05Z"
	dayLayout   = "2006-01-02"
	notReadText = "not read, so not reviewed"
)

// tablesAgree is what the integrity section says of the campaign's
// tables, which are projections of the log (campaigns.EachAsOf).
const tablesAgree = "Each row's decision and verification were read from the campaign's tables and held, as they were read, to the events that recorded them (a report as of an earlier event replays those events instead); an export that finds a difference writes nothing. The frozen population is covered by its digest, which nhi verify recomputes with the rest of the evidence file."

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(tsLayout)
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

// clean is audit.Printable, for every text that reaches a report.
func clean(s string) string { return audit.Printable(s) }

// Build reads campaign name from the evidence file as its log stood after
// opts.AsOf (the head now, when 0) and assembles the report, every row of
// its long tables in memory. Export does not: it writes the rows to the
// bundle as they are read (docs/report.md, "Large campaigns").
func Build(ctx context.Context, st *audit.Store, name string, opts Options) (*Report, error) {
	r, err := build(ctx, st, name, opts)
	if err != nil {
		return nil, err
	}
	if err := r.materialise(); err != nil {
		return nil, err
	}
	return r, nil
}

// build assembles the report with its long tables in spool files (see
// longTables), reading the campaign's items a batch at a time; the caller
// closes it (Report.close) once it is written.
func build(ctx context.Context, st *audit.Store, name string, opts Options) (*Report, error) {
	if opts.GeneratedAt.IsZero() {
		return nil, errors.New("report: the generation time is an input; set Options.GeneratedAt")
	}
	if opts.Key != nil && !ValidSigner(opts.Signer) {
		return nil, fmt.Errorf("report: signer %q cannot sign: use an email address or login (letters, digits and @._+- only)", audit.Printable(opts.Signer))
	}
	head, err := st.LogHead(ctx)
	if err != nil {
		return nil, err
	}
	if opts.AsOf == 0 {
		opts.AsOf = head.Seq
	} else if head, err = st.EventAt(ctx, opts.AsOf); err != nil {
		return nil, err
	}
	// A report dated before the last event it reflects would judge
	// timeliness at a moment of the caller's choosing (docs/report.md,
	// "Timeliness").
	if opts.GeneratedAt.Before(head.At.Truncate(time.Second)) {
		return nil, fmt.Errorf("report: generation time %s is before event %d (%s), the last event the report reflects: a report cannot be dated before what it shows; give a time at or after %s, or leave --generated-at out",
			ts(opts.GeneratedAt), head.Seq, ts(head.At), ts(head.At))
	}
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	long, err := newLongTables()
	if err != nil {
		return nil, err
	}
	r := &Report{
		Format:      FormatName,
		Tool:        clean(opts.Tool),
		GeneratedAt: ts(opts.GeneratedAt),
		generatedAt: opts.GeneratedAt,
		long:        long,
	}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	k := &collector{ctx: ctx, st: st, r: r, long: long, asOf: opts.AsOf, snaps: snaps}
	var (
		c        *campaigns.Campaign
		used     []*audit.Snapshot // the population's, in source/account order
		create   campaigns.CreatePayload
		policy   audit.Policy
		policyEv audit.Event
	)
	begin := func(cam *campaigns.Campaign) error {
		c = cam
		r.Draft = c.Status != campaigns.StatusClosed
		for _, u := range c.Snapshots {
			s := findSnapshot(snaps, u.ID)
			if s == nil {
				return fmt.Errorf("campaign %s: its snapshot %d is missing from the evidence file", c.Name, u.ID)
			}
			used = append(used, s)
		}
		createEv, err := st.EventAt(ctx, c.CreateSeq)
		if err != nil {
			return err
		}
		if err := unmarshal(createEv, &create); err != nil {
			return err
		}
		if policy, policyEv, err = st.PolicyByDigest(ctx, c.PolicyDigest, c.CreateSeq); err != nil {
			return fmt.Errorf("campaign %s: %w", c.Name, err)
		}
		r.review = policy.ReviewThresholds()
		long.review = reviewLimits{minChars: r.review.MinReasonChars, maxKinds: r.review.MaxReasonKinds}
		return k.begin(c)
	}
	if err := campaigns.EachAsOf(ctx, st, name, opts.AsOf, begin, k.add); err != nil {
		return nil, err
	}
	if err := long.finish(); err != nil {
		return nil, err
	}
	k.finish()
	r.Attestation = attestation(c, &create, policy, r, k.sum, k.rotation, opts)
	r.Population, err = population(ctx, st, c, used, k.inCampaign, k.all, k.sum.Items, opts.AsOf)
	if err != nil {
		return nil, err
	}
	r.Population.VerifyingSnapshots = verifyingSnapshots(snaps, r.Remediation.Snapshots)
	l, j := unread(&r.Population)+limits(&r.Population), notJudged(r.Population.Unevaluated)
	for i := range r.Attestation.Controls {
		switch r.Attestation.Controls[i].ID {
		case "CC6.2":
			r.Attestation.Controls[i].How += j + l
		case "7.2.5.1":
			r.Attestation.Controls[i].How += j
		}
	}
	r.Criteria = criteria(c, &create, policy, policyEv, used)
	r.Reviewers = k.reviewers.stats()
	judgeReviewers(&r.Reviewers, r.review)
	if err := people(ctx, st, c, r, k.signed, opts.AsOf); err != nil {
		return nil, err
	}
	if r.Signatures, err = st.SignedRecords(ctx, sortedSeqs(k.sigSeqs)); err != nil {
		return nil, err
	}
	if err := signaturesHold(r.Signatures); err != nil {
		return nil, err
	}
	if k.offboard != nil {
		if r.Offboarding, err = k.offboard.finish(ctx, st, c, opts.AsOf); err != nil {
			return nil, err
		}
		for _, s := range k.offboard.accessSeqs {
			k.verifySeqs[s] = true
		}
	}
	r.Integrity, err = integrity(ctx, st, c, used, head, opts, k.verifySeqs)
	if err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

func unmarshal(e audit.Event, v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("event %d (%s): %w", e.Seq, e.Type, err)
	}
	return nil
}

func findSnapshot(snaps []audit.Snapshot, id int64) *audit.Snapshot {
	for i := range snaps {
		if snaps[i].ID == id {
			return &snaps[i]
		}
	}
	return nil
}

// isException: kept or rotated although it had findings at creation.
func isException(r *Row) bool {
	return (r.Decision == string(campaigns.Keep) || r.Decision == string(campaigns.Rotate)) && len(r.Findings) > 0
}

// dueEnd is the end of the due day (UTC): due through that day.
func dueEnd(due string) (time.Time, bool) {
	d, err := time.Parse(dayLayout, due)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(24 * time.Hour), true
}

// via says how the current decision was made: the Via of the history
// entry of the event that made it (an undo puts back an earlier one).
func via(it *campaigns.Item, seq int64) string {
	for i := len(it.History) - 1; i >= 0; i-- {
		if h := it.History[i]; h.Seq == seq && h.Via != campaigns.ViaUndo {
			return h.Via
		}
	}
	return ""
}

func findings(fs []audit.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{Rule: clean(f.Rule), Severity: clean(f.Severity), OWASP: clean(f.OWASP), Message: clean(f.Message)})
	}
	return out
}

// permissions renders a permission map as "name:level" pairs in name order.
func permissions(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clean(k))
		b.WriteByte(':')
		b.WriteString(clean(m[k]))
	}
	return b.String()
}

func attestation(c *campaigns.Campaign, create *campaigns.CreatePayload, policy audit.Policy, r *Report, sum Summary, rotation rotationCounts, opts Options) Attestation {
	a := Attestation{
		Campaign: clean(c.Name), Status: c.Status, Scope: clean(c.Scope), ScopeInput: clean(create.ScopeInput), Due: c.Due,
		PeriodStart: ts(c.CreatedAt), CreatedAt: ts(c.CreatedAt), CreatedBy: clean(c.CreatedBy), CreateEvent: c.CreateSeq,
		ClosedAt: tsp(c.ClosedAt), ClosedBy: clean(c.ClosedBy), CloseEvent: c.CloseSeq,
		Reviewers: cleanAll(c.Reviewers), CarriedFrom: clean(c.CarriedFrom), Signer: clean(opts.Signer),
		Controls: controls(policy, rotation, sum),
	}
	if c.ClosedAt != nil {
		a.PeriodEnd, a.PeriodEndIs = tsp(c.ClosedAt), "closed"
	} else {
		a.PeriodEnd, a.PeriodEndIs = c.Due, "due date; still open"
	}
	// The register's counts, accumulated as its rows were read.
	a.Summary = sum
	s := &a.Summary
	if end, ok := dueEnd(c.Due); ok && c.ClosedAt != nil && c.ClosedAt.Before(end) {
		s.ClosedBeforeDue = true
	}
	s.Exceptions = r.count(tableExceptions)
	head := "the campaign as its event log stood when the report was generated"
	if r.Draft {
		head = "an interim state: the campaign is still open and its decisions may change"
	}
	// The words hold on both engines (a SQLite file, a PostgreSQL
	// database): the same story gives the same bundle on either, and a
	// bundle exported from the database verifies against nhi db export's
	// file, whose rebuild must match byte for byte (docs/team.md).
	kinds := "decommission, keep or rotate"
	if s.Transfer > 0 {
		kinds = "decommission, keep, rotate or transfer"
	}
	a.Statement = fmt.Sprintf("This report was generated by %s at %s from nhi's hash-chained event log. It shows %s. %s in scope: %d decided (%s), %d without response%s. %s attests that it is a complete and accurate extract of that log.",
		orDash(r.Tool), r.GeneratedAt, head, audit.Counted(s.Items, "identity was", "identities were"), s.Decommission+s.Keep+s.Rotate+s.Transfer, kinds, s.NoResponse,
		map[bool]string{true: fmt.Sprintf(", %d still pending", s.Pending), false: ""}[s.Pending > 0], orDash(a.Signer))
	if s.SelfReviews > 0 {
		a.SelfReview = selfReviewText(s)
	}
	return a
}

// selfReviewText is what the attestation says of the self-reviews the
// log holds (docs/report.md, "Self-reviews"), with their events: the
// first 20, and how many more report.json lists.
func selfReviewText(s *Summary) string {
	evs := s.SelfReviewEvents
	var list []string
	for _, e := range evs[:min(len(evs), 20)] {
		list = append(list, strconv.FormatInt(e, 10))
	}
	events := audit.Plural(len(evs), "event ", "events ") + strings.Join(list, ", ")
	if len(evs) > 20 {
		events += fmt.Sprintf(" and %d more (self_review_events in report.json)", len(evs)-20)
	}
	inForce := "none of them is a decision in force"
	if s.SelfReviewsInForce > 0 {
		inForce = fmt.Sprintf("%s in force (flag self-review in the register)", audit.Counted(s.SelfReviewsInForce, "of them is the decision", "of them are the decisions"))
	}
	return fmt.Sprintf("Self-review: %s by the identity's own owner or holder, a member of its owning team or the campaign's creator, or handed it to the decider herself (%s). nhi refuses such a decision, so %s written around nhi, and %s no independent review; nhi verify names each. %s; the decision history says whose each identity was.",
		audit.Counted(s.SelfReviews, "decision was made", "decisions were made"), events,
		audit.Plural(s.SelfReviews, "it was", "they were"), audit.Plural(s.SelfReviews, "it is", "they are"), strings.ToUpper(inForce[:1])+inForce[1:])
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cleanAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, clean(s))
	}
	return out
}

// controls lists the controls the report serves, each saying only what
// the campaign's data shows (s, its counts); PCI DSS 8.6.3 only when the
// policy checks rotation or expiry, and what it claims of rotation is
// only what later snapshots showed (rotationClaim).
func controls(p audit.Policy, rot rotationCounts, s Summary) []Control {
	decided := fmt.Sprintf("%d decided explicitly", s.Decommission+s.Keep+s.Rotate+s.Transfer)
	if open := s.NoResponse + s.Pending; open > 0 {
		decided += fmt.Sprintf(", %d without a decision (no response or pending)", open)
	}
	out := []Control{
		{"SOC 2", "CC6.2", "Registration, authorization and removal of credentials",
			"Every non-human credential nhi read in the accounts in scope is listed with the owner recorded for it, if any, and put to a named reviewer: " + decided + ". Access approved for removal is checked against a later snapshot of its account (Remediation), never assumed removed."},
		{"SOC 2", "CC6.3", "Access modified or removed based on roles and least privilege",
			"Each identity's permissions and findings (overprivileged, broad-scope, stale) were put before a reviewer who does not own it; keeping one with findings needs a written justification (see Exceptions)." + selfReviewed(s)},
		{"ISO/IEC 27001:2022", "A.5.18", "Access rights",
			"A periodic review of the access rights of non-human identities, with the period, the reviewers, each decision and its time on record, its justification where one was given (keeping or rotating an identity with findings needs one), and the follow-up of removals."},
		{"PCI DSS v4.0", "7.2.5.1", "Periodic review of application and system account access",
			"This campaign reviews the application and system accounts nhi read in scope and their privileges; the register records, for each, the reviewer assigned, who decided and the outcome, or that nobody did (no response)."},
	}
	if p.Rules[audit.RuleUnrotated].On() || p.Rules[audit.RuleNoExpiry].On() {
		out = append(out, Control{"PCI DSS v4.0", "8.6.3", "Passwords/secrets of application and system accounts protected against misuse", rotationClaim(rot, p)})
	}
	return out
}

// selfReviewed is what the CC6.3 claim must add when the log holds
// self-reviews written around nhi: "" when it holds none.
func selfReviewed(s Summary) string {
	if s.SelfReviews == 0 {
		return ""
	}
	return fmt.Sprintf(" But %s by the identity's own owner or holder, a member of its owning team or the campaign's creator, written around nhi (see the attestation): not reviewed independently.",
		audit.Counted(s.SelfReviews, "decision was made", "decisions were made"))
}

func population(ctx context.Context, st *audit.Store, c *campaigns.Campaign, used []*audit.Snapshot, inCampaign map[int64]map[string]int, all map[string]int, inScope int, asOf int64) (Population, error) {
	p := Population{InScope: inScope, PopulationDigest: c.PopulationDigest, Gaps: []Gap{}, Sources: []SourceEvidence{}}
	if len(used) == 1 {
		snap := used[0]
		p.Source, p.Account, p.APIURL, p.Credential, p.ToolVersion = clean(snap.Source), clean(snap.Account), clean(snap.APIURL), clean(snap.Credential), clean(snap.ToolVersion)
		p.Snapshot, p.SnapshotStatus, p.SnapshotStarted, p.SnapshotFinished, p.SnapshotDigest = snap.ID, snap.Status, ts(snap.StartedAt), tsp(snap.FinishedAt), snap.Digest
	} else {
		p.SnapshotStatus = audit.SnapshotComplete
	}
	counts := map[audit.Kind]int{}
	for k, u := range used {
		if u.Status == audit.SnapshotPartial {
			p.SnapshotStatus = audit.SnapshotPartial
		}
		for kind, n := range u.Counts {
			counts[kind] += n
		}
		p.SnapshotTotal += u.Total()
		e := snapshotEvidence(u, inCampaign[u.ID], notReadText)
		n := 0
		for _, x := range inCampaign[u.ID] {
			n += x
		}
		places, scoped, err := st.PlacesRead(ctx, u.ID)
		if err != nil {
			return p, err
		}
		comp := completeness(u)
		if scoped {
			comp.PlacesRead = &places
		}
		p.Sources = append(p.Sources, SourceEvidence{Snapshot: e, AsOf: c.Snapshots[k].AsOf, InScope: n, Completeness: comp})
		p.Gaps = append(p.Gaps, e.Gaps...)
	}
	for _, k := range kindOrder(counts, all) {
		p.Kinds = append(p.Kinds, KindCount{Kind: clean(string(k)), Label: clean(k.Label()), Snapshot: counts[k], Campaign: all[clean(string(k))]})
	}
	for _, n := range c.NotRead {
		effect := "never read: none of its identities are in the population"
		if n.Snapshot != 0 {
			effect = fmt.Sprintf("the population holds snapshot %d's older read of it, not what was there when the campaign was created", n.Snapshot)
		}
		p.AccountsNotRead = append(p.AccountsNotRead, AccountNotRead{Source: clean(n.Source), Account: clean(n.Account), Attempt: n.Attempt,
			Started: clean(n.Started), Status: clean(n.Status), Reason: clean(n.Reason), Snapshot: n.Snapshot, Effect: effect})
	}
	p.Unevaluated = c.Unevaluated
	var err error
	p.Reconciliation, err = reconcile(ctx, st, c, all, inScope, asOf)
	return p, err
}

// unread is what the CC6.2 claim must add when accounts the campaign
// reviews were not read: "" when every one was.
func unread(p *Population) string {
	if len(p.AccountsNotRead) == 0 {
		return ""
	}
	var parts []string
	for _, n := range p.AccountsNotRead {
		parts = append(parts, n.Source+"/"+n.Account+" ("+n.Effect+")")
	}
	return " Not every account in scope was read when the campaign was created (population section, Accounts not read): " + strings.Join(parts, "; ") + "."
}

// notJudged is what the claims that the campaign lists every credential
// read in scope (CC6.2, 7.2.5.1) must add when its scope could not judge
// n identities of the snapshots reviewed (docs/campaigns.md, "Identities
// the scope could not judge"): "" when it judged every one.
func notJudged(n int) string {
	if n == 0 {
		return ""
	}
	them := audit.Plural(n, "it", "them")
	return fmt.Sprintf(" Not listed: %s of the snapshots reviewed that the scope could not judge, what it asks of %s not read, so nobody reviewed %s here, in scope or not (population section, Identities the scope could not judge).",
		audit.Counted(n, "identity", "identities"), them, them)
}

// completeness is what snapshot s says it read of its source.
func completeness(s *audit.Snapshot) Completeness {
	c := Completeness{NotRead: []string{}, NotCollected: []string{}, CannotSee: []string{}}
	if r := s.Reach; r != nil {
		c.Recorded, c.Unit, c.Read, c.Requests = true, clean(r.Unit), r.Read, r.Requests
		c.NotRead, c.NotCollected, c.CannotSee = cleanAll(r.NotRead), cleanAll(r.NotCollected), cleanAll(r.CannotSee)
	}
	return c
}

// limits is what the connectors behind the population cannot see, once per
// source, for the CC6.2 claim: "" when no snapshot says.
func limits(p *Population) string {
	var parts []string
	seen := map[string]bool{}
	for _, src := range p.Sources {
		c := &src.Completeness
		if !c.Recorded || len(c.CannotSee) == 0 || seen[src.Snapshot.Source] {
			continue
		}
		seen[src.Snapshot.Source] = true
		parts = append(parts, src.Snapshot.Source+": "+strings.Join(c.CannotSee, "; "))
	}
	if len(parts) == 0 {
		return ""
	}
	return " It covers what the connectors can see; they cannot see (population section, Completeness) — " + strings.Join(parts, ". ") + "."
}

// snapshotEvidence is snapshot s as evidence, with the campaign's items of
// each kind (nil: none counted) and what a gap of it means for the review.
func snapshotEvidence(s *audit.Snapshot, inCampaign map[string]int, effect string) SnapshotEvidence {
	e := SnapshotEvidence{ID: s.ID, Source: clean(s.Source), Account: clean(s.Account), APIURL: clean(s.APIURL),
		Credential: clean(s.Credential), ToolVersion: clean(s.ToolVersion), Status: s.Status, Started: ts(s.StartedAt),
		Finished: tsp(s.FinishedAt), Digest: s.Digest, Total: s.Total(), Kinds: []KindCount{}, Gaps: []Gap{}}
	for _, k := range kindOrder(s.Counts, inCampaign) {
		e.Kinds = append(e.Kinds, KindCount{Kind: clean(string(k)), Label: clean(k.Label()), Snapshot: s.Counts[k], Campaign: inCampaign[clean(string(k))]})
	}
	for _, g := range s.Gaps {
		e.Gaps = append(e.Gaps, Gap{Snapshot: s.ID, Endpoint: clean(g.Endpoint), Kind: clean(string(g.Kind)), Scope: clean(g.Scope), Status: g.Status,
			Reason: clean(g.Reason), Effect: effect})
	}
	return e
}

// verifyingSnapshots gives each snapshot that checked a decommission the
// treatment of the population's: its credential, API, status, digest,
// counts and gaps.
func verifyingSnapshots(snaps []audit.Snapshot, refs []SnapshotRef) []SnapshotEvidence {
	out := []SnapshotEvidence{}
	for _, ref := range refs {
		if s := findSnapshot(snaps, ref.ID); s != nil {
			out = append(out, snapshotEvidence(s, nil, "identities it holds were not checked: their remediation is not-checked"))
		}
	}
	return out
}

// kindOrder lists the kinds present, in audit.Kinds order, then unknown
// kinds by name.
func kindOrder(counts map[audit.Kind]int, more map[string]int) []audit.Kind {
	seen := map[audit.Kind]bool{}
	for k := range counts {
		seen[k] = true
	}
	for k := range more {
		seen[audit.Kind(k)] = true
	}
	var out []audit.Kind
	for _, k := range audit.Kinds {
		if seen[k] {
			out = append(out, k)
			delete(seen, k)
		}
	}
	var rest []audit.Kind
	for k := range seen {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// reconcile compares the frozen populations of this campaign and the one
// created before it over the same sources and accounts.
func reconcile(ctx context.Context, st *audit.Store, c *campaigns.Campaign, all map[string]int, count int, asOf int64) (Reconciliation, error) {
	rec := Reconciliation{First: true, Count: count, Kinds: []ReconKind{}}
	list, err := campaigns.Headers(ctx, st)
	if err != nil {
		return rec, err
	}
	accounts := func(c *campaigns.Campaign) string {
		var each []string
		for _, u := range c.Snapshots {
			each = append(each, u.Source+"\x00"+u.Account)
		}
		slices.Sort(each)
		return strings.Join(each, "\x01")
	}
	ours := accounts(c)
	var prev *campaigns.Campaign
	for i := range list {
		p := &list[i]
		if p.CreateSeq < c.CreateSeq && accounts(p) == ours && (prev == nil || p.CreateSeq > prev.CreateSeq) {
			prev = p
		}
	}
	if prev == nil {
		rec.Balanced = true
		return rec, nil
	}
	// The previous campaign's population as frozen, with its decisions as
	// of the event this report reflects, compared in the database.
	deltas, err := campaigns.Deltas(ctx, st, c, prev, asOf)
	if err != nil {
		return rec, err
	}
	rec.First = false
	rec.Previous, rec.PreviousSnapshot, rec.PreviousScope = clean(prev.Name), prev.SnapshotID, clean(prev.Scope)
	rec.SameScope = prev.Scope == c.Scope
	type counts struct{ prev, added, removed, count int }
	byKind := map[string]*counts{}
	get := func(k string) *counts {
		if byKind[k] == nil {
			byKind[k] = &counts{}
		}
		return byKind[k]
	}
	for k, n := range all {
		get(k).count = n
	}
	for _, d := range deltas {
		n := get(clean(string(d.Kind)))
		n.prev += d.Previous
		n.added += d.Added
		n.removed += d.Removed
		rec.PreviousCount += d.Previous
		rec.Added += d.Added
		rec.Removed += d.Removed
		rec.RemovedApproved += d.RemovedApproved
	}
	kinds := map[string]int{}
	for k := range byKind {
		kinds[k] = 1
	}
	for _, k := range kindOrder(nil, kinds) {
		n := byKind[string(k)]
		rec.Kinds = append(rec.Kinds, ReconKind{Kind: string(k), Label: clean(k.Label()), Previous: n.prev, Added: n.added, Removed: n.removed, Count: n.count})
	}
	rec.Balanced = rec.PreviousCount+rec.Added-rec.Removed == rec.Count
	return rec, nil
}

// criteria are the policy's rules that can fire on the sources the
// campaign's snapshots (used) are of, and the review's own rules. The
// policy's other rules are named, not listed: a Kubernetes rule says
// nothing of a review of a GitHub organisation.
func criteria(c *campaigns.Campaign, create *campaigns.CreatePayload, p audit.Policy, ev audit.Event, used []*audit.Snapshot) Criteria {
	review := p.ReviewThresholds()
	cr := Criteria{
		Scope: clean(c.Scope), AsOf: ts(c.AsOf), PolicyDigest: c.PolicyDigest,
		FirstPartyApps: cleanAll(p.FirstPartyApps), Sources: []string{}, OtherRules: []string{},
	}
	for _, s := range used {
		if !slices.Contains(cr.Sources, clean(s.Source)) {
			cr.Sources = append(cr.Sources, clean(s.Source))
		}
	}
	slices.Sort(cr.Sources)
	slices.Sort(cr.FirstPartyApps)
	if ev.Seq == 0 {
		cr.PolicySource = "the built-in default policy (no policy had been set when the campaign was created)"
	} else {
		cr.PolicySource = fmt.Sprintf("set by %s at %s (event %d)", clean(ev.Actor), ts(ev.At), ev.Seq)
	}
	for _, rule := range audit.Rules {
		rp, ok := p.Rules[rule]
		if !ok {
			continue // a rule added after this policy was recorded
		}
		if !slices.ContainsFunc(cr.Sources, func(s string) bool { return audit.RuleApplies(rule, s) }) {
			cr.OtherRules = append(cr.OtherRules, rule)
			continue
		}
		cr.Rules = append(cr.Rules, RuleRow{Rule: rule, Enabled: rp.On(), Severity: clean(rp.Severity), OWASP: audit.OWASPNHI[rule], FiresWhen: firesWhen(rule, rp)})
	}
	cr.Review = []Principle{
		{"Population", populationPrinciple(c)},
		{"Assignment", "Items go to the reviewer a reviewer map names for their owner, else are shared evenly among the listed reviewers in identity order. Nobody is assigned an identity they own."},
		{"Self-review", "A reviewer may not decide, or undo a decision on, an identity they own: its owner recorded at creation, its owner recorded when deciding, or who the source says holds it (a token's owner, who authorised a credential, added a key or installed an App) — under any of their aliases in the directory of people (case-insensitive; @login is login) — nor one a team they belong to owns. nhi refuses such a decision and records the attempt (see Refused attempts)."},
		separationPrinciple(c),
		{"Who decided", "Decided by is the person nhi acted as. In an evidence file that is the name given with --as, NHI_REVIEWER or git's user.email, matched to a person of the directory of people once it holds anyone, but not authenticated: whoever can write the file can give any name. On a shared PostgreSQL database it is the role the database authenticated, mapped through the directory of people, which --as may only narrow; a decision recorded in an evidence file keeps its name unproven when the file is imported into a database (nhi db import). A decision signed with the decider's SSH key (the Signed column) proves who decided wherever it was recorded; an unsigned one is only as good as the store it was recorded in."},
		{"Justification", fmt.Sprintf("Keep and rotate need a written justification when the identity had findings at creation; decommission does not. A bulk decision always needs one, recorded with every item it decided. An exception's justification shorter than %d characters is flagged short-reason, and one found on exceptions of more than %s reused-reason (the policy's review section).",
			review.MinReasonChars, audit.Counted(review.MaxReasonKinds, "kind", "kinds"))},
		exceptionPrinciple(p.ExceptionPolicy),
		{"Deciding outside the assignment", "Anyone who does not own an item may decide it; the register flags it not-assignee and the statistics count it."},
		noResponsePrinciple(c.NoResponse),
		{"Remediation", "Decommission decisions are checked against a later snapshot of the same source and account (a snapshot of one never checks the identities of another): removed, still-present, or not-checked when that snapshot could not read where the identity lives."},
		{"Timeliness", fmt.Sprintf("Items are due by the end of %s (UTC). A decision recorded after that is flagged late. A decommission is overdue only when the newest snapshot to check it was taken after the due date and still shows the identity; past the due date without such a snapshot it is flagged not-yet-checked, never assumed removed. None of this depends on the report's generation time, which may not precede the last event the report reflects.", c.Due)},
	}
	if c.RequireSigned {
		cr.Review = append(cr.Review, Principle{"Signed decisions", "The campaign was created with --require-signed: every decision had to be signed with the reviewer's own SSH key (namespace nhi-decision, over the event's canonical bytes); unsigned decisions, or ones signed with another person's key, were refused."})
	}
	if c.CarriedFrom != "" {
		cr.Review = append(cr.Review, Principle{"Carry-forward", fmt.Sprintf("Keep decisions of campaign %s were carried for identities unchanged since (same owner, no new finding, same permissions) and count only once a reviewer confirmed them.", clean(c.CarriedFrom))})
	}
	return cr
}

func populationPrinciple(c *campaigns.Campaign) string {
	const frozen = "and the result frozen at creation: each identity's owner, findings (under the policy above) and permissions as they were then. Later changes do not move it; its SHA-256 digest is recorded in the campaign.create event."
	if len(c.Snapshots) == 1 {
		return fmt.Sprintf("The scope %q was evaluated over snapshot %d as of its start (%s) %s", clean(c.Scope), c.SnapshotID, ts(c.AsOf), frozen)
	}
	var each []string
	for _, u := range c.Snapshots {
		each = append(each, fmt.Sprintf("%d (%s/%s, as of %s)", u.ID, clean(u.Source), clean(u.Account), u.AsOf))
	}
	return fmt.Sprintf("The scope %q was evaluated over snapshots %s, one per source and account, each as of its own start, %s", clean(c.Scope), strings.Join(each, ", "), frozen)
}

// noResponsePrinciple states what items nobody decided come to, and the
// campaign's on-no-response rule when it has one (docs/campaigns.md).
func noResponsePrinciple(r campaigns.NoResponseRule) Principle {
	text := "Items nobody decided by close (pending, or carried and never confirmed) become no-response: flagged, never counted as approved."
	if r.On != "" {
		text += " This campaign's rule: " + clean(r.Describe()) + "; the register flags each such item with the rule's outcome (kept-by-rule, decommission-by-rule) or its escalation (escalated)."
	}
	return Principle{"Non-response", text}
}

// exceptionPrinciple states the exception rules of the campaign's policy
// (docs/campaigns.md, "Exceptions").
func exceptionPrinciple(x audit.ExceptionPolicy) Principle {
	approval := "the reviewer's keep is the exception (exception_approval: none)"
	if x.ApprovalRequired() {
		approval = "a second person, not the reviewer and not anyone the self-review and separation rules keep from the item, approves each kept one (exception_approval: required); one still unapproved at close lapses then"
	}
	// A rotate on an identity with findings is listed under Exceptions
	// too (isException), so the rule says so: it said only a keep, and
	// a reader counting keeps came short of the section's count. Expiry
	// and approval are a keep's (campaigns.AsOf.Exceptions).
	return Principle{"Exceptions", fmt.Sprintf("A keep or a rotate on an identity with findings is an exception, listed under Exceptions with its justification. A keep's exception expires %d days after the decision (exception_days), or sooner on the day the reviewer set; %s. One that expired, or lapsed unapproved, raises the exception-expired finding and the identity returns in the next campaign.",
		x.ExceptionDays(), approval)}
}

func firesWhen(rule string, r audit.RulePolicy) string {
	switch rule {
	case audit.RuleExpired:
		return "the credential expired but is still present"
	case audit.RuleOrphaned:
		// As audit's Evaluator.orphaned judges it: a leaver of the
		// directory orphans what they own or hold, on every source; the
		// criteria left that out, the case offboarding is about.
		return "no owner is recorded and the source names no holder; the owner, or the holder the source names, is a person the directory of people marks as left; or the owner (a GitHub login) is no longer an organisation member"
	case audit.RuleInsecureWebhook:
		return "a webhook without a secret, with TLS verification off, or delivering over plain HTTP"
	case audit.RuleOverprivileged:
		return "write or admin permissions, a deploy key that can push, admin OAuth scopes, IAM admin rights"
	case audit.RuleStale:
		return fmt.Sprintf("last used more than %d days ago, or never used and created more than %d days ago; an offline runner; an inactive webhook", r.UnusedDays, r.NeverUsedDays)
	case audit.RuleUnrotated:
		return fmt.Sprintf("a secret's value, a deploy key or an IAM access key unchanged for more than %d days", r.Days)
	case audit.RuleNoExpiry:
		return "a personal access token that never expires; every IAM access key; every Kubernetes legacy token"
	case audit.RuleExpiring:
		return fmt.Sprintf("expires within %d days (an outage risk)", r.Days)
	case audit.RuleBroadScope:
		return "access to all repositories, or an organisation secret visible to all repositories"
	case audit.RuleThirdParty:
		return "an App not in first_party_apps; a role trusted by an account outside the organisation"
	case audit.RuleHumanCredential:
		return "a person's token or SSH key used for automation, or an IAM user's with a console password"
	case audit.RuleBroadTrust:
		return `a role trusting "*" unconditionally, or an OIDC provider without a "sub" condition`
	case audit.RuleWeakKey:
		return "a certificate with an RSA key under 2048 bits, or signed with SHA-1 or MD5"
	case audit.RuleSelfSigned:
		return "a self-signed certificate presented by a TLS endpoint"
	case audit.RuleNotYetValid:
		return "a TLS endpoint presents a certificate not valid yet (its not-before is ahead)"
	case audit.RuleLongLived:
		return fmt.Sprintf("a publicly trusted TLS certificate valid for more than %d days", r.Days)
	case audit.RuleWildcard:
		return "a wildcard certificate (*.example.com)"
	case audit.RuleExceptionExpired:
		return "a keep on an identity with findings (an exception) outlived its expiry, or its campaign closed without the approval the policy required"
	case audit.RuleDefaultSA:
		return "a Kubernetes namespace's default service account with any permission"
	case audit.RuleAutomount:
		return "a Kubernetes service account with permissions whose token is mounted into its Pods"
	case audit.RuleUnused:
		return "a Kubernetes service account no Pod runs as"
	case audit.RuleReuse:
		return fmt.Sprintf("%d or more unrelated workloads running as one Kubernetes service account", audit.ReuseWorkloads)
	}
	return ""
}

func integrity(ctx context.Context, st *audit.Store, c *campaigns.Campaign, used []*audit.Snapshot, head audit.Event, opts Options, verifySeqs map[int64]bool) (Integrity, error) {
	in := Integrity{
		Head:           EventRef{Seq: head.Seq, Type: head.Type, At: ts(head.At), Hash: head.Hash},
		CampaignEvents: []EventRef{}, SnapshotDigests: []string{}, PopulationDigest: c.PopulationDigest, PolicyDigest: c.PolicyDigest,
		DataFiles: []FileHash{},
	}
	for _, s := range used {
		in.SnapshotDigests = append(in.SnapshotDigests, s.Digest)
	}
	if len(used) == 1 {
		in.SnapshotDigest = used[0].Digest
	}
	seqs := []int64{c.CreateSeq}
	if c.CloseSeq != 0 {
		seqs = append(seqs, c.CloseSeq)
	}
	// The campaign.verify events behind the remediation states shown.
	for v := range verifySeqs {
		if !slices.Contains(seqs, v) {
			seqs = append(seqs, v)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		e, err := st.EventAt(ctx, s)
		if err != nil {
			return in, err
		}
		in.CampaignEvents = append(in.CampaignEvents, EventRef{Seq: e.Seq, Type: e.Type, At: ts(e.At), Hash: e.Hash})
	}
	if opts.Key != nil {
		in.Signature = &KeyInfo{Signer: clean(opts.Signer), Namespace: Namespace, KeyType: opts.Key.Type, Fingerprint: opts.Key.Fingerprint, PublicKey: opts.Key.Authorized}
	}
	in.Steps = verifySteps(in.Signature)
	return in, nil
}

func verifySteps(sig *KeyInfo) []Step {
	nhi := "Checks every file against manifest.json; the manifest against nhi's event log, in the evidence file or database --db names (its head event, the campaign's events, snapshot and population digests); the log's own hash chain; and the report rebuilt from the log, byte for byte"
	if sig != nil {
		nhi += "; and the signature"
	}
	steps := []Step{
		{"With nhi", "nhi verify --report DIR --db nhi.db", nhi + "."},
		{"Without nhi", "cd DIR && sha256sum -c SHA256SUMS", "Checks every file of the bundle against its SHA-256 (manifest.json lists the same hashes)."},
	}
	if sig != nil {
		steps = append(steps,
			Step{"Signer's key", "echo '" + AllowedSignersLine(sig.Signer, sig.PublicKey) + "' > allowed_signers",
				"Names the key allowed to sign. Compare its fingerprint, " + sig.Fingerprint + ", with one obtained from " + sig.Signer + " another way."},
			Step{"Signature", fmt.Sprintf("ssh-keygen -Y verify -f allowed_signers -I %s -n %s -s manifest.json.sig < manifest.json", sig.Signer, Namespace),
				"Checks that manifest.json was signed with that key, by " + sig.Signer + ", for nhi evidence."})
	}
	return steps
}

// approvalText is an exception's approval in words: the approver, or why
// there is none, with why an approval the log holds approves nothing.
func approvalText(r *Row) string {
	t := approvalState(r)
	if r.ExceptionNotApproved != "" {
		t += "; " + r.ExceptionNotApproved
	}
	return t
}

func approvalState(r *Row) string {
	switch r.ExceptionState {
	case campaigns.ExceptionApproved:
		return r.ExceptionApprovedBy
	case campaigns.ExceptionNotRequired:
		return "not required"
	case campaigns.ExceptionAwaiting:
		return "awaiting approval"
	case campaigns.ExceptionUnapproved:
		return "never approved (lapsed at close)"
	case campaigns.ExceptionNoExpiry:
		return "decided before exceptions had an expiry"
	}
	return "" // rotate: not an exception with terms
}

// remediationDecider is who decided a remediation row: the reviewer, or,
// for an item nobody decided, the campaign's on-no-response rule and who
// set it (the creator, in the campaign.create event), as every format of
// the remediation table says it (docs/report.md).
func (a *Attestation) remediationDecider(x *Row) string {
	if x.DecidedBy == "" && slices.Contains(x.Flags, FlagDecommissionByRule) {
		return "no reviewer: on-no-response rule set by " + a.CreatedBy + " (event " + strconv.FormatInt(a.CreateEvent, 10) + ")"
	}
	return x.DecidedBy
}
