package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AppendCallGrouped is an experiment (docs/performance.md, "Weighed and
// not done, tried and not kept"): AppendCall's one round trip for a group
// append. call is a statement that queues the write (checked under the
// calling session and committed asynchronously); then nhi_group_wait
// either takes the write lock and chains every queued write in one
// transaction, or waits for the holder that chains it, and returns the
// event as AppendCall's call does; then the flush. The functions are the
// benchmark's (campaigns' bench_test.go), not a migration's.
func (s *Store) AppendCallGrouped(ctx context.Context, actor, typ string, payloads []any, call func(ev Event, eventArgs []any) Stmt, dest ...any) (Event, int, error) {
	if s.engine != enginePostgres {
		return Event{}, 0, errors.ErrUnsupported
	}
	if err := checkActor(actor); err != nil {
		return Event{}, 0, err
	}
	var (
		ev      Event
		variant int
	)
	err := s.waitBusy(ctx, "", func() error {
		var w lostWrite
		return s.onPipelineConn(ctx, &w, func(pc *pgx.Conn) (err error) {
			ev, variant, err = s.appendGroupedOn(ctx, pc, actor, typ, payloads, call, dest)
			return err
		})
	})
	if errors.Is(err, ErrChanged) {
		return Event{}, 0, err
	}
	if err != nil {
		return Event{}, 0, s.permissionError(ctx, err)
	}
	return ev, variant, nil
}

func (s *Store) appendGroupedOn(ctx context.Context, pc *pgx.Conn, actor, typ string, payloads []any, call func(Event, []any) Stmt, dest []any) (Event, int, error) {
	st, t, texts, rests, err := s.callStmt(actor, typ, payloads, call)
	if err != nil {
		return Event{}, 0, err
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(rewritePostgres(st.Query), pgArgs(st.Args)...)
	b.Queue("COMMIT")
	b.Queue("BEGIN")
	b.Queue("SELECT * FROM nhi_group_wait()")
	b.Queue("COMMIT")
	// The holder's sign (a session-level lock) released once the write
	// lock is, then the flush.
	b.Queue("SELECT pg_advisory_unlock_all(), pg_logical_emit_message(true, 'nhi.flush', '')")
	br := pc.SendBatch(ctx, b)
	ev := Event{At: t, Actor: actor, Type: typ}
	var variant int
	changed := func(err error) error {
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == errChangedCode {
			return ErrChanged
		}
		return fmt.Errorf("appending an event: %w", err)
	}
	for i := 0; i < 3 && err == nil; i++ {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			err = changed(err)
		} else if i == 2 && tag.String() != "COMMIT" {
			err = fmt.Errorf("queueing an event: the database answered %s to COMMIT", tag)
		}
	}
	if err == nil {
		if _, err = br.Exec(); err == nil {
			if err = br.QueryRow().Scan(append([]any{&ev.Seq, &ev.PrevHash, &ev.Hash, &variant}, dest...)...); err != nil {
				err = changed(err)
			}
		}
	}
	if err == nil && (variant < 0 || variant >= len(payloads)) {
		err = fmt.Errorf("appending an event: the server chose payload %d of %d", variant, len(payloads))
	}
	if err = commitBatch(br, ev.Seq, err); err != nil {
		if !pc.IsClosed() {
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
