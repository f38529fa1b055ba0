package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestSnapshotLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a, b, c := obs("a", KindGitHubDeployKey), obs("b", KindGitHubWebhook), obs("c", KindGitHubActionsSecret)
		first := snapshot(t, s, nil, nil, a, b, c)
		if first.Status != SnapshotComplete || first.Total() != 3 || first.Counts[KindGitHubWebhook] != 1 {
			t.Fatalf("first snapshot: %+v", first)
		}

		// Same population in another order gives the same digest.
		again := snapshot(t, s, nil, nil, c, b, a)
		if again.Digest != first.Digest {
			t.Errorf("digest depends on order: %s vs %s", again.Digest, first.Digest)
		}

		// A partial snapshot that did not see c, where a gap hides it, does
		// not mark it removed: not checked, and why.
		partial := snapshot(t, s, nil, []Gap{{Endpoint: "GET /orgs/acme/actions/secrets", Status: 403, Reason: "needs admin:org"}}, a, b)
		if partial.Status != SnapshotPartial {
			t.Fatalf("status %s; want partial", partial.Status)
		}
		status := statuses(t, s)
		if status[c.ID] != StatusNotChecked {
			t.Errorf("c after a partial snapshot: %s; want not-checked", status[c.ID])
		}
		if got, err := s.Identity(ctx, c.ID); err != nil || got.StatusReason != "GET /orgs/acme/actions/secrets: needs admin:org" {
			t.Errorf("c's reason: %q, %v", got.StatusReason, err)
		}

		// A failed run changes nothing, even for what it saw.
		changed := a
		changed.Name = "renamed"
		failed := snapshot(t, s, errors.New("network down"), nil, changed)
		if failed.Status != SnapshotFailed || failed.Error != "network down" {
			t.Fatalf("failed snapshot: %+v", failed)
		}
		got, err := s.Identity(ctx, a.ID)
		if err != nil || got.Name != "a" {
			t.Errorf("after a failed run: %+v, %v; want name a", got, err)
		}

		// A complete snapshot without c marks it removed, keeping its history.
		snapshot(t, s, nil, nil, a, b)
		status = statuses(t, s)
		if status[c.ID] != StatusRemoved || status[a.ID] != StatusActive {
			t.Errorf("statuses %v; want c removed, a active", status)
		}
		got, _ = s.Identity(ctx, c.ID)
		if got.FirstSeen.IsZero() || got.SnapshotID != again.ID {
			t.Errorf("removed identity lost its history: %+v", got)
		}

		latest, err := s.LatestSnapshot(ctx)
		if err != nil || latest.ID != failed.ID+1 {
			t.Errorf("latest snapshot %+v, %v", latest, err)
		}
		snaps, _ := s.Snapshots(ctx)
		if len(snaps) != 5 || len(snaps[2].Gaps) != 1 || snaps[2].Gaps[0].Status != 403 {
			t.Errorf("snapshots: %+v", snaps)
		}

		// Fields round-trip exactly.
		got, _ = s.Identity(ctx, a.ID)
		if got.Kind != a.Kind || got.Scope != a.Scope || !got.CreatedAt.Equal(*a.CreatedAt) || got.LastUsedAt != nil ||
			got.Permissions["contents"] != "write" || got.Attributes["added_by"] != "alice" || got.Source != "github" {
			t.Errorf("round trip: %+v", got)
		}

		// Finished snapshots are immutable, even through SQL.
		if _, err := s.db.Exec(`UPDATE observations SET name = 'x'`); err == nil {
			t.Error("observations could be updated")
		}
		if _, err := s.db.Exec(`UPDATE snapshots SET status = 'complete' WHERE id = ?`, failed.ID); err == nil {
			t.Error("a finished snapshot could be updated")
		}
	})
}

func TestInterruptedSnapshotIsNotCurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	s, _ := Open(ctx, path, OpenOptions{Create: true})
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
	for i := range 1200 { // more than two batches reach the file
		w.Record(obs(fmt.Sprint("n", i), KindGitHubDeployKey))
	}
	s.Close() // the process dies without Finish

	s, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, _ := s.Identities(ctx)
	if len(ids) != 1 {
		t.Errorf("%d identities after an interrupted run; want the 1 of the last complete one", len(ids))
	}
	latest, _ := s.LatestSnapshot(ctx)
	if latest == nil || latest.Total() != 1 {
		t.Errorf("latest snapshot %+v; want the complete one", latest)
	}
}

func TestResumeAfterKill(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		path := filepath.Join(t.TempDir(), "nhi.db")
		s, _ := Open(ctx, path, OpenOptions{Create: true})
		w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://x/"})
		w.Record(obs("a", KindGitHubDeployKey))
		w.Principal(Principal{Type: PrincipalMember, Scope: "acme", Login: "alice", Role: "member"})
		w.Gap(Gap{Endpoint: "GET /orgs/acme/hooks", Status: 403, Reason: "needs admin:org_hook"})
		if err := w.Checkpoint("repo:a"); err != nil {
			t.Fatal(err)
		}
		w.Record(obs("b", KindGitHubDeployKey)) // recorded after the last checkpoint, still in memory
		s.Close()                               // killed: no Finish

		s, _ = Open(ctx, path, OpenOptions{})
		defer s.Close()
		if other, _ := s.ResumeSnapshot(ctx, SnapshotInfo{Source: "github", Account: "other", APIURL: "http://x/"}); other != nil {
			t.Error("resumed another account's run")
		}
		if other, _ := s.ResumeSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://elsewhere/"}); other != nil {
			t.Error("resumed a run against another server")
		}
		w, err := s.ResumeSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://x/"})
		if err != nil || w == nil {
			t.Fatalf("resume: %v, %v", w, err)
		}
		if !w.Checkpointed("repo:a") || w.Checkpointed("repo:b") || w.Resumed() != 1 {
			t.Errorf("checkpoints after resume: a=%v b=%v resumed=%d", w.Checkpointed("repo:a"), w.Checkpointed("repo:b"), w.Resumed())
		}
		// The resumed run reads repo b again and a again for good measure.
		for _, o := range []Observation{obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey), obs("c", KindGitHubDeployKey)} {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := w.Finish(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		fresh := openAt(t, eng.new(t))
		whole := snapshot(t, fresh, nil, []Gap{{Endpoint: "GET /orgs/acme/hooks", Status: 403, Reason: "needs admin:org_hook"}},
			obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey), obs("c", KindGitHubDeployKey))
		if snap.Total() != 3 || snap.Digest != whole.Digest || snap.Status != SnapshotPartial || len(snap.Gaps) != 1 {
			t.Errorf("resumed snapshot %+v; want the same as an uninterrupted run %+v", snap, whole)
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Errorf("verify after resume: %+v %v", r, err)
		}
		if again, _ := s.ResumeSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://x/"}); again != nil {
			t.Error("a finished snapshot was offered for resuming")
		}
	})
}
