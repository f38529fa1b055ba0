package campaigns_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

var ctx = context.Background()

// clock is a store clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = mustTime(s)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time { t := mustTime(s); return &t }

// fixture is an evidence file with a clock at 2026-10-01 noon.
type fixture struct {
	st    *audit.Store
	path  string
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	c := &clock{t: mustTime("2026-10-01T12:00:00Z")}
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(ctx, path, audit.OpenOptions{Create: true, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{st: st, path: path, clock: c}
}

// raw opens the file behind nhi's back, as someone with the sqlite3 shell.
func (f *fixture) raw(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", f.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := f.raw(t).Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// key is a deploy key of repo acme/<repo>, added by addedBy. Its key was
// created in 2024, so it is unrotated; never used, so stale.
func key(repo, n, addedBy string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/"+n), Kind: audit.KindGitHubDeployKey,
		Name: "key-" + n, Scope: "acme/" + repo,
		CreatedAt: tp("2024-01-02T03:04:05Z"), RotatedAt: tp("2024-01-02T03:04:05Z"),
		Permissions: map[string]string{"contents": "read"},
		Attributes:  map[string]string{"added_by": addedBy, "read_only": "true"},
	}
}

// secret is a repository Actions secret rotated recently: no findings.
func secret(repo, name string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, repo+"/"+name), Kind: audit.KindGitHubActionsSecret,
		Name: name, Scope: "acme/" + repo,
		CreatedAt: tp("2026-09-01T00:00:00Z"), RotatedAt: tp("2026-09-01T00:00:00Z"),
	}
}

func (f *fixture) snapshot(t testing.TB, gaps []audit.Gap, obs ...audit.Observation) *audit.Snapshot {
	t.Helper()
	w, err := f.st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
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
	snap, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// population is six deploy keys over three repositories and two secrets.
func population() []audit.Observation {
	return []audit.Observation{
		key("api", "1", "alice"), key("api", "2", "bob"), key("web", "3", "carol"),
		key("web", "4", "alice"), key("ops", "5", "dave"), key("ops", "6", ""),
		secret("api", "NPM_TOKEN"), secret("web", "SENTRY_DSN"),
	}
}

func keyID(repo, n string) string {
	return audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/"+n)
}
