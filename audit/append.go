package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/sshsig"
)

// Stmt is one statement of a write, in nhi's SQL (SQLite's dialect, as
// everywhere: dialect.go).
type Stmt struct {
	Query string
	Args  []any
}

// ErrChanged is what AppendChecked returns when its check, run again
// under the write lock, no longer gives what it gave before: something
// the write was prepared from changed meanwhile. Nothing was written.
var ErrChanged = errors.New("the store changed while the write was being prepared")

// AppendChecked appends one event (signed with key when it is not nil)
// and runs the statements then gives for it, in one transaction holding
// the write lock — provided check, a query of one text value, still
// returns want once the lock is held. Otherwise it writes nothing and
// returns ErrChanged.
//
// It lets a write do its reads and checks before it takes the lock
// (docs/team.md, "Many writers, one chain"), so writers queue only for
// the append itself. The caller runs check first and keeps its answer,
// then reads what it needs and decides, outside any transaction. check
// must read stamps that move whenever any of that changes — the sequence
// numbers of the events that change it — so the same answer under the
// lock means the write is the one it would have been had everything been
// read under the lock. A caller that gets ErrChanged does its write again
// the long way (Write). then may be called more than once (a transaction
// that meets a busy store is tried again) and must not keep state.
//
// On PostgreSQL the locked part of an unsigned event is one round trip:
// the lock, the check, the event (the server reads the head and hashes
// the record: nhi_append_event, schema_postgres.go), then's statements
// and the commit in one pipeline. The commit does not wait for the disk,
// so the lock is not held through the flush; the same pipeline then
// waits, outside the lock, until the commit is on disk (lockAsync,
// flushQuery), and only then does AppendChecked return. then is given
// the event before its number is known, with Seq set to a stand-in: an
// argument that is the stand-in itself (an int64) becomes the event's
// number on the server; one that carries it in a text makes
// AppendChecked call then again with the event numbered, the way a
// signed event goes: the lock, the check and the log's head in one
// pipeline, the event, then's statements, the commit and the flush in
// another, the signature needing the event's number.
// check must number its placeholders in order (?, not ?N).
func (s *Store) AppendChecked(ctx context.Context, check Stmt, want string, actor, typ string, payload any, key *sshsig.SigningKey, then func(Event) []Stmt) (Event, error) {
	if s.readOnly {
		return Event{}, fmt.Errorf("%w: %s was opened read-only", ErrReadOnly, s.path)
	}
	if err := checkActor(actor); err != nil {
		return Event{}, err
	}
	if s.engine != enginePostgres {
		var ev Event
		err := s.Write(ctx, func(tx *Tx) error {
			var got sql.NullString
			if err := tx.QueryRow(ctx, check.Query, check.Args...).Scan(&got); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if got.String != want {
				return ErrChanged
			}
			var err error
			if ev, err = tx.AppendSigned(ctx, actor, typ, payload, key); err != nil {
				return err
			}
			for _, st := range then(ev) {
				if _, err := tx.Exec(ctx, st.Query, st.Args...); err != nil {
					return err
				}
			}
			return nil
		})
		return ev, err
	}
	// Tried again while it conflicts, as every write is (waitBusy); its
	// error then says so, errors.Is(err, ErrBusy).
	var ev Event
	err := s.waitBusy(ctx, "", func() error {
		found, err := s.settledTries(ctx, func(w *lostWrite) (err error) {
			ev, err = s.appendPipelined(ctx, check, want, actor, typ, payload, key, then, w)
			return err
		})
		if found != nil {
			ev = found.ev // lost after it was sent, and found recorded
		}
		return err
	})
	if errors.Is(err, ErrBusy) {
		return Event{}, err
	}
	return ev, s.permissionError(ctx, err)
}

// appendPipelined is AppendChecked on PostgreSQL, on one connection of
// the pool through pgx itself, whose batches are pipelines: every
// statement of a batch goes out at once and the answers come back
// together.
//
// When the connection is lost after the COMMIT may have been sent, it
// sets w.lost, and what identifies the write in w.
func (s *Store) appendPipelined(ctx context.Context, check Stmt, want string, actor, typ string, payload any, key *sshsig.SigningKey, then func(Event) []Stmt, w *lostWrite) (Event, error) {
	var ev Event
	err := s.onPipelineConn(ctx, w, func(pc *pgx.Conn) (err error) {
		ev, err = s.appendOn(ctx, pc, check, want, actor, typ, payload, key, then, w)
		return err
	})
	return ev, err
}

