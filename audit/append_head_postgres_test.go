package audit

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// An append made on the server (nhi_append_event) keeps the log's head in
// meta — the last event's hash and number, which verify compares the
// chain with — from a log's first event on (no head recorded yet), with
// each append after it, and again after the owner removed the rows.
func TestServerAppendKeepsTheHead(t *testing.T) {
	s := openAt(t, pgtest.URL(t))
	check := Stmt{Query: `SELECT 'same'`}
	recorded := func() (head, length string) {
		t.Helper()
		if err := s.QueryRow(ctx, `SELECT COALESCE((SELECT value FROM meta WHERE key = 'log_head'), ''),
			COALESCE((SELECT value FROM meta WHERE key = 'log_length'), '')`).Scan(&head, &length); err != nil {
			t.Fatal(err)
		}
		return head, length
	}
	if h, n := recorded(); h != "" || n != "" {
		t.Fatalf("a new store records head %q, length %q; want none before its first event", h, n)
	}
	for i := 1; i <= 4; i++ {
		if i == 3 {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM meta WHERE key IN ('log_head', 'log_length')`); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := s.AppendChecked(ctx, check, "same", "alice", EventNoteAdd, NoteAdd{Identity: "github:acme:a", Text: fmt.Sprint("note ", i)}, nil,
			func(Event) []Stmt { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if h, n := recorded(); ev.Seq != int64(i) || h != ev.Hash || n != fmt.Sprint(ev.Seq) {
			t.Errorf("append %d: event %d, hash %s; meta records head %s, length %s; want the event's", i, ev.Seq, ev.Hash, h, n)
		}
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify after the appends: %v %v", r.Problems, err)
	}
}
