package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestNotes(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubWebhook)
		snapshot(t, s, nil, nil, a, b) // event 1 records it

		evs, err := s.AddNotes(ctx, "alice", []string{a.ID, b.ID}, "  asked @platform in JIRA-123  ")
		if err != nil || len(evs) != 2 || evs[0].Type != EventNoteAdd {
			t.Fatalf("AddNotes: %+v %v", evs, err)
		}
		if _, err := s.AddNotes(ctx, "bob", []string{a.ID}, "platform says: still used by the nightly job"); err != nil {
			t.Fatal(err)
		}
		notes, err := s.Notes(ctx, a.ID)
		if err != nil || len(notes) != 2 {
			t.Fatalf("notes on a: %+v %v", notes, err)
		}
		if n := notes[0]; n.Actor != "alice" || n.Text != "asked @platform in JIRA-123" || n.Seq != 2 || n.At.IsZero() {
			t.Errorf("first note: %+v", n)
		}
		if notes[1].Actor != "bob" || notes[1].Seq != 4 {
			t.Errorf("second note: %+v", notes[1])
		}
		if nb, _ := s.Notes(ctx, b.ID); len(nb) != 1 {
			t.Errorf("notes on b: %+v", nb)
		}

		upTo, err := s.NotesUpTo(ctx, 3)
		if err != nil || len(upTo) != 2 || upTo[0].Identity != a.ID || upTo[1].Identity != b.ID || upTo[1].Seq != 3 {
			t.Errorf("notes up to event 3: %+v %v", upTo, err)
		}

		// Refusals write nothing.
		for name, call := range map[string]func() error{
			"unknown identity": func() error { _, err := s.AddNotes(ctx, "alice", []string{a.ID, "github:acme:nope"}, "x"); return err },
			"empty":            func() error { _, err := s.AddNotes(ctx, "alice", []string{a.ID}, " \n "); return err },
			"too long": func() error {
				_, err := s.AddNotes(ctx, "alice", []string{a.ID}, strings.Repeat("é", MaxNoteLength+1))
				return err
			},
			"no identity": func() error { _, err := s.AddNotes(ctx, "alice", nil, "x"); return err },
		} {
			if err := call(); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if _, err := s.AddNotes(ctx, "alice", []string{"github:acme:nope"}, "x"); !errors.Is(err, ErrUnknownIdentity) {
			t.Errorf("unknown identity: %v", err)
		}
		if r, _ := s.Verify(ctx); !r.OK() || r.Events != 4 {
			t.Errorf("verify after notes: %+v", r)
		}

		// A note rewritten behind nhi's back breaks the chain.
		tamper(t, s, `UPDATE events SET payload = replace(payload, 'nightly', 'weekly') WHERE seq = 4`)
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "event 4 (note.add by bob") {
			t.Errorf("verify after editing a note: %+v", r.Problems)
		}
	})
}

// EventTypesSince says what kinds of event came after a point of the log:
// each type once, sorted, none after the head.
func TestEventTypesSince(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a := obs("a", KindGitHubDeployKey)
		// Events 1 to 4: the snapshot, a note, two owners.
		snapshot(t, s, nil, nil, a)
		if _, err := s.AddNotes(ctx, "alice", []string{a.ID}, "asked"); err != nil {
			t.Fatal(err)
		}
		for _, owner := range []string{"x", "y"} {
			if _, err := s.SetOwner(ctx, "alice", a.ID, owner); err != nil {
				t.Fatal(err)
			}
		}
		for seq, want := range map[int64]string{
			0: "[note.add owner.set snapshot.record]",
			1: "[note.add owner.set]",
			2: "[owner.set]",
			4: "[]",
		} {
			got, err := s.EventTypesSince(ctx, seq)
			if err != nil || fmt.Sprint(got) != want {
				t.Errorf("event types after %d: %v %v, want %s", seq, got, err, want)
			}
			// EventTypesTo: the same, and the head they were read to.
			got, head, err := s.EventTypesTo(ctx, seq)
			if err != nil || fmt.Sprint(got) != want || head != 4 || got == nil {
				t.Errorf("event types after %d to the head: %#v to %d %v, want %s to 4", seq, got, head, err, want)
			}
		}
		// EventsSince: the events of the types asked, after seq and up to
		// upTo, in order, until fn stops.
		for _, c := range []struct {
			seq, upTo int64
			types     []string
			want      string
		}{
			{0, 4, []string{EventOwnerSet, EventNoteAdd}, "[2 3 4]"},
			{2, 4, []string{EventOwnerSet, EventNoteAdd}, "[3 4]"},
			{1, 3, []string{EventOwnerSet, EventNoteAdd}, "[2 3]"},
			{0, 4, []string{EventSnapshotRecord}, "[1]"},
			{0, 4, []string{"campaign.decide"}, "[]"},
			{0, 4, nil, "[]"},
		} {
			var got []int64
			err := s.EventsSince(ctx, c.seq, c.upTo, c.types, func(e Event) error {
				if e.Seq == 0 || len(e.Payload) == 0 || !slices.Contains(c.types, e.Type) {
					t.Errorf("event %d read as %+v", e.Seq, e)
				}
				got = append(got, e.Seq)
				return nil
			})
			if err != nil || fmt.Sprint(got) != c.want {
				t.Errorf("events %v after %d up to %d: %v %v, want %s", c.types, c.seq, c.upTo, got, err, c.want)
			}
		}
		stop := errors.New("enough")
		n := 0
		if err := s.EventsSince(ctx, 0, 4, []string{EventOwnerSet}, func(Event) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("fn's error should stop the read and be returned: %v after %d events", err, n)
		}
	})
}
