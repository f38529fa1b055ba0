package audit

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// copyCorpus is a population whose rows differ in every way a column can:
// NULL and set times, empty and odd texts (quotes, backslashes, tabs, a
// line separator, non-ASCII), empty and long maps, findings or none; more
// than one PostgreSQL batch (postgresBatchSize), so full COPY batches and
// a partial last one are written.
func copyCorpus() []Observation {
	odd := []string{"", `"quoted"`, `back\slash`, "tab\there", "line\u2028sep", "Zoë ☃", "new\nline", strings.Repeat("x", 3000)}
	out := make([]Observation, postgresBatchSize*2+345)
	for i := range out {
		k := Kinds[i%len(Kinds)]
		name := fmt.Sprintf("repo-%04d/item-%d%s", i/7, i, odd[i%len(odd)])
		o := Observation{ID: IdentityID("github", "acme", k, name), Kind: k, Name: name, Scope: "acme/" + odd[(i/3)%len(odd)]}
		if i%2 == 0 {
			o.CreatedAt = ts("2024-01-02T03:04:05Z")
		}
		if i%3 == 0 {
			o.LastUsedAt = ts("2026-11-01T00:00:00Z")
		}
		if i%5 == 0 {
			o.RotatedAt = ts("2019-06-01T00:00:00Z") // unrotated, a finding
		}
		if i%11 == 0 {
			o.ExpiresAt = ts("2026-12-10T00:00:00Z") // expiring
		}
		if i%4 != 0 {
			o.Permissions = map[string]string{"contents": "write", "odd": odd[i%len(odd)]}
			o.Attributes = map[string]string{"added_by": odd[(i+1)%len(odd)], "lineage": fmt.Sprintf("repository:%d/k/%d", i/7, i)}
		}
		out[i] = o
	}
	return out
}

// A snapshot goes into PostgreSQL by COPY and into a file by INSERT; the
// rows stored, the snapshot's digest and the record in the log are the
// same on both, byte for byte, and each store verifies.
func TestSnapshotStoredAlikeOnBothEngines(t *testing.T) {
	corpus := copyCorpus()
	type result struct {
		digest string
		rows   map[string][]sql.NullString
	}
	got := map[string]result{}
	eachEngine(t, func(t *testing.T, eng testEngine) {
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		s, err := Open(ctx, eng.new(t), OpenOptions{Create: true, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range corpus {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
			if i == postgresBatchSize+17 { // a checkpoint writes a partial batch in its own transaction
				if err := w.Checkpoint("repo:half"); err != nil {
					t.Fatal(err)
				}
			}
		}
		snap, err := w.Finish(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Total() != len(corpus) {
			t.Fatalf("%d identities recorded, want %d", snap.Total(), len(corpus))
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Fatalf("verify: %v, %v", r.Problems, err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT identity_id, snapshot_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material FROM observations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		stored := map[string][]sql.NullString{}
		for rows.Next() {
			cols := make([]sql.NullString, 13)
			ptrs := make([]any, len(cols))
			for i := range cols {
				ptrs[i] = &cols[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			stored[cols[0].String] = cols[1:]
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(corpus) {
			t.Fatalf("%d observations stored, want %d", len(stored), len(corpus))
		}
		got[eng.name] = result{snap.Digest, stored}
	})
	lite, pg := got["sqlite"], got["postgres"]
	if lite.rows == nil || pg.rows == nil {
		return // one engine did not run (-short)
	}
	if lite.digest != pg.digest {
		t.Errorf("snapshot digests differ: sqlite %s, postgres %s", lite.digest, pg.digest)
	}
	diffs := 0
	for id, want := range lite.rows {
		have, ok := pg.rows[id]
		if !ok {
			t.Errorf("%q: not stored on PostgreSQL", id)
			diffs++
		}
		for i := range want {
			if ok && want[i] != have[i] {
				t.Errorf("%q column %d: sqlite %+v, postgres %+v", id, i+1, want[i], have[i])
				diffs++
			}
		}
		if diffs > 5 {
			t.Fatal("and more")
		}
	}
}

// analyzed is how many times ANALYZE (not autovacuum's) ran on each of
// the tables a snapshot grows, as pg_stat_user_tables tells an operator.
func analyzed(t *testing.T, s *Store) (observations, identities int64) {
	t.Helper()
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'observations' AND schemaname = current_schema()),
		(SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'identities' AND schemaname = current_schema())`).Scan(&observations, &identities)
	if err != nil {
		t.Fatal(err)
	}
	return observations, identities
}

// numbered is n observations whose IDs start with prefix.
func numbered(prefix string, n int) []Observation {
	out := make([]Observation, n)
	for i := range out {
		out[i] = obs(fmt.Sprintf("%s-%05d", prefix, i), Kinds[i%len(Kinds)])
	}
	return out
}

// On PostgreSQL a large snapshot leaves the tables it grew analyzed, so
// the next reads are planned with statistics; a small one does not
// bother. A connector's role, which may not ANALYZE, still records its
// large snapshot.
func TestLargeSnapshotAnalyzedOnPostgres(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, numbered("small", 100)...)
	if o, i := analyzed(t, s); o != 0 || i != 0 {
		t.Fatalf("after 100 observations: observations analyzed %d times, identities %d; want neither", o, i)
	}
	snapshot(t, s, nil, nil, numbered("large", analyzeAfter)...)
	if o, i := analyzed(t, s); o != 1 || i != 1 {
		t.Fatalf("after %d observations: observations analyzed %d times, identities %d; want each once", analyzeAfter, o, i)
	}

	if _, err := s.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	role := "ci_" + pgtest.DatabaseName(where)
	ci := openAt(t, pgtest.LoginRole(t, where, role, RoleConnector))
	info := SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test", Actor: role}
	w, err := ci.BeginSnapshot(ctx, info)
	if err != nil {
		t.Fatalf("the connector beginning a snapshot: %v", err)
	}
	for _, o := range numbered("connector", analyzeAfter) {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := w.Finish(ctx, nil)
	if err != nil || snap.Status != SnapshotComplete || snap.Total() != analyzeAfter {
		t.Fatalf("the connector's large snapshot: %+v, %v", snap, err)
	}
	if o, i := analyzed(t, s); o != 1 || i != 1 {
		t.Errorf("after the connector's snapshot: observations analyzed %d times, identities %d; want still once (it may not)", o, i)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify: %v, %v", r.Problems, err)
	}
}
