package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Read access the evidence report (package campaigns/report) needs: the
// log's head, one event by its sequence number, and the policy a digest
// names, without knowing this package's tables.

// ErrNoEvent is returned by EventAt for a sequence number the log does not
// hold.
var ErrNoEvent = errors.New("no such event")

// LogHead returns the last event of the log; for an empty log, an Event
// with Seq 0 and Hash GenesisHash. On PostgreSQL it returns once that
// event is on the database's disk (flushSeen), so a head nhi prints or
// records (nhi log head, a report's) cannot vanish in a crash.
func (s *Store) LogHead(ctx context.Context) (Event, error) {
	e, err := s.eventWhere(ctx, `ORDER BY seq DESC LIMIT 1`)
	if errors.Is(err, ErrNoEvent) {
		return Event{Hash: GenesisHash, PrevHash: GenesisHash}, nil
	}
	if err == nil {
		err = s.flushSeen(ctx)
	}
	return e, err
}

// EventAt returns event seq, or an error wrapping ErrNoEvent.
func (s *Store) EventAt(ctx context.Context, seq int64) (Event, error) {
	e, err := s.eventWhere(ctx, `WHERE seq = ?`, seq)
	if errors.Is(err, ErrNoEvent) {
		return Event{}, fmt.Errorf("%w %d in %s", ErrNoEvent, seq, s.path)
	}
	return e, err
}

func (s *Store) eventWhere(ctx context.Context, where string, args ...any) (Event, error) {
	var e Event
	var at, payload string
	err := s.db.QueryRowContext(ctx, `SELECT seq, at, actor, type, payload, prev_hash, hash FROM events `+where, args...).
		Scan(&e.Seq, &at, &e.Actor, &e.Type, &payload, &e.PrevHash, &e.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNoEvent
	}
	if err != nil {
		return Event{}, fmt.Errorf("reading the event log: %w", err)
	}
	e.At, _ = time.Parse(eventTimeLayout, at)
	e.Payload = json.RawMessage(payload)
	return e, nil
}

// PolicyByDigest returns the policy whose digest is digest as the log
// recorded it: the content of the last policy.set event with that digest
// and a sequence number up to before (0: any), with that event; or the
// built-in default, with a zero Event, when digest is the default's. A
// digest neither names is an error.
func (s *Store) PolicyByDigest(ctx context.Context, digest string, before int64) (Policy, Event, error) {
	q := `SELECT seq FROM events WHERE type = ? AND json_extract(payload, '$.digest') = ?`
	args := []any{EventPolicySet, digest}
	if before > 0 {
		q += ` AND seq <= ?`
		args = append(args, before)
	}
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(seq) FROM (`+q+`) AS matching`, args...).Scan(&seq); err != nil {
		return Policy{}, Event{}, fmt.Errorf("reading the policy log: %w", err)
	}
	if seq.Valid {
		e, err := s.EventAt(ctx, seq.Int64)
		if err != nil {
			return Policy{}, Event{}, err
		}
		var p PolicySet
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return Policy{}, Event{}, fmt.Errorf("event %d (policy.set): %w", e.Seq, err)
		}
		return p.Policy, e, nil
	}
	if d := DefaultPolicy(); d.Digest() == digest {
		return d, Event{}, nil
	}
	// A built-in default of an earlier nhi: every snapshot stores the
	// policy it started under, so its body is in the file.
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM policies WHERE digest = ?`, digest).Scan(&body)
	if err == nil {
		var p Policy
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return Policy{}, Event{}, fmt.Errorf("policy %.12s: %w", digest, err)
		}
		return p, Event{}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Policy{}, Event{}, fmt.Errorf("reading the policies: %w", err)
	}
	return Policy{}, Event{}, fmt.Errorf("no policy with digest %.12s in the event log, and it is not this nhi's built-in default", digest)
}
