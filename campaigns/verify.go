package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Verify replays the campaign.* events of the log and compares what they
// imply with the campaign tables; it recomputes every frozen item's hash
// and every population digest. Each problem names the campaign and the
// record; none means the tables are what the log says. The log's own hash
// chain is audit.Store.Verify's business.
//
// It streams (replay.go): a campaign's items and decision history are read
// a row at a time in ID order, each item checked as it passes, so a
// million-item campaign is never in memory (issue 21).
func Verify(ctx context.Context, st *audit.Store) ([]string, error) {
	v, err := replayUpTo(ctx, st, 0)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(v.tables)) {
		if v.replay[name] == nil {
			v.add(problemKey{k: [4]int64{phaseCompare, 0, 0, int64(len(v.problems))}},
				"campaign %s is in the campaigns table but no event created it: it was added behind nhi's back", audit.Printable(name))
		}
	}
	carried := newCarriedAs(v)
	if v.people, err = readPersonChanges(ctx, st, 0); err != nil {
		return nil, err
	}
	dec, err := newDeciders(ctx, st, v)
	if err != nil {
		return nil, err
	}
	for _, name := range v.order {
		if err := v.check(ctx, v.replay[name], carried, dec); err != nil {
			return nil, err
		}
	}
	carried.earlier(v)
	if err := v.leaverActs(ctx); err != nil {
		return nil, err
	}
	problems := v.sorted()
	more, err := verifyOffboardings(ctx, st)
	if err != nil {
		return nil, err
	}
	problems = append(problems, more...)
	required := func(campaign string) bool { r := v.replay[campaign]; return r != nil && r.create.RequireSigned }
	if more, err = verifyApprovals(ctx, st, required, v.people); err != nil {
		return nil, err
	}
	return append(problems, more...), nil
}

// VerifyStore is what nhi verify checks of an evidence store: its log and
// the tables audit keeps (audit.Store.VerifyWithSigners, allowed as there),
// and the campaigns' tables (Verify), side by side on connections of their
// own: the audit part's long reads keep about one core and a half busy,
// and the campaigns' part is one long read of its own (issue 21). The
// campaigns' problems follow the store's, as when they ran one after the
// other.
func VerifyStore(ctx context.Context, st *audit.Store, allowed []byte) (*audit.VerifyResult, error) {
	var problems []string
	var campaignsErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		problems, campaignsErr = Verify(ctx, st)
	}()
	r, err := st.VerifyWithSigners(ctx, allowed)
	<-done
	if err := errors.Join(err, campaignsErr); err != nil {
		return nil, err
	}
	r.Problems = append(r.Problems, problems...)
	return r, nil
}

// check compares campaign r's row, items and decision history with what
// the log makes them, and its items with its population digest and
// carried_as (carried), and who decided each item with who owned or
// held it (dec).
func (v *verifier) check(ctx context.Context, r *replayed, carried *carriedAs, dec *deciders) error {
	if r.table != nil {
		v.compareCampaign(r)
	}
	name := audit.Printable(r.create.Name)
	digest := newPopulationDigest()
	count := 0
	err := v.walk(ctx, r, false, func(w *walkedItem) error {
		count++
		carried.item(v, r, w)
		dec.item(v, r, w)
		if w.rowHash != digest.addCanonical(w.canonical) {
			v.add(problemKey{k: [4]int64{phaseEvents, r.createSeq, 0, w.n}},
				"campaign %s: item %s was edited after creation: its frozen columns (owner, findings, reviewer, ...) no longer match their hash",
				name, audit.Printable(w.id))
		}
		same, err := v.sameState(ctx, r, w)
		if err != nil {
			return err
		}
		if !same {
			v.compareItem(r, w)
		}
		v.compareHistory(r, w)
		return nil
	}, func(id string, h histEntry) {
		v.add(v.historyKey(r, id, h.seq),
			"campaign %s: item %s: the decision history has a row for event %d (%s by %s) that the event log does not: it was added behind nhi's back",
			name, audit.Printable(id), h.seq, audit.Printable(string(h.decision)), audit.Printable(h.actor))
	})
	if err != nil {
		return err
	}
	dec.closed(v, r)
	if r.table == nil {
		return nil
	}
	carried.done(v, r)
	key := problemKey{k: [4]int64{phaseEvents, r.createSeq, 1, 0}}
	if count != r.create.Count {
		v.add(key, "campaign %s: the table holds %d items but its creation (event %d) recorded %d: items were added or deleted behind nhi's back",
			name, count, r.createSeq, r.create.Count)
	} else if digest.sum() != r.create.PopulationDigest {
		v.add(key, "campaign %s: its population no longer matches the digest its creation (event %d) recorded: items were edited, added or removed behind nhi's back",
			name, r.createSeq)
	}
	return nil
}

// historyKey orders the problems of a campaign's decision history by item
// and event.
func (v *verifier) historyKey(r *replayed, id string, seq int64) problemKey {
	return problemKey{k: [4]int64{phaseCompare, 1 + r.rank, 2, 0}, id: id, n: seq}
}

