package audit

import (
	"errors"
	"fmt"
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

// Verify hashes the complete and partial snapshots' observations as the
// identities' check reads them (sharesDigests), rather than reading them
// again for their digests: every row counts, whichever snapshot holds it
// and wherever it falls in the merge (a snapshot's first row is read
// before the merge begins, its last as its cursor ends). Here each row in
// turn is edited in a column only the digest covers, and verify must name
// its snapshot and nothing else, on both engines and both ways of reading
// on SQLite. Snapshot 4 failed (its digest is computed apart) and 5's rows
// are, on SQLite, not in the digest's order (an ID among its scope keys:
// computed the long way).
func TestDigestsBesideIdentitiesCoverEveryRow(t *testing.T) {
	build := func(t *testing.T, eng testEngine) *Store {
		s := openAt(t, eng.new(t))
		acme := func(ids ...string) []Observation {
			var out []Observation
			for _, id := range ids {
				out = append(out, obs(id, KindGitHubDeployKey))
			}
			return out
		}
		reads := []ScopeRead{{Scope: "acme", Kinds: []Kind{KindGitHubActionsSecret}}, {Scope: "acme/repo-3", Kinds: []Kind{KindGitHubDeployKey}, Children: true}}
		recordSnapshot(t, s, snapshotSpec{reads: reads}, acme("a", "b", "c", "d")...)
		beta := func(id string) Observation {
			o := obs(id, KindGitHubDeployKey)
			o.ID = IdentityID("github", "beta", KindGitHubDeployKey, id)
			return o
		}
		recordSnapshot(t, s, snapshotSpec{source: "github", account: "beta", apiURL: "http://127.0.0.1/"}, beta("e"), beta("f"))
		recordSnapshot(t, s, snapshotSpec{reads: reads[1:], gaps: []Gap{{Endpoint: "GET /orgs/acme/hooks", Status: 403, Reason: "needs admin:org_hook"}}}, acme("a", "c", "g")...)
		recordSnapshot(t, s, snapshotSpec{runErr: errors.New("the run was cut short")}, acme("h")...)
		five := acme("a", "i")
		if eng.name == "sqlite" { // PostgreSQL's texts hold no NUL
			odd := obs("a", KindGitHubDeployKey)
			odd.ID = "\x00acme/a"
			five = append(five, odd)
		}
		recordSnapshot(t, s, snapshotSpec{reads: reads}, five...)
		return s
	}
	check := func(t *testing.T, s *Store, shared bool) {
		t.Helper()
		snaps, err := s.digestedSnaps(ctx)
		if err != nil || len(snaps) != 5 {
			t.Fatalf("snapshots %v %v", snaps, err)
		}
		if s.sharesDigests(snaps) != shared {
			t.Fatalf("sharesDigests %v, want %v", !shared, shared)
		}
		if shared {
			// The identities' read computes the digests of 1, 2 and 3,
			// those the snapshots recorded, and not 5's.
			finished, err := s.finishedInOrder(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			o, err := s.observedInIDOrder(ctx, s.db, finished)
			if err != nil {
				t.Fatal(err)
			}
			for {
				ok, err := o.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
			}
			got := map[int64]string{}
			for id, d := range o.digests {
				got[id] = d.digest
			}
			want := map[int64]string{}
			for _, sn := range snaps[:3] {
				want[sn.id] = sn.digest
			}
			if !maps.Equal(got, want) {
				t.Errorf("digests beside the identities %v, want %v", got, want)
			}
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Snapshots != 5 {
			t.Fatalf("untampered: %+v %v", r, err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT snapshot_id, identity_id FROM observations ORDER BY snapshot_id, identity_id`)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			snapshot int64
			id       string
		}
		var all []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.snapshot, &x.id); err != nil {
				t.Fatal(err)
			}
			all = append(all, x)
		}
		if err := rows.Err(); err != nil || len(all) < 12 {
			t.Fatalf("%d observations, %v", len(all), err)
		}
		for _, x := range all {
			where := fmt.Sprintf(` WHERE snapshot_id = %d AND identity_id = '%s'`, x.snapshot, x.id)
			if s.engine != enginePostgres { // the ID may hold a NUL
				where = fmt.Sprintf(` WHERE snapshot_id = %d AND identity_id = CAST(X'%x' AS TEXT)`, x.snapshot, x.id)
			}
			tamper(t, s, `UPDATE observations SET name = name || '!'`+where)
			r, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{fmt.Sprintf("snapshot %d: its observations no longer match its digest (which covers what it read, too): the snapshot was edited", x.snapshot)}
			if !slices.Equal(r.Problems, want) {
				t.Errorf("%q of snapshot %d edited: problems %q, want %q", x.id, x.snapshot, r.Problems, want)
			}
			tamper(t, s, `UPDATE observations SET name = substr(name, 1, length(name) - 1)`+where)
		}
	}
	eachEngine(t, func(t *testing.T, eng testEngine) {
		if eng.name != "sqlite" {
			check(t, build(t, eng), false)
			return
		}
		t.Run("cursor per snapshot", func(t *testing.T) { check(t, build(t, eng), true) })
		t.Run("one sorted query", func(t *testing.T) {
			defer func(n int) { maxObservationCursors = n }(maxObservationCursors)
			maxObservationCursors = 2
			check(t, build(t, eng), false)
		})
	})
}

// On SQLite verify reads an observation's and an identity's columns
// packed into one text (recordColumnsPacked, and the identities' read),
// the four times' NULLs in a number of their own: an edit of any one
// column is named, a NULL time made empty or an empty one NULL among
// them, and so is one that puts the packing's separator into a text; a
// row whose texts hold the separator verifies, read again column by
// column.
func TestPackedReadsNameAnEditOfEachColumn(t *testing.T) {
	eng := testEngine{"sqlite"}
	b := IdentityID("github", "acme", KindGitHubDeployKey, "b") // in snapshot 1 only
	digest := "snapshot 1: its observations no longer match its digest"
	edited := "identities: 1 rows differ from what the snapshots' observations imply (rows were edited): " + b
	for _, tc := range []struct{ table, set, says string }{
		{"observations", "kind = 'github_actions_secret'", digest},
		{"observations", "name = name || '!'", digest},
		{"observations", "name = name || char(31)", digest},
		{"observations", "scope = 'acme/x'", digest},
		{"observations", "created_at = NULL", digest},
		{"observations", "created_at = ''", digest},
		{"observations", "last_used_at = ''", digest},
		{"observations", "rotated_at = '2024-06-01T00:00:01Z'", digest},
		{"observations", "expires_at = '2030-01-01T00:00:00Z'", digest},
		{"observations", "permissions = '{}'", digest},
		{"observations", "attributes = attributes || char(31)", digest},
		{"observations", "findings = '[]'", digest},
		{"observations", "material = 'x'", digest},
		{"identities", "kind = 'github_actions_secret'", edited},
		{"identities", "source = 'gitlab'", edited},
		{"identities", "source = source || char(31)", edited},
		{"identities", "account = 'beta'", edited},
		{"identities", "first_snapshot = 2", edited},
		{"identities", "last_snapshot = 3", edited},
		{"identities", "first_seen = '2020-01-01T00:00:00Z'", edited},
		{"identities", "last_seen = '2020-01-01T00:00:00Z'", edited},
	} {
		t.Run(tc.table+" "+tc.set, func(t *testing.T) {
			where := ` WHERE snapshot_id = 1 AND identity_id = '` + b + `'`
			if tc.table == "identities" {
				where = ` WHERE id = '` + b + `'`
			}
			c := identitiesFile(t, eng)
			if r, err := c.Verify(ctx); err != nil || !r.OK() {
				t.Fatalf("untampered: %+v %v", r, err)
			}
			tamper(t, c, `UPDATE `+tc.table+` SET `+tc.set+where)
			r, err := c.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if all := strings.Join(r.Problems, "\n"); !strings.Contains(all, tc.says) {
				t.Errorf("problems do not say %q:\n%s", tc.says, all)
			}
		})
	}
	t.Run("texts holding the separator", func(t *testing.T) {
		s := openAt(t, eng.new(t))
		odd := obs("x\x1fy", KindGitHubDeployKey)
		odd.Attributes = map[string]string{"added_by": "al\x1fice"}
		snapshot(t, s, nil, nil, odd, obs("z", KindGitHubDeployKey))
		if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Snapshots != 1 {
			t.Fatalf("untampered: %+v %v", r, err)
		}
		tamper(t, s, `UPDATE observations SET name = name || '!' WHERE identity_id = '`+odd.ID+`'`)
		r, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if all := strings.Join(r.Problems, "\n"); !strings.Contains(all, digest) {
			t.Errorf("problems do not say %q:\n%s", digest, all)
		}
	})
}