// onPipelineConn runs write on the pgx.Conn of a connection of the pool,
// as both pipelined appends (appendPipelined, appendCallOnce) do, and
// returns its error. When write failed with the connection lost, it
// sets w.lost and w.cause (and the pool drops the connection); when it
// left a transaction open, it is rolled back, or the connection dropped.
// w.pid is the server process that ran write.
func (s *Store) onPipelineConn(ctx context.Context, w *lostWrite, write func(pc *pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var werr error
	err = conn.Raw(func(dc any) error {
		pc := dc.(*postgresConn).Conn.Conn()
		werr = write(pc)
		w.pid = pc.PgConn().PID()
		if werr != nil && pc.IsClosed() {
			w.lost, w.cause = true, werr
			return driver.ErrBadConn
		}
		if pc.PgConn().TxStatus() == 'I' {
			return nil
		}
		// An error left the transaction open: roll it back, or let the
		// pool drop the connection.
		if _, err := pc.Exec(ctx, "ROLLBACK"); err != nil || pc.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		return nil
	})
	if werr == nil {
		werr = err
	}
	return werr
}

// appendOn is appendPipelined on pc. Once it sends the pipeline that
// commits, it fills in w's event (w.typ set says it was sent).
func (s *Store) appendOn(ctx context.Context, pc *pgx.Conn, check Stmt, want string, actor, typ string, payload any, key *sshsig.SigningKey, then func(Event) []Stmt, w *lostWrite) (Event, error) {
	if key == nil {
		if ev, done, err := s.appendOneTrip(ctx, pc, check, want, actor, typ, payload, then, w); done {
			return ev, err
		}
	}
	// The lock, then the check and the head: each statement of a pipeline
	// starts after the one before it ends, so both read what the previous
	// holder of the lock committed.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(lockAsync, int64(logLockKey))
	b.Queue(rewritePostgres(check.Query), pgArgs(check.Args)...)
	b.Queue(headQuery)
	br := pc.SendBatch(ctx, b)
	var (
		got  *string
		last int64
		head string
	)
	_, err := br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		if err = br.QueryRow().Scan(&got); errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if err == nil {
		if err = br.QueryRow().Scan(&last, &head); errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Event{}, err
	}
	if got == nil || *got != want {
		return Event{}, ErrChanged
	}
	ev, stmts, err := nextEvent(head, last, s.now(), actor, typ, payload, key)
	if err != nil {
		return Event{}, err
	}
	own := len(stmts) // the event's statements, then the caller's
	stmts = append(stmts, then(ev)...)
	b = &pgx.Batch{}
	for _, st := range stmts {
		b.Queue(rewritePostgres(st.Query), pgArgs(st.Args)...)
	}
	b.Queue("COMMIT")
	b.Queue(flushQuery)
	*w = lostWrite{at: ev.At.UTC().Format(eventTimeLayout), actor: actor, typ: typ, payloads: []string{string(ev.Payload)}, seq: ev.Seq, hash: ev.Hash}
	br = pc.SendBatch(ctx, b)
	for i := range stmts {
		if _, err = br.Exec(); err != nil {
			if i < own {
				err = fmt.Errorf("appending event %d: %w", ev.Seq, err)
			}
			break
		}
	}
	err = commitBatch(br, ev.Seq, err)
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// pgArgs are arguments as sqliteArgs passes them through database/sql: a
// Go bool as 1 or 0, nhi's flags being INTEGER columns on both engines.
func pgArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if out == nil {
				out = append([]any(nil), args...) // the caller's slice stays as it was
			}
			out[i] = int64(0)
			if b {
				out[i] = int64(1)
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// seqStandIn is the number then is given for an event appended in one
// round trip, before the server numbers it (AppendChecked): never an
// event's, which count from 1.
const seqStandIn int64 = -7_305_011_964_518_302_417

var seqStandInText = strconv.FormatInt(seqStandIn, 10)

// errChangedCode is the SQLSTATE nhi_append_event refuses with when the
// check no longer gives what the caller read.
const errChangedCode = "NHI01"

// appendOneTrip is appendOn for an unsigned event in one round trip. done
// is false, nothing having been sent, when then's statements carry the
// event's number other than as an argument of their own.
func (s *Store) appendOneTrip(ctx context.Context, pc *pgx.Conn, check Stmt, want string, actor, typ string, payload any, then func(Event) []Stmt, w *lostWrite) (ev Event, done bool, err error) {
	// The event's time as stored, to the microsecond (eventTimeLayout).
	t := s.now().UTC().Truncate(time.Microsecond)
	at := t.Format(eventTimeLayout)
	p, rest, err := payloadAndRest(at, actor, typ, payload)
	if err != nil {
		return Event{}, true, err
	}
	stmts := then(Event{Seq: seqStandIn, At: t, Actor: actor, Type: typ, Payload: json.RawMessage(p)})
	masks := make([]uint64, len(stmts))
	for i, st := range stmts {
		for j, a := range st.Args {
			if v, ok := a.(int64); ok {
				if v == seqStandIn {
					if j >= 64 {
						return Event{}, false, nil
					}
					masks[i] |= 1 << j
				}
			} else if carriesStandIn(a) {
				return Event{}, false, nil
			}
		}
	}
	// One pipeline (a pgx batch, ended by one Sync): the append's
	// transaction, committed without waiting for the disk (lockAsync),
	// then the flush that makes it durable before it is acknowledged
	// (flushQuery). The COMMIT is a statement of its own, so the flush
	// is a transaction of its own in the same round trip; a statement
	// that fails makes the server skip the rest up to the Sync, the
	// flush included, and roll the append back.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(lockAsync, int64(logLockKey))
	b.Queue(rewritePostgres(`SELECT seq, prev_hash, hash FROM nhi_append_event((`+check.Query+`) = ?, ?, ?, ?, ?, ?)`),
		pgArgs(append(slices.Clone(check.Args), want, at, actor, typ, p, rest))...)
	for i, st := range stmts {
		b.Queue(rewriteSeqArgs(st.Query, masks[i]), pgArgs(st.Args)...)
	}
	b.Queue("COMMIT")
	b.Queue(flushQuery)
	*w = lostWrite{at: at, actor: actor, typ: typ, payloads: []string{p}}
	br := pc.SendBatch(ctx, b)
	ev = Event{At: t, Actor: actor, Type: typ, Payload: json.RawMessage(p)}
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		if err = br.QueryRow().Scan(&ev.Seq, &ev.PrevHash, &ev.Hash); err != nil {
			if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == errChangedCode {
				err = ErrChanged
			} else {
				err = fmt.Errorf("appending an event: %w", err)
			}
		}
	}
	for range stmts {
		if err != nil {
			break
		}
		_, err = br.Exec()
	}
	if err = commitBatch(br, ev.Seq, err); err != nil {
		return Event{}, true, err
	}
	// The server hashed what nhi would have: say so loudly if not, as
	// nhi verify would. The record numbered seq is "[", seq, "," and
	// rest (canonicalRecord), so it is hashed from rest rather than
	// encoded a second time (TestChainHashIsRecordHash).
	if h := chainHash(ev.PrevHash, ev.Seq, rest); h != ev.Hash {
		return Event{}, true, fmt.Errorf("event %d was appended with hash %s, where nhi computes %s: run nhi verify and report this", ev.Seq, ev.Hash, h)
	}
	return ev, true, nil
}

// chainHash is recordHash of the record numbered seq whose canonical
// bytes after "[seq," are rest: SHA-256(prev_hash ‖ "[" ‖ seq ‖ "," ‖
// rest), as nhi_append_event computes it on the server.
func chainHash(prevHash string, seq int64, rest string) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	var num [24]byte
	h.Write(strconv.AppendInt(append(num[:0], '['), seq, 10))
	h.Write([]byte{','})
	h.Write([]byte(rest))
	return hex.EncodeToString(h.Sum(nil))
}

// carriesStandIn reports whether an argument other than an int64 holds
// the stand-in for the event's number: in a text, or in a value of
// another type (an int, an sql.NullInt64), which the server could not
// be told to replace.
func carriesStandIn(a any) bool {
	switch v := a.(type) {
	case nil, bool, float64, time.Time:
		return false
	case string:
		return strings.Contains(v, seqStandInText)
	case []byte:
		return bytes.Contains(v, []byte(seqStandInText))
	}
	return strings.Contains(fmt.Sprint(a), seqStandInText)
}

// commitBatch reads the COMMIT of event seq's transaction and the flush
// after it (flushQuery), the end of a pgx batch, if nothing before them
// failed (err), and closes the batch: the first error is the one
// returned.
func commitBatch(br pgx.BatchResults, seq int64, err error) error {
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			err = fmt.Errorf("appending event %d: %w", seq, err)
		} else if tag.String() != "COMMIT" {
			// COMMIT of a transaction that failed answers ROLLBACK.
			err = fmt.Errorf("appending event %d: the database answered %s to COMMIT", seq, tag)
		} else if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("event %d was appended, but the database did not confirm it is on disk, so it may be lost if the server stopped: %w (nhi log shows whether it is there)", seq, err)
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockAsync takes the write lock and has the transaction commit without
// waiting for its commit to reach the disk (synchronous_commit off for
// this transaction only: set_config's true), so the lock, released at
// commit, is not held through the flush (docs/team.md, "Many writers,
// one chain"). The commit is visible at once, so the next holder chains
// on it; it is made durable before anything is acknowledged, by
// flushQuery.
const lockAsync = "SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)"

// flushQuery, run in a transaction of its own after a commit made with
// lockAsync (or after reading what such commits wrote), returns once
// that commit is on disk. It writes a record to the write-ahead log in
// its transaction (a logical decoding message, prefix nhi.flush, empty,
// which any role may write, even in a read-only transaction), so its
// commit waits, under the session's
// synchronous_commit (on unless the server's owner chose otherwise),
// until the log is flushed up to its commit record — which covers every
// commit before it, the log being flushed in order. A transaction that
// only took a transaction ID (pg_current_xact_id()) would not do: the
// server commits a transaction that wrote nothing else to the log
// without waiting for the disk. Commits that wait together are flushed
// together (PostgreSQL's group commit), outside the write lock.
const flushQuery = "SELECT pg_logical_emit_message(true, 'nhi.flush', '')"
