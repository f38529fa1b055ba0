package audit

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// AppendCall appends through a function on the server: the payload the
// function chose, numbered and hashed there as nhi would (the chain
// verifies), with what else the function wrote; a function that refuses
// (SQLSTATE NHI01) is ErrChanged and leaves nothing written; an evidence
// file has no server to call.
func TestAppendCall(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a) // event 1
	pgtest.Exec(t, where, `
		CREATE FUNCTION test_call(pick int, ev_at text, ev_actor text, ev_type text, p0 text, r0 text, p1 text, r1 text)
		RETURNS TABLE (o_seq bigint, o_prev text, o_hash text, o_variant int, o_note text) LANGUAGE plpgsql AS
		$$ DECLARE ev record;
		BEGIN
			IF pick < 0 THEN
				RAISE EXCEPTION 'cannot prove it' USING ERRCODE = 'NHI01';
			END IF;
			PERFORM set_config('synchronous_commit', 'off', true);
			PERFORM nhi_lock_log();
			SELECT * INTO ev FROM nhi_append_event(true, ev_at, ev_actor, ev_type, CASE pick WHEN 1 THEN p1 ELSE p0 END, CASE pick WHEN 1 THEN r1 ELSE r0 END);
			INSERT INTO meta (key, value) VALUES ('test.call', ev.seq::text) ON CONFLICT (key) DO UPDATE SET value = excluded.value;
			RETURN QUERY SELECT ev.seq, ev.prev_hash, ev.hash, pick, 'called by ' || ev_actor;
		END $$`)
	payloads := []any{NoteAdd{Identity: a.ID, Text: "first"}, NoteAdd{Identity: a.ID, Text: "second"}}
	call := func(pick int) func(Event, []any) Stmt {
		return func(_ Event, args []any) Stmt {
			return Stmt{Query: `SELECT * FROM test_call(?, ?, ?, ?, ?, ?, ?, ?)`, Args: append([]any{pick}, args...)}
		}
	}
	var note string
	ev, variant, err := s.AppendCall(ctx, "alice", EventNoteAdd, payloads, call(1), &note)
	if err != nil || ev.Seq != 2 || variant != 1 || note != "called by alice" {
		t.Fatalf("the second payload: event %d, payload %d, %q, %v; want event 2, payload 1, called by alice", ev.Seq, variant, note, err)
	}
	var got NoteAdd
	if err := json.Unmarshal(ev.Payload, &got); err != nil || got.Text != "second" {
		t.Errorf("the event returned carries %s (%v); want the second payload", ev.Payload, err)
	}
	if _, _, err := s.AppendCall(ctx, "alice", EventNoteAdd, payloads, call(-1), &note); !errors.Is(err, ErrChanged) {
		t.Fatalf("a function that refuses: %v; want ErrChanged", err)
	}
	var mark string
	if err := s.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'test.call'`).Scan(&mark); err != nil || mark != "2" {
		t.Errorf("after the refusal the function's own write says %q (%v); want 2, the refused call's rolled back", mark, err)
	}
	if ev, variant, err = s.AppendCall(ctx, "bob", EventNoteAdd, payloads, call(0), &note); err != nil || ev.Seq != 3 || variant != 0 {
		t.Fatalf("the first payload: event %d, payload %d, %v; want event 3, payload 0", ev.Seq, variant, err)
	}
	evs, err := s.Events(ctx)
	if err != nil || len(evs) != 3 || evs[2].Hash != ev.Hash || string(evs[2].Payload) != string(ev.Payload) {
		t.Fatalf("the log: %d events, %v; want 3, the last the one returned", len(evs), err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("the chain: %v %v", err, r.Problems)
	}

	file := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	if _, _, err := file.AppendCall(ctx, "alice", EventNoteAdd, payloads, call(0)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("on an evidence file: %v; want errors.ErrUnsupported", err)
	}
}
