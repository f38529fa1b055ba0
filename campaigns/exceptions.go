package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Exceptions are exceptions (docs/campaigns.md, "Exceptions"): a keep on an
// item that had findings at creation accepts a known risk, so it has an
// expiry — the campaign's policy's exception_days from the decision, or
// sooner with --until — and, where the policy says exception_approval:
// required, a second person approves it. An exception that expired, or was
// never approved by the time its campaign closed, raises the
// exception-expired finding (evaluated in package audit, which reads the
// exceptions through the function registered below) and the identity
// comes back in the next campaign.

// EventApprove records a second person's approval of an exception. It is a
// decision.* event: the report's trails and the review UI's show it as
// they show refused attempts.
const EventApprove = "decision.approve"

// RuleApprover refuses the approval of an exception to the reviewer who
// made it: approval is a second person's.
const RuleApprover = "approver"

// Errors of exceptions.
var (
	ErrNoException  = errors.New("not an exception")
	ErrBadUntil     = errors.New("bad --until date")
	ErrApproved     = errors.New("already approved")
	ErrUntilTooLong = errors.New("exception longer than the policy allows")
)

// Exception states.
const (
	ExceptionApproved    = "approved" // a second person approved it
	ExceptionNotRequired = "approval-not-required"
	ExceptionAwaiting    = "awaiting-approval" // approval required, none yet, campaign open
	ExceptionUnapproved  = "never-approved"    // approval required, none by the close: it lapsed at close
	ExceptionNoExpiry    = "no-expiry"         // decided before exceptions had an expiry
)

// ApprovePayload is the payload of decision.approve. Action and Detail
// are what the report's trails print.
type ApprovePayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items"`
	Action   string   `json:"action"`   // "approve exception"
	Approves int64    `json:"approves"` // the keep decision's event
	Expires  string   `json:"expires"`  // the exception's expiry, YYYY-MM-DD
	Detail   string   `json:"detail"`
	SignedBy string   `json:"signed_by,omitempty"`
}

type untilCtxKey struct{}

// ExceptUntil returns a context in which keep decisions that are
// exceptions expire at the end of day until (UTC) rather than after the
// policy's exception_days; it may shorten an exception, never lengthen it.
func ExceptUntil(ctx context.Context, until time.Time) context.Context {
	return context.WithValue(ctx, untilCtxKey{}, until.UTC().Format(dateLayout))
}

func untilFrom(ctx context.Context) string {
	s, _ := ctx.Value(untilCtxKey{}).(string)
	return s
}

// exceptionTerms are the terms a keep decision grants exceptions under:
// the expiry its payload records, and whether approval is required.
type exceptionTerms struct {
	expires  string // YYYY-MM-DD
	approval bool
}

// campaignExceptionPolicy reads the exception settings of the policy a
// campaign was created under (its criteria, fixed at creation).
func campaignExceptionPolicy(ctx context.Context, st *audit.Store, c *Campaign) (audit.ExceptionPolicy, error) {
	p, _, err := st.PolicyByDigest(ctx, c.PolicyDigest, c.CreateSeq)
	if err != nil {
		return audit.ExceptionPolicy{}, fmt.Errorf("campaign %s: its policy: %w", c.Name, err)
	}
	return p.ExceptionPolicy, nil
}

