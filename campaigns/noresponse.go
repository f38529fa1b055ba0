package campaigns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	spoolfile "github.com/nhi-audit/nhi/internal/spool"
)

// No response has a rule (docs/campaigns.md, "No response"): a campaign
// says at creation what an item nobody decides comes to —
// keep, decommission, or escalate to the reviewer's manager (from the
// directory of people) or a fallback reviewer some days after creation.
// The item's decision stays no-response, never an approval by anyone; the
// rule's outcome is stated beside it in every view and the report.

// No-response rules.
const (
	OnNoResponseKeep         = "keep"
	OnNoResponseDecommission = "decommission"
	OnNoResponseEscalate     = "escalate"
)

// DefaultEscalateAfter is how many days after creation pending items are
// escalated when --escalate-after is not given.
const DefaultEscalateAfter = 7

// EventEscalate records pending items reassigned to someone else. It is a
// decision.* event: the report's trails and the review UI's show it.
const EventEscalate = "decision.escalate"

// Errors of the no-response rule.
var (
	ErrNoResponseRule = errors.New("bad no-response rule")
	ErrNotYet         = errors.New("not yet")
)

// EscalatePayload is the payload of decision.escalate: Items, assigned to
// From, now go to To. Action and Detail are what the report's trails print.
type EscalatePayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items"`
	Action   string   `json:"action"` // "escalate"
	From     string   `json:"from"`   // the reviewer they were assigned to ("" for none)
	To       string   `json:"to"`
	Via      string   `json:"via"` // manager, fallback
	Detail   string   `json:"detail"`
}

// NoResponseRule is a campaign's rule for items nobody decides.
type NoResponseRule struct {
	On               string // "" (none: no-response, nothing more), keep, decommission, escalate
	FallbackReviewer string // escalate: who gets items whose reviewer has no manager to take them
	EscalateAfter    int    // escalate: days after creation
}

// Describe says the rule in a sentence, for views and the report.
func (r NoResponseRule) Describe() string {
	switch r.On {
	case OnNoResponseKeep:
		return "an item nobody decides by close is kept (on-no-response: keep); it stays flagged no-response, never an approval"
	case OnNoResponseDecommission:
		return "an item nobody decides by close is to be decommissioned (on-no-response: decommission); it stays flagged no-response"
	case OnNoResponseEscalate:
		s := fmt.Sprintf("items still pending %d days after creation are reassigned to their reviewer's manager in the directory of people", r.EscalateAfter)
		if r.FallbackReviewer != "" {
			s += ", else to " + audit.Printable(r.FallbackReviewer)
		}
		return s + " (on-no-response: escalate); what nobody decides by close is no-response"
	}
	return "an item nobody decides by close is no-response: flagged, never an approval (no on-no-response rule)"
}

// Outcome is what the rule made of an item left undecided at close.
func (r NoResponseRule) Outcome() string {
	switch r.On {
	case OnNoResponseKeep:
		return "kept by rule"
	case OnNoResponseDecommission:
		return "decommission by rule"
	}
	return ""
}

// checkNoResponse validates spec's no-response rule and resolves its
// fallback reviewer to the person (in place), as reviewers are.
func checkNoResponse(ctx context.Context, st *audit.Store, actor string, spec *Spec) error {
	switch spec.OnNoResponse {
	case "", OnNoResponseKeep, OnNoResponseDecommission:
		if spec.FallbackReviewer != "" || spec.EscalateAfter != 0 {
			return fmt.Errorf("%w: --fallback-reviewer and --escalate-after go with --on-no-response escalate", ErrNoResponseRule)
		}
		return nil
	case OnNoResponseEscalate:
	default:
		return fmt.Errorf("%w %q: use keep, decommission or escalate", ErrNoResponseRule, spec.OnNoResponse)
	}
	if spec.EscalateAfter < 0 {
		return fmt.Errorf("%w: --escalate-after %d: give a number of days, 1 or more", ErrNoResponseRule, spec.EscalateAfter)
	}
	if spec.EscalateAfter == 0 {
		spec.EscalateAfter = DefaultEscalateAfter
	}
	dir, err := st.People(ctx)
	if err != nil {
		return err
	}
	if dir.Len() == 0 && spec.FallbackReviewer == "" {
		return fmt.Errorf("%w: escalate goes to the reviewer's manager in the directory of people, which is empty; import it (nhi people import) or give --fallback-reviewer", ErrNoResponseRule)
	}
	if spec.FallbackReviewer != "" && dir.Len() > 0 {
		p := dir.Lookup(spec.FallbackReviewer)
		if p == nil {
			return fmt.Errorf("--fallback-reviewer: %w", dir.Unknown("reviewer", spec.FallbackReviewer))
		}
		if p.Status == audit.PersonLeft {
			return fmt.Errorf("%w: fallback reviewer %s (%s) %s; name someone still here", ErrNoReviewer, audit.Printable(spec.FallbackReviewer), p.Email, p.LeftNote())
		}
		spec.FallbackReviewer = p.Email
	}
	if spec.FallbackReviewer != "" && !spec.AllowAdminReview && dir.Same(spec.FallbackReviewer, actor) {
		return fmt.Errorf("%w: %s creates this campaign and is also its fallback reviewer; the creator may not review items. Name someone else, or pass --allow-admin-review (the report shows it)",
			ErrSeparation, audit.Printable(actor))
	}
	return nil
}

