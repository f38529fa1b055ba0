package campaigns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// decideOneTrip is a single decision on PostgreSQL in one round trip: the
// server function nhi_enqueue (schema_grouped.go, step 17) reads the
// item, its owner, the campaign and the directory's stamp, checks what
// planDecision would, and queues the decision; nhi_group_wait then has
// it chained, with every other decision queued, by whoever next holds
// the write lock, which makes sure what each read has not changed and
// that the role that queued it may write it, in the pipeline that
// commits (audit.Store.AppendCallGrouped; docs/team.md, "One decision,
// one round trip" and "One turn of the lock for many decisions").
// nhi_decide (schema.go: decideFunction, as steps 7 and 8 made it) does
// the same in a turn of the lock of its own (audit.Store.AppendCall),
// as an older nhi still calls it (decideAloneKey). What it
// compares on the server is what nhi knows without reading: the open
// campaign and the directory decideChecked last read (decideMemo), from
// which it sends the alias keys of every name the actor goes by and of
// the teams the actor is in. Whatever it cannot prove — a campaign or
// directory not known or changed, any rule that would refuse, the same
// decision again, a reason missing, names outside ASCII — makes it
// return errDecideLocked with nothing written, and the decision is made
// as before (decideChecked, then the long way), which says why. A signed
// decision and one with options (a transfer) go that way from the start.
//
// With rehearse, the call is made in a transaction rolled back
// (audit.Store.RehearseCall): nothing is recorded, and it returns no
// outcome, only the call's error (PrepareToDecide).
func decideOneTrip(ctx context.Context, st *audit.Store, actor, campaign, id string, d Decision, reason string, refuseSame bool, terms *exceptionTerms, rehearse bool) (*Outcome, error) {
	if signingFrom(ctx) != nil {
		return nil, errDecideLocked
	}
	m := memoFor(st)
	m.mu.Lock()
	c, teams, dir, dirSeq, ok := m.campaign, m.teams, m.dir, m.dirSeq, m.dirLoaded
	m.mu.Unlock()
	if !ok || c == nil || c.Name != campaign {
		return nil, errDecideLocked
	}
	sep := &separation{c: c, dir: dir, teams: teams}
	if sep.leaver(actor) != nil {
		return nil, errDecideLocked // refused the long way, with the directory read again
	}
	if !c.AllowAdminReview && sep.same(c.CreatedBy, actor) {
		return nil, errDecideLocked // the creator rule (separation.refusal)
	}
	if sep.signingRefusal(nil, actor) != nil {
		return nil, errDecideLocked
	}
	actorKey := normActor(actor)
	if actorKey == "" {
		return nil, errDecideLocked
	}
	sameKeys, teamKeys := actorKeys(sep, actor)
	plain := &DecidePayload{Campaign: c.Name, Items: []string{id}, Decision: d, Reason: reason}
	exception := *plain
	exception.ExceptionExpires, exception.ExceptionApproval = terms.expiry(), terms.approvalRequired()
	if beforeDecideLock != nil {
		beforeDecideLock()
	}
	call := func(ev audit.Event, eventArgs []any) audit.Stmt {
		args := append([]any{c.ID, c.CreateSeq, id, string(d), reason, refuseSame, actorKey, sameKeys, teamKeys, dirSeq, formatAt(ev.At), ViaSingle}, eventArgs...)
		return audit.Stmt{Query: `SELECT * FROM nhi_decide(` + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + `)`, Args: args}
	}
	appendCall := st.AppendCall
	if ctx.Value(decideAloneKey{}) == nil {
		// Queued, and chained with the others queued by whoever next
		// holds the write lock (schema step 17).
		appendCall = st.AppendCallGrouped
		base, fn := call, "SELECT nhi_enqueue("
		if rehearse {
			fn = "SELECT * FROM nhi_group_rehearse("
		}
		call = func(ev audit.Event, eventArgs []any) audit.Stmt {
			s := base(ev, eventArgs)
			s.Query = strings.Replace(s.Query, "SELECT * FROM nhi_decide(", fn, 1)
			return s
		}
	}
	if rehearse {
		return nil, st.RehearseCall(ctx, actor, EventDecide, []any{plain, &exception}, call)
	}
	var reviewer, previous, previousBy string
	ev, variant, err := appendCall(ctx, actor, EventDecide, []any{plain, &exception}, call, &reviewer, &previous, &previousBy)
	if errors.Is(err, audit.ErrChanged) {
		return nil, errDecideLocked
	}
	if la, ok := errors.AsType[*audit.LostAnswerError](err); ok {
		// Recorded, the answer lost with the connection: what it would
		// have said, read back.
		ev, variant = la.Event, la.Variant
		reviewer, previous, previousBy, err = readBackDecision(ctx, st, c.ID, id, ev.Seq)
	}
	if err != nil {
		return nil, err
	}
	p := plain
	if variant == 1 {
		p = &exception
	}
	if oneTripDecided != nil {
		oneTripDecided()
	}
	return &Outcome{Event: ev, Item: id, Decision: d, Reviewer: reviewer, ExceptionExpires: p.ExceptionExpires, ExceptionApproval: p.ExceptionApproval,
		Assigned: reviewer != "" && sep.same(reviewer, actor), Previous: Decision(previous), PreviousBy: previousBy,
		Conflict: previousBy != "" && !sep.same(previousBy, actor)}, nil
}