// termsFor says when exceptions of a decision d made now expire, honouring
// --until from ctx. Decisions other than keep grant none; --until with one
// of them is a mistake.
func termsFor(ctx context.Context, st *audit.Store, campaign string, d Decision) (*exceptionTerms, error) {
	until := untilFrom(ctx)
	if d != Keep {
		if until != "" {
			return nil, fmt.Errorf("%w: --until sets when an exception (a keep on an identity with findings) expires; %s is not a keep", ErrBadUntil, d)
		}
		return nil, nil
	}
	pol, err := memoFor(st).exceptionPolicy(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	now := st.Now().UTC()
	latest := now.AddDate(0, 0, pol.ExceptionDays()).Format(dateLayout)
	t := &exceptionTerms{expires: latest, approval: pol.ApprovalRequired()}
	if until != "" {
		if today := now.Format(dateLayout); until < today {
			return nil, fmt.Errorf("%w %s: it is before today (%s)", ErrBadUntil, until, today)
		}
		if until > latest {
			return nil, fmt.Errorf("%w: --until %s is after %s; campaign %s's policy allows an exception %d days at most (exception_days), so choose %s or earlier",
				ErrUntilTooLong, until, latest, campaign, pol.ExceptionDays(), latest)
		}
		t.expires = until
	}
	return t, nil
}

func (t *exceptionTerms) expiry() string {
	if t == nil {
		return ""
	}
	return t.expires
}

func (t *exceptionTerms) approvalRequired() bool { return t != nil && t.approval }

// Exception is a keep decision on an item that had findings: the risk the
// reviewer accepted, until when, and who approved it.
type Exception struct {
	Campaign  string
	ID        string
	Seq       int64 // the keep decision's event
	DecidedBy string
	DecidedAt time.Time
	Reason    string
	// Expires is the last day the exception holds (through its end,
	// UTC); "" for a keep recorded before exceptions had an expiry.
	Expires          string
	ApprovalRequired bool
	ApprovedBy       string // "" until approved
	ApprovedAt       *time.Time
	ApproveSeq       int64
	// State is one of the Exception* states.
	State string
	// NotApproved is an approval the log holds for it that approves
	// nothing, and why (a leaver's, or one a rule refuses), when no other
	// approved it: the
	// state is then as without it, awaiting approval or never approved.
	NotApproved *NotAnApproval
	// CampaignClosedAt is when the campaign closed (nil while open).
	CampaignClosedAt *time.Time
	// CurrentID is the ID the identity has now when its repository was
	// renamed since the campaign froze it under ID (as Item.CurrentID),
	// "" otherwise. Filled by Exceptions.
	CurrentID string

	// now is the ID the identity has now when it is not ID (its
	// repository renamed since: followRenames), for the standing
	// exceptions only.
	now string
}

// Expired reports whether the exception has lapsed at t: past its expiry,
// or closed without the approval it required.
func (x *Exception) Expired(t time.Time) bool {
	until, ok := x.until()
	return ok && !t.Before(until)
}

// until is the moment the exception stops holding.
func (x *Exception) until() (time.Time, bool) {
	if x.State == ExceptionUnapproved && x.CampaignClosedAt != nil {
		return *x.CampaignClosedAt, true
	}
	d, err := time.Parse(dateLayout, x.Expires)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

// lapsed is the exception-expired finding's message.
func (x *Exception) lapsed() string {
	event := fmt.Sprintf("event %d", x.Seq)
	if x.now != "" {
		event += ", as " + audit.Printable(x.ID) // the ID it was kept under, its identity's then
	}
	who := fmt.Sprintf("kept by %s in campaign %s (%s)", audit.Printable(x.DecidedBy), audit.Printable(x.Campaign), event)
	if x.State == ExceptionUnapproved {
		not := ""
		if x.NotApproved != nil {
			not = "; " + x.NotApproved.String()
		}
		return fmt.Sprintf("exception %s was never approved (policy: exception_approval: required); the campaign closed %s%s",
			who, x.CampaignClosedAt.UTC().Format(dateLayout), not)
	}
	return fmt.Sprintf("exception %s expired on %s", who, x.Expires)
}

// Exceptions returns the exceptions of a campaign as the log stood after
// event upTo (0: now), by identity ID: every item whose decision then is a
// keep and that had findings at creation.
func Exceptions(ctx context.Context, st *audit.Store, campaign string, upTo int64) (map[string]*Exception, error) {
	head, err := st.LogHead(ctx)
	if err != nil {
		return nil, err
	}
	if upTo == 0 || upTo == head.Seq {
		upTo = head.Seq
		// As the log stands: the kept items alone, from the tables.
		xs, ok, err := exceptionsNow(ctx, st, campaign, upTo)
		if err != nil || ok {
			return xs, err
		}
	}
	a, err := GetAsOf(ctx, st, campaign, upTo)
	if err != nil {
		return nil, err
	}
	return a.Exceptions(ctx, st)
}

// Exceptions are the exceptions of the campaign as of a.Seq (see the
// function Exceptions).
func (a *AsOf) Exceptions(ctx context.Context, st *audit.Store) (map[string]*Exception, error) {
	c := a.Campaign
	out := map[string]*Exception{}
	for i := range c.Items {
		it := &c.Items[i]
		if it.Decision != Keep || len(it.Findings) == 0 {
			continue
		}
		x := &Exception{Campaign: c.Name, ID: it.ID, Seq: a.Events[i].Decision, DecidedBy: it.DecidedBy, Reason: it.Reason, CampaignClosedAt: c.ClosedAt}
		if it.DecidedAt != nil {
			x.DecidedAt = *it.DecidedAt
		}
		out[it.ID] = x
	}
	if len(out) == 0 {
		return out, nil
	}
	// The ID each identity has as of a.Seq (a repository renamed by
	// then), as EachAsOf gives its items.
	ren, err := renamesAsOf(ctx, st, a.Seq)
	if err != nil {
		return nil, err
	}
	renamed, err := itemRenames(ctx, st, c.ID, ren)
	if err != nil {
		return nil, err
	}
	for id, cur := range renamed {
		if x := out[id]; x != nil {
			x.CurrentID = cur
		}
	}
	if err := fillExceptions(ctx, st, c.Name, out, a.Seq); err != nil {
		return nil, err
	}
	return out, nil
}

// fillExceptions reads, from the log, each exception's terms (the keep
// event's payload) and approval (decision.approve events up to upTo).
func fillExceptions(ctx context.Context, st *audit.Store, campaign string, xs map[string]*Exception, upTo int64) error {
	if len(xs) == 0 {
		return nil
	}
	approvals, err := readApprovals(ctx, st, campaign, upTo)
	if err != nil {
		return err
	}
	return fillTerms(ctx, st, xs, approvals)
}

// fillTerms sets each exception's terms (its keep event's payload) and
// approval (from approvals).
func fillTerms(ctx context.Context, st *audit.Store, xs map[string]*Exception, approvals map[approvalKey]approval) error {
	type terms struct {
		expires  string
		approval bool
	}
	bySeq := map[int64]terms{}
	for _, x := range xs {
		if _, ok := bySeq[x.Seq]; ok {
			continue
		}
		var t terms
		var approval int
		if err := st.QueryRow(ctx, `SELECT COALESCE(json_extract(payload, '$.exception_expires'), ''), COALESCE(json_extract(payload, '$.exception_approval'), '0')
			FROM events WHERE seq = ?`, x.Seq).Scan(&t.expires, &approval); err != nil {
			return fmt.Errorf("reading the exception of event %d: %w", x.Seq, err)
		}
		t.approval = approval != 0
		bySeq[x.Seq] = t
	}
	for _, x := range xs {
		t := bySeq[x.Seq]
		x.Expires, x.ApprovalRequired = t.expires, t.approval
		if a, ok := approvals[approvalKey{x.ID, x.Seq}]; ok && a.void != nil {
			x.NotApproved = a.void
		} else if ok {
			x.ApprovedBy, x.ApprovedAt, x.ApproveSeq = a.actor, &a.at, a.seq
		}
		switch {
		case x.Expires == "":
			x.State = ExceptionNoExpiry
		case x.ApprovedBy != "":
			x.State = ExceptionApproved
		case !x.ApprovalRequired:
			x.State = ExceptionNotRequired
		case x.CampaignClosedAt != nil:
			x.State = ExceptionUnapproved
		default:
			x.State = ExceptionAwaiting
		}
	}
	return nil
}

type approvalKey struct {
	id  string
	seq int64
}

type approval struct {
	seq   int64
	actor string
	at    time.Time
	// void, when not nil, says why it approves nothing (a leaver's): it
	// stands only until an approval that counts (readApprovalsSigned).
	void *NotAnApproval
}

// readApprovals reads the approvals of campaign's exceptions up to event
// upTo. An approval nhi refuses approves nothing: the keeper's own
// (selfApproval), the item's owner's or holder's, a member's of its
// owning team or the campaign's creator's (approversOwning), a leaver's
// (the directory as it stood then), and
// an unsigned one in a campaign created with
// --require-signed (rule unsigned); the latter are returned in unsigned,
// which the export refuses as it refuses an unsigned decision
// (NewExceptionReader) and verifyApprovals names. A leaver's is returned
// with its void set, unless one that counts approved the exception too,
// so that every place the exception shows says why it is not approved
// (Exception.NotApproved).
func readApprovals(ctx context.Context, r reader, campaign string, upTo int64) (map[approvalKey]approval, error) {
	out, _, err := readApprovalsSigned(ctx, r, campaign, upTo)
	return out, err
}

// unsignedApproval is an approval event with no signature in a campaign
// that requires signed decisions.
type unsignedApproval struct {
	seq   int64
	actor string
	id    string
}

func readApprovalsSigned(ctx context.Context, r reader, campaign string, upTo int64) (map[approvalKey]approval, []unsignedApproval, error) {
	type read struct {
		key    approvalKey
		a      approval
		signed bool
	}
	var all []read
	err := eachCampaignEvent(ctx, r, EventApprove, campaign, upTo, "exception approvals", func(seq int64, at, actor string, p *ApprovePayload) error {
		a := approval{seq: seq, actor: actor}
		a.at, _ = time.Parse(time.RFC3339Nano, at)
		for _, id := range p.Items {
			all = append(all, read{approvalKey{id, p.Approves}, a, p.SignedBy != ""})
		}
		return nil
	})
	out := map[approvalKey]approval{}
	if err != nil || len(all) == 0 {
		return out, nil, err
	}
	required, err := requiresSigned(ctx, r, campaign)
	if err != nil {
		return nil, nil, err
	}
	keepers, err := approvedKeepers(ctx, r, func(yield func(int64) bool) {
		for _, x := range all {
			if !yield(x.key.seq) {
				return
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	each := make([]approvalOf, 0, len(all))
	for _, x := range all {
		each = append(each, approvalOf{x.a.seq, x.a.actor, campaign, x.key.id})
	}
	owns, dir, err := approversOwning(ctx, r, each, nil)
	if err != nil {
		return nil, nil, err
	}
	var unsigned []unsignedApproval
	// void records why x approves nothing, unless an approval of the
	// same exception was read first (one that counts replaces it below).
	void := func(x read, n NotAnApproval) {
		if _, ok := out[x.key]; !ok {
			a := x.a
			n.Event, n.By = x.a.seq, x.a.actor
			a.void = &n
			out[x.key] = a
		}
	}
	for i, x := range all { // each[i] is x's
		// Each approves nothing (verifyApprovals names it).
		if l := dir.left[x.a.seq]; l != "" {
			void(x, NotAnApproval{Left: l, Marked: dir.leftBy[x.a.seq]})
			continue
		}
		if o := owns[i]; o.rule != "" {
			whose := "the item's "
			if o.rule == RuleCreator {
				whose = "the campaign's "
			}
			void(x, NotAnApproval{Rule: o.rule, Why: whose + o.whose + o.relation(x.a.actor, true)})
			continue
		}
		if k := keepers[x.key.seq]; dir.selfApproval(x.a.seq, k) {
			void(x, NotAnApproval{Rule: RuleApprover, Why: fmt.Sprintf("it is by %s, who kept it in event %d, the same person", audit.Printable(k), x.key.seq)})
			continue
		}
		if required && !x.signed {
			unsigned = append(unsigned, unsignedApproval{x.a.seq, x.a.actor, x.key.id})
			void(x, NotAnApproval{Rule: RuleUnsigned, Why: "it is not signed, and the campaign requires signed decisions"})
			continue // as nhi refuses it
		}
		if a, ok := out[x.key]; !ok || a.void != nil {
			out[x.key] = x.a
		}
	}
	return out, unsigned, nil
}

// requiresSigned reports whether campaign was created with
// --require-signed, as its creation event records it.
func requiresSigned(ctx context.Context, r reader, campaign string) (bool, error) {
	var opt string
	err := r.QueryRow(ctx, `SELECT '' || COALESCE(json_extract(payload, '$.require_signed'), '0') FROM events
		WHERE seq = (SELECT create_seq FROM campaigns WHERE name = ?)`, campaign).Scan(&opt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading campaign %s's creation: %w", audit.Printable(campaign), err)
	}
	return opt == "1" || opt == "true", nil
}

// approvedKeepers reads who recorded each keep event seqs names (its
// actor; "" for an event the log does not hold), for selfApproval.
func approvedKeepers(ctx context.Context, r reader, seqs iter.Seq[int64]) (map[int64]string, error) {
	keepers := map[int64]string{}
	for seq := range seqs {
		if _, ok := keepers[seq]; ok {
			continue
		}
		var actor string
		if err := r.QueryRow(ctx, `SELECT actor FROM events WHERE seq = ?`, seq).Scan(&actor); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reading the keep decision of event %d: %w", seq, err)
		}
		keepers[seq] = actor
	}
	return keepers, nil
}

// selfApproval reports whether approval event seq, whose actor's names
// as the directory stood then d holds (approversOwning), is by keeper,
// who recorded the keep it approves, under any alias: nhi refuses one
// (rule approver), so one in the log was written around nhi, and it
// approves nothing (docs/campaigns.md, "Exceptions"). A name the
// directory learns afterwards makes no self-approval of it: nhi could
// not have refused it then.
func (d *deciders) selfApproval(seq int64, keeper string) bool {
	return keeper != "" && names(d.keys[seq], keeper)
}

// Approved is what ApproveException did.
type Approved struct {
	Event     audit.Event
	Exception Exception
}

// ApproveException records actor's approval of the exception on item id
// of an open campaign: its current decision must be a keep on an item
// that had findings. The approver may not be who kept it, nor anyone the
// separation rules keep from deciding the item (owner, team, holder,
// creator); a refused attempt is a decision.refused event, as for
// decisions. Signed like decisions (SignWith).
func ApproveException(ctx context.Context, st *audit.Store, actor, campaign, id string) (*Approved, error) {
	var out *Approved
	err := st.Write(ctx, func(tx *audit.Tx) error {
		c, err := loadOpen(ctx, tx, campaign)
		if err != nil {
			return err
		}
		it, err := loadItem(ctx, tx, c, id)
		if err != nil {
			return err
		}
		given := id
		id = it.id // the item's ID, the key of its evidence, when given another of its identity (renames.go)
		if it.decision != Keep || it.findings == "[]" {
			why := "it had no findings at creation"
			if it.decision != Keep {
				why = "its decision is " + cmp.Or(string(it.decision), "pending")
			}
			return fmt.Errorf("%w: %s in campaign %s is not a keep on an identity with findings (%s); nothing to approve",
				ErrNoException, audit.Printable(given), c.Name, why)
		}
		var expires string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(json_extract(payload, '$.exception_expires'), '') FROM events WHERE seq = ?`, it.seq).Scan(&expires); err != nil {
			return err
		}
		approvals, err := readApprovals(ctx, tx, c.Name, 0)
		if err != nil {
			return err
		}
		if a, ok := approvals[approvalKey{id, it.seq}]; ok && a.void == nil {
			return fmt.Errorf("%w: %s approved the exception on %s (event %d) in event %d", ErrApproved, audit.Printable(a.actor), audit.Printable(id), it.seq, a.seq)
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		// A leaver approves nothing, even from a session opened before
		// they left: the directory as it is now, as for a decision.
		if err := sep.leaver(actor); err != nil {
			return err
		}
		owner, err := tx.Owner(ctx, id)
		if err != nil {
			return err
		}
		cur, err := currentOf(ctx, tx, c, it)
		if err != nil {
			return err
		}
		now, err := ownerNow(ctx, tx, cur)
		if err != nil {
			return err
		}
		if r := sep.refusalNow(&it.frozen, owner, now, actor); r != nil {
			return &RefusedError{Refusal: *r, Campaign: c.Name, Item: id, Actor: actor}
		}
		if sep.same(it.decidedBy, actor) {
			return &RefusedError{Refusal: Refusal{RuleApprover, fmt.Sprintf("%s made the keep decision (event %d); a second person approves an exception", audit.Printable(it.decidedBy), it.seq)},
				Campaign: c.Name, Item: id, Actor: actor}
		}
		sg := signingFrom(ctx)
		if r := sep.signingRefusal(sg, actor); r != nil {
			return &RefusedError{Refusal: *r, Campaign: c.Name, Item: id, Actor: actor}
		}
		detail := fmt.Sprintf("approves the exception kept by %s (event %d)", audit.Printable(it.decidedBy), it.seq)
		if expires != "" {
			detail += ", until " + expires
		}
		ev, err := tx.AppendSigned(ctx, actor, EventApprove, ApprovePayload{Campaign: c.Name, Items: []string{id}, Action: "approve exception",
			Approves: it.seq, Expires: expires, Detail: detail, SignedBy: sg.fingerprint()}, sg.signer())
		if err != nil {
			return err
		}
		at, _ := parseAt(it.decidedAt)
		out = &Approved{Event: ev, Exception: Exception{Campaign: c.Name, ID: id, Seq: it.seq, DecidedBy: it.decidedBy, DecidedAt: at,
			Reason: it.reason, Expires: expires, ApprovedBy: actor, ApprovedAt: &ev.At, ApproveSeq: ev.Seq, State: ExceptionApproved}}
		return nil
	})
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return nil, recordRefusal(ctx, st, actor, "approve", re, []string{re.Item})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// standingExceptions is every identity's standing exception: the one of
// the newest campaign that decided it (its no-response and pending items
// aside), when that decision is a keep of an item with findings and has an
// expiry. Registered with package audit, which raises exception-expired
// from it, on every Store.Refresh and Store.Identity (audit.Refresher).
func standingExceptions(ctx context.Context, st *audit.Store) (map[string]audit.Exception, error) {
	if st.Remote() {
		return standingExceptionsOf(ctx, st, standingQueryFromHistory)
	}
	return standingExceptionsOf(ctx, st, standingQuery)
}

// standingQuery reads the standing exceptions from the kept items with
// findings, which campaigns' step 3 indexes (campaign_items_kept), each
// standing unless a campaign created after its own decided the identity
// (a look-up of that campaign's item by its key, in a scalar subquery:
// as a join, SQLite scanned every item for each keep, and PostgreSQL
// made a NOT EXISTS over the items an anti-join that scanned them; an
// identity a campaign did not freeze has no item, NULL, not a decision).
// The cost follows the
// keeps, not every campaign's items, which a query grouping every decided
// item by identity scanned (about a second at two campaigns of 172,590
// items). The literals match the index's condition, as its use requires.
const standingQuery = `
		SELECT c.name, i.identity_id, i.decision_seq, i.decided_by, COALESCE(c.closed_at, '')
		FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		WHERE i.decision = '` + string(Keep) + `' AND i.findings <> '[]'` + standingNotDecidedSince

// standingNotDecidedSince keeps a kept item i of campaign c only if no
// campaign created after c decided its identity (standingQuery).
const standingNotDecidedSince = `
		AND NOT EXISTS (SELECT 1 FROM campaigns later WHERE later.create_seq > c.create_seq
			AND (SELECT j.decision FROM campaign_items j WHERE j.campaign_id = later.id AND j.identity_id = i.identity_id) NOT IN ('', '` + string(NoResponse) + `'))`

// keptInHistory is every item, by campaign and identity, with a keep in
// its decision history (campaign_decisions_kept on PostgreSQL), as a
// table to join: the candidates for a keep now where the items are not
// indexed by their decision.
const keptInHistory = `(SELECT DISTINCT d.campaign_id, d.identity_id FROM campaign_decisions d WHERE d.decision = '` + string(Keep) + `')`

// standingQueryFromHistory is standingQuery on PostgreSQL, where the
// items are not indexed by their decision (campaigns' step 11 there, so
// that a decision's update of its item is HOT): the candidates are the
// items with a keep in their history (campaign_decisions_kept), each
// looked up by its key and kept only if its decision is a keep now.
const standingQueryFromHistory = `
		SELECT c.name, i.identity_id, i.decision_seq, i.decided_by, COALESCE(c.closed_at, '')
		FROM ` + keptInHistory + ` k
		JOIN campaign_items i ON i.campaign_id = k.campaign_id AND i.identity_id = k.identity_id
		JOIN campaigns c ON c.id = i.campaign_id
		WHERE i.decision = '` + string(Keep) + `' AND i.findings <> '[]'` + standingNotDecidedSince

// standingExceptionsOf is standingExceptions by query q, which returns
// each standing keep's campaign, identity, decision event, decider and
// the campaign's close (empty while open).
func standingExceptionsOf(ctx context.Context, st *audit.Store, q string) (map[string]audit.Exception, error) {
	rows, err := st.Query(ctx, q)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") { // a file campaigns never migrated: nothing decided
			return nil, nil
		}
		return nil, fmt.Errorf("reading exceptions: %w", err)
	}
	var xs []*Exception
	for rows.Next() {
		var x Exception
		var closed string
		if err := rows.Scan(&x.Campaign, &x.ID, &x.Seq, &x.DecidedBy, &closed); err != nil {
			rows.Close()
			return nil, err
		}
		if t, ok := parseAt(closed); ok {
			x.CampaignClosedAt = &t
		}
		xs = append(xs, &x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if xs, err = followRenames(ctx, st, xs); err != nil {
		return nil, err
	}
	// A bulk keep's payload lists every item it decided: read each
	// decision event's terms once, not once per item.
	type terms struct {
		expires  string
		approval bool
	}
	bySeq := map[int64]terms{}
	out := make(map[string]audit.Exception, len(xs))
	approvals := map[string]map[approvalKey]approval{}
	for _, x := range xs {
		t, ok := bySeq[x.Seq]
		if !ok {
			var approval int
			if err := st.QueryRow(ctx, `SELECT COALESCE(json_extract(payload, '$.exception_expires'), ''), COALESCE(json_extract(payload, '$.exception_approval'), '0')
				FROM events WHERE seq = ?`, x.Seq).Scan(&t.expires, &approval); err != nil {
				return nil, fmt.Errorf("reading the exception of event %d: %w", x.Seq, err)
			}
			t.approval = approval != 0
			bySeq[x.Seq] = t
		}
		x.Expires, x.ApprovalRequired = t.expires, t.approval
		if x.Expires == "" {
			continue // no expiry recorded: nothing can lapse
		}
		if x.ApprovalRequired {
			a, ok := approvals[x.Campaign]
			if !ok {
				if a, err = readApprovals(ctx, st, x.Campaign, 0); err != nil {
					return nil, err
				}
				approvals[x.Campaign] = a
			}
			ap, approved := a[approvalKey{x.ID, x.Seq}]
			if approved && ap.void != nil {
				approved, x.NotApproved = false, ap.void
			}
			switch {
			case approved:
				x.State = ExceptionApproved
			case x.CampaignClosedAt != nil:
				x.State = ExceptionUnapproved
			default:
				x.State = ExceptionAwaiting
			}
		}
		until, _ := x.until()
		out[cmp.Or(x.now, x.ID)] = audit.Exception{Until: until, Lapsed: x.lapsed()}
	}
	return out, nil
}

// followRenames makes the standing exceptions xs follow renamed
// identities (renames.go): an exception kept under an ID its identity no
// longer has (its repository renamed since) stands for the identity
// under the ID it has now (Exception.now), unless a campaign created
// after the exception's decided the identity under another of its IDs,
// as one that decided it under the same ID ends it (standingQuery).
// Renames are rare: it reads their table (empty without any), and each
// exception on an identity that had another ID costs one query more.
func followRenames(ctx context.Context, st *audit.Store, xs []*Exception) ([]*Exception, error) {
	ren, err := readRenames(ctx, st)
	if err != nil || len(ren) == 0 || len(xs) == 0 {
		return xs, err
	}
	lin := ren.lineages()
	out := xs[:0]
	for _, x := range xs {
		others := lin.others(x.ID)
		if len(others) == 0 {
			out = append(out, x)
			continue
		}
		list, err := json.Marshal(others)
		if err != nil {
			return nil, err
		}
		var later int
		if err := st.QueryRow(ctx, `SELECT count(*) FROM campaign_items j JOIN campaigns later ON later.id = j.campaign_id
			WHERE later.create_seq > (SELECT create_seq FROM campaigns WHERE name = ?) AND j.identity_id IN (SELECT value FROM json_each(?))
			AND j.decision NOT IN ('', '`+string(NoResponse)+`')`, x.Campaign, string(list)).Scan(&later); err != nil {
			return nil, fmt.Errorf("reading exceptions: the decisions on %s since: %w", x.ID, err)
		}
		if later > 0 {
			continue
		}
		if cur, ok := ren[x.ID]; ok && cur != x.ID {
			x.now = cur
		}
		out = append(out, x)
	}
	// Should two be left for one identity (its items under two IDs in one
	// campaign), the later decision stands: out goes in decision order,
	// and the last one written to the map is kept.
	slices.SortStableFunc(out, func(a, b *Exception) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

func init() { audit.RegisterExceptions(standingExceptions) }

// ExceptionIDs lists the identities of campaign's exceptions as they
// stand (its items whose decision is a keep and that had findings at
// creation), in ID order, at most limit of them (0: all), each under the
// ID its identity has now (a repository renamed since): what its close
// can change, since an exception that needed an approval and had none
// lapses then (Exception.until). The TUI's table cache re-derives those
// rows after a close rather than the whole table (tui/tablecache.go).
// It reads the campaign's kept items with findings only (their index,
// campaigns' step 3), not their history; on PostgreSQL, the items with
// a keep in their history (campaign_decisions_kept, step 11).
func ExceptionIDs(ctx context.Context, st *audit.Store, campaign string, limit int) ([]string, error) {
	q := `SELECT i.identity_id FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		WHERE c.name = ? AND i.decision = '` + string(Keep) + `' AND i.findings <> '[]' ORDER BY i.identity_id` // campaign_items_kept's literals
	if st.Remote() { // the items with a keep in their history (standingQueryFromHistory)
		q = `SELECT i.identity_id FROM campaigns c
		JOIN ` + keptInHistory + ` k ON k.campaign_id = c.id
		JOIN campaign_items i ON i.campaign_id = k.campaign_id AND i.identity_id = k.identity_id
		WHERE c.name = ? AND i.decision = '` + string(Keep) + `' AND i.findings <> '[]' ORDER BY i.identity_id`
	}
	args := []any{campaign}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := st.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the exceptions of %s: %w", audit.Printable(campaign), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A renamed identity's row is under its ID now (renames.go).
	ren, err := readRenames(ctx, st)
	if err != nil {
		return nil, err
	}
	for i, id := range out {
		if cur, ok := ren[id]; ok {
			out[i] = cur
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// verifyApprovals names every decision.approve event by the person who
// recorded the keep it approves (selfApproval): nhi refuses it (rule
// approver), so it was written around nhi — by anyone who writes an
// evidence file, or on PostgreSQL by the keeper with psql, the event
// being in her own name — and the exceptions read it as no approval. It
// names as well every unsigned one in a campaign whose creation requires
// signed decisions (required): nhi refuses it (rule unsigned), as it
// refuses an unsigned decision, and it approves nothing either. And it
// names every one whose approver the directory of people marked left
// when it was written (deciders.left, the directory as it stood then):
// nhi refuses it, so it was written around nhi; as a leaver's decision
// stands in the tables, it is read as an approval, and verify fails.
func verifyApprovals(ctx context.Context, st *audit.Store, required func(campaign string) bool, people []personChange) ([]string, error) {
	type read struct {
		seq      int64
		actor    string
		campaign string
		approves int64
		items    []string
		signed   bool
	}
	var all []read
	if err := eachEventOfType(ctx, st, EventApprove, func(e *audit.Event) error {
		var p ApprovePayload
		if json.Unmarshal(e.Payload, &p) == nil {
			all = append(all, read{e.Seq, e.Actor, p.Campaign, p.Approves, p.Items, p.SignedBy != ""})
		}
		return nil
	}); err != nil || len(all) == 0 {
		return nil, err
	}
	keepers, err := approvedKeepers(ctx, st, func(yield func(int64) bool) {
		for _, x := range all {
			if !yield(x.approves) {
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var each []approvalOf
	for _, x := range all {
		for _, id := range x.items {
			each = append(each, approvalOf{x.seq, x.actor, x.campaign, id})
		}
	}
	owns, dir, err := approversOwning(ctx, st, each, &people)
	if err != nil {
		return nil, err
	}
	var problems []string
	i := 0 // each[i] is the approval of x's item id
	for _, x := range all {
		// A leaver's approval (ApproveException refuses it, under the
		// directory read in its own transaction).
		if l := dir.left[x.seq]; l != "" {
			for _, id := range x.items {
				problems = append(problems, fmt.Sprintf("event %d (%s by %s) approves the exception on %s in campaign %s, and its actor is %s according to the directory of people then: nhi refuses a leaver's approval, so it was written around nhi, and no one who could still act approved it",
					x.seq, EventApprove, audit.Printable(x.actor), audit.Printable(id), audit.Printable(x.campaign), l))
			}
		}
		for _, id := range x.items {
			o := owns[i]
			i++
			if o.rule != "" {
				problems = append(problems, fmt.Sprintf("event %d (%s by %s) approves the exception on %s in campaign %s, whose %s%s: nhi refuses such an approval (rule %s), so it was written around nhi, and it approves nothing",
					x.seq, EventApprove, audit.Printable(x.actor), audit.Printable(id), audit.Printable(x.campaign), o.whose, o.relation(x.actor, false), o.rule))
			}
		}
		if k := keepers[x.approves]; dir.selfApproval(x.seq, k) {
			for _, id := range x.items {
				problems = append(problems, fmt.Sprintf("event %d (%s by %s) approves the exception on %s kept by %s in event %d, and is by the same person: nhi refuses such an approval (rule approver), so it was written around nhi, and it approves nothing",
					x.seq, EventApprove, audit.Printable(x.actor), audit.Printable(id), audit.Printable(k), x.approves))
			}
		} else if !x.signed && required(x.campaign) {
			for _, id := range x.items {
				problems = append(problems, fmt.Sprintf("event %d (%s by %s) approves the exception on %s in campaign %s, which requires signed decisions, and is not signed: nhi refuses such an approval (rule unsigned), so it was written around nhi, and it approves nothing",
					x.seq, EventApprove, audit.Printable(x.actor), audit.Printable(id), audit.Printable(x.campaign)))
			}
		}
	}
	return problems, nil
}
