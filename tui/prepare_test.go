package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// sameCachedRows fails unless the cache files a and b hold the same table
// at head: row for row the same identity (rebuilt whole from each file's
// own texts, pairs and findings: the order in which texts were interned
// may differ, as an attribute map's iteration does), and the same names'
// ranking.
func sameCachedRows(t *testing.T, a, b string, head logPoint) {
	t.Helper()
	read := func(path string) *tableCache {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseTableCache(data, head, func(int64, string) bool { return false })
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return c
	}
	ca, cb := read(a), read(b)
	if ca.at != head || cb.at != head {
		t.Fatalf("tables at %v and %v, want both at the head %v", ca.at, cb.at, head)
	}
	if len(ca.rows) != len(cb.rows) || len(ca.rows) == 0 {
		t.Fatalf("%d rows and %d rows", len(ca.rows), len(cb.rows))
	}
	for i := range ca.rows {
		x, y := ca.t.identity(&ca.rows[i]), cb.t.identity(&cb.rows[i])
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("row %d differs:\n%+v\n%+v", i, *x, *y)
		}
	}
	names := func(c *tableCache) []string {
		if c.names == nil {
			t.Fatal("no names' ranking")
		}
		var out []string
		for k, i := range c.names.idx {
			tie := c.names.tie[k/64]&(1<<(k%64)) != 0
			out = append(out, fmt.Sprintf("%s/%v", c.t.strs.at(i), tie))
		}
		return out
	}
	if x, y := names(ca), names(cb); !reflect.DeepEqual(x, y) {
		t.Fatalf("the names rank differently:\n%q\n%q", x, y)
	}
}

// headOf is where the log of the evidence at path stands.
func headOf(t *testing.T, path string) logPoint {
	t.Helper()
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	head, ok := logPointOf(context.Background(), st)
	if !ok {
		t.Fatal("no log")
	}
	return head
}

// TestPrepareTableIsTheOpensTable: the table PrepareTable writes is, row
// for row, the one an open writes; an open then reads it from the cache
// at the head, and shows what an open without a cache shows; a second
// preparation at the same head writes nothing. On both engines.
func TestPrepareTableIsTheOpensTable(t *testing.T) {
	ctx := context.Background()
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			path := evidenceOn(t, eng)
			variedEvidence(t, path)
			head := headOf(t, path)
			prepared, opened := t.TempDir(), t.TempDir()
			st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			p, err := PrepareTable(ctx, st, prepared)
			if err != nil || !p.Wrote {
				t.Fatalf("PrepareTable: %+v, %v", p, err)
			}
			plain := openTable(t, path, "")
			if p.Identities != plain.st.pop.len() {
				t.Errorf("prepared %d identities, an open shows %d", p.Identities, plain.st.pop.len())
			}
			if first := openTable(t, path, opened); first.cache.read != nil {
				t.Fatal("an open of an empty cache folder read a cache")
			}
			files := cacheFiles(t, prepared)
			if want := tableCacheName(prepared, head); len(files) != 1 || files[0] != want {
				t.Fatalf("PrepareTable wrote %v, want %s", files, want)
			}
			sameCachedRows(t, files[0], tableCacheName(opened, head), head)

			m := openTable(t, path, prepared)
			if m.cache.read == nil || *m.cache.read != head || m.cache.patched {
				t.Fatalf("an open after PrepareTable should read the cache at the head %v: read %v, patched %v", head, m.cache.read, m.cache.patched)
			}
			sameTable(t, plain, m)

			info, _ := os.Stat(files[0])
			again, err := PrepareTable(ctx, st, prepared)
			if err != nil || again.Wrote || again.Identities != p.Identities {
				t.Errorf("a second PrepareTable at the same head: %+v, %v; want nothing written, %d identities", again, err, p.Identities)
			}
			if now, _ := os.Stat(files[0]); !os.SameFile(info, now) || !now.ModTime().Equal(info.ModTime()) {
				t.Error("a second PrepareTable at the same head rewrote the file")
			}
		})
	}
}

// movingStore is an evidence file another process writes to while its
// identities are read (an owner set after the first).
type movingStore struct {
	*audit.Store
	other *audit.Store
	id    string
}

func (s movingStore) EachTableIdentity(ctx context.Context, fn func(*audit.Identity) error) error {
	first := true
	return s.Store.EachTableIdentity(ctx, func(id *audit.Identity) error {
		if first {
			first = false
			if _, err := s.other.SetOwner(ctx, testActor, s.id, "mallory"); err != nil {
				return err
			}
		}
		return fn(id)
	})
}

