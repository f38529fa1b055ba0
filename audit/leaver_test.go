package audit

import (
	"errors"
	"strings"
	"testing"
)

// A person whose session is open — a TUI kept open — when the directory
// marks them left is refused their next note and owner change (a set, a
// batch, an undo), saying who they act as, when they left and that
// nothing was written, and nothing is in the log in their name: the
// directory is read in the write's own transaction (docs/people.md).
func TestLeaverMidSessionWritesNoNoteOwnerOrSnapshot(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		admin := openAt(t, where)
		a := obs("a", KindGitHubDeployKey)
		snapshot(t, admin, nil, nil, a)
		rita := Person{Email: "rita@acme.test", Aliases: []string{"rita"}}
		if _, err := admin.SetPeople(ctx, "admin", PeopleImport{People: []Person{rita}}, false); err != nil {
			t.Fatal(err)
		}
		st := openAt(t, where) // her session, opened while she is active
		if _, err := st.AddNotes(ctx, "rita", []string{a.ID}, "asked platform"); err != nil {
			t.Fatal(err)
		}
		set, err := st.SetOwner(ctx, "rita", a.ID, "@acme/platform")
		if err != nil {
			t.Fatal(err)
		}

		rita.Status, rita.LeftAt = PersonLeft, "2026-09-30"
		if _, err := admin.SetPeople(ctx, "admin", PeopleImport{People: []Person{rita}}, false); err != nil {
			t.Fatal(err)
		}
		ritas := func() (n int) {
			t.Helper()
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM events WHERE actor IN ('rita', 'rita@acme.test')`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := ritas()
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, ErrActorLeft) {
				t.Errorf("%s after the directory marked her left: %v; want ErrActorLeft", what, err)
				return
			}
			for _, want := range []string{`acting as "rita"`, "rita@acme.test left on 2026-09-30", "nothing was written"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %q does not say %q", what, err, want)
				}
			}
		}
		_, err = st.AddNotes(ctx, "rita", []string{a.ID}, "still mine")
		refused("a note", err)
		_, err = st.SetOwner(ctx, "rita", a.ID, "rita")
		refused("an owner", err)
		_, err = st.SetOwners(ctx, "rita", []OwnerSet{{Identity: a.ID, Owner: "bob"}})
		refused("owners in a batch", err)
		_, err = st.UndoOwnerSet(ctx, "rita", set.Seq)
		refused("an undo of her owner change", err)
		if n := ritas(); n != before {
			t.Errorf("the refused writes of a leaver put %d events in her name", n-before)
		}
		if owner, err := st.Owner(ctx, a.ID); err != nil || owner != "@acme/platform" {
			t.Errorf("owner after the refusals: %q %v; want @acme/platform, as she set it", owner, err)
		}
		// Someone still here writes as before.
		if _, err := st.AddNotes(ctx, "bob", []string{a.ID}, "taking over"); err != nil {
			t.Errorf("a note by someone who has not left: %v", err)
		}
		// Nor does she record a snapshot: refused before anything is
		// read, no snapshot begun.
		var snaps int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM snapshots`).Scan(&snaps); err != nil {
			t.Fatal(err)
		}
		_, err = st.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test", Actor: "rita"})
		refused("a snapshot", err)
		var after int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM snapshots`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after != snaps {
			t.Errorf("a leaver's refused snapshot left %d snapshot rows", after-snaps)
		}
		if _, err := st.StartSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test", Actor: "bob"}); err != nil {
			t.Errorf("a snapshot by someone who has not left: %v", err)
		}
	})
}