func (v *verifier) compareCampaign(r *replayed) {
	p := r.create
	reviewers, _ := json.Marshal(p.Reviewers)
	status, closedAt, closeSeq := StatusOpen, "", "0"
	if r.closed {
		status, closedAt, closeSeq = StatusClosed, r.closedAt, fmt.Sprint(r.closeSeq)
	}
	want := map[string]string{
		"scope": p.Scope, "due": p.Due, "status": status, "snapshot_id": fmt.Sprint(p.Snapshot), "as_of": p.AsOf,
		"policy_digest": p.PolicyDigest, "reviewers": string(reviewers), "carried_from": p.CarriedFrom,
		"item_count": fmt.Sprint(p.Count), "population_digest": p.PopulationDigest, "created_at": r.createdAt,
		"created_by": r.createdBy, "create_seq": fmt.Sprint(r.createSeq), "closed_at": closedAt, "closed_by": r.closedBy,
		"close_seq": closeSeq,
	}
	for i, col := range slices.Sorted(maps.Keys(want)) {
		if got := r.table.raw[col]; got != want[col] {
			v.add(problemKey{k: [4]int64{phaseCompare, 1 + r.rank, 0, int64(i)}},
				"campaign %s: %s is %q in the table but %q by the event log: the table was edited", audit.Printable(p.Name), col, audit.Printable(got), audit.Printable(want[col]))
		}
	}
}

// compareItem names the first column of w's row that differs from what
// the events make it (w is whole: see sameState).
func (v *verifier) compareItem(r *replayed, w *walkedItem) {
	got, want := &w.table, &w.state
	diff := func(field string, g, wa any) {
		v.add(problemKey{k: [4]int64{phaseCompare, 1 + r.rank, 1, w.n}},
			"campaign %s: item %s: %s is %q in the table but %q by the event log: the table was edited",
			audit.Printable(r.create.Name), audit.Printable(w.id), field, audit.Printable(fmt.Sprint(g)), audit.Printable(fmt.Sprint(wa)))
	}
	switch {
	case got.decision != want.decision:
		diff("decision", got.decision, want.decision)
	case got.reason != want.reason:
		diff("reason", got.reason, want.reason)
	case got.decidedBy != want.decidedBy:
		diff("decided_by", got.decidedBy, want.decidedBy)
	case got.decidedAt != want.decidedAt:
		diff("decided_at", got.decidedAt, want.decidedAt)
	case got.seq != want.seq:
		diff("decision_seq", got.seq, want.seq)
	case got.conflict != want.conflict:
		diff("conflict", got.conflict, want.conflict)
	case got.verification != want.verification:
		diff("verification", got.verification, want.verification)
	case got.verifiedSnapshot != want.verifiedSnapshot:
		diff("verified_snapshot", got.verifiedSnapshot, want.verifiedSnapshot)
	case got.verifySeq != want.verifySeq:
		diff("verify_seq", got.verifySeq, want.verifySeq)
	}
}

// compareHistory compares w's decision history rows with the history the
// events make, event by event (an event naming an item twice leaves one
// row: its last).
func (v *verifier) compareHistory(r *replayed, w *walkedItem) {
	name := audit.Printable(r.create.Name)
	// Both lists are in event order; the last entry of each event stands.
	lastOf := func(l []histEntry, i int) (histEntry, int) {
		j := i
		for j+1 < len(l) && l[j+1].seq == l[i].seq {
			j++
		}
		return l[j], j + 1
	}
	i, j := 0, 0
	for i < len(w.rows) || j < len(w.hist) {
		var g, wa histEntry
		inTable, inLog := false, false
		switch {
		case j == len(w.hist) || i < len(w.rows) && w.rows[i].seq < w.hist[j].seq:
			g, i = lastOf(w.rows, i)
			inTable = true
		case i == len(w.rows) || w.hist[j].seq < w.rows[i].seq:
			wa, j = lastOf(w.hist, j)
			inLog = true
		default:
			g, i = lastOf(w.rows, i)
			wa, j = lastOf(w.hist, j)
			inTable, inLog = true, true
		}
		switch {
		case !inLog:
			v.add(v.historyKey(r, w.id, g.seq),
				"campaign %s: item %s: the decision history has a row for event %d (%s by %s) that the event log does not: it was added behind nhi's back",
				name, audit.Printable(w.id), g.seq, audit.Printable(string(g.decision)), audit.Printable(g.actor))
		case !inTable:
			v.add(v.historyKey(r, w.id, wa.seq),
				"campaign %s: item %s: the decision of event %d (%s by %s) is missing from the decision history: it was deleted behind nhi's back",
				name, audit.Printable(w.id), wa.seq, wa.decision, audit.Printable(wa.actor))
		case g != wa:
			v.add(v.historyKey(r, w.id, g.seq),
				"campaign %s: item %s: the decision history row of event %d (%s) %s: the table was edited",
				name, audit.Printable(w.id), g.seq, historyLabel(wa), strings.Join(historyDiff(g, wa), ", and "))
		}
	}
}

// historyLabel names a history row as the log has it: "keep by yan", or
// "undo by zoe".
func historyLabel(h histEntry) string {
	what := string(h.decision)
	if h.via == "undo" || what == "" {
		what = h.via
	}
	return audit.Printable(what) + " by " + audit.Printable(h.actor)
}

// historyDiff names each column of the history row got that differs from
// the row the log makes (want), so that an auditor sees what was changed:
// the time, say, which the report gives as the decision's.
func historyDiff(got, want histEntry) []string {
	var out []string
	text := func(what, g, w string) {
		if g != w {
			out = append(out, fmt.Sprintf(what, audit.Printable(g), audit.Printable(w)))
		}
	}
	text("says the decision was %q, the event log %q", string(got.decision), string(want.decision))
	text("says it was made by %q, the event log by %q", got.actor, want.actor)
	text("says the reason was %q, the event log %q", got.reason, want.reason)
	text("says it was made at %q, the event log at %q", got.at, want.at)
	text("says it was made %q, the event log %q", got.via, want.via)
	if got.undoes != want.undoes {
		out = append(out, fmt.Sprintf("says it undoes event %d, the event log event %d", got.undoes, want.undoes))
	}
	return out
}
