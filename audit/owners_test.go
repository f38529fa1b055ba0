package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetOwnerAndVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a := obs("a", KindGitHubDeployKey)
		snapshot(t, s, nil, nil, a, obs("b", KindGitHubDeployKey))
		for _, owner := range []string{"alice", "bob", "carol"} {
			if _, err := s.SetOwner(ctx, "auditor@acme.test", a.ID, owner); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.Identity(ctx, a.ID)
		if got.Owner != "carol" {
			t.Errorf("owner %q; want carol", got.Owner)
		}
		r, err := s.Verify(ctx)
		if err != nil || !r.OK() || r.Events != 4 || r.Snapshots != 1 {
			t.Fatalf("verify: %+v, %v", r, err)
		}
		evs, _ := s.Events(ctx)
		if len(evs) != 4 || evs[0].PrevHash != GenesisHash || evs[1].PrevHash != evs[0].Hash || evs[3].Hash != r.Head {
			t.Errorf("chain links: %+v", evs)
		}
		if evs[0].Type != EventSnapshotRecord || evs[0].Actor != "nhi" {
			t.Errorf("event 1: %s by %s; want the snapshot's record", evs[0].Type, evs[0].Actor)
		}
		if evs[1].Actor != "auditor@acme.test" || string(evs[1].Payload) != `{"identity":"github:acme:github_deploy_key:a","owner":"alice"}` {
			t.Errorf("event 2: %s by %s", evs[1].Payload, evs[1].Actor)
		}

		if _, err := s.SetOwner(ctx, "auditor@acme.test", "github:acme:github_deploy_key:nope", "x"); !errors.Is(err, ErrUnknownIdentity) {
			t.Errorf("unknown identity: %v", err)
		}
		if _, err := s.SetOwner(ctx, "", a.ID, "x"); err == nil {
			t.Error("owner set without an actor")
		}
		if r, _ := s.Verify(ctx); r.Events != 4 {
			t.Errorf("refused calls wrote events: %d", r.Events)
		}
	})
}

func TestConcurrentOwnerSetsKeepTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, _ := Open(ctx, path, OpenOptions{Create: true})
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()
	// Separate *Store values are separate connection pools, as two
	// processes would have.
	const writers, each = 4, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			st, err := Open(ctx, path, OpenOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for i := range each {
				if _, err := st.SetOwner(ctx, fmt.Sprint("reviewer", w), IdentityID("github", "acme", KindGitHubDeployKey, "a"), fmt.Sprint("o", i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s, _ = Open(ctx, path, OpenOptions{})
	defer s.Close()
	r, err := s.Verify(ctx)
	if err != nil || !r.OK() || r.Events != writers*each+1 { // and the snapshot's record
		t.Fatalf("verify after concurrent writers: %+v, %v", r, err)
	}
}

func TestResolveActor(t *testing.T) {
	t.Setenv("NHI_REVIEWER", "env@acme.test")
	if got := ResolveActor("flag@acme.test"); got != "flag@acme.test" {
		t.Errorf("flag: %q", got)
	}
	if got := ResolveActor(""); got != "env@acme.test" {
		t.Errorf("env: %q", got)
	}
	t.Setenv("NHI_REVIEWER", "")
	if got := ResolveActor(""); got == "" {
		t.Error("no fallback actor")
	}
}

func TestUndoOwnerSetAndKnownOwners(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		a := obs("a", KindGitHubDeployKey)
		w.Record(a)
		w.Principal(Principal{Type: PrincipalMember, Scope: "acme", Login: "zed", Role: "member"})
		w.Principal(Principal{Type: PrincipalTeam, Scope: "acme/a", Login: "acme/platform", Role: "admin"})
		w.Finish(ctx, nil)
		s.SetOwner(ctx, "auditor", a.ID, "alice")
		second, _ := s.SetOwner(ctx, "auditor", a.ID, "bob")
		undo, err := s.UndoOwnerSet(ctx, "auditor", second.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Identity(ctx, a.ID); got.Owner != "alice" {
			t.Errorf("owner after undo: %q; want alice", got.Owner)
		}
		if !strings.Contains(string(undo.Payload), fmt.Sprintf(`"undoes":%d`, second.Seq)) {
			t.Errorf("undo event does not name what it reverses: %s", undo.Payload)
		}
		if r, _ := s.Verify(ctx); !r.OK() || r.Events != 4 {
			t.Errorf("verify after undo: %+v", r)
		}
		if _, err := s.UndoOwnerSet(ctx, "auditor", 99); err == nil {
			t.Error("undo of a missing event")
		}
		owners, _ := s.KnownOwners(ctx)
		if fmt.Sprint(owners) != "[@acme/platform alice zed]" {
			t.Errorf("known owners %v", owners)
		}
		// A bulk assignment with one unknown identity writes nothing.
		if _, err := s.SetOwners(ctx, "auditor", []OwnerSet{{Identity: a.ID, Owner: "x"}, {Identity: "nope", Owner: "y"}}); !errors.Is(err, ErrUnknownIdentity) {
			t.Errorf("bulk with an unknown identity: %v", err)
		}
		if got, _ := s.Identity(ctx, a.ID); got.Owner != "alice" {
			t.Errorf("a failed bulk assignment changed the owner to %q", got.Owner)
		}
	})
}

func TestRefreshReevaluatesOwnerFindings(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a := obs("a", KindGitHubActionsSecret)
		a.Attributes = nil
		snapshot(t, s, nil, nil, a)
		ids, _ := s.Identities(ctx)
		has := func(id *Identity, rule string) bool {
			for _, f := range id.Findings {
				if f.Rule == rule {
					return true
				}
			}
			return false
		}
		if !has(&ids[0], RuleOrphaned) {
			t.Fatalf("no owner, no orphaned finding: %v", ids[0].Findings)
		}
		s.SetOwner(ctx, "auditor", a.ID, "alice@acme.test")
		if err := s.Refresh(ctx, []*Identity{&ids[0]}); err != nil {
			t.Fatal(err)
		}
		if ids[0].Owner != "alice@acme.test" || has(&ids[0], RuleOrphaned) {
			t.Errorf("after Refresh: owner %q findings %v", ids[0].Owner, ids[0].Findings)
		}
	})
}

