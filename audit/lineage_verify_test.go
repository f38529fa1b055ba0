package audit

import (
	"errors"
	"strings"
	"testing"
)

// renamed is a deploy key of repository 42 under name, with its lineage.
func renamed(name string) Observation {
	o := obs(name+"/7", KindGitHubDeployKey)
	o.Attributes = map[string]string{LineageAttribute: "repository:42/github_deploy_key/7"}
	return o
}

// TestVerifyCoversRenames: the renames a snapshot linked are in its
// record, so deleting, editing or adding an identity_aliases row (which
// decides whether a renamed repository's key was "removed") fails nhi
// verify, naming the snapshot.
func TestVerifyCoversRenames(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		for _, c := range []struct{ name, stmt, want string }{
			{"alias deleted", `DELETE FROM identity_aliases`, "snapshot 2: the renames it linked (identity_aliases: an old ID that continues under a new one) are 0 rows that differ from the 1 its record holds"},
			{"alias redirected", `UPDATE identity_aliases SET current = 'github:acme:github_deploy_key:elsewhere/7'`, "snapshot 2: the renames it linked"},
			{"alias added to a finished snapshot", `INSERT INTO identity_aliases (id, current, snapshot_id) VALUES ('github:acme:github_deploy_key:gone/1', 'github:acme:github_deploy_key:new/7', 2)`, "are 2 rows that differ from the 1 its record holds"},
			{"alias added for no snapshot", `INSERT INTO identity_aliases (id, current, snapshot_id) VALUES ('github:acme:github_deploy_key:gone/1', 'github:acme:github_deploy_key:new/7', 99)`, "renames: 1 identity_aliases rows name snapshot 99, which did not finish linking them (it does not exist)"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := openAt(t, eng.new(t))
				snapshot(t, s, nil, nil, renamed("old"))
				snapshot(t, s, nil, nil, renamed("new"))
				if a, _ := s.Aliases(ctx); a[renamed("old").ID] != renamed("new").ID {
					t.Fatalf("the rename was not linked: %v", a)
				}
				if r, err := s.Verify(ctx); err != nil || !r.OK() {
					t.Fatalf("before tampering: %q %v", r.Problems, err)
				}
				tamper(t, s, c.stmt)
				r, err := s.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), c.want) {
					t.Errorf("problems %q; want one naming %q", r.Problems, c.want)
				}
			})
		}
	})
}

// TestWritesAfterTakeOverRefused: once another run took the account's
// snapshot lock, the old writer may not record what it read (a scope row
// turns "not checked" into "removed") nor what answered it.
func TestWritesAfterTakeOverRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		w, err := s.StartSnapshot(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Scope(ScopeRead{Scope: "acme/api", Kinds: []Kind{KindGitHubDeployKey}}); err != nil {
			t.Fatal(err)
		}
		tamper(t, s, `UPDATE meta SET value = json_set(value, '$.token', 'another run') WHERE key = 'snapshot.lock github/acme'`)
		if err := w.Scope(ScopeRead{Scope: "acme/web", Kinds: []Kind{KindGitHubDeployKey}}); !errors.Is(err, ErrLockLost) {
			t.Errorf("Scope after the lock was taken: %v", err)
		}
		if err := w.SetServer(ctx, "3.19.0", []string{"a note"}); !errors.Is(err, ErrLockLost) {
			t.Errorf("SetServer after the lock was taken: %v", err)
		}
		var scopes int
		var version string
		if err := s.db.QueryRow(`SELECT count(*) FROM snapshot_scopes`).Scan(&scopes); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow(`SELECT server_version FROM snapshots`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if scopes != 1 || version != "" {
			t.Errorf("after the take-over the file holds %d scope rows (want 1) and server version %q (want none)", scopes, version)
		}
	})
}
