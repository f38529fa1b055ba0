package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A checked append whose connection is lost after it was sent — cut
// before the server saw it, or after the server committed it and
// answered — is recorded exactly once and returned as made: nhi
// connects again, looks for the event, and tries the append again only
// when it is not there. When it cannot connect again to look, it says
// the outcome is unknown and how to find out, and the append is in the
// log once or not at all. Both ways of appending are cut: the one round
// trip, and the two pipelines of an event whose number a statement
// carries in a text.
func TestAppendCheckedConnectionLost(t *testing.T) {
	u := pgtest.TCPURL(t)
	s := openAt(t, u)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	p, through := pgtest.NewProxy(t, u)
	st := openAt(t, through)
	note := func(text string, inText bool) (Event, error) {
		return st.AppendChecked(ctx, Stmt{Query: `SELECT 'ok'`}, "ok", "alice", EventNoteAdd, NoteAdd{Identity: a.ID, Text: text}, nil,
			func(ev Event) []Stmt {
				var seq any = ev.Seq
				if inText {
					seq = fmt.Sprint(ev.Seq)
				}
				return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.noted', CAST(? AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{seq}}}
			})
	}
	recorded := func(text string) (seqs []int64) {
		t.Helper()
		evs, err := s.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type == EventNoteAdd && strings.Contains(string(ev.Payload), `"`+text+`"`) {
				seqs = append(seqs, ev.Seq)
			}
		}
		return seqs
	}
	for _, inText := range []bool{false, true} {
		for _, when := range []pgtest.When{pgtest.BeforeSending, pgtest.AfterAnswer} {
			text := fmt.Sprintf("cut-%v-%v", inText, when)
			cut := p.CutNext(text, when)
			ev, err := note(text, inText)
			select {
			case <-cut.Done:
			default:
				t.Fatalf("%s: the connection was not cut", text)
			}
			if err != nil {
				t.Fatalf("%s: %v; want the note recorded once and returned", text, err)
			}
			if got := recorded(text); len(got) != 1 || got[0] != ev.Seq {
				t.Errorf("%s: returned event %d; the log holds the note as events %v; want it once, as the event returned", text, ev.Seq, got)
			}
			var noted string
			if err := s.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'test.noted'`).Scan(&noted); err != nil || noted != fmt.Sprint(ev.Seq) {
				t.Errorf("%s: the append's statement recorded %q (%v); want %d", text, noted, err, ev.Seq)
			}
		}
	}
	// Committed, the answer lost, and the server out of reach when nhi
	// looks: it says so, and what to do.
	text := "cut-unreachable"
	p.CutNextThenRefuse(text, pgtest.AfterAnswer)
	_, err := note(text, false)
	p.Refuse(false)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("a cut with the server out of reach: %v; want ErrOutcomeUnknown", err)
	}
	for _, want := range []string{"was lost after the write was sent", "may or may not be", "nhi log shows whether it holds an event note.add by alice at", "if it does not, run the command again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if got := recorded(text); len(got) != 1 {
		t.Errorf("the log holds the note the server committed as events %v; want once", got)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}

// A write transaction (Store.Write: notes, owners, the long way of a
// decision, a campaign's create and close) whose connection is lost is
// recorded exactly once: cut in the middle (the server rolls it back)
// or at its COMMIT, before the server sees it or after it committed and
// answered, nhi looks for its last event on a new connection, and
// writes it again only when it is not there.
func TestWriteConnectionLost(t *testing.T) {
	u := pgtest.TCPURL(t)
	s := openAt(t, u)
	a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a, b)
	p, through := pgtest.NewProxy(t, u)
	st := openAt(t, through)
	count := func(typ, text string) int {
		t.Helper()
		var n int
		if err := s.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = ? AND payload LIKE ?`, typ, "%"+text+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, c := range []struct {
		marker string
		when   pgtest.When
	}{
		{"note-0", pgtest.AfterAnswer}, // the first note's INSERT: the transaction is cut in the middle
		{"commit", pgtest.BeforeSending},
		{"commit", pgtest.AfterAnswer},
	} {
		text := fmt.Sprint("note-", i)
		cut := p.CutNext(c.marker, c.when)
		evs, err := st.AddNotes(ctx, "alice", []string{a.ID, b.ID}, text)
		select {
		case <-cut.Done:
		default:
			t.Fatalf("%s: the connection was not cut", text)
		}
		if err != nil {
			t.Fatalf("%s cut at %s (%d): %v; want the notes recorded once", text, c.marker, c.when, err)
		}
		if n := count(EventNoteAdd, `"`+text+`"`); n != 2 || len(evs) != 2 {
			t.Errorf("%s cut at %s (%d): %d events returned, %d in the log; want 2 and 2", text, c.marker, c.when, len(evs), n)
		}
	}
	p.CutNext("commit", pgtest.AfterAnswer)
	if _, err := st.SetOwner(ctx, "alice", a.ID, "team-cut"); err != nil {
		t.Fatalf("owner set, cut after its commit: %v", err)
	}
	if n := count(EventOwnerSet, "team-cut"); n != 1 {
		t.Errorf("owner set, cut after its commit: %d events in the log; want 1", n)
	}
	// The server out of reach when nhi looks: it says so.
	p.CutNextThenRefuse("commit", pgtest.AfterAnswer)
	_, err := st.AddNotes(ctx, "alice", []string{a.ID}, "unreachable")
	p.Refuse(false)
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "nhi log shows whether it holds event") {
		t.Errorf("a cut with the server out of reach: %v; want ErrOutcomeUnknown, naming the event to look for", err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %v %v", r.Problems, err)
	}
}

// A session the server ends (a restart's fast shutdown, an
// administrator's pg_terminate_backend) in the middle of a write that
// is not settled by its event (the policy, a snapshot's batches) or of
// a read fails with PostgreSQL's words, and ServerAdvice says what they
// mean and what to do: here a policy set queued for the write lock,
// whose backend is ended while it waits, nothing written.
func TestSessionEndedByTheServerSaysWhatToDo(t *testing.T) {
	u := pgtest.URL(t)
	s := openAt(t, u)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	holder := pgtest.Connect(t, u)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(logLockKey)); err != nil {
		t.Fatal(err)
	}
	before, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.SetPolicy(ctx, "alice", DefaultPolicy())
		done <- err
	}()
	// The policy set's backend, once it waits for the lock.
	var pid int64
	for pid == 0 {
		if err := holder.QueryRow(ctx, `SELECT COALESCE(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := holder.Exec(ctx, `SELECT pg_terminate_backend($1, 10000)`, pid); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(logLockKey)); err != nil {
		t.Fatal(err)
	}
	if err == nil || !strings.Contains(ServerAdvice(err), "The server ended the session") {
		t.Errorf("a policy set whose session the server ended: %v; advice %q; want the advice that the server ended it", err, ServerAdvice(err))
	}
	after, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the log went from %d events to %d; want nothing written", len(before), len(after))
	}
}
