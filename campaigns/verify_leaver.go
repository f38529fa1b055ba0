package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// directoryThen is the directory of people replayed from its person.set
// events, each of which holds the person's whole record: what nhi read
// at an event when the events before it have been set.
type directoryThen struct {
	people  map[string]audit.Person // by e-mail
	byAlias map[string]string       // alias key -> e-mail
	// leftBy is, by e-mail, the person.set event that marked a person
	// left, while the directory still does.
	leftBy map[string]int64
}

func newDirectoryThen() *directoryThen {
	return &directoryThen{people: map[string]audit.Person{}, byAlias: map[string]string{}, leftBy: map[string]int64{}}
}

// set applies c, the record of a person.set event; named, when not nil,
// is told each alias key the event took from the person (known false)
// and each it gave them (true), in that order.
func (r *directoryThen) set(c personChange, named func(k string, known bool)) {
	p := c.p
	switch {
	case p.Status != audit.PersonLeft:
		delete(r.leftBy, p.Email)
	case r.people[p.Email].Status != audit.PersonLeft || r.leftBy[p.Email] == 0:
		r.leftBy[p.Email] = c.seq
	}
	if old, ok := r.people[p.Email]; ok {
		for _, n := range old.Names() {
			if k := audit.AliasKey(n); r.byAlias[k] == p.Email {
				delete(r.byAlias, k)
				if named != nil {
					named(k, false)
				}
			}
		}
	}
	r.people[p.Email] = p
	for _, n := range p.Names() {
		k := audit.AliasKey(n)
		r.byAlias[k] = p.Email
		if named != nil {
			named(k, true)
		}
	}
}

// lookup is the person name is a name of, as audit.Directory.Lookup
// finds them (by alias key, or the address of "Name <address>"), or nil.
func (r *directoryThen) lookup(name string) *audit.Person {
	email, ok := r.byAlias[personKey(name, r.byAlias)]
	if !ok {
		return nil
	}
	p := r.people[email]
	return &p
}

// left says when the directory marks name's person left ("rita@acme.test
// left on 2026-09-30"), as audit.Directory.RefuseLeaver reads it; "" when
// it does not.
func (r *directoryThen) left(name string) string {
	if p := r.lookup(name); p != nil && p.Status == audit.PersonLeft {
		return p.Email + " " + p.LeftNote()
	}
	return ""
}

// leftEvent is the person.set event that marked name's person left, as
// the directory stands (0 when it does not mark them so).
func (r *directoryThen) leftEvent(name string) int64 {
	if p := r.lookup(name); p != nil && p.Status == audit.PersonLeft {
		return r.leftBy[p.Email]
	}
	return 0
}

// personChange is a person.set event: who wrote it and the whole record
// it set.
type personChange struct {
	seq   int64
	at    string // when it was written, as the log holds it
	actor string
	p     audit.Person
}

// changesBefore is those of changes before event seq: changes is in
// log order.
func changesBefore(changes []personChange, seq int64) []personChange {
	n, _ := slices.BinarySearchFunc(changes, seq, func(c personChange, seq int64) int { return cmp.Compare(c.seq, seq) })
	return changes[:n]
}

