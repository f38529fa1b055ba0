package campaigns_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// markRitaLeft marks rita@acme.test (alias rita) of afterFactFixture
// left on 2026-09-30.
func markRitaLeft(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
		{Email: "rita@acme.test", Status: audit.PersonLeft, LeftAt: "2026-09-30", Aliases: []string{"rita"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
}

// writeNoteAround records actor's note on identity id as nhi writes one
// (a note.add event), without nhi's checks: what anyone who writes an
// evidence file can do, or an nhi from before the leaver check.
func writeNoteAround(t *testing.T, st *audit.Store, actor, id, text string) int64 {
	t.Helper()
	var seq int64
	if err := st.Write(ctx, func(tx *audit.Tx) error {
		ev, err := tx.Append(ctx, actor, audit.EventNoteAdd, audit.NoteAdd{Identity: id, Text: text})
		seq = ev.Seq
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return seq
}

// writeOwnerAround records actor's owner change as nhi writes one — the
// owner.set event and the owners row (none for an owner cleared), in
// one transaction — without nhi's checks.
func writeOwnerAround(t *testing.T, st *audit.Store, actor string, set audit.OwnerSet) int64 {
	t.Helper()
	var seq int64
	if err := st.Write(ctx, func(tx *audit.Tx) error {
		ev, err := tx.Append(ctx, actor, audit.EventOwnerSet, set)
		if err != nil {
			return err
		}
		seq = ev.Seq
		if set.Owner == "" {
			_, err = tx.Exec(ctx, `DELETE FROM owners WHERE identity_id = ?`, set.Identity)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO owners (identity_id, owner, person, event_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (identity_id) DO UPDATE SET owner = excluded.owner, person = excluded.person, event_seq = excluded.event_seq`,
			set.Identity, set.Owner, set.Person, ev.Seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return seq
}

// verifySays checks that nhi verify, the campaigns' part and the whole
// (campaigns.VerifyStore), says exactly want.
func verifySays(t *testing.T, f *fixture, want ...string) {
	t.Helper()
	problems, err := campaigns.Verify(ctx, f.Store)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", problems) != fmt.Sprintf("%q", want) {
		t.Errorf("verify says\n%q\nwant\n%q", problems, want)
	}
	whole, err := campaigns.VerifyStore(ctx, f.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", whole.Problems) != fmt.Sprintf("%q", want) {
		t.Errorf("the whole of verify says\n%q\nwant\n%q", whole.Problems, want)
	}
}

// A person the directory of people marks left may not add a note, nor
// change an owner (set, clear or undo): nhi refuses it in the write's own
// transaction (docs/people.md, "The actor is a person"). One the log
// holds anyway, written around nhi, is named by nhi verify with the
// actor and when they left, judged with the directory as it stood at the
// event: hers of before she left are no problem. Before, verify named a
// leaver's decisions only, and passed these.
func TestVerifyNamesALeaversNoteAndOwnerChange(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		web3, web4 := keyID("web", "3"), keyID("web", "4")
		if _, err := f.Store.AddNotes(ctx, "rita", []string{web3}, "asked the team"); err != nil {
			t.Fatal(err)
		}
		set, err := f.Store.SetOwner(ctx, "rita", web3, "sam@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		markRitaLeft(t, f)
		if _, err := f.Store.AddNotes(ctx, "rita", []string{web4}, "still used"); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver's note through nhi: %v; want refused", err)
		}
		if _, err := f.Store.SetOwner(ctx, "rita", web4, "sam@acme.test"); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver's owner change through nhi: %v; want refused", err)
		}
		if _, err := f.Store.UndoOwnerSet(ctx, "rita", set.Seq); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver's undo of an owner change through nhi: %v; want refused", err)
		}
		note := writeNoteAround(t, f.Store, "rita", web4, "still used")
		owner := writeOwnerAround(t, f.Store, "Rita", audit.OwnerSet{Identity: web4, Owner: "sam@acme.test", Person: "sam@acme.test"})
		undo := writeOwnerAround(t, f.Store, "rita@acme.test", audit.OwnerSet{Identity: web3, Undoes: set.Seq})
		verifySays(t, f,
			fmt.Sprintf("event %d (note.add by rita) adds a note on %s, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's note, so it was written around nhi, and no one who could still act wrote it", note, web4),
			fmt.Sprintf("event %d (owner.set by Rita) sets the owner of %s to sam@acme.test, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's owner change, so it was written around nhi, and no one who could still act made it", owner, web4),
			fmt.Sprintf("event %d (owner.set by rita@acme.test) undoes the owner change of event %d on %s, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's owner change, so it was written around nhi, and no one who could still act made it", undo, set.Seq, web3),
		)
	})
}

// A leaver may not close a campaign: `nhi campaign close` refuses her
// before anything is read, and Close in its own transaction (where
// before it did not: a close confirmed after the directory marked her
// left was written). A close the
// log holds anyway, written around nhi, is named by nhi verify; a person
// marked left after the close did nothing wrong then. Before, verify
// passed it.
func TestVerifyNamesALeaversClose(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		create(t, f, campaigns.Spec{Name: "before", Scope: "kind:github_actions_secret"})
		if _, err := campaigns.Close(ctx, f.Store, "rita", "before"); err != nil {
			t.Fatal(err)
		}
		markRitaLeft(t, f)
		if _, err := campaigns.Close(ctx, f.Store, "rita", "q"); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver closing through nhi: %v; want refused", err)
		}
		seq, err := campaignstest.CloseAround(ctx, f.Store, "rita", "q")
		if err != nil {
			t.Fatal(err)
		}
		verifySays(t, f,
			fmt.Sprintf("event %d (campaign.close by rita) closes campaign q, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's close, so it was written around nhi, and no one who could still act closed it", seq))
	})
}

// A leaver may not approve an exception: nhi refuses it in the
// approval's own transaction. One the log holds anyway, written around
// nhi, is named by nhi verify, item by item as its other approval
// problems are. Before, verify passed it.
func TestVerifyNamesALeaversApproval(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		web4 := keyID("web", "4")
		o, err := campaigns.Decide(ctx, f.Store, "sam", "q", web4, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		markRitaLeft(t, f)
		if _, err := campaigns.ApproveException(ctx, f.Store, "rita", "q", web4); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver approving through nhi: %v; want refused", err)
		}
		seq := writeApproval(t, f.Store, "rita", "q", web4, o.Event.Seq, o.ExceptionExpires)
		verifySays(t, f,
			fmt.Sprintf("event %d (decision.approve by rita) approves the exception on %s in campaign q, and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's approval, so it was written around nhi, and no one who could still act approved it", seq, web4))
	})
}
