package campaigns

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// The walk over one campaign's items (see replay.go).

// walkedItem is one item as the walk passes it: its row, the state and
// history the events give it, and its rows of the decision history.
type walkedItem struct {
	frozen            // as stored
	table   itemState // as the row holds it; only when full
	rowHash string
	// canonical is the frozen row's canonical form (what the population
	// digest covers); state9 the row's nine state columns as one packed
	// text (itemsPacked), when not full.
	canonical []byte
	state9    string
	full      bool
	state     itemState    // as the events make it
	hist      []histEntry  // as the events make it, in event order
	rows      []histEntry  // the decision history's rows, in event order
	n         int64        // its position in the walk
	touched   []touchedPos // scratch: the touches naming it
	buf       []byte       // scratch
	canon     []byte       // scratch: canonical's buffer
}

// histRow is a row of the decision history.
type histRow struct {
	id    string
	entry histEntry
}

// touchedPos is one mention of an item by a touch: which touch, and where
// in its list.
type touchedPos struct{ touch, pos int32 }

// walk reads campaign r's items and their decision history in ID order
// and calls fn with each item as the events make it. Rows of the history
// whose item the table does not hold go to orphan; the IDs the events name
// that the table does not hold are problems (items were deleted).
//
// With full, every item comes with its frozen columns and its state as
// the table holds them. Otherwise, on SQLite, an item comes with its
// frozen columns and canonical row, and its state as one packed text
// (itemsPacked): the driver's cost is per column, and SQLite's json_array
// was dear (issue 21); an item whose texts hold the
// separator is read again whole (readWhole), and so is one whose state
// differs (see sameState).
func (v *verifier) walk(ctx context.Context, r *replayed, full bool, fn func(*walkedItem) error, orphan func(id string, h histEntry)) error {
	// The mentions of each ID, chained in event order: the first in
	// first, the next of each in next.
	var n int
	for i := range r.touches {
		n += len(r.touches[i].ids)
	}
	mentions := make([]touchedPos, 0, n)
	var closes []int32
	for ti := range r.touches {
		t := &r.touches[ti]
		if t.op == opClose {
			closes = append(closes, int32(ti))
		}
		for pos := range t.ids {
			mentions = append(mentions, touchedPos{int32(ti), int32(pos)})
		}
	}
	next := make([]int32, len(mentions))
	first := make(map[string]int32)
	for m := len(mentions) - 1; m >= 0; m-- {
		id := r.touches[mentions[m].touch].ids[mentions[m].pos]
		next[m] = -1
		if f, ok := first[id]; ok {
			next[m] = f
		}
		first[id] = int32(m)
	}

	if r.table != nil {
		if err := v.walkItems(ctx, r, full, first, mentions, next, closes, fn, orphan); err != nil {
			return err
		}
	}
	// What is left in first was never found among the items.
	name := audit.Printable(r.create.Name)
	for id, m := range first {
		for ; m >= 0; m = next[m] {
			t := &r.touches[mentions[m].touch]
			key := problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(mentions[m].pos)}}
			switch t.op {
			case opDecide, opConfirm:
				v.add(key, "event %d (%s by %s) decides %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, t.actor, audit.Printable(id), name)
			case opUndo:
				v.add(key, "event %d (%s by %s) undoes a decision on %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, t.actor, audit.Printable(id), name)
			case opVerify:
				v.add(key, "event %d (%s) verifies %s, which is not in campaign %s's population as the table holds it: items were deleted",
					t.seq, t.typ, audit.Printable(id), name)
			}
		}
	}
	return nil
}

// itemsPacked is the walk's query on SQLite when not full: an item's
// columns (frozenColumns, row_hash, stateColumns) as one text, packed
// as audit's table read packs its rows (audit.Packed: concat_ws, joined
// by audit.PackSep, a control character no JSON or time nhi writes
// holds, and names hardly ever: a row in which a text does is read again
// whole). Every column is NOT NULL or COALESCEd (concat_ws leaves a NULL
// out), and of TEXT affinity or an integer, so the text holds each
// column's stored text (an integer in decimal) as a scan into a string
// reads it; the canonical row is then appended here
// (frozen.appendCanonical), the same code as for a row read whole. Where
// SQLite built it (json_array, and the state as another), the read alone
// of a million items took 4.0-5.5 CPU-s on a loaded machine, packed
// 3.1-3.9 (issue 21).
var itemsPacked = `SELECT ` + audit.Packed(frozenColumns, `row_hash`, stateColumns) + `
	FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`

