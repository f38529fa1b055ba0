package campaigns

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/audit"
)

// The walk over one campaign's items (see replay.go).

// walkedItem is one item as the walk passes it: its row, the state and
// history the events give it, and its rows of the decision history.
type walkedItem struct {
	frozen            // whole only when full
	table   itemState // as the row holds it; only when full
	rowHash string
	// canonical is the frozen row's canonical form (what the population
	// digest covers); stateJSON the row's state as SQLite's json_array
	// wrote it, when not full.
	canonical []byte
	stateJSON []byte
	full      bool
	state     itemState    // as the events make it
	hist      []histEntry  // as the events make it, in event order
	rows      []histEntry  // the decision history's rows, in event order
	n         int64        // its position in the walk
	touched   []touchedPos // scratch: the touches naming it
	buf       []byte       // scratch
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
// canonical row and its state as JSON that SQLite writes (json_array), its
// ID and carried decision: reading five columns rather than twenty-one
// costs this driver a quarter less (issue 21); an item whose text JSON would
// not write as encoding/json does is read again whole (readWhole), and so
// is one whose state differs (see sameState).
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

// itemsAsJSON is the walk's query on SQLite when not full.
const itemsAsJSON = `SELECT identity_id, carried,
	json_array(` + frozenColumns + `), row_hash,
	json_array(decision, reason, decided_by, COALESCE(decided_at, ''), COALESCE(decision_seq, 0), conflict,
		verification, COALESCE(verified_snapshot, 0), COALESCE(verify_seq, 0))
	FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`

func (v *verifier) walkItems(ctx context.Context, r *replayed, full bool, first map[string]int32, mentions []touchedPos, next, closes []int32,
	fn func(*walkedItem) error, orphan func(id string, h histEntry)) error {
	remote := v.st.Remote()
	full = full || remote
	q := itemsAsJSON
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
	var canonical, stateJSON sql.RawBytes
	for w.n = 0; items.Next(); w.n++ {
		if full {
			if err := scanFrozen(items, &w.frozen, append([]any{&w.rowHash}, w.table.scanArgs()...)...); err != nil {
				return err
			}
			w.canonical = w.frozen.canonical()
		} else {
			w.full = false
			if err := items.Scan(&w.id, &w.carried, &canonical, &w.rowHash, &stateJSON); err != nil {
				return err
			}
			w.canonical, w.stateJSON = canonical, stateJSON
			if !plainJSONStrings(canonical, 11) {
				if err := v.readWhole(ctx, r, w); err != nil {
					return err
				}
			}
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

// readWhole reads w's row again, column by column: its frozen columns and
// its state as the table holds them.
func (v *verifier) readWhole(ctx context.Context, r *replayed, w *walkedItem) error {
	l, err := loadItem(ctx, v.st, r.table.c, w.id)
	if err != nil {
		return fmt.Errorf("reading campaign items: %w", err)
	}
	w.frozen, w.table, w.full = l.frozen, l.itemState, true
	w.canonical = w.frozen.canonical()
	return nil
}

// sameState reports whether w's state in the table is what the events
// make it. Without the row whole, it compares the JSON SQLite wrote with
// the same written here, and reads the row again when they differ: a
// difference in a text's escapes, or a value stored as another type, is
// then no difference, as when the columns are compared one by one.
func (v *verifier) sameState(ctx context.Context, r *replayed, w *walkedItem) (bool, error) {
	if !w.full {
		w.buf = appendStateJSON(w.buf[:0], &w.state)
		if bytes.Equal(w.buf, w.stateJSON) {
			return true, nil
		}
		if err := v.readWhole(ctx, r, w); err != nil {
			return false, err
		}
	}
	return w.table == w.state, nil
}

// appendStateJSON appends s as SQLite's json_array writes the state
// columns of itemsAsJSON.
func appendStateJSON(b []byte, s *itemState) []byte {
	b = append(b, '[')
	b = appendPlainJSONString(b, string(s.decision))
	b = append(b, ',')
	b = appendPlainJSONString(b, s.reason)
	b = append(b, ',')
	b = appendPlainJSONString(b, s.decidedBy)
	b = append(b, ',')
	b = appendPlainJSONString(b, s.decidedAt)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.seq, 10)
	if s.conflict {
		b = append(b, ",1,"...)
	} else {
		b = append(b, ",0,"...)
	}
	b = appendPlainJSONString(b, s.verification)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.verifiedSnapshot, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.verifySeq, 10)
	return append(b, ']')
}

// plainJSONStrings reports whether b is a JSON array of n strings that
// encoding/json (without HTML escapes) would write byte for byte the
// same: valid UTF-8 without U+2028 or U+2029 (which encoding/json
// escapes and SQLite does not), and no escape but \" \\ \n \r \t. A
// frozen row SQLite wrote so is its canonical form.
func plainJSONStrings(b []byte, n int) bool {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' || !utf8.Valid(b) ||
		bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte("\u2029")) {
		return false
	}
	i, count := 1, 0
	for i < len(b)-1 {
		if count > 0 {
			if b[i] != ',' {
				return false
			}
			i++
		}
		if i >= len(b)-1 || b[i] != '"' {
			return false
		}
		i++
		for {
			if i >= len(b)-1 {
				return false
			}
			c := b[i]
			if c == '"' {
				i++
				break
			}
			if c < 0x20 {
				return false
			}
			if c == '\\' {
				if i+1 >= len(b)-1 {
					return false
				}
				switch b[i+1] {
				case '"', '\\', 'n', 'r', 't':
				default:
					return false
				}
				i++
			}
			i++
		}
		count++
	}
	return count == n
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
