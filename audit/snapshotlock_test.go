package audit

import (
	"errors"
	"path/filepath"
	"strconv"
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
	eachEngine(t, func(t *testing.T, eng testEngine) {
		for name, lock := range map[string]string{
			// A process on another host whose heartbeat stopped two minutes ago.
			"stale heartbeat": `{"pid":1,"host":"elsewhere","started":"2026-01-01T00:00:00Z","heartbeat":"` + time.Now().UTC().Add(-2*time.Minute).Format(TimeLayout) + `","token":"x"}`,
			// A process on this host that is gone (PIDs are below 2^22).
			"dead process": `{"pid":99999999,"host":"` + hostname() + `","started":"2026-01-01T00:00:00Z","heartbeat":"` + time.Now().UTC().Format(TimeLayout) + `","token":"x"}`,
		} {
			t.Run(name, func(t *testing.T) {
				s := openAt(t, eng.new(t))
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
	})
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

// TestOldFormSnapshotsStillVerify: a file written before snapshots were
// recorded in the log verifies, saying which snapshots are in the old
// form; snapshots taken from then on get records.
func TestOldFormSnapshotsStillVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
		// What an earlier nhi left: no record event, no head, no marker.
		tamper(t, s, `DELETE FROM events`, `DELETE FROM meta WHERE key IN ('log_head', 'log_length', 'snapshot_records_from')`)
		r, err := s.Verify(ctx)
		if err != nil || !r.OK() || len(r.OldForm) != 1 || r.OldForm[0] != 1 {
			t.Fatalf("old file: %+v %v", r, err)
		}
		snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey))
		r, _ = s.Verify(ctx)
		if !r.OK() || len(r.OldForm) != 1 || len(r.records) != 1 || r.records[2].seq != 1 {
			t.Fatalf("after a new snapshot: %+v", r)
		}
		// The new snapshot cannot be passed off as old by dropping the marker.
		tamper(t, s, `DELETE FROM meta WHERE key = 'snapshot_records_from'`)
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], "the file no longer says from which snapshot on") {
			t.Errorf("marker deleted: %q", r.Problems)
		}
	})
}

// TestAddedSnapshotIsNotOldForm: a snapshot added behind nhi's back
// below the first recorded one, numbered 0, is not one an earlier nhi
// took (it numbered snapshots from 1, as every engine does), so it is not
// passed as the old form. Here it copies snapshot 1, digest and all, from
// 2020, and the identities are made to be first seen then: verify passed
// it, naming it only as "Old form: snapshot 0".
func TestAddedSnapshotIsNotOldForm(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey))
		tamper(t, s,
			`INSERT INTO snapshots (id, source, account, api_url, credential, tool_version, started_at, finished_at, status, error, counts, digest, policy_id, scoped, server_version, notes, reach)
				SELECT 0, source, account, api_url, credential, tool_version, '2020-01-01T00:00:00Z', '2020-01-01T00:10:00Z', status, error, counts, digest, policy_id, scoped, server_version, notes, reach
				FROM snapshots WHERE id = 1`,
			`INSERT INTO observations (snapshot_id, identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material)
				SELECT 0, identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material
				FROM observations WHERE snapshot_id = 1`,
			`INSERT INTO snapshot_scopes (snapshot_id, scope, kind) SELECT 0, scope, kind FROM snapshot_scopes WHERE snapshot_id = 1`,
			`UPDATE identities SET first_snapshot = 0, first_seen = '2020-01-01T00:00:00Z'`)
		r, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() || len(r.OldForm) != 0 || !strings.Contains(r.Problems[0], "snapshot 0: nhi numbers snapshots from 1, and the event log has no record of this one: it was added behind nhi's back") {
			t.Errorf("snapshot 0 added: old form %v, problems %q", r.OldForm, r.Problems)
		}
	})
}

// TestCutTailNamesTheCut: the newest snapshot's record cut off the end
// of the log, meta's head and length set to match, leaves a snapshot
// without a record; verify says its record may have gone with the tail,
// where it said only that the snapshot was set behind nhi's back. An
// older one without a record cannot have lost it so.
func TestCutTailNamesTheCut(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey))
	tamper(t, s, `DELETE FROM events WHERE seq = 2`,
		`UPDATE meta SET value = '1' WHERE key = 'log_length'`,
		`UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 1) WHERE key = 'log_head'`)
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "snapshot 2: it is complete but the event log has no record of it finishing: its status or contents were set behind nhi's back, or the newest events of the log were cut off, its record with them (a head recorded earlier, nhi verify --head, tells which)"
	if len(r.Problems) == 0 || r.Problems[0] != want {
		t.Errorf("tail cut: %q", r.Problems)
	}
	// Snapshot 1's record deleted from the middle, the chain redone: no
	// cut tail explains that.
	s = openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	tamper(t, s, `DELETE FROM events WHERE seq = 1`, `UPDATE events SET seq = 1, prev_hash = '`+GenesisHash+`'`)
	evs, _ := s.Events(ctx)
	h, _ := recordHash(GenesisHash, 1, evs[0].At.Format(eventTimeLayout), evs[0].Actor, evs[0].Type, string(evs[0].Payload))
	tamper(t, s, `UPDATE events SET hash = '`+h+`'`, `UPDATE meta SET value = '1' WHERE key = 'log_length'`, `UPDATE meta SET value = '`+h+`' WHERE key = 'log_head'`)
	r, _ = s.Verify(ctx)
	if want := "snapshot 1: it is complete but the event log has no record of it finishing: its status or contents were set behind nhi's back"; len(r.Problems) == 0 || r.Problems[0] != want {
		t.Errorf("a record deleted before another: %q", r.Problems)
	}
}

