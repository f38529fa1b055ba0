package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AppendCallGrouped is AppendCall for a write that is queued and chained
// by whoever next holds the write lock, many writes in one turn of it
// (campaigns' group append, its schema step 17; docs/team.md, "One turn
// of the lock for many decisions"). call is a statement that queues the
// write (read and checked under the calling session, and committed
// asynchronously); then nhi_group_wait, the owner's function, either
// takes the write lock and chains every queued write in one transaction,
// or waits for the holder that chains it, and returns the event as
// AppendCall's call does (a write it refused: no event, ErrChanged);
// then the flush. A connection lost is settled as AppendCall's is, the
// request withdrawn under the write lock before nhi looks in the log
// (settleLost), so that no holder chains it after the look.
//
// PostgreSQL only: on an evidence file it returns errors.ErrUnsupported.
func (s *Store) AppendCallGrouped(ctx context.Context, actor, typ string, payloads []any, call func(ev Event, eventArgs []any) Stmt, dest ...any) (Event, int, error) {
	return s.settledCall(ctx, "AppendCallGrouped", actor, payloads, func(w *lostWrite) (ev Event, variant int, err error) {
		err = s.onPipelineConn(ctx, w, func(pc *pgx.Conn) (err error) {
			ev, variant, err = s.appendGroupedOn(ctx, pc, actor, typ, payloads, call, dest, w)
			return err
		})
		return ev, variant, err
	})
}

// groupedWait is the pipeline's call of the group append's holder or
// waiter (campaigns' schema step 17).
const groupedWait = "SELECT * FROM nhi_group_wait()"

// groupedRelease releases the holder's sign (a session-level lock held
// past its commit, which the writes waiting for it wait on), once the
// write lock is, and flushes (flushQuery).
const groupedRelease = "SELECT pg_advisory_unlock_all(), pg_logical_emit_message(true, 'nhi.flush', '')"

func (s *Store) appendGroupedOn(ctx context.Context, pc *pgx.Conn, actor, typ string, payloads []any, call func(Event, []any) Stmt, dest []any, w *lostWrite) (Event, int, error) {
	st, t, texts, rests, err := s.callStmt(actor, typ, payloads, call)
	if err != nil {
		return Event{}, 0, err
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(rewritePostgres(st.Query), pgArgs(st.Args)...)
	b.Queue("COMMIT")
	b.Queue("BEGIN")
	b.Queue(groupedWait)
	b.Queue("COMMIT")
	b.Queue(groupedRelease)
	*w = lostWrite{at: t.Format(eventTimeLayout), actor: actor, typ: typ, payloads: texts, queued: true}
	br := pc.SendBatch(ctx, b)
	ev := Event{At: t, Actor: actor, Type: typ}
	var (
		variant int
		seq     *int64
		refused bool
	)
	changed := func(err error) error {
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == errChangedCode {
			return ErrChanged
		}
		return fmt.Errorf("appending an event: %w", err)
	}
	for i := 0; i < 4 && err == nil; i++ {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			err = changed(err)
		} else if i == 2 && tag.String() != "COMMIT" {
			err = fmt.Errorf("queueing an event: the database answered %s to COMMIT", tag)
		}
	}
	if err == nil {
		if err = br.QueryRow().Scan(append([]any{&seq, &ev.PrevHash, &ev.Hash, &variant}, dest...)...); err != nil {
			err = changed(err)
		} else if seq == nil {
			refused = true // by the holder: nothing written, the sign released
		} else {
			ev.Seq = *seq
		}
	}
	if err == nil && (variant < 0 || variant >= len(payloads)) {
		err = fmt.Errorf("appending an event: the server chose payload %d of %d", variant, len(payloads))
	}
	if refused {
		if err = br.Close(); err == nil {
			err = ErrChanged
		}
		return Event{}, 0, err
	}
	if err = commitBatch(br, ev.Seq, err); err != nil {
		if !pc.IsClosed() {
			// The sign, should this session hold it still.
			_, _ = pc.Exec(ctx, "ROLLBACK")
			_, _ = pc.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		}
		return Event{}, 0, err
	}
	ev.Payload = json.RawMessage(texts[variant])
	if h := chainHash(ev.PrevHash, ev.Seq, rests[variant]); h != ev.Hash {
		return Event{}, 0, fmt.Errorf("event %d was appended with hash %s, where nhi computes %s: run nhi verify and report this", ev.Seq, ev.Hash, h)
	}
	return ev, variant, nil
}
