package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// A campaign's tables are projections of its events (docs/campaigns.md):
// the evidence report reads the tables, for speed, and holds each row it
// prints to the event behind it as it reads (EachAsOf), so a row changed
// with plain SQL is never exported as evidence. The check costs one read
// of each distinct decision and verification event, however many items
// they name; nhi verify replays everything.

// ErrTablesDisagree is a campaign's table saying what the event log does
// not: it was changed outside nhi.
var ErrTablesDisagree = errors.New("the campaign's tables disagree with its event log")

// ErrUnsignedDecision is a decision the log records unsigned in a
// campaign created with --require-signed, which nhi refuses (rule
// unsigned): it was written around nhi.
var ErrUnsignedDecision = errors.New("an unsigned decision in a campaign that requires signed decisions")

// logCheck holds a campaign's rows to the events their columns name.
type logCheck struct {
	ctx       context.Context
	st        *audit.Store
	c         *Campaign
	seed      maphash.Seed
	decisions map[int64]*decisionEvent
	verifies  map[int64]*verifyEvent
}

// decisionEvent is what a decision event says of every item it names.
type decisionEvent struct {
	typ      string
	campaign string
	decision Decision // "" for a confirmation: the item's carried decision
	reason   string
	actor    string
	items    idSet
	signed   bool // the payload names the key that signed it (signed_by)
}

// verifyEvent is, for each item a campaign.verify event names, the state
// it recorded.
type verifyEvent struct {
	campaign string
	snapshot int64
	state    map[uint64]string // by hashed ID
}

// idSet holds a list of IDs as sorted hashes: a bulk decision may name a
// million items, which as strings would hold the export's memory.
type idSet []uint64

func (k *logCheck) hash(id string) uint64 { return maphash.String(k.seed, id) }

func (k *logCheck) set(ids []string) idSet {
	s := make(idSet, len(ids))
	for i, id := range ids {
		s[i] = k.hash(id)
	}
	slices.Sort(s)
	return s
}

func (s idSet) has(h uint64) bool { _, ok := slices.BinarySearch(s, h); return ok }

func newLogCheck(ctx context.Context, st *audit.Store, c *Campaign) *logCheck {
	return &logCheck{ctx: ctx, st: st, c: c, seed: maphash.MakeSeed(), decisions: map[int64]*decisionEvent{}, verifies: map[int64]*verifyEvent{}}
}

// disagree is the error for item id whose column col says table where
// the log says log.
func (k *logCheck) disagree(id, col, table, log string) error {
	return fmt.Errorf("%w: campaign %s, item %s: %s is %s in the table, but %s; it was changed outside nhi, so nothing is exported from it: run `nhi verify` to see every difference",
		ErrTablesDisagree, audit.Printable(k.c.Name), audit.Printable(id), col, audit.Printable(table), audit.Printable(log))
}

// item checks one item's decision and verification, as the table gave
// them, against the events the table names for them.
func (k *logCheck) item(it *Item, ev ItemEvents) error {
	if err := k.decision(it, ev.Decision); err != nil {
		return err
	}
	return k.verification(it, ev.Verify)
}

