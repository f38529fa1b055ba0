package audit

import (
	"errors"
	"fmt"
	"testing"
)

// A bulk write that reports the span of its events (SetOwnersSpan,
// AddNotesSpan: owner set --filter, owner import, note add) reports
// what the write returning its events does, counted and first to last,
// and writes the same: on both engines.
func TestEventSpanIsTheEventsWritten(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		st := openAt(t, eng.new(t))
		var ids []string
		var keys []Observation
		for i := range 5 {
			o := obs(fmt.Sprintf("r/%d", i), KindGitHubDeployKey)
			keys, ids = append(keys, o), append(ids, o.ID)
		}
		snapshot(t, st, nil, nil, keys...)
		sets := func(owner string) []OwnerSet {
			out := make([]OwnerSet, len(ids))
			for i, id := range ids {
				out[i] = OwnerSet{Identity: id, Owner: owner}
			}
			return out
		}
		evs, err := st.SetOwners(ctx, "lead", sets("alice"))
		if err != nil {
			t.Fatal(err)
		}
		span, err := st.SetOwnersSpan(ctx, "lead", Each(sets("bob")))
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1].Seq
		if want := (EventSpan{First: last + 1, Last: last + 5, Count: 5}); span != want {
			t.Errorf("SetOwnersSpan after SetOwners' events %d-%d: %+v; want %+v", evs[0].Seq, last, span, want)
		}
		if o, err := st.Identity(ctx, ids[4]); err != nil || o.Owner != "bob" {
			t.Errorf("the owner SetOwnersSpan set: %q, %v; want bob", o.Owner, err)
		}
		notes, err := st.AddNotes(ctx, "lead", ids[:2], "asked")
		if err != nil {
			t.Fatal(err)
		}
		span, err = st.AddNotesSpan(ctx, "lead", Each(ids), "asked again")
		if err != nil {
			t.Fatal(err)
		}
		last = notes[1].Seq
		if want := (EventSpan{First: last + 1, Last: last + 5, Count: 5}); span != want {
			t.Errorf("AddNotesSpan after AddNotes' events %d-%d: %+v; want %+v", notes[0].Seq, last, span, want)
		}
		if n, err := st.Notes(ctx, ids[4]); err != nil || len(n) != 1 || n[0].Text != "asked again" || n[0].Seq != span.Last {
			t.Errorf("the notes on %s: %+v, %v; want AddNotesSpan's, event %d", ids[4], n, err, span.Last)
		}
		// Refused, nothing is written and the span is empty.
		span, err = st.AddNotesSpan(ctx, "lead", Each([]string{ids[0], "github:acme:nothing"}), "no")
		if err == nil || span != (EventSpan{}) {
			t.Errorf("AddNotesSpan naming an unknown identity: %+v, %v; want an error and no span", span, err)
		}
		span, err = st.SetOwnersSpan(ctx, "lead", Each([]OwnerSet{{Identity: ids[0], Owner: "carol"}, {Identity: "github:acme:nothing", Owner: "carol"}}))
		if err == nil || span != (EventSpan{}) {
			t.Errorf("SetOwnersSpan naming an unknown identity: %+v, %v; want an error and no span", span, err)
		}
		if o, err := st.Identity(ctx, ids[0]); err != nil || o.Owner != "bob" {
			t.Errorf("the owner after a refused SetOwnersSpan: %q, %v; want bob", o.Owner, err)
		}
		// A sequence that fails after some assignments (a spool that
		// cannot be read back) ends the write, and what it gave before
		// is not written either: the bulk write is all or nothing.
		failing := errors.New("the spool is short")
		span, err = st.SetOwnersSpan(ctx, "lead", func(yield func(OwnerSet, error) bool) {
			_ = yield(OwnerSet{Identity: ids[0], Owner: "dave"}, nil) && yield(OwnerSet{}, failing)
		})
		if !errors.Is(err, failing) || span != (EventSpan{}) {
			t.Errorf("SetOwnersSpan of a sequence that fails: %+v, %v; want %v and no span", span, err, failing)
		}
		if o, err := st.Identity(ctx, ids[0]); err != nil || o.Owner != "bob" {
			t.Errorf("the owner after a sequence that failed: %q, %v; want bob", o.Owner, err)
		}
		span, err = st.AddNotesSpan(ctx, "lead", func(yield func(string, error) bool) {
			_ = yield(ids[0], nil) && yield("", failing)
		}, "half")
		if !errors.Is(err, failing) || span != (EventSpan{}) {
			t.Errorf("AddNotesSpan of a sequence that fails: %+v, %v; want %v and no span", span, err, failing)
		}
		if n, err := st.Notes(ctx, ids[0]); err != nil || len(n) != 2 {
			t.Errorf("the notes on %s after a sequence that failed: %+v, %v; want the two before", ids[0], n, err)
		}
	})
}
