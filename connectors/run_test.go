package connectors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// unitsConnector reads two units of three deploy keys each, checkpointing
// each; between them it calls between (a test takes the file's write lock
// there, as another process would).
type unitsConnector struct {
	between func()
	resumed int // units the run it continues had checkpointed, -1 for none
}

func (c *unitsConnector) Source() string  { return "test" }
func (c *unitsConnector) Account() string { return "acme" }
func (c *unitsConnector) APIURL() string  { return "http://127.0.0.1/" }

func (c *unitsConnector) Resuming(_ int64, units int) { c.resumed = units }

func (c *unitsConnector) Run(_ context.Context, r Recorder) error {
	for _, unit := range []string{"first", "second"} {
		if r.Checkpointed(unit) {
			continue
		}
		for i := range 3 {
			key := fmt.Sprintf("%s-%d", unit, i)
			o := audit.Observation{ID: audit.IdentityID("test", "acme", audit.KindGitHubDeployKey, key), Kind: audit.KindGitHubDeployKey, Name: key, Scope: "acme/" + unit}
			if err := r.Record(o); err != nil {
				return err
			}
		}
		if err := r.Checkpoint(unit); err != nil {
			return fmt.Errorf("reading %s: %w", unit, err)
		}
		if unit == "first" && c.between != nil {
			c.between()
		}
	}
	return nil
}

// wholeConnector is unitsConnector read in one go, as an import is.
type wholeConnector struct{ unitsConnector }

func (wholeConnector) Whole() {}

// holdWriteLock takes the evidence file's write lock on a connection of
// its own, as another process would, until the test releases it.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// A run whose write meets the file busy in the middle stops, says which
// snapshot keeps what it wrote and what the next run does, and leaves it
// unfinished rather than failed: the file verifies, nothing is current,
// and the same command resumes it and finishes it whole.
func TestRunLeftBusy(t *testing.T) {
	ctx := context.Background()
	st, path := openShortBusy(t)
	var release func()
	_, err := Snapshot(ctx, st, &unitsConnector{between: func() { release = holdWriteLock(t, path) }, resumed: -1}, "test")
	release()
	if !errors.Is(err, audit.ErrBusy) || !strings.HasPrefix(err.Error(), "snapshot 1 stopped unfinished and is never current; it keeps the batches it wrote, and running the same command again continues it: reading second: checkpoint second: "+path+" stayed busy with other writers for ") {
		t.Fatalf("a run that met the file busy says:\n%v", err)
	}
	if status, n := snapshotStatus(t, st, 1); status != "running" || n != 3 {
		t.Errorf("the snapshot left busy is %s with %d observations, want running with the first unit's 3", status, n)
	}
	checkVerifies(t, st, "after the busy run")

	again := &unitsConnector{resumed: -1}
	snap, err := Snapshot(ctx, st, again, "test")
	if err != nil {
		t.Fatalf("the same command again: %v", err)
	}
	if snap.ID != 1 || snap.Status != audit.SnapshotComplete || snap.Total() != 6 || again.resumed != 1 {
		t.Errorf("the next run finished snapshot %d %s with %d identities, resuming %d units; want snapshot 1 complete with 6, resuming 1",
			snap.ID, snap.Status, snap.Total(), again.resumed)
	}
	checkVerifies(t, st, "after the next run")
}

