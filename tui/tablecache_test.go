package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// openTable opens the TUI on the store at path, as `nhi` does (a Store of
// its own, the table read after the first frame), with its table cache in
// dir ("": none), and waits until the table is loaded, patched and its
// cache written.
func openTable(t *testing.T, path, dir string) *Model {
	t.Helper()
	return openTableWith(t, path, dir, false)
}

// openReviewTable is openTable with the Reviewer over the real campaigns
// package, as `nhi` opens it (ExceptionLister: a close is patched).
func openReviewTable(t *testing.T, path, dir string) *Model {
	t.Helper()
	return openTableWith(t, path, dir, true)
}

func openTableWith(t *testing.T, path, dir string, review bool) *Model {
	t.Helper()
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := Options{Store: st, Now: clock, ReadOnly: true, TableCache: dir}
	if review {
		opts.Reviewer = campaignsReviewer{st}
	}
	m := New(nil, nil, opts)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	drain(t, m, m.Init())
	if m.loading || m.ids == nil {
		t.Fatal("the population did not load")
	}
	m.cache.writes.Wait()
	if err := m.cache.wrote; err != nil {
		t.Fatalf("writing the table cache: %v", err)
	}
	return m
}

// sameTable fails unless a and b show the same table: every identity
// whole, the overview's counts, and the screens after a filter, the sorts
// and a detail.
func sameTable(t *testing.T, a, b *Model) {
	t.Helper()
	pa, pb := a.st.pop, b.st.pop
	if pa.len() != pb.len() {
		t.Fatalf("%d identities, want %d", pb.len(), pa.len())
	}
	for i := range int32(pa.len()) {
		if x, y := pa.identity(i), pb.identity(i); !reflect.DeepEqual(x, y) {
			t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, *y, *x)
		}
	}
	if a.View() != b.View() {
		t.Fatalf("the screens differ:\nwant:\n%s\ngot:\n%s", a.View(), b.View())
	}
	typed := func(s string) []string { return strings.Split(s, "") }
	for _, keys := range [][]string{
		append(append([]string{":"}, typed("overview")...), "enter"),
		append(append([]string{"/"}, typed("owner:none finding:stale")...), "enter"),
		append(append([]string{"/"}, typed("attr.added_by:alice")...), "enter"),
		append(append([]string{"/"}, typed("change:new or change:changed")...), "enter"),
		{"s"}, {"s", "s"}, {"G", "k", "enter"},
	} {
		for _, m := range []*Model{a, b} {
			press(t, m, keys...)
		}
		if a.View() != b.View() {
			t.Errorf("after %q the screens differ:\nwant:\n%s\ngot:\n%s", keys, a.View(), b.View())
		}
		for _, m := range []*Model{a, b} {
			press(t, m, "esc")
		}
	}
}

// cacheFiles is the table cache files in dir.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+tableCacheExt))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestTableCacheReadsBack: the first open reads the store and writes the
// cache (private), the second reads the cache, and both show the table
// an open without a cache shows; on both engines.
func TestTableCacheReadsBack(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			path := evidenceOn(t, eng)
			variedEvidence(t, path)
			dir := filepath.Join(t.TempDir(), "tables")
			// What a write killed half way left, long ago, and one under
			// way now (its writer holds it: tablecache_temp.go): the
			// first goes (TestTableCacheRemovesAKilledWritersFile kills
			// the writers).
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			stale := filepath.Join(dir, tableTempPrefix+"1")
			if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(stale, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
			w, err := createTableTemp(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			fresh := w.Name()
			first := openTable(t, path, dir)
			if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a temporary file of two hours ago is still there: %v", err)
			}
			if _, err := os.Stat(fresh); err != nil {
				t.Errorf("a write under way lost its file: %v", err)
			}
			if first.cache.read != nil {
				t.Fatal("the first open read a cache there was none of")
			}
			files := cacheFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("cache files after the first open: %v", files)
			}
			for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, files[0]: 0o600} {
				if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
					t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode(), want, err)
				}
			}
			second := openTable(t, path, dir)
			if second.cache.read == nil || second.cache.patched {
				t.Fatalf("the second open should read the cache of the same head: read %v patched %v", second.cache.read, second.cache.patched)
			}
			sameTable(t, openTable(t, path, ""), first)
			sameTable(t, openTable(t, path, ""), second)
		})
	}
}

