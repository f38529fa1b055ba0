package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// reversed is the file read by a database that orders identity IDs
// otherwise than byte by byte (another collation): every ORDER BY
// identity_id comes back descending.
type reversed struct{ db *sql.DB }

func (q reversed) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = strings.ReplaceAll(query, "ORDER BY identity_id", "ORDER BY identity_id DESC")
	return q.db.QueryContext(ctx, strings.ReplaceAll(query, "ORDER BY scope, kind", "ORDER BY scope DESC, kind DESC"), args...)
}

func (q reversed) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.db.QueryRowContext(ctx, query, args...)
}

// The digest verify recomputes from the observations in ID order, a row
// at a time, is the one the snapshot recorded: with scope rows sorting
// among the identities, and when the database gives the rows in another
// order (then it is computed the long way).
func TestSnapshotDigestStreams(t *testing.T) {
	s := openNew(t)
	w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		k := Kinds[i%len(Kinds)]
		if err := w.Record(obs(fmt.Sprintf("repo-%d/%d", i%7, i), k)); err != nil {
			t.Fatal(err)
		}
	}
	// An identity ID that sorts among the scope keys (they begin with a
	// NUL): the scope rows cannot all be hashed ahead of it.
	odd := obs("a", KindGitHubDeployKey)
	odd.ID = "\x00acme/a"
	if err := w.Record(odd); err != nil {
		t.Fatal(err)
	}
	for _, r := range []ScopeRead{{Scope: "acme", Kinds: []Kind{KindGitHubActionsSecret}}, {Scope: "acme/repo-3", Kinds: []Kind{KindGitHubDeployKey}, Children: true}} {
		if err := w.Scope(r); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	scopes, _, err := s.scopeRecords(ctx, snap.ID)
	if err != nil || len(scopes) < 2 {
		t.Fatalf("scopes %v %v", scopes, err)
	}
	for name, q := range map[string]querier{"in ID order": s.db, "in another order": reversed{s.db}} {
		digest, counts, err := snapshotDigest(ctx, q, snap.ID, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if digest != snap.Digest {
			t.Errorf("%s: digest %s, the snapshot recorded %s", name, digest, snap.Digest)
		}
		if fmt.Sprint(counts) != fmt.Sprint(snap.Counts) {
			t.Errorf("%s: counts %v, the snapshot recorded %v", name, counts, snap.Counts)
		}
		// Verify's digest hashes the scope rows as read, ahead of the
		// observations, and falls back to the map when the order is not
		// the digest's.
		digest, counts, err = s.streamDigest(ctx, q, snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		if digest != snap.Digest || fmt.Sprint(counts) != fmt.Sprint(snap.Counts) {
			t.Errorf("%s: verify's digest %s %v, the snapshot recorded %s %v", name, digest, counts, snap.Digest, snap.Counts)
		}
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify: %v %v", r.Problems, err)
	}
}

// Verify's read of the log skips a snapshot record's cache map (only the
// cache's own check reads it) but still names a record whose map would
// not decode, as when it decoded it: stringMapJSON agrees with
// json.Unmarshal into the map's type.
func TestStringMapJSONAgreesWithUnmarshal(t *testing.T) {
	for _, raw := range []string{
		`null`, `{}`, ` { } `, `{"a":"b"}`, `{"a" : "b", "c":null}`, `{"a:":"b:", "x\":":"y"}`,
		`{"a":"\\", "b":"\"c\":5"}`, "{\n\t\"a\":\r\n\"b\"}",
		`{"a":5}`, `{"a":true}`, `{"a":{"b":"c"}}`, `{"a":["b"]}`, `{"a":"b","c":-1}`, `{"a\\":1}`,
		`[]`, `"a"`, `5`, `true`, `["a"]`,
	} {
		var m map[string]string
		want := json.Unmarshal([]byte(raw), &m) == nil
		if got := stringMapJSON([]byte(raw)); got != want {
			t.Errorf("stringMapJSON(%s) = %v, json.Unmarshal says %v", raw, got, want)
		}
	}
	// A record whose cache map does not decode is named by the chain.
	s := openNew(t)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	tamper(t, s, `UPDATE events SET payload = json_set(payload, '$.cache', json('{"k":1}')) WHERE seq = 1`)
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "event log: event 1 (snapshot.record) is not a snapshot record nhi can read"; !slices.Contains(r.Problems, want) {
		t.Errorf("problems %q, want %q among them", r.Problems, want)
	}
}

// Verify reads an entry's stored_at only when the entry differs from its
// record: one a run still unfinished stored is left alone, one edited
// before that run began is named.
func TestVerifyCacheSparesAnUnfinishedRun(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		s.clock = func() time.Time { return at }
		w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"GET /a", "GET /b"} {
			if err := s.CachePut(ctx, k, `"1"`, []byte(k+" 1")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		tamper(t, s, `UPDATE http_cache SET value = 'edited' WHERE key = 'GET /b'`)
		at = at.Add(time.Hour)
		if _, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CachePut(ctx, "GET /a", `"2"`, []byte("GET /a 2")); err != nil {
			t.Fatal(err)
		}
		r, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`request cache: the entry "GET /b" differs from what snapshot 1 recorded: it was edited (nhi will not replay it)`}
		if !slices.Equal(r.Problems, want) {
			t.Errorf("problems %q, want %q", r.Problems, want)
		}
	})
}
