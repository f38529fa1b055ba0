package audit

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// AppendChecked appends, with its statements, only while its check still
// reads what the caller read before: a stale answer writes nothing and
// says ErrChanged; a failing statement writes nothing either, and the
// store goes on working; many writers at once make one chain.
func TestAppendChecked(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		s := openAt(t, where)
		a := obs("a", KindGitHubDeployKey)
		snapshot(t, s, nil, nil, a) // event 1
		// The stamp a note depends on here: the last note.add.
		check := Stmt{Query: `SELECT COALESCE(max(seq), 0) || '' FROM events WHERE type = ?`, Args: []any{EventNoteAdd}}
		stamp := func() string {
			t.Helper()
			var v string
			if err := s.QueryRow(ctx, check.Query, check.Args...).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		note := func(ev Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.noted', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{fmt.Sprint(ev.Seq)}}}
		}
		meta := func() string {
			t.Helper()
			var v string
			if err := s.QueryRow(ctx, `SELECT COALESCE((SELECT value FROM meta WHERE key = 'test.noted'), '')`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}

		want := stamp()
		ev, err := s.AppendChecked(ctx, check, want, "alice", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "first"}, nil, note)
		if err != nil || ev.Seq != 2 || meta() != "2" {
			t.Fatalf("append with a fresh check: %+v %v, meta %q; want event 2 and its statement", ev, err, meta())
		}
		// want is now stale: event 2 moved the stamp.
		_, err = s.AppendChecked(ctx, check, want, "bob", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "stale"}, nil, note)
		if !errors.Is(err, ErrChanged) {
			t.Errorf("append with a stale check: %v; want ErrChanged", err)
		}
		if n, _ := s.Notes(ctx, a.ID); len(n) != 1 || meta() != "2" {
			t.Errorf("after the stale append: %d notes, meta %q; want nothing written", len(n), meta())
		}
		// An event's number as an argument of its own (the one round trip
		// on PostgreSQL, where the server numbers the event), rather than
		// in a text (two round trips there, the number read first).
		noteSeq := func(ev Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.noted', CAST(? AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{ev.Seq}}}
		}
		want = stamp()
		ev, err = s.AppendChecked(ctx, check, want, "carol", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "second"}, nil, noteSeq)
		if err != nil || ev.Seq != 3 || meta() != "3" || ev.PrevHash == "" || ev.Hash == "" {
			t.Fatalf("append numbered on the way: %+v %v, meta %q; want event 3, its statement given its number", ev, err, meta())
		}
		if evs, err := s.Events(ctx); err != nil || len(evs) != 3 || evs[2].Hash != ev.Hash || evs[2].PrevHash != evs[1].Hash || !evs[2].At.Equal(ev.At) {
			t.Fatalf("the log after it: %v; want event 3 as returned, after event 2", err)
		}
		// The number in a value of another type is given as it is.
		want = stamp()
		ev, err = s.AppendChecked(ctx, check, want, "carol", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "third"}, nil, func(ev Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.noted', CAST(CAST(? AS BIGINT) AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
				[]any{sql.NullInt64{Int64: ev.Seq, Valid: true}}}}
		})
		if err != nil || ev.Seq != 4 || meta() != "4" {
			t.Fatalf("append whose statement has its number as an sql.NullInt64: %+v %v, meta %q; want event 4, its statement given its number", ev, err, meta())
		}
		if _, err := s.AppendChecked(ctx, check, want, "carol", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "stale"}, nil, noteSeq); !errors.Is(err, ErrChanged) {
			t.Errorf("append numbered on the way with a stale check: %v; want ErrChanged", err)
		}
		if n, _ := s.Notes(ctx, a.ID); len(n) != 3 || meta() != "4" {
			t.Errorf("after the stale append: %d notes, meta %q; want nothing written", len(n), meta())
		}
		// A statement that fails rolls the event back with it.
		_, err = s.AppendChecked(ctx, check, stamp(), "bob", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "broken"}, nil, func(Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES (NULL, 'x')`, nil}}
		})
		if err == nil {
			t.Error("append whose statement fails: no error")
		}
		if _, err = s.AppendChecked(ctx, check, stamp(), "bob", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "broken"}, nil, func(ev Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES (NULL, CAST(? AS TEXT))`, []any{ev.Seq}}}
		}); err == nil {
			t.Error("append numbered on the way whose statement fails: no error")
		}
		if n, _ := s.Notes(ctx, a.ID); len(n) != 3 {
			t.Errorf("after the failed statements: %d notes; want 3", len(n))
		}

		// Many writers at once, each on a store of its own, as processes.
		const writers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			st, err := Open(ctx, where, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			wg.Go(func() {
				for i := range each {
					for {
						var v string
						if err := st.QueryRow(ctx, check.Query, check.Args...).Scan(&v); err != nil {
							errs <- err
							return
						}
						then := note
						if (w+i)%2 == 0 {
							then = noteSeq
						}
						_, err := st.AppendChecked(ctx, check, v, fmt.Sprint("w", w), EventNoteAdd, NoteAdd{Identity: a.ID, Text: fmt.Sprint(i)}, nil, then)
						if errors.Is(err, ErrChanged) {
							continue // another writer's note came first: read again
						}
						if err != nil {
							errs <- err
						}
						break
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n, _ := s.Notes(ctx, a.ID); len(n) != 3+writers*each {
			t.Errorf("%d notes after the concurrent appends; want %d", len(n), 3+writers*each)
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Fatalf("the chain after concurrent checked appends: %v %v", err, r.Problems)
		}
	})
}

// On PostgreSQL an unsigned checked append commits inside its pipeline,
// the flush following: a transaction the server refuses at commit (here
// a deferred trigger's refusal) is an error, not a success, and writes
// nothing — not the event, not the statements after it — and the store
// goes on working.
func TestAppendCheckedRefusedAtCommit(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a) // event 1
	pgtest.Exec(t, where, `
		CREATE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN IF NEW.value = 'refuse at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$;
		CREATE CONSTRAINT TRIGGER test_at_commit AFTER INSERT OR UPDATE ON meta DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION test_refuse_at_commit()`)
	check := Stmt{Query: `SELECT COALESCE(max(seq), 0) || '' FROM events WHERE type = ?`, Args: []any{EventNoteAdd}}
	mark := func(value string) func(Event) []Stmt {
		return func(Event) []Stmt {
			return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.mark', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{value}}}
		}
	}
	_, err := s.AppendChecked(ctx, check, "0", "alice", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "refused"}, nil, mark("refuse at commit"))
	if err == nil || !strings.Contains(err.Error(), "refused at commit") {
		t.Fatalf("an append the server refuses at commit: %v; want its refusal", err)
	}
	var marks int
	if err := s.QueryRow(ctx, `SELECT count(*) FROM meta WHERE key = 'test.mark'`).Scan(&marks); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Events(ctx); err != nil || len(evs) != 1 || marks != 0 {
		t.Fatalf("after the refused commit: %d events, %d marks, %v; want the one event before it and no mark", len(evs), marks, err)
	}
	ev, err := s.AppendChecked(ctx, check, "0", "alice", EventNoteAdd, NoteAdd{Identity: a.ID, Text: "kept"}, nil, mark("kept"))
	if err != nil || ev.Seq != 2 {
		t.Fatalf("the next append: %+v %v; want event 2", ev, err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("the chain after a refused commit: %v %v", err, r.Problems)
	}
}

// The hash appendOneTrip checks the server's against is computed from
// the record after its number; it must be the chain's hash of the whole
// record (recordHash), whatever the number and the payload's characters.
func TestChainHashIsRecordHash(t *testing.T) {
	for _, c := range []struct {
		seq     int64
		actor   string
		payload string
	}{{1, "rita", `{}`}, {42, "rita@acme.test", `{"campaign":"q","items":["a"]}`}, {9_007_199_254_740_993, "ünï \"x\"", `{"reason":"<&> \u2028 é"}`}} {
		at := "2026-12-02T10:11:12.123456Z"
		rec, err := canonicalRecord(0, at, c.actor, "campaign.decide", c.payload)
		if err != nil {
			t.Fatal(err)
		}
		want, err := recordHash(GenesisHash, c.seq, at, c.actor, "campaign.decide", c.payload)
		if err != nil {
			t.Fatal(err)
		}
		if got := chainHash(GenesisHash, c.seq, string(rec[len("[0,"):])); got != want {
			t.Errorf("event %d: chainHash %s, recordHash %s", c.seq, got, want)
		}
	}
}