// unpackItem cuts a row of itemsPacked into w's frozen columns, row hash
// and packed state; false when a text holds audit.PackSep (the row has
// more than the twenty separators of its twenty-one columns).
func unpackItem(s string, w *walkedItem) bool {
	f := &w.frozen
	state, ok := audit.CutPacked(s, &f.id, &f.kind, &f.name, &f.scope, &f.owner, &f.naturalOwner,
		&f.findings, &f.permissions, &f.reviewer, &f.carried, &f.carriedReason, &w.rowHash)
	w.state9 = state
	return ok && strings.Count(state, audit.PackSep) == 8
}

func (v *verifier) walkItems(ctx context.Context, r *replayed, full bool, first map[string]int32, mentions []touchedPos, next, closes []int32,
	fn func(*walkedItem) error, orphan func(id string, h histEntry)) error {
	remote := v.st.Remote()
	full = full || remote
	q := itemsPacked
	if full {
		q = `SELECT ` + frozenColumns + `, row_hash, ` + stateColumns + ` FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`
	}
	items, err := v.st.Query(ctx, q, r.table.c.ID)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	defer items.Close()
	// The history in the same order. On SQLite both list IDs byte by
	// byte, as Go compares them, so a row whose ID comes before the
	// item's has no item; PostgreSQL's collation need not be Go's, so
	// there a row whose item is not in the table is flagged, and the two
	// cursors keep step comparing IDs for equality only.
	hq := `SELECT identity_id, seq, decision, reason, actor, at, via, undoes, 0 FROM campaign_decisions
		WHERE campaign_id = ? ORDER BY identity_id, seq`
	if remote {
		hq = `SELECT d.identity_id, d.seq, d.decision, d.reason, d.actor, d.at, d.via, d.undoes,
		CASE WHEN i.identity_id IS NULL THEN 1 ELSE 0 END
		FROM campaign_decisions d LEFT JOIN campaign_items i ON i.campaign_id = d.campaign_id AND i.identity_id = d.identity_id
		WHERE d.campaign_id = ? ORDER BY d.identity_id, d.seq`
	}
	hist, err := v.st.Query(ctx, hq, r.table.c.ID)
	if err != nil {
		return fmt.Errorf("reading campaign decisions: %w", err)
	}
	defer hist.Close()
	var pending *histRow
	var pendingOrphan bool
	readHistory := func() error {
		pending = nil
		if !hist.Next() {
			if err := hist.Err(); err != nil {
				return fmt.Errorf("reading campaign decisions: %w", err)
			}
			return nil
		}
		h := &histRow{}
		if err := hist.Scan(&h.id, &h.entry.seq, &h.entry.decision, &h.entry.reason, &h.entry.actor, &h.entry.at, &h.entry.via, &h.entry.undoes, &pendingOrphan); err != nil {
			return err
		}
		pending = h
		return nil
	}
	if err := readHistory(); err != nil {
		return err
	}
	w := &walkedItem{full: full}
	var packedRow string
	var prevID string // the last item's ID
	for w.n = 0; items.Next(); w.n++ {
		if full {
			if err := scanFrozen(items, &w.frozen, append([]any{&w.rowHash}, w.table.scanArgs()...)...); err != nil {
				return err
			}
			w.canonical = w.frozen.canonical()
		} else {
			w.full = false
			if err := items.Scan(&packedRow); err != nil {
				return err
			}
			if unpackItem(packedRow, w) {
				w.canon = w.frozen.appendCanonical(w.canon[:0])
				w.canonical = w.canon
			} else {
				// A text holds the separator, maybe the ID: the row's
				// ID is the one after the last item's.
				if err := v.idAfter(ctx, r, w, prevID); err != nil {
					return err
				}
				if err := v.readWhole(ctx, r, w); err != nil {
					return err
				}
			}
			prevID = w.id
		}
		w.rows = w.rows[:0]
	rows:
		for pending != nil {
			switch {
			case pendingOrphan || !remote && pending.id < w.id:
				orphan(pending.id, pending.entry)
			case pending.id == w.id:
				w.rows = append(w.rows, pending.entry)
			default:
				break rows
			}
			if err := readHistory(); err != nil {
				return err
			}
		}
		w.touched = w.touched[:0]
		if m, ok := first[w.id]; ok {
			delete(first, w.id)
			for ; m >= 0; m = next[m] {
				w.touched = append(w.touched, mentions[m])
			}
		}
		v.replayItem(r, w, closes)
		if err := fn(w); err != nil {
			return err
		}
	}
	if err := items.Err(); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	// Rows after the last item belong to none.
	for pending != nil {
		orphan(pending.id, pending.entry)
		if err := readHistory(); err != nil {
			return err
		}
	}
	return nil
}

