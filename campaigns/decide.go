package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// maxReason bounds a justification; reports print it whole.
const maxReason = 4000

// Outcome is what one decision did.
type Outcome struct {
	Event audit.Event
	Item  string // as the campaign froze it, whichever ID the decision was given
	// Current is the ID the identity has now, when its repository was
	// renamed since the campaign froze Item (renames.go); "" otherwise.
	Current  string
	Decision Decision
	Reviewer string // the item's assigned reviewer ("" when none)
	// Assigned reports whether the actor is the item's assigned reviewer.
	// Anyone but an owner may decide, but the record says who did.
	Assigned bool
	// Previous is the decision this one replaced (Pending if none), made by
	// PreviousBy; Conflict is set when that was someone else.
	Previous   Decision
	PreviousBy string
	Conflict   bool
	// ExceptionExpires is set when the decision is an exception (a keep
	// on an item with findings): its last day; ExceptionApproval when a
	// second person must approve it (nhi exception approve).
	ExceptionExpires  string
	ExceptionApproval bool
}

// Decide records one reviewer's decision on one item of an open campaign.
// Refused: a closed campaign, an identity outside the frozen population,
// a reviewer who owns the identity (recorded owner at creation or now, or
// the source's natural owner; case-insensitive, @login = login), and keep or
// rotate without a reason on an item that had findings. A decision may be
// changed until close; every change stays in the log. Deciding again what
// the same reviewer last decided, with no new reason, writes nothing and
// returns an *AlreadyDecidedError (matching ErrAlreadyDecided).
func Decide(ctx context.Context, st *audit.Store, actor, campaign, id string, d Decision, reason string) (*Outcome, error) {
	out, err := decideEach(ctx, st, actor, campaign, []string{id}, d, reason, true)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// DecideEach records the same decision on each of ids, one event each, in
// one transaction: all are recorded or, if any is refused (see Decide),
// none. For a UI deciding a selection.
func DecideEach(ctx context.Context, st *audit.Store, actor, campaign string, ids []string, d Decision, reason string) ([]Outcome, error) {
	return decideEach(ctx, st, actor, campaign, ids, d, reason, false)
}

// AlreadyDecidedError: the reviewer decided this item this way already
// (event Seq at At), so a second event would record nothing new.
type AlreadyDecidedError struct {
	Item     string
	Decision Decision
	Reason   string
	By       string
	At       time.Time
	Seq      int64
}

func (e *AlreadyDecidedError) Error() string {
	return fmt.Sprintf("%s is already decided %s by you at %s (event %d)",
		audit.Printable(e.Item), e.Decision, e.At.UTC().Format("2006-01-02 15:04 UTC"), e.Seq)
}

func (e *AlreadyDecidedError) Unwrap() error { return ErrAlreadyDecided }

func decideEach(ctx context.Context, st *audit.Store, actor, campaign string, ids []string, d Decision, reason string, refuseSame bool, opts ...decideOption) ([]Outcome, error) {
	if err := checkDecision(d); err != nil {
		return nil, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	terms, err := termsFor(ctx, st, campaign, d)
	if err != nil {
		return nil, err
	}
	if len(ids) == 1 && !decideAlwaysLocked && st.Remote() {
		if len(opts) == 0 {
			o, err := decideOneTrip(ctx, st, actor, campaign, ids[0], d, reason, refuseSame, terms, false)
			if !errors.Is(err, errDecideLocked) {
				if err != nil {
					return nil, err
				}
				return []Outcome{*o}, nil
			}
		}
		o, err := decideChecked(ctx, st, actor, campaign, ids[0], d, reason, refuseSame, terms, opts...)
		if !errors.Is(err, errDecideLocked) {
			if err != nil {
				return nil, err
			}
			return []Outcome{*o}, nil
		}
	}
	var out []Outcome
	err = st.Write(ctx, func(tx *audit.Tx) error {
		out = out[:0]
		c, err := loadOpen(ctx, tx, campaign)
		if err != nil {
			return err
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		for _, id := range ids {
			o, err := decideTx(ctx, tx, actor, c, sep, id, d, reason, refuseSame, terms, opts...)
			if err != nil {
				return err
			}
			out = append(out, *o)
		}
		return nil
	})
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return nil, recordRefusal(ctx, st, actor, string(d), re, []string{re.Item})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decideOption adds to a decision's event what only some decisions say
// (a transfer's new owner).
type decideOption func(*DecidePayload)

// decideTx decides item id (or the item of the identity id names under
// another ID: renames.go) under the write lock.
func decideTx(ctx context.Context, tx *audit.Tx, actor string, c *Campaign, sep *separation, id string, d Decision, reason string, refuseSame bool, terms *exceptionTerms, opts ...decideOption) (*Outcome, error) {
	it, err := loadItem(ctx, tx, c, id)
	if err != nil {
		return nil, err
	}
	owner, err := tx.Owner(ctx, it.id)
	if err != nil {
		return nil, err
	}
	cur, err := currentOf(ctx, tx, c, it)
	if err != nil {
		return nil, err
	}
	now, err := ownerNow(ctx, tx, cur)
	if err != nil {
		return nil, err
	}
	sg := signingFrom(ctx)
	p, err := planDecision(c, sep, it, owner, now, actor, d, reason, refuseSame, terms, sg, opts...)
	if err != nil {
		return nil, err
	}

	ev, err := tx.AppendSigned(ctx, actor, EventDecide, p, sg.signer())
	if err != nil {
		return nil, err
	}
	out, stmts := applyDecision(sep, c.ID, *it, p, actor, ev)
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st.Query, st.Args...); err != nil {
			return nil, fmt.Errorf("recording the decision on %s: %w", it.id, err)
		}
	}
	out.Current = cur
	return out, nil
}

// planDecision checks actor's decision d on item it (whose owner recorded
// now is owner) against every rule Decide names and returns the event's
// payload, or why it is refused. It reads nothing: what it is given was
// read under the write lock (decideTx) or before it (decideChecked).
//
// owner is the owner recorded under the item's ID; ownerNow, for an
// item whose identity has another ID now (renames.go), the owner recorded
// under that one, "" otherwise.
func planDecision(c *Campaign, sep *separation, it *liveItem, owner, ownerNow, actor string, d Decision, reason string, refuseSame bool, terms *exceptionTerms, sg *signing, opts ...decideOption) (*DecidePayload, error) {
	id := it.id
	if err := sep.leaver(actor); err != nil {
		return nil, err
	}
	if refuseSame && it.decision == d && it.seq != 0 && sep.same(it.decidedBy, actor) && (reason == "" || reason == it.reason) {
		at, _ := parseAt(it.decidedAt)
		return nil, &AlreadyDecidedError{Item: id, Decision: d, Reason: it.reason, By: it.decidedBy, At: at, Seq: it.seq}
	}
	if r := sep.refusalNow(&it.frozen, owner, ownerNow, actor); r != nil {
		return nil, &RefusedError{Refusal: *r, Campaign: c.Name, Item: id, Actor: actor}
	}
	if r := sep.signingRefusal(sg, actor); r != nil {
		return nil, &RefusedError{Refusal: *r, Campaign: c.Name, Item: id, Actor: actor}
	}
	if (d == Keep || d == Rotate) && it.findings != "[]" && reason == "" {
		return nil, fmt.Errorf("%w: %s on %s needs --reason: it has findings (%s)", ErrReasonRequired, d, audit.Printable(id), findingRules(it.findings))
	}
	p := &DecidePayload{Campaign: c.Name, Items: []string{id}, Decision: d, Reason: reason, SignedBy: sg.fingerprint()}
	if it.findings != "[]" {
		p.ExceptionExpires, p.ExceptionApproval = terms.expiry(), terms.approvalRequired()
	}
	for _, o := range opts {
		o(p)
	}
	if p.Replacement != "" {
		if err := checkReplacement(&it.frozen, d, p.Replacement); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// applyDecision is what event ev, recording decision p, did to item it (a
// copy, so a transaction tried again starts from the item as read): the
// outcome, and the statements that store the item's new state.
func applyDecision(sep *separation, campaignID int64, it liveItem, p *DecidePayload, actor string, ev audit.Event) (*Outcome, []audit.Stmt) {
	out := &Outcome{Event: ev, Item: it.id, Decision: p.Decision, Reviewer: it.reviewer, ExceptionExpires: p.ExceptionExpires, ExceptionApproval: p.ExceptionApproval,
		Assigned: it.reviewer != "" && sep.same(it.reviewer, actor), Previous: it.decision, PreviousBy: it.decidedBy}
	out.Conflict = it.decidedBy != "" && !sep.same(it.decidedBy, actor)
	it.decide(p.Decision, p.Reason, actor, formatAt(ev.At), ev.Seq)
	return out, decisionStmts(campaignID, it.id, &it.itemState, it.entry(ViaSingle))
}

// Undone is what Undo did.
type Undone struct {
	Event    audit.Event
	Campaign string
	Items    []string
	// Restored is, per item, the decision it went back to (Pending when
	// nothing was decided before the undone one).
	Restored map[string]Decision
}

// Undo reverses the decision event seq (campaign.decide or
// campaign.confirm) with a compensating campaign.undo event: every item it
// decided goes back to the decision in force before it, or pending. Nothing
// is deleted; both stay in the history. Refused when the campaign is closed,
// when a later decision already replaced it on any of its items (decide
// again instead), and for an item the actor owns. All items or none.
// campaign, when not "", must be the campaign the event decided in.
func Undo(ctx context.Context, st *audit.Store, actor, campaign string, seq int64) (*Undone, error) {
	var out *Undone
	err := st.Write(ctx, func(tx *audit.Tx) error {
		rows, err := tx.Query(ctx, `SELECT d.identity_id, d.via, c.name FROM campaign_decisions d JOIN campaigns c ON c.id = d.campaign_id
			WHERE d.seq = ? ORDER BY d.identity_id`, seq)
		if err != nil {
			return err
		}
		var ids []string
		var via, name string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id, &via, &name); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("%w event %d: it is not a campaign decision (see the history in `nhi campaign show NAME --json`)", ErrCannotUndo, seq)
		}
		if via == ViaUndo {
			return fmt.Errorf("%w event %d: it is itself an undo; decide again instead", ErrCannotUndo, seq)
		}
		if campaign != "" && campaign != name {
			return fmt.Errorf("%w event %d: it decided in campaign %s, not %s", ErrCannotUndo, seq, audit.Printable(name), audit.Printable(campaign))
		}
		c, err := loadOpen(ctx, tx, name)
		if err != nil {
			return err
		}
		owners, err := tx.Owners(ctx)
		if err != nil {
			return err
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := sep.leaver(actor); err != nil {
			return err
		}
		type undoItem struct {
			it   *liveItem
			prev histEntry
		}
		var todo []undoItem
		for _, id := range ids {
			it, err := loadItem(ctx, tx, c, id)
			if err != nil {
				return err
			}
			if it.seq != seq {
				h, err := loadItemHistory(ctx, tx, c.ID, id)
				if err != nil {
					return err
				}
				return laterThan(h, seq, id)
			}
			cur, err := currentOf(ctx, tx, c, it)
			if err != nil {
				return err
			}
			if r := sep.refusalNow(&it.frozen, owners[id], owners[cur], actor); r != nil {
				return &RefusedError{Refusal: *r, Campaign: c.Name, Item: id, Actor: actor}
			}
			h, err := loadItemHistory(ctx, tx, c.ID, id)
			if err != nil {
				return err
			}
			todo = append(todo, undoItem{it, restoreBefore(h, seq)})
		}
		sg := signingFrom(ctx)
		if r := sep.signingRefusal(sg, actor); r != nil {
			return &RefusedError{Refusal: *r, Campaign: c.Name, Actor: actor}
		}
		ev, err := tx.AppendSigned(ctx, actor, EventUndo, UndoPayload{Campaign: c.Name, Undoes: seq, Items: ids, SignedBy: sg.fingerprint()}, sg.signer())
		if err != nil {
			return err
		}
		out = &Undone{Event: ev, Campaign: c.Name, Items: ids, Restored: map[string]Decision{}}
		at := formatAt(ev.At)
		for _, u := range todo {
			u.it.undo(u.prev, actor)
			out.Restored[u.it.id] = u.prev.decision
			h := histEntry{seq: ev.Seq, decision: u.prev.decision, reason: u.prev.reason, actor: actor, at: at, via: ViaUndo, undoes: seq}
			if err := writeDecision(ctx, tx, c.ID, u.it.id, &u.it.itemState, h); err != nil {
				return err
			}
		}
		return nil
	})
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return nil, recordRefusal(ctx, st, actor, "undo", re, []string{re.Item})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// laterThan says why event seq can no longer be undone on item id: an undo
// reversed it already, or a later decision replaced it; each named with its
// event, actor and time from the item's history.
func laterThan(history []histEntry, seq int64, id string) error {
	for _, h := range history {
		if h.via == ViaUndo && h.undoes == seq {
			return fmt.Errorf("%w event %d: it was already undone by event %d (by %s at %s) on %s",
				ErrCannotUndo, seq, h.seq, audit.Printable(h.actor), shortAt(h.at), audit.Printable(id))
		}
	}
	for i := len(history) - 1; i >= 0; i-- {
		if h := history[i]; h.seq > seq {
			return fmt.Errorf("%w event %d: a later decision (event %d, %s by %s at %s) replaced it on %s; decide again instead",
				ErrCannotUndo, seq, h.seq, stateName(h.decision), audit.Printable(h.actor), shortAt(h.at), audit.Printable(id))
		}
	}
	return fmt.Errorf("%w event %d: it is no longer the decision in force on %s; decide again instead", ErrCannotUndo, seq, audit.Printable(id))
}

// shortAt prints a stored decision time to the minute, in UTC.
func shortAt(at string) string {
	if t, ok := parseAt(at); ok {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return at
}

func stateName(d Decision) string {
	if d == Pending {
		return "pending"
	}
	return string(d)
}

// Decisions returns the current decision of every item of a campaign, by
// identity ID: decommission, keep, rotate, no-response, or Pending (carried
// ones awaiting confirmation included). Identities outside the campaign's
// population are absent.
func Decisions(ctx context.Context, st *audit.Store, campaign string) (map[string]Decision, error) {
	c, err := load(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := st.Query(ctx, `SELECT identity_id, decision FROM campaign_items WHERE campaign_id = ?`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Decision{}
	for rows.Next() {
		var id string
		var d Decision
		if err := rows.Scan(&id, &d); err != nil {
			return nil, err
		}
		out[id] = d
	}
	return out, rows.Err()
}

func checkDecision(d Decision) error {
	switch d {
	case Decommission, Keep, Rotate:
		return nil
	case Transfer:
		return fmt.Errorf("%w: transfer names the new owner: nhi decide CAMPAIGN ID transfer --to PERSON, in an offboarding campaign", ErrBadDecision)
	}
	return fmt.Errorf("%w %q: decide decommission, keep or rotate", ErrBadDecision, string(d))
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) > maxReason {
		return "", fmt.Errorf("the reason is %d bytes; keep it under %d (link to a ticket for more)", len(reason), maxReason)
	}
	return reason, nil
}

type previewCtxKey struct{}

// errPreview ends a preview's transaction once it knows what it would do.
var errPreview = errors.New("preview: nothing written")

// Preview returns a context in which DecideMatching and ConfirmCarried
// write nothing, refusals included: they return the outcome they would
// have (Items, Matched, the skipped ones) with no Event, so a caller can
// show what a bulk decision will touch before it asks to go on.
func Preview(ctx context.Context) context.Context {
	return context.WithValue(ctx, previewCtxKey{}, true)
}

func previewing(ctx context.Context) bool {
	p, _ := ctx.Value(previewCtxKey{}).(bool)
	return p
}

type mineOnlyCtxKey struct{}

// MineOnly makes the bulk decisions and confirmations under ctx
// (DecideMatching, ConfirmCarried) take only the items assigned to the
// actor: a reviewer's filter decides their own queue, and the items of
// other reviewers (or of none) it matched are counted in NotMine and
// Unassigned, never decided. The CLI sets it unless --all-reviewers
// (docs/campaigns.md); the separation-of-duties rules hold either way.
func MineOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, mineOnlyCtxKey{}, true)
}

func mineOnly(ctx context.Context) bool {
	m, _ := ctx.Value(mineOnlyCtxKey{}).(bool)
	return m
}

type listFirstCtxKey struct{}

// ListFirst makes the bulk decisions and confirmations under ctx list in
// BulkOutcome.Items the first n items they decide (or would) alone;
// Decided counts them all. A caller that shows a few and counts the rest
// (the CLI) then holds no list of every item (issue 21: a million IDs,
// 100 MB).
func ListFirst(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, listFirstCtxKey{}, n)
}

// listFirst is how many items a bulk outcome lists: every one (-1)
// unless ListFirst says.
func listFirst(ctx context.Context) int {
	if n, ok := ctx.Value(listFirstCtxKey{}).(int); ok {
		return n
	}
	return -1
}

// BulkOutcome is what a bulk decision or confirmation did.
type BulkOutcome struct {
	Event audit.Event
	Items []string // decided, in ID order (the first ones alone under ListFirst)
	// Decided is how many items were decided: len(Items) unless
	// ListFirst cut the list.
	Decided int
	Filter  string // canonical form of the filter used ("" for none)
	Matched int    // items the filter matched
	// SkippedOwn lists matching items the actor owns: left for another
	// reviewer. SkippedDecided counts matching items already decided
	// (bulk decisions only change undecided items unless asked).
	SkippedOwn     []string
	SkippedDecided int
	NotAssigned    int // decided items assigned to another reviewer
	Conflicts      int // decided items whose previous decision someone else made
	// Under MineOnly: matching items assigned to another reviewer
	// (NotMine) or to nobody (Unassigned), left alone.
	NotMine, Unassigned int
}

// DecideMatching applies one decision, with one required reason, to every
// item of an open campaign that matches the filter expr and is undecided (pending, or
// carried and not yet confirmed); with includeDecided, to decided items too.
// Items the actor owns are skipped and listed, never decided. Time terms in
// the filter count from the campaign's as-of moment and fields read the
// frozen item (owner and findings at creation), so the same filter selects
// the same items whenever it runs; decision: terms see the current decisions.
func DecideMatching(ctx context.Context, st *audit.Store, actor, campaign, expr string, d Decision, reason string, includeDecided bool) (*BulkOutcome, error) {
	if err := checkDecision(d); err != nil {
		return nil, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, fmt.Errorf("%w: a bulk decision needs --reason, recorded with every item it decides", ErrReasonRequired)
	}
	if f, err := filter.Parse(strings.TrimSpace(expr), audit.Vocabulary); err != nil {
		return nil, err
	} else if f.String() == "" {
		return nil, fmt.Errorf("%w: a bulk decision needs --filter EXPR (use 'id:*' for every item)", ErrEmptyScope)
	}
	terms, err := termsFor(ctx, st, campaign, d)
	if err != nil {
		return nil, err
	}
	return bulk(ctx, st, actor, campaign, expr, string(d), func(c *Campaign, it *liveItem, res *BulkOutcome) bool {
		if it.decision != Pending && !includeDecided {
			res.SkippedDecided++
			return false
		}
		return true
	}, func(tx *audit.Tx, c *Campaign, picked *bulkPicked, canon string) (audit.Event, error) {
		sg := signingFrom(ctx)
		p, err := picked.withItems(DecidePayload{Campaign: c.Name, Items: []string{}, Decision: d, Reason: reason, Filter: canon,
			SignedBy: sg.fingerprint(), ExceptionExpires: terms.expiry(), ExceptionApproval: terms.approvalRequired()})
		if err != nil {
			return audit.Event{}, err
		}
		return tx.AppendSigned(ctx, actor, EventDecide, p, sg.signer())
	}, func(it *liveItem) (Decision, string, string) { return d, reason, ViaBulk })
}

// ConfirmCarried confirms the carried-forward decisions of an open campaign
// that are still unconfirmed (optionally only those matching the filter expr): each
// takes its carried decision, with reason, decided by actor. Items the
// actor owns are skipped and listed. A carried item nobody confirms becomes
// no-response at close.
func ConfirmCarried(ctx context.Context, st *audit.Store, actor, campaign, expr, reason string) (*BulkOutcome, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, fmt.Errorf("%w: confirming carried decisions needs --reason, recorded with every item", ErrReasonRequired)
	}
	// Only keep decisions are carried: a confirmation grants exceptions.
	terms, err := termsFor(ctx, st, campaign, Keep)
	if err != nil {
		return nil, err
	}
	return bulk(ctx, st, actor, campaign, expr, "confirm", func(c *Campaign, it *liveItem, res *BulkOutcome) bool {
		if it.carried == "" {
			return false
		}
		if it.decision != Pending {
			res.SkippedDecided++
			return false
		}
		return true
	}, func(tx *audit.Tx, c *Campaign, picked *bulkPicked, canon string) (audit.Event, error) {
		sg := signingFrom(ctx)
		p, err := picked.withItems(ConfirmPayload{Campaign: c.Name, Items: []string{}, Reason: reason, Filter: canon,
			SignedBy: sg.fingerprint(), ExceptionExpires: terms.expiry(), ExceptionApproval: terms.approvalRequired()})
		if err != nil {
			return audit.Event{}, err
		}
		return tx.AppendSigned(ctx, actor, EventConfirm, p, sg.signer())
	}, func(it *liveItem) (Decision, string, string) { return Decision(it.carried), reason, ViaConfirm })
}

// bulk selects items with the filter expr and eligible, appends one event for
// all of them and applies what decision gives to each.
func bulk(ctx context.Context, st *audit.Store, actor, campaign, expr, action string,
	eligible func(*Campaign, *liveItem, *BulkOutcome) bool,
	appendEvent func(*audit.Tx, *Campaign, *bulkPicked, string) (audit.Event, error),
	decision func(*liveItem) (Decision, string, string),
) (*BulkOutcome, error) {
	f, err := filter.Parse(strings.TrimSpace(expr), audit.Vocabulary)
	if err != nil {
		return nil, err
	}
	if len(f.People()) > 0 {
		// Frozen items keep their owner and holder, not every attribute a
		// relationship reads: a partial answer would decide the wrong set.
		return nil, fmt.Errorf("%w: person: terms do not apply to a campaign's frozen items; offboard the person (nhi offboard PERSON), or select by owner: and attr. terms", ErrEmptyScope)
	}
	c, err := loadOpen(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	// What the filter selects is read before the write lock is taken:
	// the items and their identities are frozen, only decisions can
	// change meanwhile, and the selection says how each item it lists is
	// matched in each (bulkselect.go).
	sel, err := selectForBulk(ctx, st, c, f)
	if err != nil {
		return nil, err
	}
	defer sel.remove()
	frozenID := c.ID
	var (
		res      *BulkOutcome
		refusals []itemRefusal
		picked   *bulkPicked
	)
	defer func() { picked.remove() }()
	err = st.Write(ctx, func(tx *audit.Tx) error {
		refusals = refusals[:0]
		picked.remove() // of a try before
		picked = nil
		c, err := loadOpen(ctx, tx, campaign)
		if err != nil {
			return err
		}
		if c.ID != frozenID {
			return fmt.Errorf("campaign %s was replaced while its items were read; try again", audit.Printable(c.Name))
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := sep.leaver(actor); err != nil {
			return err
		}
		if r := sep.signingRefusal(signingFrom(ctx), actor); r != nil {
			return &RefusedError{Refusal: *r, Campaign: c.Name, Actor: actor}
		}
		for _, name := range f.Campaigns() {
			if !strings.EqualFold(name, c.Name) {
				return fmt.Errorf("campaign:%s in a filter of campaign %s: a bulk decision selects items of the campaign it decides in; leave the term out", audit.Printable(name), c.Name)
			}
		}
		res = &BulkOutcome{Filter: f.String()}
		picked, err = pickForBulk(ctx, tx, st.Remote(), c, sep, sel, actor, mineOnly(ctx), eligible, decision, res, &refusals)
		if err != nil {
			return err
		}
		if picked.n == 0 {
			msg := fmt.Sprintf("%v in campaign %s", ErrNothingMatched, c.Name)
			if res.Filter != "" {
				msg += fmt.Sprintf(": no item matches %q", res.Filter)
			}
			// Every reason the matching items were left alone.
			var why []string
			if n := len(res.SkippedOwn); n > 0 {
				why = append(why, audit.Counted(n, "matching item is", "matching items are")+" yours to be decided by another reviewer")
			}
			if res.SkippedDecided > 0 {
				why = append(why, fmt.Sprintf("%d already decided (--include-decided changes them)", res.SkippedDecided))
			}
			if n := res.NotMine + res.Unassigned; n > 0 {
				why = append(why, fmt.Sprintf("%d assigned to other reviewers or to nobody (--all-reviewers decides them)", n))
			}
			if len(why) > 0 {
				msg += "; " + strings.Join(why, ", ")
			}
			return errorString{ErrNothingMatched, msg}
		}
		res.Decided = picked.n
		if previewing(ctx) {
			if res.Items, err = picked.items(listFirst(ctx)); err != nil {
				return err
			}
			return errPreview // rolls the transaction back: nothing written
		}
		ev, err := appendEvent(tx, c, picked, res.Filter)
		if err != nil {
			return err
		}
		res.Event = ev
		res.NotAssigned, res.Conflicts = picked.notAssigned, picked.conflicts
		if err := picked.write(ctx, tx, c.ID, actor, formatAt(ev.At), ev.Seq); err != nil {
			return err
		}
		// Listed once the event and the rows are written, which need
		// none of it.
		res.Items, err = picked.items(listFirst(ctx))
		return err
	})
	if errors.Is(err, errPreview) {
		return res, nil
	}
	if re, ok := errors.AsType[*RefusedError](err); ok {
		if previewing(ctx) {
			return nil, re
		}
		return nil, recordRefusal(ctx, st, actor, action, re, nil)
	}
	if previewing(ctx) {
		refusals = nil // a preview records nothing, refusals included
	}
	if len(refusals) > 0 && (err == nil || errors.Is(err, ErrNothingMatched)) {
		if rerr := recordRefusals(ctx, st, actor, campaign, action, refusals); rerr != nil {
			return nil, rerr
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// errorString carries a full message while matching its sentinel.
type errorString struct {
	sentinel error
	msg      string
}

func (e errorString) Error() string { return e.msg }
func (e errorString) Unwrap() error { return e.sentinel }

// leaver refuses actor when the directory marks their person left
// (ErrActorLeft): a session opened before they left, a TUI kept open,
// decides nothing more in their name, and no refusal is recorded for
// them either.
func (s *separation) leaver(actor string) error {
	return s.dir.RefuseLeaver(actor, "decide")
}