// noResponseRule reads a campaign's rule from its campaign.create event.
func noResponseRule(ctx context.Context, r reader, c *Campaign) (NoResponseRule, error) {
	p, err := createPayload(ctx, r, c)
	if err != nil {
		return NoResponseRule{}, err
	}
	return p.noResponseRule(), nil
}

// createPayload reads campaign c's campaign.create event.
func createPayload(ctx context.Context, r reader, c *Campaign) (*CreatePayload, error) {
	var payload string
	if err := r.QueryRow(ctx, `SELECT payload FROM events WHERE seq = ?`, c.CreateSeq).Scan(&payload); err != nil {
		return nil, fmt.Errorf("campaign %s: reading its creation: %w", c.Name, err)
	}
	var p CreatePayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return nil, fmt.Errorf("campaign %s: event %d: %w", c.Name, c.CreateSeq, err)
	}
	return &p, nil
}

// readCreation reads campaign c's campaign.create event and sets on c
// what it records beyond the tables: the no-response rule, and each item
// read's CarriedAs. It returns the payload, for items read after (a
// stream's batches: EachAsOf).
func readCreation(ctx context.Context, r reader, c *Campaign) (*CreatePayload, error) {
	p, err := createPayload(ctx, r, c)
	if err != nil {
		return nil, err
	}
	c.NoResponse = p.noResponseRule()
	for i := range c.Items {
		c.Items[i].CarriedAs = p.CarriedAs[c.Items[i].ID]
	}
	return p, nil
}

// noResponseRule is the no-response rule p records.
func (p *CreatePayload) noResponseRule() NoResponseRule {
	return NoResponseRule{On: p.OnNoResponse, FallbackReviewer: p.FallbackReviewer, EscalateAfter: p.EscalateAfter}
}

// NoResponseRuleOf returns campaign name's no-response rule.
func NoResponseRuleOf(ctx context.Context, st *audit.Store, name string) (NoResponseRule, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return NoResponseRule{}, err
	}
	return noResponseRule(ctx, st, c)
}

// Escalation is an item reassigned by decision.escalate.
type Escalation struct {
	Seq  int64
	At   time.Time
	From string
	To   string
	Via  string // manager, fallback
}

// Escalations returns the escalations of a campaign up to event upTo (0:
// all), by item: the latest one of each.
func Escalations(ctx context.Context, st *audit.Store, campaign string, upTo int64) (map[string]Escalation, error) {
	return escalations(ctx, st, campaign, upTo)
}

func escalations(ctx context.Context, r reader, campaign string, upTo int64) (map[string]Escalation, error) {
	// Each event's payload is decoded once here: json_each over its items
	// in SQL would parse the whole payload again for every item.
	out := map[string]Escalation{}
	err := eachCampaignEvent(ctx, r, EventEscalate, campaign, upTo, "escalations", func(seq int64, at, _ string, p *EscalatePayload) error {
		t, _ := time.Parse(time.RFC3339Nano, at)
		for _, id := range p.Items {
			out[id] = Escalation{Seq: seq, At: t, From: p.From, To: p.To, Via: p.Via}
		}
		return nil
	})
	return out, err
}

// escalatedItems are the IDs of the items of a campaign escalated so
// far: Escalate asks only whether an item was, not where it went.
func escalatedItems(ctx context.Context, r reader, campaign string) (map[string]struct{}, error) {
	out := map[string]struct{}{}
	err := eachCampaignEvent(ctx, r, EventEscalate, campaign, 0, "escalations", func(_ int64, _, _ string, p *EscalatePayload) error {
		for _, id := range p.Items {
			out[id] = struct{}{}
		}
		return nil
	})
	return out, err
}

