package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
	"unicode/utf8"
)

// EventNoteAdd records a reviewer's note on an identity: free text that
// explains, asks or records something the data does not (who was asked,
// a ticket, a plan). Notes are evidence like any other event: they are
// never edited or removed; a later note corrects an earlier one.
const EventNoteAdd = "note.add"

// MaxNoteLength is the longest note accepted, in characters.
const MaxNoteLength = 2000

// NoteAdd is the payload of a note.add event.
type NoteAdd struct {
	Identity string `json:"identity"`
	Text     string `json:"text"`
}

// Note is one note on an identity, as the log holds it.
type Note struct {
	Seq      int64
	At       time.Time
	Actor    string
	Identity string
	Text     string
}

// AddNotes records text as a note on every identity in ids, one event
// each, in one transaction: all of them, or none when any identity is
// unknown or the text is empty or too long, or when the directory of
// people, read in the transaction, marks actor left (ErrActorLeft).
func (s *Store) AddNotes(ctx context.Context, actor string, ids []string, text string) ([]Event, error) {
	if _, err := noteText(text); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errNoNoteIdentity
	}
	var evs []Event
	err := s.addNotes(ctx, actor, Each(ids), text, func() { evs = evs[:0] }, func(ev Event) { evs = append(evs, ev) })
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// errNoNoteIdentity refuses a note on no identity.
var errNoNoteIdentity = errors.New("no identity to add the note to")

// AddNotesSpan is AddNotes for a bulk write that reports only the span
// of its events (EventSpan): it keeps none of them, and reads the IDs
// as a sequence in the transaction, as SetOwnersSpan reads its
// assignments (issue 21).
func (s *Store) AddNotesSpan(ctx context.Context, actor string, ids iter.Seq2[string, error], text string) (EventSpan, error) {
	var span EventSpan
	err := s.addNotes(ctx, actor, ids, text, func() { span = EventSpan{} }, span.add)
	if err != nil {
		return EventSpan{}, err
	}
	return span, nil
}

// addNotes is AddNotes handing each event to written, once its
// transaction (begun, and begun again when retried, with begin) has
// appended it. The first error of ids ends it, as does a sequence of
// none: nothing is written.
func (s *Store) addNotes(ctx context.Context, actor string, ids iter.Seq2[string, error], text string, begin func(), written func(Event)) error {
	text, err := noteText(text)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		begin()
		dir, err := tx.People(ctx)
		if err != nil {
			return err
		}
		if err := dir.RefuseLeaver(actor, "add a note"); err != nil {
			return err
		}
		noted := 0
		for id, err := range ids {
			if err != nil {
				return err
			}
			if err := tx.requireIdentity(ctx, id); err != nil {
				return err
			}
			ev, err := tx.Append(ctx, actor, EventNoteAdd, NoteAdd{Identity: id, Text: text})
			if err != nil {
				return err
			}
			written(ev)
			noted++
		}
		if noted == 0 {
			return errNoNoteIdentity
		}
		return nil
	})
}

// noteText is text as a note records it, trimmed, or why it cannot be
// one.
func noteText(text string) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", fmt.Errorf("a note needs some text")
	case utf8.RuneCountInString(text) > MaxNoteLength:
		return "", fmt.Errorf("a note is at most %d characters; this one has %d", MaxNoteLength, utf8.RuneCountInString(text))
	}
	return text, nil
}

// Notes returns the notes on identity id, oldest first.
func (s *Store) Notes(ctx context.Context, id string) ([]Note, error) {
	// Notes follow a renamed repository's identities: those on the IDs
	// it had before count too (lineage.go).
	cur, err := s.resolveID(ctx, id)
	if err != nil {
		return nil, err
	}
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	ids := []any{cur}
	for old, c := range aliases {
		if c == cur {
			ids = append(ids, old)
		}
	}
	return s.scanNotes(ctx, `AND json_extract(payload, '$.identity') IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, ids...)
}

// NotesUpTo returns every note in the log up to event seq, oldest first:
// what a report as of that event can show.
func (s *Store) NotesUpTo(ctx context.Context, seq int64) ([]Note, error) {
	return s.scanNotes(ctx, `AND seq <= ?`, seq)
}

// scanNotes reads the note.add events matching the extra condition, in
// log order.
func (s *Store) scanNotes(ctx context.Context, cond string, args ...any) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, actor, payload FROM events WHERE type = ? `+cond+` ORDER BY seq`,
		append([]any{EventNoteAdd}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at, payload string
		if err := rows.Scan(&n.Seq, &at, &n.Actor, &payload); err != nil {
			return nil, err
		}
		var p NoteAdd
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return nil, fmt.Errorf("event %d: %w", n.Seq, err)
		}
		n.At, _ = time.Parse(eventTimeLayout, at)
		n.Identity, n.Text = p.Identity, p.Text
		out = append(out, n)
	}
	return out, rows.Err()
}

// OwnerChange is one owner.set event for an identity.
type OwnerChange struct {
	Seq    int64
	At     time.Time
	Actor  string
	Owner  string // "" when the owner was cleared
	Undoes int64  // the event this one reverses, when it is an undo
}

// OwnerHistory returns the owner.set events of identity id, oldest first:
// who set or cleared its owner, and when. Like Notes, it reads only that
// identity's events (the events_identity index), not the whole log.
func (s *Store) OwnerHistory(ctx context.Context, id string) ([]OwnerChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, actor, payload FROM events
		WHERE json_extract(payload, '$.identity') = ? AND type = ? ORDER BY seq`, id, EventOwnerSet)
	if err != nil {
		return nil, fmt.Errorf("reading the owner history: %w", err)
	}
	defer rows.Close()
	var out []OwnerChange
	for rows.Next() {
		var c OwnerChange
		var at, payload string
		if err := rows.Scan(&c.Seq, &at, &c.Actor, &payload); err != nil {
			return nil, err
		}
		var p OwnerSet
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return nil, fmt.Errorf("event %d: %w", c.Seq, err)
		}
		c.At, _ = time.Parse(eventTimeLayout, at)
		c.Owner, c.Undoes = p.Owner, p.Undoes
		out = append(out, c)
	}
	return out, rows.Err()
}