func TestParseHead(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for in, want := range map[string]Head{
		"42:" + h:          {42, h},
		h:                  {0, h},
		"  42:" + h + "\n": {42, h},
		`{"format":"nhi-evidence-bundle/1","event_log_head":{"seq":7,"hash":"` + h + `"}}`: {7, h},
		strings.ToUpper(h): {0, h},
	} {
		if got, err := ParseHead(in); err != nil || got != want {
			t.Errorf("ParseHead(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "42", "42:abc", "0:" + h, h + " " + strings.Repeat("cd", 32), `{"files":[]}`} {
		if _, err := ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
}

func TestCheckHeadCatchesAFullRewrite(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		a := obs("a", KindGitHubDeployKey)
		snapshot(t, s, nil, nil, a)
		s.SetOwner(ctx, "lead", a.ID, "alice")
		e, _ := s.LogHead(ctx)
		anchored := Head{Seq: e.Seq, Hash: e.Hash}
		s.SetOwner(ctx, "lead", a.ID, "bob")
		if p, err := s.CheckHead(ctx, anchored); p != "" || err != nil {
			t.Fatalf("intact log: %q %v", p, err)
		}
		// Rewrite event 2 and every hash after it.
		tamper(t, s, `UPDATE events SET payload = replace(payload, 'alice', 'mallory') WHERE seq = 2`)
		evs, _ := s.Events(ctx)
		prev := evs[0].Hash
		for _, ev := range evs[1:] {
			h, _ := recordHash(prev, ev.Seq, ev.At.Format(eventTimeLayout), ev.Actor, ev.Type, string(ev.Payload))
			tamper(t, s, `UPDATE events SET prev_hash = '`+prev+`', hash = '`+h+`' WHERE seq = `+strconv.FormatInt(ev.Seq, 10))
			prev = h
		}
		tamper(t, s, `UPDATE meta SET value = '`+prev+`' WHERE key = 'log_head'`)
		if r, _ := s.Verify(ctx); !r.OK() {
			t.Fatalf("the rewrite is not a full one: %q", r.Problems)
		}
		p, err := s.CheckHead(ctx, anchored)
		if err != nil || !strings.Contains(p, "anchored head: event 2 (owner.set by lead at ") {
			t.Errorf("CheckHead after a full rewrite: %q %v", p, err)
		}
		if p, _ := s.CheckHead(ctx, Head{Hash: anchored.Hash}); !strings.Contains(p, "no event of the log has hash") {
			t.Errorf("by hash alone: %q", p)
		}
		if p, _ := s.CheckHead(ctx, Head{Seq: 99, Hash: anchored.Hash}); !strings.Contains(p, "the log has no event 99") {
			t.Errorf("beyond the log: %q", p)
		}
	})
}

// TestRunOnAnotherHostSaysWhatIsKnown: a run on another host is known by
// its heartbeat alone, so one killed there reads as running until that
// heartbeat is a minute old: what says it runs (Snapshots' RunState, a
// second run's refusal) names its host, pid and start, when it last beat
// and that nhi cannot check it, where it said "running (pid 4242 on host
// build-1, …)" as if it had looked.
func TestRunOnAnotherHostSaysWhatIsKnown(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	w, err := s.StartSnapshot(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Finish(ctx, nil)
	beat := time.Now().UTC().Add(-20 * time.Second)
	tamper(t, s, `UPDATE meta SET value = '{"pid":4242,"host":"build-1","started":"2026-01-01T09:12:00Z","heartbeat":"`+beat.Format(TimeLayout)+`","token":"x"}' WHERE key = 'snapshot.lock github/acme'`)
	says := []string{"pid 4242 on host build-1, started 2026-01-01 09:12 UTC, last heartbeat " + beat.Format("15:04:05 UTC"),
		"nhi cannot check a process on another host: one stopped there shows as running until its last heartbeat is a minute old"}
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.StartSnapshot(ctx, acme)
	for _, got := range []string{snaps[0].RunState(), errText(err)} {
		for _, say := range says {
			if !strings.Contains(got, say) {
				t.Errorf("a run on another host: %q\ndoes not say %q", got, say)
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
