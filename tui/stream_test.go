package tui

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// streamStore hands out a population in the order given, the way
// *audit.Store's EachTableIdentity does, and can fail after some identities.
type streamStore struct {
	Store
	ids     []audit.Identity
	failAt  int // 0: never
	failErr error
}

func (s streamStore) IdentityCount(context.Context) (int, error) { return len(s.ids), nil }

func (s streamStore) EachTableIdentity(ctx context.Context, fn func(*audit.Identity) error) error {
	for i := range s.ids {
		if s.failAt > 0 && i == s.failAt {
			return s.failErr
		}
		c := s.ids[i]
		if err := fn(&c); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// startLoading starts the read in batches New began (Init) and hands the
// first batch to m; next receives the rest, count counts the population.
// What Init starts before them (a store's answer whether the session may
// set owners, loadOwnerRights) is run first.
func startLoading(t testing.TB, m *Model) (next, count tea.Cmd) {
	t.Helper()
	cmds, ok := m.Init()().(tea.BatchMsg)
	if !ok || len(cmds) < 2 || len(cmds) > 3 {
		t.Fatalf("Init should start the read and the count, got %#v", cmds)
	}
	for _, c := range cmds[:len(cmds)-2] {
		run(t, m, c, 0)
	}
	read := cmds[len(cmds)-2]
	_, next = m.Update(read())
	return next, cmds[len(cmds)-1]
}

// loadingCounted is a TUI at 100×24 reading ids in batches, the first
// batch in and the population counted; next reads the rest.
func loadingCounted(t *testing.T, ids []audit.Identity) (m *Model, next tea.Cmd) {
	t.Helper()
	m = New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	next, count := startLoading(t, m)
	send(t, m, count())
	return m, next
}

// The table shows the first identities before the rest are read, the
// header counts what has arrived, and a filter typed meanwhile covers the
// identities that arrive after it.
func TestLoadsInBatches(t *testing.T) {
	ids := manyIdentities(1000)
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	next, count := startLoading(t, m)
	v := m.View()
	checkFrame(t, v, 100, 24)
	if !strings.Contains(v, "loading 256…") || !strings.Contains(v, "identity-000000") {
		t.Fatalf("after the first batch, before the count, the header should say loading 256… and the table show the first rows:\n%s", v)
	}
	send(t, m, count())
	if v := m.View(); !strings.Contains(v, "loading 256 of 1,000") {
		t.Fatalf("once counted the header should say loading 256 of 1,000:\n%s", v)
	}
	press(t, m, "j", "j")
	press(t, m, "/")
	press(t, m, strings.Split("owner:none", "")...)
	press(t, m, "enter")
	run(t, m, next, 0) // the rest of the batches
	v = m.View()
	if strings.Contains(v, "loading") || !strings.Contains(v, "1,000 identities") {
		t.Errorf("after the last batch the header should count 1,000 identities:\n%s", v)
	}
	want := 0
	for i := range ids {
		if ids[i].Owner == "" {
			want++
		}
	}
	if got := m.ids.table.Len(); got != want {
		t.Errorf("the filter owner:none shows %d rows after loading, want %d", got, want)
	}
	if !strings.Contains(v, "Identities 750 of 1,000") {
		t.Errorf("title should count the matches over the whole population:\n%s", v)
	}
}

// With a filter, each batch's rows are matched alone, after the rows the
// query before matched, not every row again (a query over every row at
// each batch matched a million-row population some five times over as it
// loaded, and in a campaign each match is a look-up among its items).
// The rows are those one query over the whole population gives.
func TestFilteredBatchesMatchOnlyTheirRows(t *testing.T) {
	ids := manyIdentities(5000)
	m, next := loadingCounted(t, ids)
	matched := 0
	queryMatching = func(n int) { matched += n }
	defer func() { queryMatching = nil }()
	press(t, m, "/")
	press(t, m, strings.Split("owner:none", "")...)
	press(t, m, "enter")
	matched = 0 // the filter's first query, over the first batch, and those typing it ran
	run(t, m, next, 0)
	if n := m.ids.table.Len(); n == 0 || n == len(ids) {
		t.Fatalf("the filter shows %d rows of %d: the test needs some filtered out", n, len(ids))
	}
	if first := 256; matched != len(ids)-first {
		t.Errorf("the queries while loading matched %d rows, want the %d read after the first batch", matched, len(ids)-first)
	}
	loaded := m.ids.table.Rows()
	run(t, m, m.ids.requery(), 0)
	if all := m.ids.table.Rows(); !slices.Equal(loaded, all) {
		t.Errorf("after loading the table shows %d rows; one query over the population, %d", len(loaded), len(all))
	}
}

// Without a filter the rows follow the batches, and the cursor stays on
// the identity it was on.
func TestBatchesKeepTheCursor(t *testing.T) {
	ids := manyIdentities(1000)
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	next, _ := startLoading(t, m)
	press(t, m, "j", "j", "j")
	run(t, m, next, 0)
	if n := m.ids.table.Len(); n != 1000 {
		t.Errorf("table has %d rows after loading, want 1000", n)
	}
	if id, _ := m.ids.table.SelectedKey(); id != ids[3].ID {
		t.Errorf("cursor on %s after loading, want %s", id, ids[3].ID)
	}
}

// Without a filter each batch's rows go after those shown, in the order
// read, and the rows a batch showed stay as they were for whatever read
// them (a query off the event loop) while later batches arrive.
func TestBatchesAppendAfterTheRowsShown(t *testing.T) {
	ids := manyIdentities(3000)
	m, next := loadingCounted(t, ids)
	var shown [][]int32 // the rows after each batch, as the table held them
	var kept [][]int32  // copies of them
	for next != nil {
		msg := next()
		batch, ok := msg.(identitiesBatchMsg)
		if !ok {
			t.Fatalf("the read sent %T", msg)
		}
		_, next = m.Update(batch)
		if batch.done {
			next = nil
		}
		rows := m.ids.table.Rows()
		shown, kept = append(shown, rows), append(kept, slices.Clone(rows))
	}
	if len(shown) < 3 {
		t.Fatalf("%d batches after the first: the test needs more", len(shown))
	}
	for i := range shown {
		if !slices.Equal(shown[i], kept[i]) {
			t.Fatalf("the rows batch %d showed changed as later batches came", i+2)
		}
	}
	final := kept[len(kept)-1]
	if len(final) != len(ids) {
		t.Fatalf("%d rows after loading, want %d", len(final), len(ids))
	}
	for i, r := range final {
		if int(r) != i {
			t.Fatalf("row %d is identity %d: the rows are not in the order read", i, r)
		}
	}
}

// A read that fails half way keeps what arrived and says what is missing:
// a gap is never shown as a smaller population.
func TestBatchReadFailureIsSaid(t *testing.T) {
	ids := manyIdentities(1000)
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids, failAt: 600, failErr: errors.New("disk I/O error")}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	cmds := m.Init()().(tea.BatchMsg) // the read, the count
	first := cmds[0]()                // the read's first batch, after which the count begins
	send(t, m, cmds[1]())             // counted before the read fails
	_, next := m.Update(first)
	run(t, m, next, 0)
	v := m.View()
	if !strings.Contains(v, "Stopped reading after 600 of 1,000 identities: disk I/O error") {
		t.Errorf("the failure should be said with how many were read:\n%s", v)
	}
	if !strings.Contains(v, "600 of 1,000 identities read") {
		t.Errorf("the header should say how many of how many were read:\n%s", v)
	}
	if n := m.ids.table.Len(); n != 600 {
		t.Errorf("table has %d rows, want the 600 read before the failure", n)
	}
}

// One identity read before the read failed, with no count yet: the
// header says so in the singular.
func TestBatchReadFailureAfterOne(t *testing.T) {
	ids := manyIdentities(5)
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids, failAt: 1, failErr: errors.New("disk I/O error")}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	cmds := m.Init()().(tea.BatchMsg) // the read, the count, never sent
	_, next := m.Update(cmds[0]())
	run(t, m, next, 0)
	v := m.View()
	if !strings.Contains(v, "only 1 identity read") || !strings.Contains(v, "Stopped reading after 1 identity: disk I/O error") {
		t.Errorf("the header and the failure should say one identity was read:\n%s", v)
	}
}

