package campaigns_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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

// The writes nhi refused to a leaver only when their command started — a
// campaign's creation, an escalation, an offboarding, a policy, a change
// to the directory of people — are refused in their own transaction too
// (a command whose question was answered after the directory marked its
// runner left writes nothing), and one the log holds anyway, written
// around nhi, is named by nhi verify as a leaver's note is. An import
// that marks its own runner left, with others in the same import, is no
// leaver's: the directory is judged as it stood before the import.
// Before, verify passed each.
func TestVerifyNamesALeaversOtherWrites(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, c, _, _ := afterFactFixture(t, eng)
		markRitaLeft(t, f)
		st := f.Store
		p, err := audit.ParsePolicy([]byte("version: 1\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetPolicy(ctx, "rita", p); !errors.Is(err, audit.ErrActorLeft) {
			t.Errorf("a leaver's policy through nhi: %v; want refused", err)
		}
		sam := audit.Person{Email: "sam@acme.test", Status: audit.PersonActive, Aliases: []string{"sam", "samuel"}}
		if _, err := st.SetPeople(ctx, "rita", audit.PeopleImport{People: []audit.Person{sam}}, false); !errors.Is(err, audit.ErrActorLeft) {
			t.Errorf("a leaver's people import through nhi: %v; want refused", err)
		}
		if _, err := campaigns.Create(ctx, st, "rita", campaigns.Spec{Name: "later", Scope: "kind:github_deploy_key", Due: "2026-12-31", Reviewers: []string{"sam"}}); !errors.Is(err, audit.ErrActorLeft) {
			t.Errorf("a leaver's campaign through nhi: %v; want refused", err)
		}
		// Lead's import marks lead left, and changes others after it.
		if _, err := st.SetPeople(ctx, "lead", audit.PeopleImport{People: []audit.Person{
			{Email: "lead@acme.test", Status: audit.PersonLeft, LeftAt: "2026-10-01", Aliases: []string{"Lead"}}, sam,
			{Email: "uma@acme.test", Status: audit.PersonActive, Aliases: []string{"uma"}},
		}}, false); err != nil {
			t.Fatal(err)
		}
		around := func(typ string, payload any) int64 {
			t.Helper()
			var seq int64
			if err := st.Write(ctx, func(tx *audit.Tx) error {
				ev, err := tx.Append(ctx, "rita", typ, payload)
				seq = ev.Seq
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return seq
		}
		item := c.Items[0].ID
		policy := around(audit.EventPolicySet, audit.PolicySet{Digest: "sha256:0123", Policy: p})
		created := around(campaigns.EventCreate, campaigns.CreatePayload{Name: "sneaky"})
		escalated := around(campaigns.EventEscalate, campaigns.EscalatePayload{Campaign: "q", Items: []string{item}})
		offboard := around(campaigns.EventOffboard, campaigns.OffboardPayload{Campaign: "off", Person: "tess@acme.test"})
		// Last: a leaver who makes herself active again around nhi is
		// named for it, and the directory then reads her active.
		person := around(audit.EventPersonSet, audit.PersonSet{Person: audit.Person{Email: "rita@acme.test", Status: audit.PersonActive, Aliases: []string{"rita"}}})
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		const tail = ", and its actor is rita@acme.test left on 2026-09-30 according to the directory of people then: nhi refuses a leaver's "
		for _, want := range []string{
			fmt.Sprintf("event %d (policy.set by rita) sets the policy in force (sha256:0123)"+tail+"policy, so it was written around nhi, and no one who could still act set it", policy),
			fmt.Sprintf("event %d (campaign.create by rita) creates campaign sneaky"+tail+"campaign, so it was written around nhi, and no one who could still act created it", created),
			fmt.Sprintf("event %d (decision.escalate by rita) escalates 1 item in campaign q"+tail+"escalation, so it was written around nhi, and no one who could still act made it", escalated),
			fmt.Sprintf("event %d (offboard.create by rita) starts offboarding campaign off for tess@acme.test"+tail+"offboarding, so it was written around nhi, and no one who could still act started it", offboard),
			fmt.Sprintf("event %d (person.set by rita) sets the directory's record of rita@acme.test"+tail+"change to the directory of people, so it was written around nhi, and no one who could still act made it", person),
		} {
			if !slices.Contains(problems, want) {
				t.Errorf("verify does not say\n%q\nit says\n%q", want, problems)
			}
		}
		for _, p := range problems {
			if strings.Contains(p, "by lead") {
				t.Errorf("verify names lead's import, which marked lead left: %q", p)
			}
		}
	})
}

// A snapshot run under a leaver's name is refused when it begins; its
// record, written when it finishes, is judged by the directory as it
// stood when the run began: a run rita began before the directory
// marked her left, finished after, is hers to record; one recorded
// around nhi as begun after is named. Before, verify passed it.
func TestVerifyNamesALeaversSnapshot(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f, _, _, _ := afterFactFixture(t, eng)
		st := f.Store
		f.Clock.Set("2026-10-01T13:00:00Z")
		w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "other", APIURL: "http://127.0.0.1/", ToolVersion: "test", Actor: "rita"})
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Set("2026-10-01T14:00:00Z")
		markRitaLeft(t, f)
		f.Clock.Set("2026-10-01T15:00:00Z")
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "third", APIURL: "http://127.0.0.1/", ToolVersion: "test", Actor: "rita"}); !errors.Is(err, audit.ErrActorLeft) {
			t.Fatalf("a leaver's snapshot through nhi: %v; want refused", err)
		}
		var seq int64
		if err := st.Write(ctx, func(tx *audit.Tx) error {
			ev, err := tx.Append(ctx, "rita", audit.EventSnapshotRecord, audit.SnapshotRecord{Form: 3, Snapshot: 99, Source: "github", Account: "third",
				StartedAt: "2026-10-01T15:30:00Z", FinishedAt: "2026-10-01T15:40:00Z"})
			seq = ev.Seq
			return err
		}); err != nil {
			t.Fatal(err)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprintf("event %d (snapshot.record by rita) records snapshot 99 of github/third, which began at 2026-10-01T15:30:00Z, and its runner is rita@acme.test left on 2026-09-30 according to the directory of people when it began: nhi refuses a snapshot to a leaver's name, so it was written around nhi, and no one who could still act ran it", seq)}
		if fmt.Sprintf("%q", problems) != fmt.Sprintf("%q", want) {
			t.Errorf("verify says\n%q\nwant\n%q", problems, want)
		}
	})
}