// TestTableCacheFollowsTheLog: owners set (and a note added) after the
// cache was written are re-read into the cached table, and so is the
// identity a decision names; a new snapshot, a policy, or a close that
// no Reviewer can list the exceptions of make a full read. Each time the
// table is the one an open without a cache shows.
func TestTableCacheFollowsTheLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nhi.db")
	variedEvidence(t, path)
	e := &evidence{path: path}
	dir := t.TempDir()
	openTable(t, path, dir) // writes the cache

	other := e.otherProcess(t)
	ids, err := other.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var target audit.Identity
	for _, id := range ids {
		if id.Owner == "" && id.Status == audit.StatusActive && id.Kind == audit.KindGitHubActionsSecret {
			target = id
			break
		}
	}
	const canary = "ghp_canaryCANARYcanary0123456789abcd"
	if _, err := other.SetOwner(ctx, testActor, target.ID, "mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AddNotes(ctx, testActor, []string{target.ID}, "pasted by mistake: "+canary); err != nil {
		t.Fatal(err)
	}
	patched := openTable(t, path, dir)
	if patched.cache.read == nil || !patched.cache.patched {
		t.Fatalf("an owner set since the cache should patch the cached table: read %v patched %v", patched.cache.read, patched.cache.patched)
	}
	i, ok := patched.st.pop.find(target.ID)
	if !ok {
		t.Fatal("the identity is gone")
	}
	got := patched.st.pop.identity(i)
	if got.Owner != "mallory" || !hasRule(got, audit.RuleOrphaned) {
		t.Errorf("after the patch %s has owner %q and findings %+v; want mallory, who is no member (orphaned)", target.Name, got.Owner, got.Findings)
	}
	plain := openTable(t, path, "")
	sameTable(t, plain, patched)

	// A new snapshot: read whole, the new identity shows.
	full := func(what string) *Model {
		t.Helper()
		m := openTable(t, path, dir)
		if m.cache.read != nil {
			t.Fatalf("after %s the table should be read from the store, not the cache of event %d", what, m.cache.read.seq)
		}
		sameTable(t, openTable(t, path, ""), m)
		if again := openTable(t, path, dir); again.cache.read == nil {
			t.Fatalf("after %s the full read should have been cached for the next open", what)
		}
		return m
	}
	w, err := other.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "aws", Account: "123456789012", APIURL: "https://iam.amazonaws.com", ToolVersion: "test", StartedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deployer", "auditor"} {
		if err := w.Record(audit.Observation{ID: "aws:123456789012:aws_iam_role:" + name, Kind: audit.KindAWSIAMRole, Name: name, Scope: "123456789012"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	m := full("a snapshot")
	if _, ok := m.st.pop.find("aws:123456789012:aws_iam_role:auditor"); !ok {
		t.Error("the new snapshot's identity is missing")
	}

	// A policy that turns the stale rule off.
	p, _, err := other.Policy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[audit.RuleStale]
	off := false
	r.Enabled = &off
	p.Rules[audit.RuleStale] = r
	if _, err := other.SetPolicy(ctx, testActor, p); err != nil {
		t.Fatal(err)
	}
	m = full("a policy change")
	for i := range int32(m.st.pop.len()) {
		if hasRule(m.st.pop.identity(i), audit.RuleStale) {
			t.Fatal("a stale finding under a policy that turned the rule off")
		}
	}

	// A decision can start or end an exception (exception-expired).
	if _, err := campaigns.Create(ctx, other, "lead@example.com", campaigns.Spec{
		Name: "2025-Q2", Scope: "kind:github_actions_secret", Due: time.Now().AddDate(0, 0, 14).Format("2006-01-02"),
		Reviewers: []string{testActor}, AllowPartial: true,
	}); err != nil {
		t.Fatal(err)
	}
	if m := openTable(t, path, dir); m.cache.read == nil {
		t.Error("creating a campaign changes no row: the cache should serve")
	}
	if _, err := campaigns.Decide(ctx, other, testActor, "2025-Q2", target.ID, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if m := openTable(t, path, dir); m.cache.read == nil || !m.cache.patched {
		t.Errorf("a decision names whom it changes: the cached table should be patched (read %v, patched %v)", m.cache.read, m.cache.patched)
	} else {
		sameTable(t, openTable(t, path, ""), m)
	}
	if _, err := campaigns.Close(ctx, other, "closer@example.com", "2025-Q2"); err != nil {
		t.Fatal(err)
	}
	full("a close, without a Reviewer to list its exceptions")

	// Nothing in the cache files is what was never a row: the note.
	for _, f := range cacheFiles(t, dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("%s holds the canary of a note", f)
		}
		if !bytes.Contains(b, []byte(target.ID)) {
			t.Errorf("%s does not hold the rows (no ID %s): the canary check proves nothing", f, target.ID)
		}
	}
	if n := len(cacheFiles(t, dir)); n > tableCacheKeep {
		t.Errorf("%d cache files of one log, want at most %d", n, tableCacheKeep)
	}
}

func hasRule(id *audit.Identity, rule string) bool {
	for _, f := range id.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// TestTableCacheRefusesBadFiles: a cache file cut short, with a byte
// changed, written by another executable or for another log (a copy of
// the evidence that went its own way) is not used: the table is read from
// the store, right, and the file replaced by a good one.
func TestTableCacheRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Two files whose logs start alike (the same first snapshot, the same
	// clock) and part at the owner set.
	paths := []string{filepath.Join(t.TempDir(), "a.db"), filepath.Join(t.TempDir(), "b.db")}
	var first string
	for k, path := range paths {
		e := newEvidenceIn(t, path)
		first = e.ids[0].ID
		if _, err := e.store.SetOwner(ctx, testActor, e.ids[0].ID, []string{"alice", "bob"}[k]); err != nil {
			t.Fatal(err)
		}
	}
	a, b := paths[0], paths[1]
	openTable(t, a, dir)
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// b's log is a's up to the owner set: the same file name, another head.
	if m := openTable(t, b, dir); m.cache.read != nil {
		t.Error("the cache of another log's head was used")
	} else {
		sameTable(t, openTable(t, b, ""), m)
	}
	if got := cacheFiles(t, dir); len(got) != 1 || got[0] != files[0] {
		t.Fatalf("the two logs should share their first event and head seq, so b's table replaces a's file: %v", got)
	}
	if m := openTable(t, b, dir); m.cache.read == nil {
		t.Fatal("b's table, written over a's, is not used")
	}
	// b goes on: a's table is then of an older seq that b's log holds
	// with another hash.
	sb, err := audit.Open(ctx, b, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.AddNotes(ctx, testActor, []string{first}, "later"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(files[0], good, 0o600)
	if m := openTable(t, b, dir); m.cache.read != nil {
		t.Error("the cache of an event another log holds with another hash was used")
	}

	// The same log, bad files; written by this executable, the same
	// table is used (so what is refused below is refused for its fault).
	var other bytes.Buffer
	if err := os.WriteFile(files[0], writtenBy(t, a, codeIdentity(), &other), 0o600); err != nil {
		t.Fatal(err)
	}
	if m := openTable(t, a, dir); m.cache.read == nil {
		t.Fatal("a good file was not used")
	}
	c, err := readTableCache(files[0], logPoint{}, nil)
	if err == nil || c != nil {
		t.Fatal("a cache read for no log")
	}
	for name, bad := range map[string]func() []byte{
		"truncated":          func() []byte { return good[:len(good)/2] },
		"a byte changed":     func() []byte { x := bytes.Clone(good); x[len(x)*2/3] ^= 0x40; return x },
		"no checksum":        func() []byte { return good[:len(good)-4] },
		"another program":    func() []byte { return writtenBy(t, a, "/usr/bin/other\x00123\x00456", &other) },
		"not a cache at all": func() []byte { return []byte("hello") },
	} {
		t.Run(name, func(t *testing.T) {
			for _, f := range cacheFiles(t, dir) {
				os.Remove(f)
			}
			if err := os.WriteFile(files[0], bad(), 0o600); err != nil {
				t.Fatal(err)
			}
			m := openTable(t, a, dir)
			if m.cache.read != nil {
				t.Fatal("a bad cache was used")
			}
			sameTable(t, openTable(t, a, ""), m)
			if m := openTable(t, a, dir); m.cache.read == nil {
				t.Error("the bad file was not replaced by the table read")
			}
		})
	}
}

// writtenBy is the cache file of the table at path as the executable
// code would have written it.
func writtenBy(t *testing.T, path, code string, buf *bytes.Buffer) []byte {
	t.Helper()
	m := openTable(t, path, "")
	st := m.st.store.(tableCacheStore)
	at, ok := logPointOf(context.Background(), st)
	if !ok {
		t.Fatal("no log")
	}
	buf.Reset()
	if err := snapshotTable(m.st.pop, at).write(context.Background(), buf, code); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTableCacheRowsInPlace: a cached table of more than a chunk of rows
// keeps them in the file's memory, read-only; an owner changed since is
// written to a copy of its chunk, and the table is the one read whole.
func TestTableCacheRowsInPlace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nhi.db")
	if err := writeBigEvidence(path, 2*rowChunk+100); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	openTable(t, path, dir)
	m := openTable(t, path, dir)
	if m.cache.read == nil {
		t.Fatal("the second open did not read the cache")
	}
	other := (&evidence{path: path}).otherProcess(t)
	var sets []audit.OwnerSet
	for _, i := range []int32{5, rowChunk + 3, 2*rowChunk + 50} {
		sets = append(sets, audit.OwnerSet{Identity: m.st.pop.id(i), Owner: "user-007"})
	}
	if _, err := other.SetOwners(ctx, testActor, sets); err != nil {
		t.Fatal(err)
	}
	patched := openTable(t, path, dir)
	if !patched.cache.patched {
		t.Fatal("the owners set since were not re-read into the cached table")
	}
	for _, s := range sets {
		if i, ok := patched.st.pop.find(s.Identity); !ok || patched.st.pop.identity(i).Owner != "user-007" {
			t.Errorf("%s: owner not re-read", s.Identity)
		}
	}
	// A re-derived row keeps its runs of attributes and permissions (an
	// owner changes neither): the pairs are still the file's, never copied
	// out of it whole (a view of the file has no room to append to), and
	// none were added.
	if p, f := patched.st.pop.t.pairs, m.st.pop.t.pairs; p.n != f.n || len(p.chunks) != len(f.chunks) {
		t.Errorf("pairs were added for the rows re-derived: %d entries in %d chunks, the file's %d in %d", p.n, len(p.chunks), f.n, len(f.chunks))
	}
	sameTable(t, openTable(t, path, ""), patched)

	// ctrl+r re-derives every row, three chunks with one read of what
	// findings depend on (audit.Refresher): an owner set meanwhile in the
	// last chunk shows, and the table is the one read whole.
	last := patched.st.pop.id(int32(patched.st.pop.len() - 1))
	if _, err := other.SetOwner(ctx, testActor, last, "user-008"); err != nil {
		t.Fatal(err)
	}
	send(t, patched, refreshMsg{})
	if i, _ := patched.st.pop.find(last); patched.st.pop.identity(i).Owner != "user-008" || len(patched.st.dirty) != 0 {
		t.Errorf("after ctrl+r %s has owner %q (%d rows still to re-derive)", last, patched.st.pop.identity(i).Owner, len(patched.st.dirty))
	}
	// (Rows only: sameTable above left this model sorted, its cursor moved.)
	if diff := changedRows(rowsByID(openTable(t, path, "")), rowsByID(patched)); len(diff) > 0 {
		t.Errorf("after ctrl+r the rows of %v differ from a full read's", diff)
	}
}

// TestTableCacheIndexesOnFirstEncode: a table read from its cache leaves
// the builder's indexes to the first row encoded (an open that encodes
// none builds no map of its texts); written back before that, it keeps
// the texts interned it was read with. Its rows' suggestions are the
// store's; the first row encoded, as a patch encodes it, interns into the
// cached owner, kinds of findings and suggestions rather than adding its
// own.
func TestTableCacheIndexesOnFirstEncode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	variedEvidence(t, path)
	dir := t.TempDir()
	whole := openTable(t, path, dir)
	m := openTable(t, path, dir)
	if m.cache.read == nil {
		t.Fatal("the second open did not read the cache")
	}
	p, b := m.st.pop, m.st.pop.b
	if b.unindexed == nil || b.strIdx != nil || b.suggIdx != nil {
		t.Fatal("the open built the indexes of a table it encoded no row of")
	}
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	read, err := readTableCache(files[0], *m.cache.read, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshotTable(p, *m.cache.read).interned; !reflect.DeepEqual(got, read.interned) || len(got) == 0 {
		t.Errorf("written back unindexed, the texts interned are %x, read %x", got, read.interned)
	}
	lists := map[pairRun]bool{}
	for i := range int32(p.len()) {
		r, w := read.rows[i], whole.st.pop.row(i)
		if got, want := read.t.appendSuggestions(nil, &r), whole.st.pop.t.appendSuggestions(nil, w); !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: suggestions read %v, derived %v", i, got, want)
		}
		if r.nSugg > 0 {
			lists[pairRun{r.sugg, r.nSugg}] = true
		}
	}
	var at int32 = -1
	for i := range int32(p.len()) {
		if r := p.row(i); r.sugg != 0 && r.nFind > 0 && r.owner != textNone {
			at = i
			break
		}
	}
	if len(lists) < 2 || at < 0 {
		t.Fatalf("the fixture has %d suggestion lists and no owned row with findings and suggestions (%d)", len(lists), at)
	}
	old := *p.row(at)
	fkinds, pairs := len(p.t.fkinds), p.t.pairs.n
	b.mu.Lock()
	b.lastAttr, b.lastPerm, b.lastSugg = pairRun{old.attr, old.nAttr}, pairRun{old.perm, old.nPerm}, pairRun{old.sugg, old.nSugg} // as a patch does (writes.go)
	r := b.encode(p.identity(at))
	b.mu.Unlock()
	if b.unindexed != nil || b.strIdx == nil {
		t.Fatal("the first row encoded did not build the indexes")
	}
	tb := b.tables()
	if r.owner != old.owner || r.kind != old.kind || r.scope != old.scope || r.sugg != old.sugg || r.nSugg != old.nSugg ||
		len(tb.fkinds) != fkinds || tb.pairs.n != pairs || tb.finds[r.find].kind != tb.finds[old.find].kind {
		t.Errorf("the row encoded again did not intern into the cached table: %+v, was %+v (%d kinds of findings, was %d; %d pair entries, was %d)",
			r, old, len(tb.fkinds), fkinds, tb.pairs.n, pairs)
	}
}

// evidenceOn is where a test of the table cache or the table read keeps
// its evidence on engine eng ("sqlite": a file in the test's folder;
// "postgres": a fresh database, skipped under -short, as pgtest.URL
// skips).
func evidenceOn(t *testing.T, eng string) string {
	t.Helper()
	if eng != "postgres" {
		return filepath.Join(t.TempDir(), "nhi.db")
	}
	return pgtest.URL(t)
}
