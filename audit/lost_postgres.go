package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A write whose connection is lost after it was sent — a network or a
// proxy cutting it, the server restarting, the backend terminated — may
// or may not have committed: the answer that would say is what was
// lost. nhi does not guess: it connects again, makes sure the backend
// that ran the write has ended (a cut connection can leave it running,
// even still queued for the write lock, and it would commit after a
// look that found nothing), and looks for the write's event in the log
// (docs/team.md, "When the connection is lost"). Recorded, the write
// happened once and is returned as made; not recorded, it is tried
// again, once; when nhi cannot look, it says so, and how to find out.

// lostWrite is what nhi knows of a write whose connection was lost
// after its COMMIT may have been sent: the backend that ran it and its
// event, by its number and hash when they were known before it was
// sent, otherwise by its time, actor, type and payload (one of
// payloads), which together name one event.
type lostWrite struct {
	lost     bool // the connection was lost; typ is set once the pipeline that commits was sent
	pid      uint32
	at       string
	actor    string
	typ      string
	payloads []string
	seq      int64 // 0: not known before it was sent
	hash     string
	cause    error // the error the write met
	queued   bool  // a group append's: its request withdrawn before the look (AppendCallGrouped)
}

// settleTimeout bounds how long nhi waits, after a lost connection, for
// the backend that ran the write to end and for the look in the log.
const settleTimeout = 15 * time.Second

// ErrOutcomeUnknown is what a write returns when its connection was lost
// after it was sent and nhi could not find out whether it was recorded:
// errors.Is(err, ErrOutcomeUnknown). Its message says how to find out.
var ErrOutcomeUnknown = errors.New("it is not known whether the write was recorded")

type outcomeUnknownError struct{ msg string }

func (e *outcomeUnknownError) Error() string        { return e.msg }
func (e *outcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// LostAnswerError is AppendCall's error when the connection was lost
// after the call was sent and nhi, on a new connection, found its event
// recorded: the write was made, once, but the columns the call would
// have returned were lost with the connection.
type LostAnswerError struct {
	Event   Event
	Variant int // the payload recorded, an index into AppendCall's payloads
	cause   error
}

func (e *LostAnswerError) Error() string {
	return fmt.Sprintf("the connection to the database was lost before it answered (%v), but event %d (%s by %s) was recorded", e.cause, e.Event.Seq, e.Event.Type, e.Event.Actor)
}

// settleLost finds out whether w was recorded; err is an error that
// says the outcome is unknown when it could not.
func (s *Store) settleLost(ctx context.Context, w *lostWrite) (ev Event, variant int, recorded bool, err error) {
	// Asked even when the write's own context was cancelled (an
	// interrupt): what happened is worth the few milliseconds.
	if w.typ == "" {
		return Event{}, 0, false, nil // lost before the pipeline that commits was sent
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	unknown := func(why error) error {
		what := fmt.Sprintf("an event %s by %s at %s", w.typ, w.actor, w.at)
		if w.seq != 0 {
			what = fmt.Sprintf("event %d (%s by %s at %s)", w.seq, w.typ, w.actor, w.at)
		}
		return &outcomeUnknownError{fmt.Sprintf("the connection to %s was lost after the write was sent (%v), and nhi could not connect again to find out whether it was recorded (%v): it may or may not be. Once the database answers, nhi log shows whether it holds %s; if it does not, run the command again",
			s.path, w.cause, why, what)}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Event{}, 0, false, unknown(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*postgresConn).Conn.Conn()
		// The backend that ran the write, if it still runs: ended,
		// waiting until it has. One of the session's own role, in this
		// database (a pid the server gave another since a restart is
		// not this one).
		var ended *bool
		if err := pc.QueryRow(ctx, `SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity
			WHERE pid = $1 AND usename = session_user AND datname = current_database()`,
			int64(w.pid), int64(settleTimeout/time.Millisecond-1000)).Scan(&ended); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if ended != nil && !*ended {
			return fmt.Errorf("the server process %d that ran it has not ended", w.pid)
		}
		if w.queued {
			// Its request, committed before it is chained, withdrawn
			// under the write lock: a holder that chained it has
			// committed, and no holder chains it after the look.
			if _, err := pc.Exec(ctx, `SELECT nhi_group_withdraw($1, $2, $3, $4, $5)`, int32(w.pid), w.at, w.actor, w.typ, w.payloads); err != nil {
				return fmt.Errorf("withdrawing its request: %w", err)
			}
		}
		var q string
		var args []any
		if w.seq != 0 {
			q, args = `SELECT seq, at, prev_hash, hash, payload FROM events WHERE seq = $1 AND hash = $2`, []any{w.seq, w.hash}
		} else {
			q, args = `SELECT seq, at, prev_hash, hash, payload FROM events WHERE type = $1 AND actor = $2 AND at = $3 AND payload = ANY($4) ORDER BY seq DESC LIMIT 1`,
				[]any{w.typ, w.actor, w.at, w.payloads}
		}
		var at, payload string
		err := pc.QueryRow(ctx, q, args...).Scan(&ev.Seq, &at, &ev.PrevHash, &ev.Hash, &payload)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		recorded = true
		ev.Actor, ev.Type, ev.Payload = w.actor, w.typ, []byte(payload)
		if ev.At, err = time.Parse(eventTimeLayout, at); err != nil {
			return err
		}
		for i, p := range w.payloads {
			if p == payload {
				variant = i
			}
		}
		// Committed without waiting for the disk (lockAsync): made
		// durable before it is acknowledged, as every append is.
		if _, err := pc.Exec(ctx, flushQuery); err != nil {
			return fmt.Errorf("event %d was recorded, but the database did not confirm it is on disk: %w", ev.Seq, err)
		}
		return nil
	})
	if err != nil {
		return Event{}, 0, false, unknown(err)
	}
	return ev, variant, recorded, nil
}

// notRecorded is a lost write's error once nhi found it was not
// recorded and will not try it again.
func (s *Store) notRecorded(ctx context.Context, w *lostWrite) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: the write was interrupted, and nhi connected again and found it was not recorded: nothing was written, run the command again", err)
	}
	return fmt.Errorf("the connection to %s was lost (%v), and again when nhi tried the write again; nhi connected again and found it was not recorded: nothing was written, run the command again", s.path, w.cause)
}