// Once a chunk of rows is in, each batch a read from the store hands
// over starts on a chunk's boundary and is whole chunks (but the last),
// which the population keeps as they are rather than copy them into
// chunks of its own (population.appended).
func TestBatchesAreWholeChunks(t *testing.T) {
	ids := manyIdentities(3*rowChunk + 100)
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{ids: ids}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	cmds, ok := m.Init()().(tea.BatchMsg)
	if !ok || len(cmds) != 2 {
		t.Fatalf("Init should start the read and the count, got %#v", cmds)
	}
	msg, kept := cmds[0](), 0
	for {
		b, ok := msg.(identitiesBatchMsg)
		if !ok {
			t.Fatalf("got %T, want a batch", msg)
		}
		from := m.st.pop.len()
		m.Update(b)
		if from >= rowChunk && (from%rowChunk != 0 || !b.done && len(b.rows)%rowChunk != 0) {
			t.Errorf("a batch of %d rows from row %d: not whole chunks", len(b.rows), from)
		}
		for k := 0; from%rowChunk == 0 && k+rowChunk <= len(b.rows); k += rowChunk {
			if &m.st.pop.chunks[(from+k)/rowChunk][0] == &b.rows[k] {
				kept++
			}
		}
		if b.done {
			break
		}
		msg = b.next()
	}
	if m.st.pop.len() != len(ids) || kept != 2 {
		t.Errorf("%d rows loaded, %d chunks kept as the batches brought them; want %d and 2", m.st.pop.len(), kept, len(ids))
	}
}

