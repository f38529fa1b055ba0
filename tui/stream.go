package tui

import (
	"context"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/hugepages"
)

// identityStreamer is what a Store may offer besides Identities to read a
// large population in parts: the first screenful shows while the rest
// loads, and the header counts what has arrived (ARCHITECTURE.md, tui;
// issue 21). *audit.Store implements it (EachTableIdentity: the
// identities Identities returns, read as a merge of ranges on a goroutine
// of its own, with reused maps, which the row builder copies from); a
// Store that does not is read whole, as before.
type identityStreamer interface {
	IdentityCount(ctx context.Context) (int, error)
	EachTableIdentity(ctx context.Context, fn func(*audit.Identity) error) error
}

var _ identityStreamer = (*audit.Store)(nil)

// Batches start small, so the first screenful arrives after a few
// milliseconds of reading, and double up to maxBatch, so a filter or sort
// re-run per batch costs about twice one run over the whole population.
const (
	firstBatch = 256
	maxBatch   = 1 << 16
)

// identitiesBatchMsg is the next part of the population, in the store's
// order, read and encoded as rows (rows.go) in the background.
type identitiesBatchMsg struct {
	rows []idRow
	done bool // the last part: err says why it ended early
	err  error
	next tea.Cmd // receives the part after this one
	// names ranks the names of every row read, on the last part of a
	// complete read (nameorder.go).
	names *nameOrder
	// On the last part: readAt is the head of the log a complete read
	// from the store was made at (the log did not move while it ran), so
	// its table can be cached; cachedAt the head whose cached table the
	// rows are, and head where the log stood then (tablecache.go), with
	// patch the identities whose rows differ since (tablepatch.go).
	readAt, cachedAt, head *logPoint
	patch                  []string
}