// readPersonChanges reads the person.set events before event before (0:
// all of them), in log order. Verify reads them once, for all its passes
// over who acted (verifier.people).
func readPersonChanges(ctx context.Context, st reader, before int64) ([]personChange, error) {
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := st.Query(ctx, `SELECT seq, at, actor, payload FROM events WHERE type = ? AND seq < ? ORDER BY seq`, audit.EventPersonSet, before)
	if err != nil {
		return nil, fmt.Errorf("reading the directory of people: %w", err)
	}
	defer rows.Close()
	var changes []personChange
	for rows.Next() {
		var c personChange
		var payload sql.RawBytes
		if err := rows.Scan(&c.seq, &c.at, &c.actor, &payload); err != nil {
			return nil, err
		}
		var ps audit.PersonSet
		if json.Unmarshal(payload, &ps) == nil {
			c.p = ps.Person
			changes = append(changes, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the directory of people: %w", err)
	}
	return changes, nil
}

// leaverActs names, after the fact, each note, owner change (set, clear
// or undo), campaign close, campaign creation, escalation, offboarding,
// policy and change to the directory of people whose actor's person the
// directory of people marked left when it was written, as it stood then
// (its person.set events before it; for a change to the directory, before
// the run of person.set events its import or sync wrote): nhi refuses
// them to a leaver — in their own transaction (audit.Directory.
// RefuseLeaver), and the commands when they start — so one the log holds
// was written around nhi: into the file, by an nhi from before those
// checks, or on PostgreSQL by a role the database lets write in anyone's
// name. A snapshot, refused to a leaver's name when it begins, is judged
// by the directory as it stood when it began (leaverSnapshots): its
// record is written when it finishes. A leaver's decision, confirmation or undo is
// named with the other decisions (newDeciders), an approval with the
// other approvals (verifyApprovals). A person marked left after the
// event did nothing wrong then, and is not named.
//
// It reads the directory's changes, and nothing more when none marks
// anyone left; else the seq and actor of the events of each of the three
// types written after the first such change, in log order through their
// index (none of a campaign's decisions), the directory replayed beside
// them, and the payload of a leaver's only.
func (v *verifier) leaverActs(ctx context.Context) error {
	changes := v.people
	first := slices.IndexFunc(changes, func(c personChange) bool { return c.p.Status == audit.PersonLeft })
	if first < 0 {
		return nil
	}
	for _, typ := range []string{audit.EventNoteAdd, audit.EventOwnerSet, EventClose, EventCreate, EventEscalate, EventOffboard, audit.EventPolicySet} {
		if err := v.leaverActsOf(ctx, typ, changes, changes[first].seq); err != nil {
			return fmt.Errorf("reading the %s events: %w", typ, err)
		}
	}
	v.leaverDirectoryChanges(changes, first)
	if err := v.leaverSnapshots(ctx, changes, changes[first].seq); err != nil {
		return fmt.Errorf("reading the %s events: %w", audit.EventSnapshotRecord, err)
	}
	return nil
}

// leaverSnapshots names each snapshot recorded after event after whose
// runner the directory marked left when it began (its record's
// started_at; the changes written before then): nhi refuses a snapshot
// to a leaver's name when it begins (audit.Store.BeginSnapshot), before
// anything is read, so one recorded anyway was written around nhi. One
// that began before its runner was marked left is no leaver's. A record's
// payload, which may hold a large organisation's cache map, is read for
// its start only, and whole for a leaver's.
func (v *verifier) leaverSnapshots(ctx context.Context, changes []personChange, after int64) error {
	rows, err := v.st.Query(ctx, `SELECT seq, actor, '' || COALESCE(json_extract(payload, '$.started_at'), '') FROM events WHERE type = ? AND seq > ? ORDER BY seq`,
		audit.EventSnapshotRecord, after)
	if err != nil {
		return err
	}
	type begun struct {
		seq          int64
		actor, began string
		left         string
	}
	var found []begun
	dir := newDirectoryThen()
	applied := 0
	var last time.Time
	for rows.Next() {
		var b begun
		if err := rows.Scan(&b.seq, &b.actor, &b.began); err != nil {
			rows.Close()
			return err
		}
		began, err := time.Parse(time.RFC3339Nano, b.began)
		if err != nil {
			continue // no start to judge by: its record's check names it
		}
		if began.Before(last) { // runs overlap: replay from the start
			dir, applied = newDirectoryThen(), 0
		}
		last = began
		for ; applied < len(changes) && changes[applied].seq < b.seq; applied++ {
			if at, err := time.Parse(time.RFC3339Nano, changes[applied].at); err != nil || !at.Before(began) {
				break
			}
			dir.set(changes[applied], nil)
		}
		if b.left = dir.left(b.actor); b.left != "" {
			found = append(found, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, b := range found {
		var rec audit.SnapshotRecord
		var payload []byte
		if err := v.st.QueryRow(ctx, `SELECT payload FROM events WHERE seq = ?`, b.seq).Scan(&payload); err != nil {
			return err
		}
		_ = json.Unmarshal(payload, &rec)
		v.add(v.eventKey(b.seq),
			"event %d (%s by %s) records snapshot %d of %s/%s, which began at %s, and its runner is %s according to the directory of people when it began: nhi refuses a snapshot to a leaver's name, so it was written around nhi, and no one who could still act ran it",
			b.seq, audit.EventSnapshotRecord, audit.Printable(b.actor), rec.Snapshot, audit.Printable(rec.Source), audit.Printable(rec.Account), audit.Printable(b.began), b.left)
	}
	return nil
}

// leaverDirectoryChanges names each change to the directory of people
// after changes[first] by a person the directory marked left before the
// import or sync that wrote it: its person.set events are one run, in
// one transaction (consecutive events by one actor), which SetPeople
// checks against the directory before any of them, so an import that
// marks its own runner left is no leaver's.
func (v *verifier) leaverDirectoryChanges(changes []personChange, first int) {
	dir := newDirectoryThen()
	applied := 0
	start := 0 // the run of changes[i]
	for i := first + 1; i < len(changes); i++ {
		c := &changes[i]
		if p := &changes[i-1]; p.seq != c.seq-1 || p.actor != c.actor {
			start = i
		}
		for ; applied < start; applied++ {
			dir.set(changes[applied], nil)
		}
		if l := dir.left(c.actor); l != "" {
			v.add(v.eventKey(c.seq),
				"event %d (%s by %s) sets the directory's record of %s, and its actor is %s according to the directory of people then: nhi refuses a leaver's change to the directory of people, so it was written around nhi, and no one who could still act made it",
				c.seq, audit.EventPersonSet, audit.Printable(c.actor), audit.Printable(c.p.Email), l)
		}
	}
}

// leaverEvent is an event whose actor's person the directory marked left
// then (left: who, and when they left).
type leaverEvent struct {
	seq         int64
	actor, left string
}

// leaverActsOf names the events of type typ after event after by a
// leaver (leaverActs), with the directory's changes.
func (v *verifier) leaverActsOf(ctx context.Context, typ string, changes []personChange, after int64) error {
	found, err := leaverEventsOf(ctx, v.st, typ, changes, after)
	if err != nil {
		return err
	}
	for _, e := range found {
		var payload []byte
		if err := v.st.QueryRow(ctx, `SELECT payload FROM events WHERE seq = ?`, e.seq).Scan(&payload); err != nil {
			return err
		}
		var what, act, done string
		switch typ {
		case audit.EventNoteAdd:
			var p audit.NoteAdd
			_ = json.Unmarshal(payload, &p)
			what, act, done = "adds a note on "+audit.Printable(p.Identity), "note", "wrote it"
		case audit.EventOwnerSet:
			var p audit.OwnerSet
			_ = json.Unmarshal(payload, &p)
			switch {
			case p.Undoes != 0:
				what = fmt.Sprintf("undoes the owner change of event %d on %s", p.Undoes, audit.Printable(p.Identity))
			case p.Owner == "":
				what = "clears the owner of " + audit.Printable(p.Identity)
			default:
				what = fmt.Sprintf("sets the owner of %s to %s", audit.Printable(p.Identity), audit.Printable(p.Owner))
			}
			act, done = "owner change", "made it"
		case EventClose:
			var p ClosePayload
			_ = json.Unmarshal(payload, &p)
			what, act, done = "closes campaign "+audit.Printable(p.Campaign), "close", "closed it"
		case EventCreate:
			var p CreatePayload
			_ = json.Unmarshal(payload, &p)
			what, act, done = "creates campaign "+audit.Printable(p.Name), "campaign", "created it"
		case EventEscalate:
			var p EscalatePayload
			_ = json.Unmarshal(payload, &p)
			what = fmt.Sprintf("escalates %s in campaign %s", audit.Counted(len(p.Items), "item", "items"), audit.Printable(p.Campaign))
			act, done = "escalation", "made it"
		case EventOffboard:
			var p OffboardPayload
			_ = json.Unmarshal(payload, &p)
			what = "starts offboarding campaign " + audit.Printable(p.Campaign)
			if p.Person != "" {
				what += " for " + audit.Printable(p.Person)
			}
			act, done = "offboarding", "started it"
		default: // audit.EventPolicySet
			var p audit.PolicySet
			_ = json.Unmarshal(payload, &p)
			what, act, done = "sets the policy in force ("+audit.Printable(p.Digest)+")", "policy", "set it"
		}
		v.add(v.eventKey(e.seq),
			"event %d (%s by %s) %s, and its actor is %s according to the directory of people then: nhi refuses a leaver's %s, so it was written around nhi, and no one who could still act %s",
			e.seq, typ, audit.Printable(e.actor), what, e.left, act, done)
	}
	return nil
}

// leaverEventsOf reads the events of type typ after event after whose
// actor the directory, replayed from changes, marked left then: a
// leaver's events are few, and the read takes no payload of the others.
func leaverEventsOf(ctx context.Context, st reader, typ string, changes []personChange, after int64) ([]leaverEvent, error) {
	rows, err := st.Query(ctx, `SELECT seq, actor FROM events WHERE type = ? AND seq > ? ORDER BY seq`, typ, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dir := newDirectoryThen()
	next := 0
	left := map[string]string{} // by actor, since the directory last changed
	var found []leaverEvent
	for rows.Next() {
		var e leaverEvent
		if err := rows.Scan(&e.seq, &e.actor); err != nil {
			return nil, err
		}
		if next < len(changes) && changes[next].seq < e.seq {
			clear(left)
		}
		for ; next < len(changes) && changes[next].seq < e.seq; next++ {
			dir.set(changes[next], nil)
		}
		l, ok := left[e.actor]
		if !ok {
			l = dir.left(e.actor)
			left[e.actor] = l
		}
		if e.left = l; l != "" {
			found = append(found, e)
		}
	}
	return found, rows.Err()
}