// countAfterStore is a streamStore that says, when asked to count, how
// many identities it had handed over by then.
type countAfterStore struct {
	streamStore
	handed  atomic.Int64
	atCount chan int64
}

func (s *countAfterStore) IdentityCount(ctx context.Context) (int, error) {
	s.atCount <- s.handed.Load()
	return s.streamStore.IdentityCount(ctx)
}

func (s *countAfterStore) EachTableIdentity(ctx context.Context, fn func(*audit.Identity) error) error {
	return s.streamStore.EachTableIdentity(ctx, func(id *audit.Identity) error {
		s.handed.Add(1)
		return fn(id)
	})
}

// TestCountsAfterTheFirstBatch: the count (a fifth of a CPU-second at a
// million identities) begins once the first batch has gone to the event
// loop, not beside the read of the first page, even when Bubble Tea runs
// it first.
func TestCountsAfterTheFirstBatch(t *testing.T) {
	s := &countAfterStore{streamStore: streamStore{ids: manyIdentities(1000)}, atCount: make(chan int64, 1)}
	m := New(testSnapshot(), nil, Options{Now: clock, Store: s})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	cmds, ok := m.Init()().(tea.BatchMsg)
	if !ok || len(cmds) != 2 {
		t.Fatalf("Init should start the read and the count, got %#v", cmds)
	}
	counted := make(chan tea.Msg, 1)
	go func() { counted <- cmds[1]() }()
	select {
	case n := <-s.atCount:
		t.Fatalf("the count began with %d identities read, before the read had begun", n)
	case <-time.After(200 * time.Millisecond):
	}
	m.Update(cmds[0]())
	if n := <-s.atCount; n < firstBatch {
		t.Errorf("the count began with %d identities read, before the first batch of %d had gone", n, firstBatch)
	}
	if msg, ok := (<-counted).(identitiesCountedMsg); !ok || msg.n != 1000 || msg.err != nil {
		t.Errorf("the count said %+v, want 1,000", msg)
	}
}

// gcSeenStore is a streamStore that notes the collector's GOGC while it
// is read.
type gcSeenStore struct {
	streamStore
	seen *int
}

func (s gcSeenStore) EachTableIdentity(ctx context.Context, fn func(*audit.Identity) error) error {
	*s.seen = debug.SetGCPercent(-1)
	debug.SetGCPercent(*s.seen)
	return s.streamStore.EachTableIdentity(ctx, fn)
}

// While the table is read the collector runs when the heap has grown by
// half (readGCPercent), so the read touches less fresh memory, and the
// GOGC before is back once the table is in; a GOGC the user set is left
// alone. GOGC is the process's: each case runs in a process of its own
// (this test binary again), where no other test's read is under way.
func TestTableReadCollectsSooner(t *testing.T) {
	if want := os.Getenv("NHI_TEST_READ_GOGC"); want != "" {
		readCollectsSooner(t, want)
		return
	}
	for _, c := range []struct{ gogc, during string }{{"", "50"}, {"150", "150"}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTableReadCollectsSooner$", "-test.count=1")
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "GOGC=") }), "NHI_TEST_READ_GOGC="+c.during)
		if c.gogc != "" {
			cmd.Env = append(cmd.Env, "GOGC="+c.gogc)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOGC=%q: %v\n%s", c.gogc, err, out)
		}
	}
}

func readCollectsSooner(t *testing.T, want string) {
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	seen := 0
	m := New(testSnapshot(), nil, Options{Now: clock, Store: gcSeenStore{streamStore{ids: manyIdentities(1000)}, &seen}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	next, count := startLoading(t, m)
	send(t, m, count())
	run(t, m, next, 0)
	if m.loading || m.st.pop.len() != 1000 {
		t.Fatalf("not all loaded: %d", m.st.pop.len())
	}
	if strconv.Itoa(seen) != want {
		t.Errorf("the read ran at GOGC %d, want %s", seen, want)
	}
	after := debug.SetGCPercent(-1)
	debug.SetGCPercent(after)
	if after != before {
		t.Errorf("after the read GOGC is %d, want the %d before it", after, before)
	}
}
