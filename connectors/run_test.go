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
// and the same command resumes it (a resumable source) and finishes it
// whole. A source read in one go says it starts again.
func TestRunLeftBusy(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		c      func(between func()) Connector
		says   string
		resume bool
	}{
		{"resumable", func(b func()) Connector { return &unitsConnector{between: b, resumed: -1} },
			"it keeps the batches it wrote, and running the same command again continues it: reading second: checkpoint second: ", true},
		{"whole", func(b func()) Connector { return &wholeConnector{unitsConnector{between: b, resumed: -1}} },
			"it keeps the batches it wrote, but this source is read in one go: run the same command again: reading second: checkpoint second: ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nhi.db")
			st, err := audit.Open(ctx, path, audit.OpenOptions{Create: true, BusyTimeout: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var release func()
			_, err = Snapshot(ctx, st, tc.c(func() { release = holdWriteLock(t, path) }), "test")
			release()
			if !errors.Is(err, audit.ErrBusy) || !strings.HasPrefix(err.Error(), "snapshot 1 stopped unfinished and is never current; "+tc.says+path+" stayed busy with other writers for ") {
				t.Fatalf("a run that met the file busy says:\n%v", err)
			}

			var status string
			var n int
			if err := st.QueryRow(ctx, `SELECT status, (SELECT count(*) FROM observations WHERE snapshot_id = s.id) FROM snapshots s WHERE id = 1`).Scan(&status, &n); err != nil {
				t.Fatal(err)
			}
			if status != "running" || n != 3 {
				t.Errorf("the snapshot left busy is %s with %d observations, want running with the first unit's 3", status, n)
			}
			if res, err := st.Verify(ctx); err != nil || len(res.Problems) > 0 {
				t.Errorf("verify after the busy run: %v %v", err, res.Problems)
			}

			again := &unitsConnector{resumed: -1}
			var c Connector = again
			if !tc.resume {
				c = &wholeConnector{unitsConnector{resumed: -1}}
			}
			snap, err := Snapshot(ctx, st, c, "test")
			if err != nil {
				t.Fatalf("the same command again: %v", err)
			}
			wantID, wantResumed := int64(2), -1
			if tc.resume {
				wantID, wantResumed = 1, 1
			}
			if snap.ID != wantID || snap.Status != audit.SnapshotComplete || snap.Total() != 6 || again.resumed != wantResumed {
				t.Errorf("the next run finished snapshot %d %s with %d identities, resuming %d units; want snapshot %d complete with 6, resuming %d",
					snap.ID, snap.Status, snap.Total(), again.resumed, wantID, wantResumed)
			}
			if res, err := st.Verify(ctx); err != nil || len(res.Problems) > 0 {
				t.Errorf("verify after the next run: %v %v", err, res.Problems)
			}
		})
	}
}
