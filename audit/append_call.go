package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AppendCall appends one unsigned event through a function on the
// server that reads what the write depends on, checks it, takes the
// write lock itself (nhi_lock_log, schema step 9), appends the event (by
// nhi_append_event) and writes the rest, in one round trip: the call,
// the commit and the flush in one pipeline, as AppendChecked's
// (docs/team.md, "One decision, one round trip"). The function reads and
// checks before the lock what it can, and under it makes sure that what
// another writer may have changed meanwhile has not changed, so the lock
// is held only for the append and what depends on it ("The lock only
// for the append"). It is for writes whose every check can be asked on
// the server; the function refuses with SQLSTATE NHI01 (AppendCall
// returns ErrChanged, nothing written) whenever it cannot prove the
// write is the one the caller would have made, and the caller then
// writes the long way. The function makes its transaction's commit
// asynchronous itself (set_config('synchronous_commit', 'off', true),
// as nhi_decide does): the lock is released at that commit, and the
// flush after it in the pipeline is what AppendCall waits for before it
// returns ("Acknowledged means on disk"), so the lock is not held
// through a flush. (The pipeline set it in a statement of its own
// before; a function that does not set it is still recorded and
// flushed, its commit waiting for the disk under the lock.)
//
// payloads are the event's possible payloads, of which the function
// appends one (a payload depends on what the function reads). call is
// given the event (its Seq a stand-in) and the arguments the function
// takes for the event: its time, actor and type, then each payload's
// canonical JSON and the record after its number (what nhi_append_event
// hashes), in order; it returns the statement that calls the function.
// The statement's row is the event's seq, prev_hash and hash, the index
// of the payload appended, then the columns dest scans.
//
// PostgreSQL only: on an evidence file it returns errors.ErrUnsupported.
func (s *Store) AppendCall(ctx context.Context, actor, typ string, payloads []any, call func(ev Event, eventArgs []any) Stmt, dest ...any) (Event, int, error) {
	return s.settledCall(ctx, "AppendCall", actor, payloads, func(w *lostWrite) (Event, int, error) {
		var ev Event
		var variant int
		err := s.appendCallOnce(ctx, actor, typ, payloads, call, dest, &ev, &variant, w)
		return ev, variant, err
	})
}

// settledCall is AppendCall's and AppendCallGrouped's frame around one
// try of the call (named name in an error): the store's checks, then
// try, settled when its connection is lost (settledTries: recorded, the
// event is returned with a LostAnswerError) and waited on while the
// store is busy; a refusal of the database's is said with the role's
// privileges (permissionError).
func (s *Store) settledCall(ctx context.Context, name, actor string, payloads []any, try func(w *lostWrite) (Event, int, error)) (Event, int, error) {
	if s.readOnly {
		return Event{}, 0, fmt.Errorf("%w: %s was opened read-only", ErrReadOnly, s.path)
	}
	if s.engine != enginePostgres {
		return Event{}, 0, errors.ErrUnsupported
	}
	if err := checkActor(actor); err != nil {
		return Event{}, 0, err
	}
	if len(payloads) == 0 {
		return Event{}, 0, errors.New(name + ": no payload")
	}
	var (
		ev      Event
		variant int
	)
	var lostAnswer *LostAnswerError
	err := s.waitBusy(ctx, "", func() error {
		found, err := s.settledTries(ctx, func(w *lostWrite) error {
			var err error
			ev, variant, err = try(w)
			return err
		})
		if found != nil {
			// Recorded, the answer lost with the connection.
			lostAnswer = &LostAnswerError{Event: found.ev, Variant: found.variant, cause: found.cause}
			return lostAnswer
		}
		return err
	})
	if lostAnswer != nil {
		return lostAnswer.Event, lostAnswer.Variant, lostAnswer
	}
	if errors.Is(err, ErrBusy) || errors.Is(err, ErrChanged) {
		return Event{}, 0, err
	}
	if err != nil {
		return Event{}, 0, s.permissionError(ctx, err)
	}
	return ev, variant, nil
}

// appendCallOnce is one try of AppendCall, on a connection of the pool;
// a connection lost sets w.lost, as for appendPipelined.
func (s *Store) appendCallOnce(ctx context.Context, actor, typ string, payloads []any, call func(ev Event, eventArgs []any) Stmt, dest []any, ev *Event, variant *int, w *lostWrite) error {
	return s.onPipelineConn(ctx, w, func(pc *pgx.Conn) (err error) {
		*ev, *variant, err = s.appendCallOn(ctx, pc, actor, typ, payloads, call, dest, w)
		return err
	})
}

// callStmt is the statement call makes of the event AppendCall appends
// (its time now, its number a stand-in), with each payload's canonical
// JSON (texts) and the record after its number (rests).
func (s *Store) callStmt(actor, typ string, payloads []any, call func(Event, []any) Stmt) (st Stmt, t time.Time, texts, rests []string, err error) {
	t = s.now().UTC().Truncate(time.Microsecond)
	at := t.Format(eventTimeLayout)
	args := []any{at, actor, typ}
	texts = make([]string, len(payloads))
	rests = make([]string, len(payloads))
	for i, pl := range payloads {
		p, rest, err := payloadAndRest(at, actor, typ, pl)
		if err != nil {
			return Stmt{}, t, nil, nil, err
		}
		texts[i], rests[i] = p, rest
		args = append(args, p, rest)
	}
	st = call(Event{Seq: seqStandIn, At: t, Actor: actor, Type: typ, Payload: json.RawMessage(texts[0])}, args)
	return st, t, texts, rests, nil
}

