package audit

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// identitiesFile is a file of four snapshots, each identity's first and
// last finished snapshot not the same for all: 1 (acme: a b c d), 2 (beta:
// e f), 3 (acme, partial: a c g) and 4 (acme, failed: h, which therefore
// never became an identity).
func identitiesFile(t *testing.T, eng testEngine) *Store {
	t.Helper()
	s := openAt(t, eng.new(t))
	beta := func(id string) Observation {
		o := obs(id, KindGitHubDeployKey)
		o.ID = IdentityID("github", "beta", KindGitHubDeployKey, id)
		return o
	}
	acme := func(ids ...string) []Observation {
		var out []Observation
		for _, id := range ids {
			out = append(out, obs(id, KindGitHubDeployKey))
		}
		return out
	}
	snapshot(t, s, nil, nil, acme("a", "b", "c", "d")...)
	recordSnapshot(t, s, snapshotSpec{source: "github", account: "beta", apiURL: "http://127.0.0.1/"}, beta("e"), beta("f"))
	snapshot(t, s, nil, []Gap{{Endpoint: "GET /orgs/acme/hooks", Status: 403, Reason: "needs admin:org_hook"}}, acme("a", "c", "g")...)
	snapshot(t, s, errors.New("the run was cut short"), nil, acme("h")...)
	return s
}

// Verify rebuilds the identities table from the finished snapshots and
// names, in one problem each, the rows deleted, added and edited, in
// that order, on both engines.
func TestVerifyIdentitiesDeletedAddedEdited(t *testing.T) {
	id := func(account, key string) string { return IdentityID("github", account, KindGitHubDeployKey, key) }
	copyOfA := func(newID string) string {
		return `INSERT INTO identities SELECT '` + newID + `', kind, source, account, first_snapshot, last_snapshot, first_seen, last_seen FROM identities WHERE id = '` + id("acme", "a") + `'`
	}
	tampered := []string{
		// Deleted: c (observed last by snapshot 3) and f (by 2).
		`DELETE FROM identities WHERE id IN ('` + id("acme", "c") + `', '` + id("beta", "f") + `')`,
		// Added: before every observed ID, after them all, and h, which
		// only the failed snapshot observed.
		copyOfA(id("aaa", "z")), copyOfA(id("zzz", "z")), copyOfA(id("acme", "h")),
		// Edited: a's last snapshot (3), d's kind, e's first sight, g's source.
		`UPDATE identities SET last_snapshot = 1 WHERE id = '` + id("acme", "a") + `'`,
		`UPDATE identities SET kind = 'github_actions_secret' WHERE id = '` + id("acme", "d") + `'`,
		`UPDATE identities SET first_seen = '2020-01-01T00:00:00Z' WHERE id = '` + id("beta", "e") + `'`,
		`UPDATE identities SET source = 'gitlab' WHERE id = '` + id("acme", "g") + `'`,
	}
	want := []string{
		"identities: 2 identities the snapshots observed are missing from the table (rows were deleted): github:acme:github_deploy_key:c (observed by snapshot 3), github:beta:github_deploy_key:f (observed by snapshot 2)",
		"identities: 3 identities in the table were never observed by a finished snapshot (rows were added): github:aaa:github_deploy_key:z, github:acme:github_deploy_key:h, github:zzz:github_deploy_key:z",
		"identities: 4 rows differ from what the snapshots' observations imply (rows were edited): github:acme:github_deploy_key:a, github:acme:github_deploy_key:d, github:acme:github_deploy_key:g, github:beta:github_deploy_key:e",
	}
	// On SQLite, both ways of reading the observations: a cursor per
	// snapshot, and one sorted query past maxObservationCursors.
	ways := func(t *testing.T, eng testEngine, check func(t *testing.T, s *Store)) {
		if eng.name != "sqlite" {
			check(t, identitiesFile(t, eng))
			return
		}
		t.Run("cursor per snapshot", func(t *testing.T) { check(t, identitiesFile(t, eng)) })
		t.Run("one sorted query", func(t *testing.T) {
			defer func(n int) { maxObservationCursors = n }(maxObservationCursors)
			maxObservationCursors = 2
			check(t, identitiesFile(t, eng))
		})
	}
	eachEngine(t, func(t *testing.T, eng testEngine) {
		t.Run("rows deleted, added, edited", func(t *testing.T) {
			ways(t, eng, func(t *testing.T, s *Store) {
				if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Snapshots != 4 {
					t.Fatalf("untampered: %+v %v", r, err)
				}
				tamper(t, s, tampered...)
				r, err := s.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(r.Problems, want) {
					t.Errorf("problems:\n%q\nwant\n%q", r.Problems, want)
				}
			})
		})
		// An identity whose observations disagree on its kind is edited,
		// too (besides the snapshot whose observation was edited).
		t.Run("observations disagree on the kind", func(t *testing.T) {
			ways(t, eng, func(t *testing.T, s *Store) {
				tamper(t, s, `UPDATE observations SET kind = 'github_actions_secret' WHERE snapshot_id = 3 AND identity_id = '`+id("acme", "a")+`'`)
				r, err := s.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				edited := "identities: 1 rows differ from what the snapshots' observations imply (rows were edited): github:acme:github_deploy_key:a"
				if !slices.Contains(r.Problems, edited) {
					t.Errorf("problems %q; want %q among them", r.Problems, edited)
				}
			})
		})
	})
}

// Each identity's first and last snapshot are the lowest and highest
// rank among its observations, whichever order the reads give them in:
// here the ranks run against the snapshots' IDs (3 before 1).
func TestObservedIDsFirstAndLastRank(t *testing.T) {
	type ranks struct{ first, last int }
	want := map[string]ranks{"a": {0, 1}, "b": {1, 1}, "c": {0, 1}, "d": {1, 1}, "g": {0, 0}}
	check := func(t *testing.T, s *Store) {
		o, err := s.observedInIDOrder(ctx, s.db, []finishedSnap{{id: 3}, {id: 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer o.close()
		got := map[string]ranks{}
		for {
			ok, err := o.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			key := strings.TrimPrefix(string(o.id), "github:acme:github_deploy_key:")
			got[key] = ranks{o.first, o.last}
		}
		if !maps.Equal(got, want) {
			t.Errorf("ranks %v, want %v", got, want)
		}
	}
	eachEngine(t, func(t *testing.T, eng testEngine) {
		check(t, identitiesFile(t, eng))
		if eng.name == "sqlite" {
			defer func(n int) { maxObservationCursors = n }(maxObservationCursors)
			maxObservationCursors = 1
			check(t, identitiesFile(t, eng))
		}
	})
}
