package audit

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var acme = SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://a.test/", Credential: "nhi-auditor (classic token)", ToolVersion: "test"}

func TestSnapshotLockRefusesASecondRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	a, _ := Open(ctx, path, OpenOptions{Create: true})
	defer a.Close()
	b, _ := Open(ctx, path, OpenOptions{})
	defer b.Close()

	w, err := a.StartSnapshot(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.StartSnapshot(ctx, acme)
	var held *SnapshotRunningError
	if !errors.As(err, &held) || !errors.Is(err, ErrSnapshotRunning) || held.Host != hostname() {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(err.Error(), "a snapshot of github/acme is already running (pid ") || !strings.Contains(err.Error(), "--wait") {
		t.Errorf("message: %v", err)
	}
	// Another account is not held.
	other := acme
	other.Account = "globex"
	wo, err := b.StartSnapshot(ctx, other)
	if err != nil {
		t.Fatalf("another account: %v", err)
	}
	wo.Finish(ctx, nil)

	w.Record(obs("a", KindGitHubDeployKey))
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	w2, err := b.StartSnapshot(ctx, acme)
	if err != nil || w2.Continues() {
		t.Fatalf("after the first finished: %v", err)
	}
	w2.Finish(ctx, nil)
	if r, _ := b.Verify(ctx); !r.OK() {
		t.Errorf("verify: %q", r.Problems)
	}
}

func TestSnapshotLockTakenOverFromAStaleRun(t *testing.T) {
	for name, lock := range map[string]string{
		// A process on another host whose heartbeat stopped two minutes ago.
		"stale heartbeat": `{"pid":1,"host":"elsewhere","started":"2026-01-01T00:00:00Z","heartbeat":"` + time.Now().UTC().Add(-2*time.Minute).Format(TimeLayout) + `","token":"x"}`,
		// A process on this host that is gone (PIDs are below 2^22).
		"dead process": `{"pid":99999999,"host":"` + hostname() + `","started":"2026-01-01T00:00:00Z","heartbeat":"` + time.Now().UTC().Format(TimeLayout) + `","token":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := openNew(t)
			w, err := s.StartSnapshot(ctx, acme)
			if err != nil {
				t.Fatal(err)
			}
			w.Record(obs("a", KindGitHubDeployKey))
			if err := w.Checkpoint("repo:a"); err != nil {
				t.Fatal(err)
			}
			tamper(t, s, `UPDATE meta SET value = '`+lock+`' WHERE key = 'snapshot.lock github/acme'`)
			// The old writer, were it alive, may not write any more.
			if err := w.Checkpoint("repo:b"); !errors.Is(err, ErrLockLost) {
				t.Errorf("a writer whose lock was taken: %v", err)
			}
			w2, err := s.StartSnapshot(ctx, acme)
			if err != nil {
				t.Fatalf("take-over: %v", err)
			}
			if !w2.Continues() || !w2.Checkpointed("repo:a") || !strings.Contains(strings.Join(w2.StartNotes(), "\n"), "took over from pid") {
				t.Errorf("take-over did not resume: continues=%v notes=%q", w2.Continues(), w2.StartNotes())
			}
			if _, err := w2.Finish(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Finish(ctx, nil); !errors.Is(err, ErrLockLost) {
				t.Errorf("the old writer finished: %v", err)
			}
			if r, _ := s.Verify(ctx); !r.OK() {
				t.Errorf("verify: %q", r.Problems)
			}
		})
	}
}

// TestResumeOnlyTheSameRun: an interrupted run against server A is not
// continued by a run against server B or with another credential; it is
// closed as failed, saying why, and B gets a snapshot of its own.
func TestResumeOnlyTheSameRun(t *testing.T) {
	for name, change := range map[string]func(*SnapshotInfo){
		"other server":     func(i *SnapshotInfo) { i.APIURL = "http://b.test/" },
		"other credential": func(i *SnapshotInfo) { i.Credential = "mallory (classic token)" },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nhi.db")
			s, _ := Open(ctx, path, OpenOptions{Create: true})
			w, _ := s.StartSnapshot(ctx, acme)
			w.Record(obs("from-a", KindGitHubDeployKey))
			w.Checkpoint("repo:from-a")
			s.Close() // killed

			s, _ = Open(ctx, path, OpenOptions{})
			defer s.Close()
			info := acme
			change(&info)
			w, err := s.StartSnapshot(ctx, info)
			if err != nil {
				t.Fatal(err)
			}
			if w.Continues() || w.ID() != 2 || !strings.Contains(strings.Join(w.StartNotes(), "\n"), "not resuming snapshot 1: ") {
				t.Fatalf("continues=%v id=%d notes=%q", w.Continues(), w.ID(), w.StartNotes())
			}
			w.Record(obs("from-b", KindGitHubDeployKey))
			snap, err := w.Finish(ctx, nil)
			if err != nil || snap.Total() != 1 {
				t.Fatalf("%+v %v", snap, err)
			}
			list, _ := s.Snapshots(ctx)
			if len(list) != 2 || list[0].Status != SnapshotFailed && list[1].Status != SnapshotFailed {
				t.Errorf("snapshots: %+v", list)
			}
			ids, _ := s.Identities(ctx)
			for _, i := range ids {
				if strings.HasSuffix(i.ID, "from-a") {
					t.Errorf("A's identity %s is in B's population", i.ID)
				}
			}
			if r, _ := s.Verify(ctx); !r.OK() {
				t.Errorf("verify: %q", r.Problems)
			}
		})
	}
}
