package audit

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheRoundTrip(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		const key = "GET /orgs/acme/hooks?page=1"
		if _, _, ok, err := s.CacheGet(ctx, key); ok || err != nil {
			t.Fatalf("empty cache: ok=%v err=%v", ok, err)
		}
		// An entry is replayed once a finished snapshot's record holds it.
		w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		s.CachePut(ctx, key, `W/"abc"`, []byte("v1"))
		s.CachePut(ctx, key, `W/"def"`, []byte("v2"))
		if _, _, ok, _ := s.CacheGet(ctx, key); ok {
			t.Error("an entry no snapshot recorded was offered")
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		etag, v, ok, err := s.CacheGet(ctx, key)
		if !ok || err != nil || etag != `W/"def"` || string(v) != "v2" {
			t.Errorf("got %q %q %v %v", etag, v, ok, err)
		}
		if r, _ := s.Verify(ctx); !r.OK() {
			t.Errorf("verify: %q", r.Problems)
		}

		// Edited behind nhi's back, it is never replayed, and verify says so.
		tamper(t, s, `UPDATE http_cache SET value = 'v1'`)
		if _, _, ok, _ := s.CacheGet(ctx, key); ok {
			t.Error("an edited cache entry was offered")
		}
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], `request cache: the entry "GET /orgs/acme/hooks?page=1" differs from what snapshot 1 recorded`) {
			t.Errorf("verify after editing the cache: %q", r.Problems)
		}
	})
}

// TestPlantedCacheEntryIsNotVouched: an entry edited behind nhi's back
// and dated after the next run began (here, in 2099) was vouched for by
// the record of whatever snapshot finished next, though that run did not
// store it (a run of another account: only GitHub's use the cache), and
// then replayed on a 304: forged answers, with the ETags kept, read as
// what GitHub said, and verify passed. A run vouches only what it stored
// itself, or, resuming an interrupted run, what was stored since that
// began and not after now.
func TestPlantedCacheEntryIsNotVouched(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		s := openAt(t, where)
		const key = "github/3 acme repo:api"
		w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		s.CachePut(ctx, key, `W/"abc"`, []byte(`{"keys":["a","b"]}`))
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		tamper(t, s, `UPDATE http_cache SET value = '{"keys":["a"]}', stored_at = '2099-01-01T00:00:00Z'`)

		// Another process snapshots another account, storing nothing.
		other := openAt(t, where)
		recordSnapshot(t, other, snapshotSpec{source: "aws", account: "111111111111", apiURL: "https://iam.amazonaws.com/"})
		if _, v, ok, err := openAt(t, where).CacheGet(ctx, key); ok || err != nil {
			t.Errorf("the planted entry is replayed: %q %v", v, err)
		}
		if r, _ := other.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], `request cache: the entry "github/3 acme repo:api" differs from what snapshot 1 recorded`) {
			t.Errorf("verify after planting: %q", r.Problems)
		}

		// A run that resumes an interrupted one still vouches what that
		// stored before it was killed.
		path := filepath.Join(t.TempDir(), "nhi.db")
		killed, _ := Open(ctx, path, OpenOptions{Create: true})
		if _, err := killed.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://x/"}); err != nil {
			t.Fatal(err)
		}
		killed.CachePut(ctx, key, `W/"abc"`, []byte("v1"))
		killed.Close()
		s = openAt(t, path)
		w, err = s.ResumeSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://x/"})
		if err != nil || w == nil {
			t.Fatalf("resume: %v %v", w, err)
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, v, ok, _ := s.CacheGet(ctx, key); !ok || string(v) != "v1" {
			t.Errorf("what the interrupted run stored is not vouched: %q %v", v, ok)
		}
	})
}