func (s *Store) appendCallOn(ctx context.Context, pc *pgx.Conn, actor, typ string, payloads []any, call func(Event, []any) Stmt, dest []any, w *lostWrite) (Event, int, error) {
	st, t, texts, rests, err := s.callStmt(actor, typ, payloads, call)
	if err != nil {
		return Event{}, 0, err
	}
	at := t.Format(eventTimeLayout)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(rewritePostgres(st.Query), pgArgs(st.Args)...)
	b.Queue("COMMIT")
	b.Queue(flushQuery)
	*w = lostWrite{at: at, actor: actor, typ: typ, payloads: texts}
	br := pc.SendBatch(ctx, b)
	ev := Event{At: t, Actor: actor, Type: typ}
	var variant int
	_, err = br.Exec()
	if err == nil {
		if err = br.QueryRow().Scan(append([]any{&ev.Seq, &ev.PrevHash, &ev.Hash, &variant}, dest...)...); err != nil {
			if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == errChangedCode {
				err = ErrChanged
			} else {
				err = fmt.Errorf("appending an event: %w", err)
			}
		}
	}
	if err == nil && (variant < 0 || variant >= len(payloads)) {
		err = fmt.Errorf("appending an event: the server chose payload %d of %d", variant, len(payloads))
	}
	if err = commitBatch(br, ev.Seq, err); err != nil {
		return Event{}, 0, err
	}
	ev.Payload = json.RawMessage(texts[variant])
	// As appendOneTrip: the server hashed what nhi would have.
	if h := chainHash(ev.PrevHash, ev.Seq, rests[variant]); h != ev.Hash {
		return Event{}, 0, fmt.Errorf("event %d was appended with hash %s, where nhi computes %s: run nhi verify and report this", ev.Seq, ev.Hash, h)
	}
	return ev, variant, nil
}

// RehearseCall runs on a connection of the pool what AppendCall would
// send, in a transaction it then rolls back, and returns the call's
// error (ErrChanged when the function refused): nothing is recorded and
// no one is notified, but that connection's server process has read the
// catalogs, compiled the functions and the triggers and planned the
// statements the call runs (docs/team.md, "A reviewer's first
// decision"), which a first call would otherwise do while it holds the
// write lock. Like the call, it takes the write lock; it waits for it a
// second at most (lock_timeout, for this transaction only). The pool
// hands out the connection it was last given back first, so the
// rehearsed connection is the one the writes after it use while one
// write is made at a time.
//
// PostgreSQL only: on an evidence file it returns errors.ErrUnsupported.
func (s *Store) RehearseCall(ctx context.Context, actor, typ string, payloads []any, call func(ev Event, eventArgs []any) Stmt) error {
	if s.readOnly {
		return fmt.Errorf("%w: %s was opened read-only", ErrReadOnly, s.path)
	}
	if s.engine != enginePostgres {
		return errors.ErrUnsupported
	}
	if err := checkActor(actor); err != nil {
		return err
	}
	st, _, _, _, err := s.callStmt(actor, typ, payloads, call)
	if err != nil {
		return err
	}
	var w lostWrite
	return s.onPipelineConn(ctx, &w, func(pc *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SELECT set_config('lock_timeout', '1s', true)")
		b.Queue(rewritePostgres(st.Query), pgArgs(st.Args)...)
		b.Queue("ROLLBACK")
		br := pc.SendBatch(ctx, b)
		var err error
		for range 4 {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == errChangedCode {
			err = ErrChanged
		}
		return err // a transaction an error left open, onPipelineConn rolls back
	})
}

// AppendThrough appends an event inside the transaction through a server
// function that checks it and writes what goes with it, for a write the
// session's role may make only as that function allows (PostgreSQL; an
// offboarding's transfer of an owner, campaigns' nhi_transfer_owner).
// call is the function's query, its result the event's number, previous
// hash and hash (nhi_append_event's), given the event's time, its
// canonical payload and its record after its number, as AppendCall sends
// them. The hash the server returns is checked against the record sent.
func (t *Tx) AppendThrough(ctx context.Context, actor, typ string, payload any, call func(at, payload, rest string) (query string, args []any)) (Event, error) {
	if t.s.engine != enginePostgres {
		return Event{}, fmt.Errorf("%s is an evidence file: an append through a server function is for a PostgreSQL database", t.s.path)
	}
	if err := checkActor(actor); err != nil {
		return Event{}, err
	}
	at := t.s.now().UTC().Truncate(time.Microsecond)
	p, rest, err := payloadAndRest(at.Format(eventTimeLayout), actor, typ, payload)
	if err != nil {
		return Event{}, err
	}
	q, args := call(at.Format(eventTimeLayout), p, rest)
	ev := Event{At: at, Actor: actor, Type: typ, Payload: json.RawMessage(p)}
	if err := t.QueryRow(ctx, q, args...).Scan(&ev.Seq, &ev.PrevHash, &ev.Hash); err != nil {
		return Event{}, err // Write says a refusal in nhi's words (permissionError)
	}
	if h := chainHash(ev.PrevHash, ev.Seq, rest); h != ev.Hash {
		return Event{}, fmt.Errorf("appending event %d: the server hashed it %s, nhi %s", ev.Seq, ev.Hash, h)
	}
	t.last = ev
	return ev, nil
}
