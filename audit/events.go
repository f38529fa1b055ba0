package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/sshsig"
)

// Event types. Each names a human action; the projection tables are what
// replaying them in order produces.
const (
	EventOwnerSet = "owner.set"
)

// GenesisHash is the prev_hash of the first event.
var GenesisHash = strings.Repeat("0", 64)

// Event is one record of the append-only log.
type Event struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// OwnerSet is the payload of an owner.set event. An empty Owner clears it.
type OwnerSet struct {
	Identity string `json:"identity"`
	Owner    string `json:"owner"`
	// Person is the e-mail of the person of the directory the owner, as
	// typed, names ("" for a team, or a name the directory does not know).
	Person string `json:"person,omitempty"`
	// Undoes names the event this one reverses, when it is an undo.
	Undoes int64 `json:"undoes,omitempty"`
}

// eventTimeLayout keeps sub-second order visible to people reading the log;
// seq, not time, orders the chain.
const eventTimeLayout = "2006-01-02T15:04:05.000000Z"

// recordHash is SHA-256(prev_hash ‖ canonical record).
func recordHash(prevHash string, seq int64, at, actor, typ, payload string) (string, error) {
	rec, err := canonicalRecord(seq, at, actor, typ, payload)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(rec)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// appendedHash is recordHash of the event an append writes, whose payload
// p canonicalJSON wrote (compact and valid): the record's frame is the
// encoder's, around a payload of 0, and p is hashed as it is, a piece at
// a time. canonicalRecord copies the payload four or five times (its
// check, the conversions, the encoder's buffer and the record), and an
// event can list a whole population: the campaign.verify of 100,665 items
// is 15 MB, so building its record was most of the heap campaign verify
// took (docs/performance.md, "Campaign verify").
func appendedHash(prevHash string, seq int64, at, actor, typ, p string) (string, error) {
	frame, err := canonicalRecord(seq, at, actor, typ, "0")
	if err != nil {
		return "", err
	}
	const tail = "0]\n"
	if !bytes.HasSuffix(frame, []byte(tail)) {
		return recordHash(prevHash, seq, at, actor, typ, p)
	}
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(frame[:len(frame)-len(tail)])
	buf := make([]byte, min(len(p), 64<<10))
	for rest := p; len(rest) > 0; {
		n := copy(buf, rest)
		h.Write(buf[:n])
		rest = rest[n:]
	}
	h.Write(frame[len(frame)-len(tail)+1:])
	return hex.EncodeToString(h.Sum(nil)), nil
}

// payloadAndRest is payload's canonical text and the canonical record of
// an event of it, at, actor and typ after its number ("[0," cut off):
// what a write on PostgreSQL sends, the server putting the number in
// front (nhi_append_event), and what nhi hashes to check its answer.
func payloadAndRest(at, actor, typ string, payload any) (p, rest string, err error) {
	if p, err = canonicalJSON(payload); err != nil {
		return "", "", err
	}
	rec, err := canonicalRecord(0, at, actor, typ, p)
	if err != nil {
		return "", "", err
	}
	return p, string(rec[len("[0,"):]), nil
}

// canonicalRecord is the event's fields as stored, in a fixed order, as
// compact JSON and a newline: what the hash chain covers and what a
// signed event's signature is made over.
func canonicalRecord(seq int64, at, actor, typ, payload string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if !json.Valid([]byte(payload)) {
		return nil, fmt.Errorf("event %d: payload is not valid JSON", seq)
	}
	if err := enc.Encode([]any{seq, at, actor, typ, json.RawMessage(payload)}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CanonicalBytes are the bytes of e the hash chain covers and a signature
// signs (docs/people.md): `[seq, at, actor, type, payload]` as compact
// JSON, then a newline.
func (e *Event) CanonicalBytes() ([]byte, error) {
	return canonicalRecord(e.Seq, e.At.UTC().Format(eventTimeLayout), e.Actor, e.Type, string(e.Payload))
}

// CanonicalPayload is a payload already written as its canonical JSON
// (what Canonical gives): an append stores and hashes it as it is, not
// encoded again. For an event listing a population, written piece by
// piece into one text (campaigns' bulk decisions; issue 21: the event of
// a million items was encoded into a buffer, copied into another and
// then into a string, most of a 591 MB heap). Its writer answers for it
// being what Canonical would give: the hash chain covers these bytes.
type CanonicalPayload string

// Canonical is v as an event's payload is stored: compact JSON without
// HTML escaping.
func Canonical(v any) (CanonicalPayload, error) {
	p, err := canonicalJSON(v)
	return CanonicalPayload(p), err
}

// canonicalJSON marshals v compactly without HTML escaping: the bytes the
// hash covers must read the same in the sqlite3 shell as in a report.
func canonicalJSON(v any) (string, error) {
	if c, ok := v.(CanonicalPayload); ok {
		return string(c), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// appendEvent writes the next event of the chain inside tx, which must hold
// the write lock (BEGIN IMMEDIATE), so the head cannot move underneath it.
func appendEvent(ctx context.Context, tx *sql.Tx, now time.Time, actor, typ string, payload any) (Event, error) {
	return appendSigned(ctx, tx, now, actor, typ, payload, nil)
}

// appendSigned is appendEvent, signing the event's canonical bytes with key
// when it is not nil; the signature is stored beside the event.
func appendSigned(ctx context.Context, tx *sql.Tx, now time.Time, actor, typ string, payload any, key *sshsig.SigningKey) (Event, error) {
	if err := checkActor(actor); err != nil {
		return Event{}, err
	}
	var head sql.NullString
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, headQuery).Scan(&last, &head); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Event{}, err
	}
	ev, p, stmts, err := nextEventText(head.String, last.Int64, now, actor, typ, payload, key)
	if err != nil {
		return Event{}, err
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.Query, st.Args...); err != nil {
			return Event{}, fmt.Errorf("appending event %d: %w", ev.Seq, err)
		}
	}
	// The event's copy of its payload is made once SQLite has stored
	// it, its own copies freed (issue 21: the text bound, the record
	// and the parses of events_identity's json_extract were five times
	// a bulk decision's payload of 70 MB at a million items, beside it).
	ev.Payload = json.RawMessage(p)
	return ev, nil
}

// headQuery reads the log's head: the last event's seq and hash, no row
// when the log is empty.
const headQuery = `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`

func checkActor(actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errors.New("no actor: say who you are with --as or NHI_REVIEWER")
	}
	return nil
}

// nextEvent is the event that follows the head (seq last, hash head; 0
// and "" for an empty log), signed with key when it is not nil, and the
// statements that append it: the event, its signature, the head kept in
// meta.
func nextEvent(head string, last int64, now time.Time, actor, typ string, payload any, key *sshsig.SigningKey) (Event, []Stmt, error) {
	ev, p, stmts, err := nextEventText(head, last, now, actor, typ, payload, key)
	if err != nil {
		return Event{}, nil, err
	}
	ev.Payload = json.RawMessage(p)
	return ev, stmts, nil
}

// nextEventText is nextEvent with the payload's text apart, the event's
// Payload left nil: a caller copies it in once the statements ran.
func nextEventText(head string, last int64, now time.Time, actor, typ string, payload any, key *sshsig.SigningKey) (Event, string, []Stmt, error) {
	p, err := canonicalJSON(payload)
	if err != nil {
		return Event{}, "", nil, err
	}
	prev, seq := GenesisHash, int64(1)
	if last > 0 {
		prev, seq = head, last+1
	}
	at := now.UTC().Format(eventTimeLayout)
	h, err := appendedHash(prev, seq, at, actor, typ, p)
	if err != nil {
		return Event{}, "", nil, err
	}
	stmts := []Stmt{{`INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		[]any{seq, at, actor, typ, p, prev, h}}}
	if key != nil {
		rec, err := canonicalRecord(seq, at, actor, typ, p)
		if err != nil {
			return Event{}, "", nil, err
		}
		sig, err := key.Sign(rec, SignatureNamespace)
		if err != nil {
			return Event{}, "", nil, err
		}
		stmts = append(stmts, Stmt{`INSERT INTO event_signatures (seq, fingerprint, public_key, signature) VALUES (?, ?, ?, ?)`,
			[]any{seq, key.Public.Fingerprint, key.Public.Authorized, string(sig)}})
	}
	stmts = append(stmts, Stmt{`INSERT INTO meta (key, value) VALUES ('log_head', ?), ('log_length', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{h, fmt.Sprint(seq)}})
	t, _ := time.Parse(eventTimeLayout, at)
	return Event{Seq: seq, At: t, Actor: actor, Type: typ, PrevHash: prev, Hash: h}, p, stmts, nil
}

// SetOwner records that owner answers for identity id (an empty owner
// clears it) as an event, and updates the owners projection with it.
func (s *Store) SetOwner(ctx context.Context, actor, id, owner string) (Event, error) {
	evs, err := s.SetOwners(ctx, actor, []OwnerSet{{Identity: id, Owner: owner}})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// MaxOwnerLength is the longest owner, in characters, nhi records: a
// person, a team or an address, never a paragraph.
const MaxOwnerLength = 256

// ErrOwnerTooLong is returned for an owner longer than MaxOwnerLength.
var ErrOwnerTooLong = fmt.Errorf("an owner is at most %d characters", MaxOwnerLength)

// SetOwners records several owner assignments in one transaction, one
// event each: all of them, or none when any identity is unknown, any
// owner is longer than MaxOwnerLength, or the directory of people, read
// in the transaction, marks actor left (ErrActorLeft).
func (s *Store) SetOwners(ctx context.Context, actor string, sets []OwnerSet) ([]Event, error) {
	var evs []Event
	err := s.Write(ctx, func(tx *Tx) error {
		evs = evs[:0]
		return tx.setOwners(ctx, actor, Each(sets), func(ev Event) { evs = append(evs, ev) })
	})
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// EventSpan is what a bulk write reports of the events it appended: how
// many, and the first's and the last's sequence numbers. The events
// themselves, payload and hashes, are some 400 bytes each: a write of a
// million identities that returned them would hold them all to print
// three numbers (issue 21: a million identities on a laptop).
type EventSpan struct {
	First, Last int64
	Count       int
}

// add counts ev into the span.
func (sp *EventSpan) add(ev Event) {
	if sp.Count == 0 {
		sp.First = ev.Seq
	}
	sp.Last = ev.Seq
	sp.Count++
}

// SetOwnersSpan is SetOwners for a bulk write that reports only the span
// of its events: it keeps none of them, and it takes the assignments as
// a sequence, read in the transaction (from the start again when a busy
// write is retried), not a slice: a bulk write by filter reads a million
// of them back from a spool a batch at a time (cmd/nhi), where a slice
// held every one (issue 21: a million identities on a laptop). The
// sequence's first error ends the write, which then writes nothing.
func (s *Store) SetOwnersSpan(ctx context.Context, actor string, sets iter.Seq2[OwnerSet, error]) (EventSpan, error) {
	var span EventSpan
	err := s.Write(ctx, func(tx *Tx) error {
		span = EventSpan{} // a write retried when busy starts over
		return tx.setOwners(ctx, actor, sets, span.add)
	})
	if err != nil {
		return EventSpan{}, err
	}
	return span, nil
}

// Each is the values of s as a sequence that never fails, for a bulk
// write (SetOwnersSpan, AddNotesSpan) whose values are in a slice.
func Each[T any](s []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, v := range s {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// setOwners appends one owner.set event per set, applies it and hands
// it to written; the first error of sets ends it.
func (tx *Tx) setOwners(ctx context.Context, actor string, sets iter.Seq2[OwnerSet, error], written func(Event)) error {
	dir, err := tx.People(ctx)
	if err != nil {
		return err
	}
	if err := dir.RefuseLeaver(actor, "change an owner"); err != nil {
		return err
	}
	for set, err := range sets {
		if err != nil {
			return err
		}
		set.Owner = strings.TrimSpace(set.Owner)
		if n := utf8.RuneCountInString(set.Owner); n > MaxOwnerLength {
			return fmt.Errorf("%w; this one is %d: nothing was written", ErrOwnerTooLong, n)
		}
		set.Person = ""
		if p := dir.Lookup(set.Owner); p != nil {
			set.Person = p.Email
		}
		if err := tx.requireIdentity(ctx, set.Identity); err != nil {
			return err
		}
		ev, err := tx.Append(ctx, actor, EventOwnerSet, set)
		if err != nil {
			return err
		}
		if err := applyOwnerSet(ctx, tx.tx, ev.Seq, &set); err != nil {
			return err
		}
		written(ev)
	}
	return nil
}

// ErrOwnerUndo is returned when an owner change can no longer be undone:
// it is not an owner change, it was undone already, or a later change
// (perhaps by another process) set the same identity's owner since.
var ErrOwnerUndo = errors.New("cannot undo")

// UndoOwnerSet reverses owner.set event seq with a compensating event that
// restores the owner the identity had before it. The original stays in the
// log: undo never deletes. It is refused, naming the event, who and when,
// when the change was undone already or a later event changed the same
// identity's owner: restoring the old owner would silently erase that
// later change. The check and the write are one transaction.
func (s *Store) UndoOwnerSet(ctx context.Context, actor string, seq int64) (Event, error) {
	var out Event
	err := s.Write(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, at, actor, payload FROM events WHERE type = ? ORDER BY seq`, EventOwnerSet)
		if err != nil {
			return fmt.Errorf("reading the event log: %w", err)
		}
		type change struct {
			seq       int64
			at, actor string
			set       OwnerSet
		}
		var all []change
		target := -1
		for rows.Next() {
			var c change
			var payload string
			if err := rows.Scan(&c.seq, &c.at, &c.actor, &payload); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal([]byte(payload), &c.set); err != nil {
				rows.Close()
				return fmt.Errorf("event %d: %w", c.seq, err)
			}
			if c.seq == seq {
				target = len(all)
			}
			all = append(all, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if target < 0 {
			return fmt.Errorf("%w event %d: it is not an owner assignment", ErrOwnerUndo, seq)
		}
		id := all[target].set.Identity
		previous := ""
		for _, c := range all[:target] {
			if c.set.Identity == id {
				previous = c.set.Owner
			}
		}
		// The later changes still in force: a later change and its own undo
		// cancel out, so undoing this session's changes newest first works.
		var later []*change
		for i := target + 1; i < len(all); i++ {
			c := &all[i]
			if c.set.Identity != id {
				continue
			}
			if c.set.Undoes == seq {
				return fmt.Errorf("%w event %d: it was already undone by event %d (by %s at %s)",
					ErrOwnerUndo, seq, c.seq, Printable(c.actor), eventMinute(c.at))
			}
			if n := len(later); n > 0 && c.set.Undoes != 0 && later[n-1].seq == c.set.Undoes {
				later = later[:n-1]
				continue
			}
			later = append(later, c)
		}
		if n := len(later); n > 0 {
			later := later[n-1]
			return fmt.Errorf("%w event %d: the owner of %s was changed since, to %s by %s at %s (event %d); set the owner again instead",
				ErrOwnerUndo, seq, Printable(id), ownerName(later.set.Owner), Printable(later.actor), eventMinute(later.at), later.seq)
		}
		return tx.setOwners(ctx, actor, Each([]OwnerSet{{Identity: id, Owner: previous, Undoes: seq}}), func(ev Event) { out = ev })
	})
	if err != nil {
		return Event{}, err
	}
	return out, nil
}

// eventMinute prints a stored event time to the minute, in UTC.
func eventMinute(at string) string {
	t, err := time.Parse(eventTimeLayout, at)
	if err != nil {
		return at
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ownerName is an owner as a sentence says it: "nobody" when cleared.
func ownerName(owner string) string {
	if owner == "" {
		return "nobody"
	}
	return Printable(owner)
}

// KnownOwners lists everyone who could own an identity, for completion:
// owners already recorded, organisation members and teams from the newest
// snapshots, sorted and without repeats.
func (s *Store) KnownOwners(ctx context.Context) ([]string, error) {
	return s.texts(ctx, "owners", `
		SELECT owner FROM owners
		UNION SELECT login FROM principals WHERE type = 'member'
		UNION SELECT '@' || login FROM principals WHERE type = 'team'
		UNION SELECT login FROM principals WHERE type = 'codeowner'
		ORDER BY 1`)
}

// texts runs query and returns its one column of text, row by row; an
// error reading it names what it reads.
func (s *Store) texts(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func applyOwnerSet(ctx context.Context, tx *sql.Tx, seq int64, set *OwnerSet) error {
	var err error
	if set.Owner == "" {
		_, err = tx.ExecContext(ctx, `DELETE FROM owners WHERE identity_id = ?`, set.Identity)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO owners (identity_id, owner, person, event_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (identity_id) DO UPDATE SET owner = excluded.owner, person = excluded.person, event_seq = excluded.event_seq`,
			set.Identity, set.Owner, set.Person, seq)
	}
	if err != nil {
		return fmt.Errorf("updating owner: %w", err)
	}
	return nil
}

// Events returns the whole log in order.
func (s *Store) Events(ctx context.Context) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, actor, type, payload, prev_hash, hash FROM events ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at, payload string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Type, &payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(eventTimeLayout, at)
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

// OwnersChangedSince lists the identities whose owner an event after seq
// and up to upTo set (or cleared), each once: a reader that saw the log
// up to seq reads again only those. It reads the log from seq to upTo,
// never the whole of it.
func (s *Store) OwnersChangedSince(ctx context.Context, seq, upTo int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT json_extract(payload, '$.identity') FROM events WHERE seq > ? AND seq <= ? AND type = ?`, seq, upTo, EventOwnerSet)
	if err != nil {
		return nil, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if id.Valid {
			out = append(out, id.String)
		}
	}
	return out, rows.Err()
}

// EventTypesSince is the distinct types of the events after seq, sorted:
// what kinds of change the log holds since then (the TUI's table cache
// patches a table of an older head only when nothing that derives the
// table but owners changed).
func (s *Store) EventTypesSince(ctx context.Context, seq int64) ([]string, error) {
	return s.texts(ctx, "the event log", `SELECT DISTINCT type FROM events WHERE seq > ? ORDER BY type`, seq)
}

// EventTypesTo is EventTypesSince, and the head they were read to: the
// newest event's number, seq when none came after it, flushed as
// LogHead's is. A reader that reads more of what came after seq (the
// TUI after a notice: the decisions since, the rows they name) reads it
// up to that head and no further, so that the kinds of event it read
// here are those of all it reads; what comes after the head is the next
// read's. Types is not nil.
func (s *Store) EventTypesTo(ctx context.Context, seq int64) (types []string, head int64, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT type, max(seq) FROM events WHERE seq > ? GROUP BY type ORDER BY type`, seq)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	types, head = []string{}, seq
	for rows.Next() {
		var t string
		var last int64
		if err := rows.Scan(&t, &last); err != nil {
			return nil, 0, fmt.Errorf("reading the event log: %w", err)
		}
		types, head = append(types, t), max(head, last)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading the event log: %w", err)
	}
	if err := s.flushSeen(ctx); err != nil {
		return nil, 0, err
	}
	return types, head, nil
}

// EventsSince calls fn with each event after seq and up to upTo whose
// type is one of types, in order, until fn returns an error (which it
// returns): the TUI's table cache reads what the decisions and owners
// since a cached head name (tui/tablecache.go), and an open TUI what
// another process's did. It reads through the index of types, never the
// whole log, and only each event's Seq, Type and Payload: what names
// whom it changed (the time, the actor and the hashes stay unread, as
// forty TUIs read every decision the others make).
func (s *Store) EventsSince(ctx context.Context, seq, upTo int64, types []string, fn func(Event) error) error {
	if len(types) == 0 {
		return nil
	}
	args := make([]any, 0, len(types)+1)
	for _, t := range types {
		args = append(args, t)
	}
	args = append(args, seq, upTo)
	rows, err := s.db.QueryContext(ctx, `SELECT seq, type, payload FROM events
		WHERE type IN (?`+strings.Repeat(",?", len(types)-1)+`) AND seq > ? AND seq <= ? ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var payload string
		if err := rows.Scan(&e.Seq, &e.Type, &payload); err != nil {
			return err
		}
		e.Payload = json.RawMessage(payload)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SetOwners records owner assignments inside the transaction, one
// owner.set event each, as Store.SetOwners does: for a workflow whose own
// event must commit with them (an offboarding transfer).
func (tx *Tx) SetOwners(ctx context.Context, actor string, sets []OwnerSet) ([]Event, error) {
	var evs []Event
	if err := tx.setOwners(ctx, actor, Each(sets), func(ev Event) { evs = append(evs, ev) }); err != nil {
		return nil, err
	}
	return evs, nil
}