// A source read in one go (an import, a certificate scan) that stops is
// never left listed as running, since nothing would continue it: met
// busy, it is closed as failed with the busy error once the file is
// free, or, when the file stays busy through that close too, by the next
// run of the account, which says so and reads everything again;
// interrupted, it is closed as failed at once.
func TestWholeRunStoppedIsClosed(t *testing.T) {
	ctx := context.Background()
	busyErr := func(path string) string {
		return "reading second: checkpoint second: " + path + " stayed busy with other writers for "
	}
	t.Run("freed for its close", func(t *testing.T) {
		st, path := openShortBusy(t)
		var release func()
		var notes []string
		c := &wholeConnector{unitsConnector{between: func() { release = holdWriteLock(t, path) }, resumed: -1}}
		snap, err := Run(ctx, st, c, RunOptions{ToolVersion: "test", Notice: func(n string) {
			notes = append(notes, n)
			// The other process lets go while the run waits to close.
			time.AfterFunc(100*time.Millisecond, release)
		}})
		if !errors.Is(err, audit.ErrBusy) || !strings.HasPrefix(err.Error(), busyErr(path)) {
			t.Errorf("the run that met the file busy returned %v, want the busy error", err)
		}
		want := "the evidence file stayed busy: snapshot 1 stops here and is closed as failed once the file is free (this source is read in one go, so nothing of it is continued)"
		if len(notes) != 1 || notes[0] != want {
			t.Errorf("the user is told %q, want %q", notes, want)
		}
		if snap == nil || snap.Status != audit.SnapshotFailed || !strings.HasPrefix(snap.Error, busyErr(path)) {
			t.Fatalf("the stopped run should return its snapshot failed with the busy error: %+v", snap)
		}
		if status, _ := snapshotStatus(t, st, 1); status != audit.SnapshotFailed {
			t.Errorf("the stopped snapshot is %s in the file, want failed", status)
		}
		checkVerifies(t, st, "after the stopped run")
		next, err := Snapshot(ctx, st, &wholeConnector{unitsConnector{resumed: -1}}, "test")
		if err != nil || next.ID != 2 || next.Status != audit.SnapshotComplete || next.Total() != 6 {
			t.Errorf("the next run: %+v %v, want snapshot 2 complete with 6", next, err)
		}
	})
	t.Run("busy through its close", func(t *testing.T) {
		st, path := openShortBusy(t)
		var release func()
		_, err := Snapshot(ctx, st, &wholeConnector{unitsConnector{between: func() { release = holdWriteLock(t, path) }, resumed: -1}}, "test")
		release()
		if !errors.Is(err, audit.ErrBusy) || !strings.HasPrefix(err.Error(), "snapshot 1 stopped unfinished and is never current, and the file stayed busy for its close too: the next run of test/acme closes it as failed and reads everything again; run the same command again: finishing snapshot: "+path+" stayed busy") {
			t.Errorf("the run whose close met the file busy says:\n%v", err)
		}
		if status, _ := snapshotStatus(t, st, 1); status != audit.SnapshotRunning {
			t.Errorf("the snapshot the file was too busy to close is %s", status)
		}
		var notes []string
		next, err := Run(ctx, st, &wholeConnector{unitsConnector{resumed: -1}}, RunOptions{ToolVersion: "test", Notice: func(n string) { notes = append(notes, n) }})
		if err != nil || next.ID != 2 || next.Status != audit.SnapshotComplete || next.Total() != 6 {
			t.Errorf("the next run: %+v %v, want snapshot 2 complete with 6", next, err)
		}
		// After the note that it took the stopped run's lock over.
		want := "snapshot 1 of test/acme stopped before it finished and is closed as failed; this run reads everything again"
		if len(notes) == 0 || notes[len(notes)-1] != want {
			t.Errorf("the next run tells the user %q, want %q", notes, want)
		}
		snaps, err := st.Snapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			if s.ID == 1 && (s.Status != audit.SnapshotFailed || !strings.Contains(s.Error, "stopped before it finished; a source read in one go is never resumed")) {
				t.Errorf("snapshot 1 after the next run: %s %q, want failed saying why", s.Status, s.Error)
			}
		}
		checkVerifies(t, st, "after the next run")
	})
	t.Run("interrupted", func(t *testing.T) {
		st, _ := openShortBusy(t)
		ctx, cancel := context.WithCancel(ctx)
		snap, err := Snapshot(ctx, st, &wholeConnector{unitsConnector{between: cancel, resumed: -1}}, "test")
		if !errors.Is(err, context.Canceled) || snap == nil || snap.Status != audit.SnapshotFailed {
			t.Errorf("an interrupted run read in one go: %+v %v, want its snapshot failed", snap, err)
		}
		checkVerifies(t, st, "after the interrupted run")
	})
}

// openShortBusy opens a new evidence file whose writes wait 20 ms for
// the write lock (five tries), for a test that holds it.
func openShortBusy(t *testing.T) (*audit.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: true, BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// snapshotStatus is snapshot id's status and how many observations it has.
func snapshotStatus(t *testing.T, st *audit.Store, id int64) (status string, n int) {
	t.Helper()
	if err := st.QueryRow(context.Background(), `SELECT status, (SELECT count(*) FROM observations WHERE snapshot_id = s.id) FROM snapshots s WHERE id = ?`, id).Scan(&status, &n); err != nil {
		t.Fatal(err)
	}
	return status, n
}

// checkVerifies fails unless nhi verify finds nothing wrong with the file.
func checkVerifies(t *testing.T, st *audit.Store, when string) {
	t.Helper()
	if res, err := st.Verify(context.Background()); err != nil || len(res.Problems) > 0 {
		t.Errorf("verify %s: %v %v", when, err, res.Problems)
	}
}

// TestRunRecordsWhatItsCheckCached: a run into a new evidence file checks
// the account before the file exists, and what that check cached is
// written once the file does, before Run (cmd/nhi). The snapshot's record
// must vouch for those entries however far the clock moved before Run, or
// the next run cannot replay them and asks again: when the write and
// Run's start fell in different seconds, it did.
func TestRunRecordsWhatItsCheckCached(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 900_000_000, time.UTC)
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	began := st.Now()
	if err := st.CachePut(ctx, "test/acme check", "v1", []byte(`{"login":"octo"}`)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(200 * time.Millisecond) // Run starts in the next second
	snap, err := Run(ctx, st, &unitsConnector{}, RunOptions{ToolVersion: "test", StartedAt: began})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotComplete {
		t.Fatalf("snapshot %s, want complete", snap.Status)
	}
	if _, v, ok, err := st.CacheGet(ctx, "test/acme check"); err != nil || !ok || string(v) != `{"login":"octo"}` {
		t.Errorf("the check's cache entry after the run: %q, ok %v, %v; want it replayable", v, ok, err)
	}
	checkVerifies(t, st, "after the run")
}