// TestPrepareTableWritesNothingUnsure: a read the log moved under, a
// cancelled context and a folder that cannot be made write no table, and
// say why; an empty log has nothing to prepare.
func TestPrepareTableWritesNothingUnsure(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nhi.db")
	e := newEvidenceIn(t, path)
	dir := t.TempDir()
	moving := movingStore{Store: e.store, other: e.otherProcess(t), id: e.ids[0].ID}
	if p, err := PrepareTable(ctx, moving, dir); !errors.Is(err, ErrEvidenceMoved) || p.Wrote {
		t.Errorf("a read the log moved under: %+v, %v; want ErrEvidenceMoved", p, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if p, err := PrepareTable(cancelled, e.store, dir); !errors.Is(err, context.Canceled) || p.Wrote {
		t.Errorf("cancelled: %+v, %v", p, err)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	if _, err := PrepareTable(ctx, e.store, filepath.Join(file, "tables")); err == nil {
		t.Error("a cache folder under a file: no error")
	}
	if files := cacheFiles(t, dir); len(files) != 0 {
		t.Errorf("tables written: %v", files)
	}
	empty, err := audit.Open(ctx, filepath.Join(t.TempDir(), "empty.db"), audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if p, err := PrepareTable(ctx, empty, dir); err != nil || p.Wrote {
		t.Errorf("an empty log: %+v, %v; want nothing to do", p, err)
	}
	// Then a whole read: written.
	if p, err := PrepareTable(ctx, e.store, dir); err != nil || !p.Wrote || len(cacheFiles(t, dir)) != 1 {
		t.Errorf("PrepareTable: %+v, %v", p, err)
	}
}

// TestSnapshotPreparesTheTable: the real binary's `nhi snapshot github` of
// the sample organisation leaves the table at the evidence file's head in
// NHI_CACHE_DIR, and an open of the file reads it from there (the open
// run as that binary: its cache files are keyed by the executable).
func TestSnapshotPreparesTheTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := nhiBinary(t, ctx)
	srv := githubtest.NewServer(githubtest.SampleOrg(30))
	defer srv.Close()
	db, cache := filepath.Join(dir, "nhi.db"), filepath.Join(dir, "cache")
	cmd := exec.CommandContext(ctx, bin, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GH_TOKEN=", "GITHUB_TOKEN="+srv.Token(), "NHI_CACHE_DIR="+cache)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nhi snapshot: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Prepared the review table of ") {
		t.Errorf("stderr does not say the table was prepared:\n%s", stderr.String())
	}
	head := headOf(t, db)
	files := cacheFiles(t, cache)
	if want := tableCacheName(cache, head); len(files) != 1 || files[0] != want {
		t.Fatalf("the cache folder holds %v, want the table at the head: %s", files, want)
	}

	// An open as the binary that wrote it.
	code := codeIdentity
	codeIdentity = func() string { return codeIdentityOf(bin) }
	defer func() { codeIdentity = code }()
	m := openTable(t, db, cache)
	if m.cache.read == nil || *m.cache.read != head || m.cache.patched {
		t.Fatalf("the open did not read the prepared table at the head %v: read %v, patched %v", head, m.cache.read, m.cache.patched)
	}
	sameTable(t, openTable(t, db, ""), m)
}

// BenchmarkPrepareTable100k is what a command that recorded a population
// does at its end (PrepareTable) on a file of 100,000 identities, into a
// new cache folder each time: it reports its CPU time (cpu-ms/op) and the
// peak Go heap (heap-MB).
func BenchmarkPrepareTable100k(b *testing.B) { benchPrepare(b, bigEvidence(b), 100_000) }

// BenchmarkPrepareTable1M is the same on a million identities or more
// (scaleEvidence: NHI_BENCH_1M, which may name a file `nhi demo --repos
// 192000` wrote).
func BenchmarkPrepareTable1M(b *testing.B) { benchPrepare(b, scaleEvidence(b), 1_000_000) }

func benchPrepare(b *testing.B, path string, n int) {
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	stop := benchmem.Start()
	cpu := benchmem.CPUTime()
	for b.Loop() {
		p, err := PrepareTable(ctx, st, b.TempDir())
		if err != nil || !p.Wrote || p.Identities < n {
			b.Fatal(p, err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(stop().HeapMB(), "heap-MB")
}