// settledTries runs try, one write on PostgreSQL, which fills in the
// lostWrite it is given; when its connection was lost after its COMMIT
// may have been sent, it settles it (settleLost): recorded, the event
// found is returned as found, with the write's error left behind; not
// recorded, try runs again, once, on a new lostWrite. AppendChecked,
// AppendCall and Write (writeSettled) each settle their tries so.
func (s *Store) settledTries(ctx context.Context, try func(w *lostWrite) error) (found *foundWrite, err error) {
	for n := 0; ; n++ {
		var w lostWrite
		if err := try(&w); err == nil || !w.lost {
			return nil, err
		}
		ev, variant, recorded, serr := s.settleLost(ctx, &w)
		switch {
		case serr != nil:
			return nil, serr
		case recorded:
			return &foundWrite{ev: ev, variant: variant, cause: w.cause}, nil
		case n > 0 || ctx.Err() != nil:
			return nil, s.notRecorded(ctx, &w)
		}
	}
}

// foundWrite is a lost write settledTries found recorded: its event, the
// payload recorded (an index into the lostWrite's payloads), and the
// error the write met when its connection was lost.
type foundWrite struct {
	ev      Event
	variant int
	cause   error
}

// writeSettled is Write's try on PostgreSQL: writeOnce on a connection
// of its own, settled (settledTries) by the last event it appended when
// that connection is lost with the write's COMMIT sent (all of a
// transaction's events commit together): recorded, the write was made;
// not recorded, it is tried again, once. A write that appended no event
// cannot be looked for: its outcome is unknown, and said so.
func (s *Store) writeSettled(ctx context.Context, fn func(*Tx) error) error {
	_, err := s.settledTries(ctx, func(w *lostWrite) error { return s.writeOnConn(ctx, fn, w) })
	return err
}

// writeOnConn is one try of writeSettled; it sets w.lost when its
// connection was lost, and in w what identifies the write.
func (s *Store) writeOnConn(ctx context.Context, fn func(*Tx) error, w *lostWrite) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error { pc = dc.(*postgresConn).Conn.Conn(); return nil }); err != nil {
		return err
	}
	w.pid = pc.PgConn().PID()
	var t *Tx
	err = s.writeOnce(ctx, conn, fn, &t)
	if err == nil || !pc.IsClosed() {
		return err
	}
	switch {
	case t == nil:
		// Lost before the COMMIT was sent: the server rolls back.
		w.lost, w.cause = true, err
	case t.last.Seq != 0:
		ev := t.last
		w.lost, w.cause = true, err
		w.seq, w.hash, w.typ, w.actor, w.at, w.payloads = ev.Seq, ev.Hash, ev.Type, ev.Actor, ev.At.UTC().Format(eventTimeLayout), []string{string(ev.Payload)}
	default:
		return &outcomeUnknownError{fmt.Sprintf("the connection to %s was lost after the write was sent (%v): it may or may not have been recorded, and it recorded no event to look for", s.path, err)}
	}
	return err
}