// decideAloneKey, a context's value (set by a test or the benchmark),
// makes decideOneTrip call nhi_decide, which takes a turn of the write
// lock for each decision, as an older nhi does, where it queues the
// decision and has it chained by whoever holds the lock
// (audit.Store.AppendCallGrouped).
type decideAloneKey struct{}

// oneTripDecided, when set (by a test), runs after each decision
// decideOneTrip made.
var oneTripDecided func()

// actorKeys are the alias keys nhi_decide compares an item's names with:
// sameKeys, every key k such that Directory.Same(k, actor) — the actor's
// own, and each name of the actor's person that the directory resolves
// to that person (a name two people claim is the other's when Lookup
// says so) — and teamKeys, the key of every team of the campaign's
// snapshots the actor, under any alias, is a member of (separation.
// inTeam). Neither holds the empty key, which Same never matches.
func actorKeys(sep *separation, actor string) (sameKeys, teamKeys []string) {
	add := func(k string) {
		if k != "" && !slices.Contains(sameKeys, k) {
			sameKeys = append(sameKeys, k)
		}
	}
	add(audit.AliasKey(actor))
	if p := sep.dir.Lookup(actor); p != nil {
		for _, n := range p.Names() {
			if sep.dir.Lookup(n) == p {
				add(audit.AliasKey(n))
			}
		}
	}
	names := sep.names(actor)
	for team, members := range sep.teams {
		for _, n := range names {
			if members[audit.AliasKey(n)] {
				teamKeys = append(teamKeys, team)
				break
			}
		}
	}
	return sameKeys, teamKeys
}

// readBackDecision is what nhi_decide returns for the decision of item
// id recorded as event seq, read back when the connection was lost
// before its answer (audit.LostAnswerError): the item's reviewer, and
// its decision and who made it before seq, as its history gives them.
func readBackDecision(ctx context.Context, st *audit.Store, campaignID int64, id string, seq int64) (reviewer, previous, previousBy string, err error) {
	if err := st.QueryRow(ctx, `SELECT reviewer FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, campaignID, id).Scan(&reviewer); err != nil {
		return "", "", "", fmt.Errorf("decision %d on %s was recorded, but reading it back: %w", seq, audit.Printable(id), err)
	}
	history, err := loadItemHistory(ctx, st, campaignID, id)
	if err != nil {
		return "", "", "", fmt.Errorf("decision %d on %s was recorded, but reading it back: %w", seq, audit.Printable(id), err)
	}
	var before []histEntry
	for _, h := range history {
		if h.seq < seq {
			before = append(before, h)
		}
	}
	if len(before) == 0 {
		return reviewer, string(Pending), "", nil
	}
	last := before[len(before)-1]
	if last.via == ViaUndo {
		last = restoreBefore(before, last.undoes)
	}
	return reviewer, string(last.decision), last.actor, nil
}