// idAfter sets w's ID to that of r's item after the one with ID prev
// (w.n 0: its first), a seek by the table's key.
func (v *verifier) idAfter(ctx context.Context, r *replayed, w *walkedItem, prev string) error {
	q, args := `SELECT identity_id FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id LIMIT 1`, []any{r.table.c.ID}
	if w.n > 0 {
		q, args = `SELECT identity_id FROM campaign_items WHERE campaign_id = ? AND identity_id > ? ORDER BY identity_id LIMIT 1`, append(args, prev)
	}
	if err := v.st.QueryRow(ctx, q, args...).Scan(&w.id); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	return nil
}

// readWhole reads w's row again, column by column: its frozen columns,
// row hash and state as the table holds them.
func (v *verifier) readWhole(ctx context.Context, r *replayed, w *walkedItem) error {
	rows, err := v.st.Query(ctx, `SELECT `+frozenColumns+`, row_hash, `+stateColumns+` FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`,
		r.table.c.ID, w.id)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading campaign items: %w", err)
		}
		return fmt.Errorf("reading campaign items: campaign %s's item %s is gone: the file changed during verify", audit.Printable(r.create.Name), audit.Printable(w.id))
	}
	if err := scanFrozen(rows, &w.frozen, append([]any{&w.rowHash}, w.table.scanArgs()...)...); err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	w.full = true
	w.canonical = w.frozen.canonical()
	return rows.Close()
}

// sameState reports whether w's state in the table is what the events
// make it. Without the row whole, it compares the packed text SQLite
// wrote with the same written here, and reads the row again when they
// differ: a value stored as another type (a text '05' for 5) is then no
// difference, as when the columns are compared one by one.
func (v *verifier) sameState(ctx context.Context, r *replayed, w *walkedItem) (bool, error) {
	if !w.full {
		w.buf = appendStatePacked(w.buf[:0], &w.state)
		if string(w.buf) == w.state9 {
			return true, nil
		}
		if err := v.readWhole(ctx, r, w); err != nil {
			return false, err
		}
	}
	return w.table == w.state, nil
}

// appendStatePacked appends s as itemsPacked packs the state columns.
func appendStatePacked(b []byte, s *itemState) []byte {
	b = append(b, s.decision...)
	b = append(b, audit.PackSep...)
	b = append(b, s.reason...)
	b = append(b, audit.PackSep...)
	b = append(b, s.decidedBy...)
	b = append(b, audit.PackSep...)
	b = append(b, s.decidedAt...)
	b = append(b, audit.PackSep...)
	b = strconv.AppendInt(b, s.seq, 10)
	if s.conflict {
		b = append(b, audit.PackSep+"1"+audit.PackSep...)
	} else {
		b = append(b, audit.PackSep+"0"+audit.PackSep...)
	}
	b = append(b, s.verification...)
	b = append(b, audit.PackSep...)
	b = strconv.AppendInt(b, s.verifiedSnapshot, 10)
	b = append(b, audit.PackSep...)
	return strconv.AppendInt(b, s.verifySeq, 10)
}

// replayItem rebuilds w's state and history from the touches naming it
// and the campaign's closes, in event order.
func (v *verifier) replayItem(r *replayed, w *walkedItem, closes []int32) {
	s := &w.state
	*s = itemState{}
	w.hist = w.hist[:0]
	i, c := 0, 0
	for i < len(w.touched) || c < len(closes) {
		var t *touch
		var pos int32
		if c < len(closes) && (i == len(w.touched) || closes[c] < w.touched[i].touch) {
			t = &r.touches[closes[c]]
			c++
		} else {
			t, pos = &r.touches[w.touched[i].touch], w.touched[i].pos
			i++
		}
		switch t.op {
		case opDecide, opConfirm:
			dec := t.decision
			if t.op == opConfirm {
				dec = Decision(w.carried)
			}
			s.decide(dec, t.reason, t.actor, t.at, t.seq)
			w.hist = append(w.hist, s.entry(t.via))
		case opUndo:
			if s.seq != t.undoes {
				v.add(problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(pos)}}, "event %d (%s by %s) undoes event %d on %s, which was not its decision then",
					t.seq, t.typ, t.actor, t.undoes, audit.Printable(w.id))
			}
			prev := restoreBefore(w.hist, t.undoes)
			s.undo(prev, t.actor)
			w.hist = append(w.hist, histEntry{seq: t.seq, decision: prev.decision, reason: prev.reason, actor: t.actor, at: t.at, via: ViaUndo, undoes: t.undoes})
		case opClose:
			s.close(t.at, t.seq)
		case opVerify:
			s.verify(t.state, t.snapshot, t.seq)
		}
	}
}