func (k *logCheck) decision(it *Item, seq int64) error {
	state := string(it.Decision)
	if seq == 0 {
		if it.Decision != Pending {
			return k.disagree(it.ID, "the decision", quoted(state), "the table names no event that made it")
		}
		return nil
	}
	e, err := k.decisionEvent(seq)
	if err != nil {
		return err
	}
	at := fmt.Sprintf("event %d (%s)", seq, e.typ)
	switch {
	case e.campaign != k.c.Name:
		return k.disagree(it.ID, "the decision", quoted(state)+" by "+at, at+" is of campaign "+quoted(e.campaign))
	case e.typ == EventClose:
		if it.Decision != NoResponse {
			return k.disagree(it.ID, "the decision", quoted(state)+" by "+at, "a close makes only no-response")
		}
		return nil
	case e.typ != EventDecide && e.typ != EventConfirm:
		return k.disagree(it.ID, "the decision", quoted(state)+" by "+at, at+" decides nothing")
	case !e.items.has(k.hash(it.ID)):
		return k.disagree(it.ID, "the decision", quoted(state)+" by "+at, at+" does not name the item")
	}
	want := e.decision
	if e.typ == EventConfirm {
		want = it.Carried
	}
	switch {
	case it.Decision != want:
		return k.disagree(it.ID, "the decision", quoted(state), at+" decided "+quoted(string(want)))
	case it.Reason != e.reason:
		return k.disagree(it.ID, "the justification", quoted(it.Reason), at+" recorded "+quoted(e.reason))
	case it.DecidedBy != e.actor:
		return k.disagree(it.ID, "the decider", quoted(it.DecidedBy), at+" was recorded by "+quoted(e.actor))
	case k.c.RequireSigned && !e.signed:
		return fmt.Errorf("%w: campaign %s, item %s: %s by %s is not signed, and the campaign requires signed decisions: nhi refuses such a decision (rule unsigned), so it was written around nhi, and nothing is exported: run `nhi verify` to see every difference",
			ErrUnsignedDecision, audit.Printable(k.c.Name), audit.Printable(it.ID), at, audit.Printable(e.actor))
	}
	return nil
}

func (k *logCheck) decisionEvent(seq int64) (*decisionEvent, error) {
	if e := k.decisions[seq]; e != nil {
		return e, nil
	}
	ev, err := k.st.EventAt(k.ctx, seq)
	if err != nil {
		return nil, err
	}
	var p struct {
		Campaign string   `json:"campaign"`
		Items    []string `json:"items"`
		Decision Decision `json:"decision"`
		Reason   string   `json:"reason"`
		SignedBy string   `json:"signed_by"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return nil, fmt.Errorf("event %d (%s): %w", ev.Seq, ev.Type, err)
	}
	e := &decisionEvent{typ: ev.Type, campaign: p.Campaign, decision: p.Decision, reason: p.Reason, actor: ev.Actor, items: k.set(p.Items), signed: p.SignedBy != ""}
	k.decisions[seq] = e
	return e, nil
}

func (k *logCheck) verification(it *Item, seq int64) error {
	if seq == 0 {
		if it.Verification != "" {
			return k.disagree(it.ID, "the verification", quoted(it.Verification), "the table names no campaign.verify event behind it")
		}
		return nil
	}
	e := k.verifies[seq]
	if e == nil {
		ev, err := k.st.EventAt(k.ctx, seq)
		if err != nil {
			return err
		}
		var p VerifyPayload
		if ev.Type != EventVerify {
			p.Campaign = "(none: it is " + ev.Type + ")"
		} else if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return fmt.Errorf("event %d (%s): %w", ev.Seq, ev.Type, err)
		}
		e = &verifyEvent{campaign: p.Campaign, snapshot: p.Snapshot, state: map[uint64]string{}}
		for _, l := range []struct {
			state string
			ids   []string
		}{{Removed, p.Removed}, {StillPresent, p.StillPresent}, {NotChecked, p.NotChecked}, {Rotated, p.Rotated},
			{NotRotated, p.NotRotated}, {Transferred, p.Transferred}, {NotTransferred, p.NotTransferred}} {
			for _, id := range l.ids {
				e.state[k.hash(id)] = l.state
			}
		}
		k.verifies[seq] = e
	}
	at := fmt.Sprintf("campaign.verify event %d", seq)
	switch got := e.state[k.hash(it.ID)]; {
	case e.campaign != k.c.Name:
		return k.disagree(it.ID, "the verification", quoted(it.Verification)+" by event "+fmt.Sprint(seq), "that event verifies campaign "+quoted(e.campaign))
	case got != it.Verification:
		return k.disagree(it.ID, "the verification", quoted(it.Verification), at+" recorded "+quoted(got))
	case e.snapshot != it.VerifiedSnapshot:
		return k.disagree(it.ID, "the verifying snapshot", fmt.Sprint(it.VerifiedSnapshot), at+" checked snapshot "+fmt.Sprint(e.snapshot))
	}
	return nil
}

func quoted(s string) string { return `"` + s + `"` }