// TestUndoOwnerSetRefusesALaterChange: undo never erases a change made
// since (by another process); a later change and its own undo cancel out;
// an undone change is not undone twice.
func TestUndoOwnerSetRefusesALaterChange(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		a, b := obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey)
		w.Record(a)
		w.Record(b)
		w.Finish(ctx, nil)
		x, _ := s.SetOwner(ctx, "ui", a.ID, "x")
		s.SetOwner(ctx, "ui", b.ID, "other identity") // not the same thing: no conflict
		y, _ := s.SetOwner(ctx, "cli", a.ID, "y")
		if ids, err := s.OwnersChangedSince(ctx, x.Seq, y.Seq); err != nil || fmt.Sprint(ids) != fmt.Sprint([]string{b.ID, a.ID}) && fmt.Sprint(ids) != fmt.Sprint([]string{a.ID, b.ID}) {
			t.Errorf("owners changed since event %d: %v %v", x.Seq, ids, err)
		}
		if ids, _ := s.OwnersChangedSince(ctx, y.Seq, y.Seq); len(ids) != 0 {
			t.Errorf("owners changed since the head: %v", ids)
		}
		if ids, _ := s.OwnersChangedSince(ctx, x.Seq, y.Seq-1); fmt.Sprint(ids) != fmt.Sprint([]string{b.ID}) {
			t.Errorf("owners changed after event %d up to %d: %v, want only %s's", x.Seq, y.Seq-1, ids, b.ID)
		}
		_, err := s.UndoOwnerSet(ctx, "ui", x.Seq)
		if !errors.Is(err, ErrOwnerUndo) || !strings.Contains(err.Error(), fmt.Sprintf("changed since, to y by cli at %s (event %d)", y.At.UTC().Format("2006-01-02 15:04 UTC"), y.Seq)) {
			t.Errorf("undo under a later change: %v", err)
		}
		if got, _ := s.Identity(ctx, a.ID); got.Owner != "y" {
			t.Errorf("owner %q after a refused undo, want y", got.Owner)
		}
		// Undo newest first: y's undo cancels y, then x can go.
		if _, err := s.UndoOwnerSet(ctx, "cli", y.Seq); err != nil {
			t.Fatal(err)
		}
		ux, err := s.UndoOwnerSet(ctx, "ui", x.Seq)
		if err != nil {
			t.Fatalf("undo of x after y was undone: %v", err)
		}
		if got, _ := s.Identity(ctx, a.ID); got.Owner != "" {
			t.Errorf("owner %q after both undos, want none", got.Owner)
		}
		if _, err := s.UndoOwnerSet(ctx, "ui", x.Seq); !errors.Is(err, ErrOwnerUndo) || !strings.Contains(err.Error(), fmt.Sprintf("already undone by event %d (by ui at", ux.Seq)) {
			t.Errorf("second undo of the same change: %v", err)
		}
	})
}