// Escalated is what Escalate did.
type Escalated struct {
	Events []audit.Event
	// Moved lists, per new reviewer, the items now theirs.
	Moved map[string][]string
	// Stuck lists the pending items nobody could take, and why.
	Stuck map[string]string
	Due   time.Time // when escalation became due
}

// Escalate reassigns the items of an open campaign with the escalate rule
// that are still pending EscalateAfter days after its creation (carried
// and unconfirmed ones included) to their reviewer's manager in the
// directory — or the fallback reviewer when the reviewer has no manager
// there, the manager has left, or the separation rules keep the manager
// from the item. An item is escalated once. One decision.escalate event per
// (reviewer, new reviewer) pair.
func Escalate(ctx context.Context, st *audit.Store, actor, name string) (*Escalated, error) {
	var out *Escalated
	err := st.Write(ctx, func(tx *audit.Tx) error {
		c, err := loadOpen(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := refuseLeaverIn(ctx, tx, actor, "escalate a campaign's items"); err != nil {
			return err
		}
		rule, err := noResponseRule(ctx, tx, c)
		if err != nil {
			return err
		}
		if rule.On != OnNoResponseEscalate {
			return fmt.Errorf("%w: campaign %s was not created with --on-no-response escalate; %s", ErrNoResponseRule, c.Name, rule.Describe())
		}
		due := c.CreatedAt.AddDate(0, 0, rule.EscalateAfter)
		if now := tx.Now(); now.Before(due) {
			return fmt.Errorf("%w: campaign %s escalates items still pending %d days after creation, from %s; nothing was changed",
				ErrNotYet, c.Name, rule.EscalateAfter, due.UTC().Format(time.RFC3339))
		}
		done, err := escalatedItems(ctx, tx, c.Name)
		if err != nil {
			return err
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		out = &Escalated{Moved: map[string][]string{}, Stuck: map[string]string{}, Due: due}
		order, groups, err := pickForEscalation(ctx, tx, c, sep, rule, done, out.Stuck)
		if err != nil {
			return err
		}
		for _, k := range order {
			ids := groups[k]
			detail := fmt.Sprintf("no decision %d days after creation; reassigned from %s to %s, ", rule.EscalateAfter, cmpOr(audit.Printable(k.from), "nobody"), audit.Printable(k.to))
			if k.via == "manager" {
				detail += "their manager in the directory of people"
			} else {
				detail += "the campaign's fallback reviewer"
			}
			ev, err := tx.Append(ctx, actor, EventEscalate, EscalatePayload{Campaign: c.Name, Items: ids, Action: "escalate", From: k.from, To: k.to, Via: k.via, Detail: detail})
			if err != nil {
				return err
			}
			out.Events = append(out.Events, ev)
			out.Moved[k.to] = append(out.Moved[k.to], ids...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// escalationPair is a reviewer, who takes their items, and by which
// rule: one decision.escalate event each.
type escalationPair struct{ from, to, via string }

// escalateHeld, when set, is given the ID of each item Escalate reads
// under the lock, as read: a test counts how many of them are still
// held (TestEscalateHoldsTheItemsItMovesAtOnce).
var escalateHeld func(id string)

// escalateColumns are what Escalate reads of a pending item: its ID,
// what escalationTarget and the separation rules read (the reviewer, the
// owner and holder frozen at creation), and the owner recorded now under
// its ID, which Owners gave it.
const escalateColumns = `identity_id, owner, natural_owner, reviewer,
	COALESCE((SELECT owner FROM owners WHERE owners.identity_id = campaign_items.identity_id), '')`

// pickForEscalation reads campaign c's pending items under the write
// lock, in ID order through one cursor, and returns the IDs of those it
// escalates by (reviewer, new reviewer) pair, the pairs in the order
// first met, adding to stuck those nobody may take, with why. Items in
// done were escalated before. Of an item it keeps the ID, not the item:
// it read every item's row (findings and permissions, 1-2 KB) and every
// owner of the file, and held them all under the lock (issue 21: a
// campaign of a million items). No other statement runs while the cursor
// is open: a transaction on PostgreSQL has one connection.
func pickForEscalation(ctx context.Context, tx *audit.Tx, c *Campaign, sep *separation, rule NoResponseRule,
	done map[string]struct{}, stuck map[string]string) ([]escalationPair, map[escalationPair][]string, error) {
	rows, err := tx.Query(ctx, `SELECT `+escalateColumns+` FROM campaign_items WHERE campaign_id = ? AND decision = ? ORDER BY identity_id`,
		c.ID, string(Pending))
	if err != nil {
		return nil, nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	groups := map[escalationPair][]string{}
	var order []escalationPair
	// The reasons an item is stuck are a few sentences, one per
	// reviewer and owner: each is held once, however many items it names.
	whys := map[string]string{}
	for rows.Next() {
		var (
			it    frozen
			owner string
		)
		if err := rows.Scan(&it.id, &it.owner, &it.naturalOwner, &it.reviewer, &owner); err != nil {
			return nil, nil, err
		}
		if escalateHeld != nil {
			escalateHeld(it.id)
		}
		if _, ok := done[it.id]; ok {
			continue
		}
		to, via, why := escalationTarget(sep, rule, &it, owner)
		if to == "" {
			if w, ok := whys[why]; ok {
				why = w
			} else {
				whys[why] = why
			}
			stuck[it.id] = why
			continue
		}
		k := escalationPair{it.reviewer, to, via}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it.id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading campaign items: %w", err)
	}
	return order, groups, nil
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// escalationTarget is who takes an item whose reviewer did not decide it:
// their manager, else the fallback reviewer; "" with why when neither may.
func escalationTarget(sep *separation, rule NoResponseRule, it *frozen, owner string) (to, via, why string) {
	var whyNot []string
	if p := sep.dir.Lookup(it.reviewer); it.reviewer != "" && p != nil && p.Manager != "" {
		m := sep.dir.Lookup(p.Manager)
		switch {
		case m == nil:
			whyNot = append(whyNot, fmt.Sprintf("manager %s is not in the directory", audit.Printable(p.Manager)))
		case m.Status == audit.PersonLeft:
			whyNot = append(whyNot, fmt.Sprintf("manager %s %s", m.Email, m.LeftNote()))
		default:
			if r := sep.refusal(it, owner, m.Email); r != nil {
				whyNot = append(whyNot, fmt.Sprintf("manager %s may not decide it (rule %s)", m.Email, r.Rule))
			} else {
				return m.Email, "manager", ""
			}
		}
	} else if it.reviewer != "" {
		whyNot = append(whyNot, fmt.Sprintf("%s has no manager in the directory", audit.Printable(it.reviewer)))
	} else {
		whyNot = append(whyNot, "no reviewer was assigned")
	}
	if f := rule.FallbackReviewer; f != "" {
		if r := sep.refusal(it, owner, f); r != nil {
			whyNot = append(whyNot, fmt.Sprintf("fallback reviewer %s may not decide it (rule %s)", audit.Printable(f), r.Rule))
		} else if !sep.same(f, it.reviewer) {
			return f, "fallback", ""
		}
	} else {
		whyNot = append(whyNot, "no --fallback-reviewer")
	}
	return "", "", strings.Join(whyNot, "; ")
}

// Reminder is one reviewer's pending items, for a reminder mail.
type Reminder struct {
	Reviewer string // the person who should decide them now ("" for none)
	Name     string // their name in the directory, when known
	Pending  int    // how many items: pending (carried and unconfirmed included)

	// rendered holds what Remind's render wrote of each item, a record
	// an item, in ID order, until the caller copies it out (CopyTo).
	rendered *spoolfile.Writer
}

// remindBuffer is the write buffer of each reminder's spool: every
// reviewer's is open for writing at once while the items are read, so
// it is small (a write of some tens of rendered items), where spool's
// 256 KiB would be 50 MB for 200 reviewers.
const remindBuffer = 4 << 10

// remindDecoded is how many findings and permissions texts Remind's
// cursor shares between items before it starts again: a reminder's line
// is rendered and spooled as the item passes, so sharing only spares
// decoding a text again, where the cursor's 50,000 decoded texts (the
// demo's permissions rarely repeat) were some 30 MB more resident than
// remind held when it read each batch by key, a cursor each (issue 21:
// 110 MB where 76 at 100k).
const remindDecoded = 2 * streamBatch

// remindHeld, when set (a test), is given the ID of each pending item
// Remind reads, as read: a test counts how many of them are still held.
var remindHeld func(id string)

// RemindRender writes what a reminder says of one of its items (a line,
// a CSV row) to w; c is the campaign, r the reminder the item is in. The
// item is the render's only during the call.
type RemindRender func(c *Campaign, r *Reminder, it *Item, w io.Writer) error

// CopyTo writes to w what Remind's render wrote of each of the
// reminder's items, in ID order, read back from its spool a record at a
// time.
func (r *Reminder) CopyTo(w io.Writer) error {
	for s, err := range r.rendered.EachString(r.Pending) {
		if err != nil {
			return fmt.Errorf("reading the pending items of %s back: %w", cmpOr(audit.Printable(r.Reviewer), "nobody"), err)
		}
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}

// RemoveReminders removes the reminders' spools, once they are printed.
func RemoveReminders(rs []Reminder) error {
	var errs []error
	for i := range rs {
		errs = append(errs, rs[i].rendered.Remove())
	}
	return errors.Join(errs...)
}

// Remind lists, per current assignee (after escalations), the items of an
// open campaign still waiting for a decision. It writes nothing.
//
// It reads the campaign's pending items once, in ID order, through the
// item reader's cursor (ItemReader.Each, pendingOnly: the decided items
// are passed over in the database, and neither the history nor what the
// snapshots did not read is read), and has render write each one, as it
// passes, to a temporary file of its assignee's (spool, a file each
// reviewer), keeping in memory only a count and the first spelling of
// each assignee; the caller copies each reminder out (Reminder.CopyTo)
// and removes the spools (RemoveReminders). It read the pending items'
// IDs and spooled them by assignee, and then each reminder's items a
// batch of IDs at a time, each looked up by key (issue 21: with 200
// reviewers, each one's items lie all over the file, which was read
// again for each: 96.6 s at a million, where one pass reads it in some
// 13 s); and then every item with its history, passing over the decided
// ones, so a campaign with few items left pending paid the whole read
// (docs/performance-commands.md). The escalations (the ItemReader's, which says
// where each item went) are what it holds that grows with the items: as
// many as were escalated. The database is not asked to group the items
// by reviewer: campaign_items has no index by reviewer, and a sort by
// reviewer in SQL would not give the assignee (an escalation moves an
// item, and normActor's spellings are Go's: Unicode case and space).
// The campaign comes without its items or progress (as Load gives it).
func Remind(ctx context.Context, st *audit.Store, name string, render RemindRender) (*Campaign, []Reminder, error) {
	c, err := Load(ctx, st, name)
	if err != nil {
		return nil, nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, nil, err
	}
	items, err := NewItemReader(ctx, st, c)
	if err != nil {
		return nil, nil, err
	}
	items.decoded, items.pendingOnly = remindDecoded, true
	by := map[string]*Reminder{}
	out, err := remindByAssignee(ctx, st, c, dir, items, render, by)
	if err != nil {
		for _, r := range by {
			_ = r.rendered.Remove()
		}
		return nil, nil, err
	}
	return c, out, nil
}

// remindByAssignee reads campaign c's pending items in ID order (items
// reads those alone) and has render write each one to its assignee's
// reminder in by (by normActor), made as first met; it returns the
// reminders by assignee. An item's assignee is Item.Assignee: its
// escalation's To (the reader's escalations), else its reviewer.
func remindByAssignee(ctx context.Context, st *audit.Store, c *Campaign, dir *audit.Directory, items *ItemReader, render RemindRender, by map[string]*Reminder) ([]Reminder, error) {
	var (
		order []string
		buf   bytes.Buffer
	)
	err := items.Each(ctx, st, func(it *Item) error {
		if remindHeld != nil {
			remindHeld(it.ID)
		}
		who := it.Assignee()
		k := normActor(who)
		r := by[k]
		if r == nil {
			w, err := spoolfile.CreateBuffered("", "nhi-remind-*", remindBuffer)
			if err != nil {
				return err
			}
			r = &Reminder{Reviewer: who, rendered: w}
			if p := dir.Lookup(who); p != nil {
				r.Name = p.Name
			}
			by[k] = r
			order = append(order, k)
		}
		buf.Reset()
		if err := render(c, r, it, &buf); err != nil {
			return err
		}
		r.rendered.Bytes(buf.Bytes())
		r.Pending++
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(order)
	out := make([]Reminder, 0, len(order))
	for _, k := range order {
		if err := by[k].rendered.Close(); err != nil {
			return nil, fmt.Errorf("spooling the pending items of %s: %w", cmpOr(audit.Printable(by[k].Reviewer), "nobody"), err)
		}
		out = append(out, *by[k])
	}
	return out, nil
}