// streamIdentities reads the population a batch at a time in the
// background and hands each batch to the event loop, waiting until it is
// taken: at most two batches are in flight. It stops with the session's
// context.
func (m *Model) streamIdentities(s identityStreamer, l *tableLoad) tea.Cmd {
	ctx, b := m.st.ctx, m.st.pop.b
	ch := make(chan identitiesBatchMsg, 1)
	var recv tea.Cmd
	recv = func() tea.Msg {
		select {
		case msg := <-ch:
			if !msg.done {
				msg.next = recv
			}
			return msg
		case <-ctx.Done():
			return nil
		}
	}
	sent := false // the first batch, which closes l.first
	send := func(msg identitiesBatchMsg) error {
		select {
		case ch <- msg:
			if !sent {
				sent = true
				close(l.first)
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return func() tea.Msg {
		go func() {
			head, known := l.before(ctx)
			if known {
				if c := cachedTableWith(ctx, l.dir, l.store, l.exceptions, head); c != nil {
					l.decided <- len(c.rows)
					sendCached(b, c, head, send)
					return
				}
			}
			if l.store != nil {
				l.decided <- -1 // the store counts
			}
			if l.itemsRead != nil {
				select {
				case <-l.itemsRead:
				case <-ctx.Done():
				}
			}
			send(deriveTable(ctx, s, l, b, head, known, true, send))
		}()
		return recv()
	}
}

// deriveTable reads the population from the store and encodes it into
// rows with b, handing them to send in batches (batcher). It returns the
// last batch, done, unsent: with the rows not yet sent, the names of
// every row ranked, and readAt when the read was whole and the log stood
// at head (known) before and after it, so the table may be cached at
// head. The TUI's load (streamIdentities) and PrepareTable both derive
// through it, so the table a command prepares is the one an open builds.
//
// With later, a store that can (laterSuggester) reads the table without
// owner suggestions, its rows pending (suggest.go): an open, whose user
// waits for the table; a command preparing the table derives them.
func deriveTable(ctx context.Context, s identityStreamer, l *tableLoad, b *rowBuilder, head logPoint, known, later bool, send func(identitiesBatchMsg) error) identitiesBatchMsg {
	defer collectSooner()()
	prepareHeap.Do(func() { heapPopulater.Store(hugepages.NewPopulater(hugepages.Prepare(readHeapPrepared))) })
	up := newBatcher(b, send)
	var err error
	if ls, ok := s.(laterSuggester); ok && later {
		err = ls.EachTableIdentityWithoutSuggestions(ctx, func(id *audit.Identity) error {
			id.Suggestions = pendingSuggestions
			return up.add(id)
		})
	} else {
		err = s.EachTableIdentity(ctx, up.add)
	}
	// The last rows go with the end of the read, and with the names of
	// every row ranked, when all were read.
	last := identitiesBatchMsg{rows: up.buf, done: true, err: err}
	if err == nil {
		last.names = up.names.order(up.n)
		if after, ok := l.before(ctx); known && ok && after == head {
			last.readAt = &head
		}
	}
	return last
}

// batcher encodes identities into rows and sends them in batches that
// start small, so the first screenful arrives after a few milliseconds
// of reading, and double up to maxBatch, so a filter or sort re-run per
// batch costs about twice one run over the whole population; from the
// 4,096th row on, each batch is whole chunks of rows (rowChunk).
type batcher struct {
	b     *rowBuilder
	send  func(identitiesBatchMsg) error
	buf   []idRow
	size  int
	names nameRanker // the names of the rows encoded, ranked batch by batch
	n     int        // rows encoded
}

func newBatcher(b *rowBuilder, send func(identitiesBatchMsg) error) *batcher {
	return &batcher{b: b, send: send, buf: make([]idRow, 0, firstBatch), size: firstBatch}
}

// add is EachTableIdentity's fn: the read calls it on a goroutine of its
// own, so the encoding into rows runs beside the derive of the next
// identities (audit's handOver), one call at a time.
func (u *batcher) add(id *audit.Identity) error {
	u.b.mu.Lock()
	r := u.b.encode(id)
	name, expected := u.b.t.strs.at(r.name), u.b.expected
	u.b.mu.Unlock()
	if expected > 0 {
		u.names.reserve(expected) // once counted
	}
	u.names.add(r.name, name)
	u.buf = append(u.buf, r)
	u.n++
	if len(u.buf) < u.size {
		return nil
	}
	// The next batch is as large as all before it (256, 256, 512, ...),
	// so from the 4,096th row on each starts on a chunk's boundary and
	// is whole chunks, which the population takes as they are
	// (population.appended) rather than copy a million rows into chunks
	// of its own (issue 21).
	u.size = min(u.n, maxBatch)
	left := -1 // not counted yet
	if expected > 0 {
		left = max(expected-u.n, 0)
	}
	return u.flush(left)
}

// flush ranks the names of what is encoded and sends it. The next
// batch's rows are allocated for the rows left to read (left, -1 until
// counted) when fewer than a batch: the population keeps the memory of
// a batch's whole chunks, the unused rest of the last one's too.
func (u *batcher) flush(left int) error {
	if len(u.buf) == 0 {
		return nil
	}
	u.names.seal()
	err := u.send(identitiesBatchMsg{rows: u.buf})
	size := u.size
	if left >= 0 {
		size = min(size, max(left, firstBatch))
	}
	u.buf = make([]idRow, 0, size)
	return err
}

// identitiesCountedMsg is how many identities the file holds, counted
// beside the read in batches: counting a million rows takes a while of
// its own, and the first rows do not wait for it.
type identitiesCountedMsg struct {
	n   int
	err error
}

// countIdentities counts the population while streamIdentities reads it:
// the store counts, unless the rows come from the table cache, once the
// first batch has gone: on two cores, a count of a million rows (a fifth
// of a CPU-second) beside the first page's read and derive held the
// first frame back. It waits for streamIdentities' command, which
// Bubble Tea runs beside it (a batch's commands run at once).
func (m *Model) countIdentities(s identityStreamer, l *tableLoad) tea.Cmd {
	ctx := m.st.ctx
	return func() tea.Msg {
		select {
		case n := <-l.decided:
			if n >= 0 {
				return identitiesCountedMsg{n: n}
			}
		case <-ctx.Done():
			return nil
		}
		select {
		case <-l.first:
		case <-ctx.Done():
			return nil
		}
		n, err := s.IdentityCount(ctx)
		return identitiesCountedMsg{n, err}
	}
}

// counted keeps the count for the header ("loading N of M"); without it
// the header says "loading N…".
func (m *Model) counted(msg identitiesCountedMsg) {
	if msg.err != nil {
		return
	}
	m.st.pop.b.expect(msg.n)
	m.st.loadTotal = msg.n
	m.layout()
}

// batchLoaded adds a part of the population: the table appears with the
// first identities and grows under the auditor's cursor.
func (m *Model) batchLoaded(msg identitiesBatchMsg) tea.Cmd {
	from := m.st.pop.len()
	if len(msg.rows) > 0 || msg.names != nil {
		m.st.pop = m.st.pop.appended(msg.rows, msg.names)
	}
	m.loading = !msg.done
	var cmd tea.Cmd
	switch {
	case msg.err != nil && m.st.pop.len() == 0:
		e := newEmptyView(m.st.snap)
		e.message = "The identities could not be read: " + audit.Printable(msg.err.Error())
		m.stack[0] = e
	case msg.err != nil:
		m.readShort = true
		// What arrived stays on screen; the gap is said, never hidden.
		read := plural(m.st.pop.len(), "identity", "identities")
		if m.st.loadTotal > 0 {
			read = commas(m.st.pop.len()) + " of " + plural(m.st.loadTotal, "identity", "identities")
		}
		m.setFlash("Stopped reading after "+read+": "+audit.Printable(msg.err.Error())+". Quit and open the file again to read them all.", true)
	case m.ids == nil && m.st.pop.len() > 0:
		m.ids = newIdentitiesView(m.st)
		m.stack[0] = m.ids
	case m.ids == nil && msg.done:
		m.stack[0] = newEmptyView(m.st.snap)
	}
	if m.ids != nil && from > 0 && m.st.pop.len() > from {
		cmd = m.broadcast(populationGrewMsg{from: from})
	}
	if msg.done && msg.err == nil {
		cmd = tea.Batch(cmd, m.tableCacheDone(msg))
	}
	if msg.done && m.st.pop.manySources() {
		// Each source has its own snapshot: read them, so the header can
		// sum what each could not read (as a whole load does).
		cmd = tea.Batch(cmd, m.loadSnapshots())
	}
	m.layout()
	if msg.next != nil {
		return tea.Batch(cmd, msg.next)
	}
	return cmd
}

// populationGrewMsg says identities from position from on were appended to
// st.pop while it loads: an unfiltered, unsorted table appends their rows,
// any other recomputes its rows.
type populationGrewMsg struct{ from int }

// readHeapPrepared is how much of the heap the first read of the table
// in a process prepares to fault in huge pages (internal/hugepages): a
// million identities fill some 550 MB of heap as they load, and with the
// first 512 MiB of it in huge pages their table was ready a median 0.75 s
// and 1.26 CPU-s sooner on the machine it is measured on
// (docs/performance.md). It is address space, not memory: only what the
// read touches is resident.
const readHeapPrepared = 512 << 20

var prepareHeap sync.Once

// heapPopulater faults in the heap prepared for the first read
// (readHeapPrepared) ahead of it, as far as populateHeap lets it
// (hugepages.Populater); nil until that read begins.
var heapPopulater atomic.Pointer[hugepages.Populater]

// populateHeap lets the heap populater fault in n bytes of the prepared
// heap: the rows' builder, once it has encoded its first rows and knows
// how many will come (rowBuilder.reserve), says how many bytes the rows
// will hold, so a read populates no more than it will touch anyway.
// A variable, so a test sees what a read allows.
var populateHeap = func(n int) {
	if p := heapPopulater.Load(); p != nil {
		p.Allow(n)
	}
}

// readGCPercent is the collector's GOGC while a table is read from the
// store (deriveTable), unless the user set GOGC: the heap grows to half
// again what is live, not twice, before the collector runs. Each page
// of memory the process has not touched before costs a page fault, and
// the largest part of a read's garbage is the driver's copy of each
// page's text, which takes fresh memory until the collector runs: on the
// sample of a million the process had touched some 660 MB when the
// table was ready, 155,000 faults, a quarter of the open's CPU or more
// on the virtual machine it is measured on. At 50 it had touched
// 560–600 MB, some 20,000 faults fewer, for some ten collections more
// (23 to the table ready where 13), most over a small heap: the table
// ready 0.35 to 0.55 CPU-s sooner (docs/performance.md, "Where the open
// with no cache goes"). The owner suggestions after it are derived at
// the GOGC before, and touch the pages the read did not: the faults
// move after the table, the peak is the same. With the read's heap in
// huge pages (readHeapPrepared) a fault is 2 MiB, but the kernel still
// zeroes each page the process touches first, and 50 readied the table
// no later than 30 and sooner than 100.
const readGCPercent = 50

var readGC struct {
	sync.Mutex
	reads  int // deriveTable calls under way
	before int // GOGC before the first of them
}

// collectSooner sets readGCPercent for a read of the table, unless the
// user set GOGC, and returns what sets the GOGC before it back once the
// last read under way ends.
func collectSooner() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	readGC.Lock()
	defer readGC.Unlock()
	if readGC.reads == 0 {
		readGC.before = debug.SetGCPercent(readGCPercent)
	}
	readGC.reads++
	return func() {
		readGC.Lock()
		defer readGC.Unlock()
		if readGC.reads--; readGC.reads == 0 {
			// A GOGC set meanwhile (debug.SetGCPercent) stays.
			if now := debug.SetGCPercent(readGC.before); now != readGCPercent {
				debug.SetGCPercent(now)
			}
		}
	}
}
