// Package campaignstest holds what the tests of campaigns,
// campaigns/report, cmd/nhi and the connectors' campaign checks share: a
// real evidence file in a test's temporary folder whose store reads a
// clock the test moves by hand, the steps that put snapshots into it, and
// the reading of a verification's one result.
package campaignstest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// Clock is a store clock a test sets by hand. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock at the RFC 3339 time at.
func NewClock(at string) *Clock { return &Clock{t: Time(at)} }

// Now is the time the clock was last set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to the RFC 3339 time at.
func (c *Clock) Set(at string) {
	t := Time(at)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Time parses an RFC 3339 time a test wrote; a typo panics.
func Time(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TimeP is Time as a pointer, for the optional times of an observation.
func TimeP(s string) *time.Time { t := Time(s); return &t }

// Evidence is an open evidence file and the clock its store reads.
type Evidence struct {
	Store *audit.Store
	Path  string
	Clock *Clock
	// Source is what Snapshot records as the snapshot's origin.
	Source audit.SnapshotInfo
	// Takes is how far Snapshot moves the clock between the start and the
	// end of a snapshot.
	Takes time.Duration
	// Reach, when set, is what Snapshot records the run reached, as a
	// connector would (connectors.Reacher).
	Reach *audit.Reach
	// Principals, when set, are recorded with every snapshot: who had
	// which access, as a connector reads it.
	Principals []audit.Principal
	// Scopes, when set, are recorded with every snapshot: what the run
	// read in full, as the GitHub connector says it (the organisation's
	// every repository, a repository's kinds it could list).
	Scopes []audit.ScopeRead
}

// New creates an evidence file in t's temporary folder, its clock at the
// RFC 3339 time start. It is closed when t ends.
func New(t testing.TB, start string) *Evidence {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "nhi.db"), NewClock(start), true)
}

// Open opens the evidence file at path, creating it when create is set,
// its clock at the time now: for a test that also runs nhi's commands on
// the file, which read the real time. It is closed when t ends; close it
// sooner (Store.Close) to leave the file to a command as a finished run
// leaves it.
func Open(t testing.TB, path string, create bool) *Evidence {
	t.Helper()
	return open(t, path, &Clock{t: time.Now()}, create)
}

// Engine is a database the evidence lives in: tests run on each
// (docs/team.md).
type Engine string

// The engines: an SQLite evidence file, and a fresh database on the test
// binary's PostgreSQL server (internal/pgtest; the test binary's
// TestMain calls pgtest.Main).
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Engines runs f once per engine, as subtests "sqlite" and "postgres";
// under -short the PostgreSQL one skips, saying why.
func Engines(t *testing.T, f func(t *testing.T, eng Engine)) {
	t.Helper()
	for _, eng := range []Engine{SQLite, Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			if eng == Postgres {
				pgtest.Shared(t)
			}
			f(t, eng)
		})
	}
}

// NewOn is New on engine eng.
func NewOn(t testing.TB, eng Engine, start string) *Evidence {
	t.Helper()
	if eng == Postgres {
		return open(t, pgtest.URL(t), NewClock(start), true)
	}
	return New(t, start)
}

func open(t testing.TB, path string, c *Clock, create bool) *Evidence {
	t.Helper()
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: create, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Evidence{Store: st, Path: path, Clock: c,
		Source: audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"}}
}

// Copy opens a copy of the file, with a clock of its own at the same time,
// for a test to edit without touching e.
func (e *Evidence) Copy(t testing.TB) *Evidence {
	t.Helper()
	e.Exec(t, `PRAGMA wal_checkpoint(TRUNCATE)`)
	b, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nhi.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Clock{t: e.Clock.Now()}
	cp := open(t, path, c, false)
	cp.Source, cp.Takes, cp.Reach, cp.Scopes = e.Source, e.Takes, e.Reach, e.Scopes
	return cp
}

// Raw opens the file behind nhi's back, as someone with the sqlite3 shell.
func (e *Evidence) Raw(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", e.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Exec runs q on the file behind nhi's back. On PostgreSQL it runs in a
// write transaction of the store, as its owner (triggers still apply).
func (e *Evidence) Exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if audit.IsPostgresURL(e.Path) {
		ctx := context.Background()
		if err := e.Store.Write(ctx, func(tx *audit.Tx) error { _, err := tx.Exec(ctx, q, args...); return err }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return
	}
	if _, err := e.Raw(t).Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Snapshot records obs and gaps as one finished snapshot from e.Source,
// with e.Scopes, e.Principals and e.Reach, starting at the clock's time
// and ending e.Takes later.
func (e *Evidence) Snapshot(t testing.TB, gaps []audit.Gap, obs ...audit.Observation) *audit.Snapshot {
	t.Helper()
	ctx := context.Background()
	w, err := e.Store.BeginSnapshot(ctx, e.Source)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gaps {
		if err := w.Gap(g); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range e.Scopes {
		if err := w.Scope(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range e.Principals {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	if e.Reach != nil {
		if err := w.SetReach(ctx, *e.Reach); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Add(e.Takes)
	snap, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// OnlyRemediation is the one result of verifying a campaign over one
// source/account, from what campaigns.VerifyRemediation returned.
func OnlyRemediation(rs []campaigns.Remediation, err error) (*campaigns.Remediation, error) {
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%d remediation results, want one per source: %+v", len(rs), rs)
	}
	return &rs[0], nil
}
