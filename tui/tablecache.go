package tui

// The table cache (issue 21): the population the TUI builds is a pure
// function of the store's content, every change to that content is an
// event in the hash-chained log, and findings are evaluated at each
// snapshot's own time, not at the wall clock. So the compact rows of a
// complete read (rows.go) are kept in a file keyed by the log's head, and
// the next open of the same evidence reads them back rather than deriving
// a million identities again. It is a cache of what the TUI derived,
// never evidence: nothing but the TUI reads it, and the evidence file is
// never written for it (a --readonly session keeps one too).
//
// A cache file is used only when everything in its header matches: the
// format, the executable that wrote it (a different build may derive
// differently), the log's first event, and a head on this log's chain;
// its checksum must hold and its sections must be whole. Anything else
// is a miss: the table is read from the store as without a cache, and
// the file is replaced once that read is complete. A cache of an older
// head is used when every event since is one that changes no row but
// owners (ownersOnly), or a decision, an undo, an approval or a close
// that names few identities (tablepatch.go): the rows are loaded, then
// the rows of the identities whose owner changed since, and of those the
// decisions can change, are re-derived as a live owner change re-derives
// them (Model.reload) and replaced; once they are all in, the patched
// table is written as the cache of the head it now matches.

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// tableCacheStore is what the cache reads of the store: the log's head,
// an event by seq (the log's first, and the one at a cached head), the
// types of the events since a cached head, and whom they changed: the
// owners set, and the events that name identities (tablepatch.go).
// *audit.Store implements it on both engines.
type tableCacheStore interface {
	LogHead(ctx context.Context) (audit.Event, error)
	EventAt(ctx context.Context, seq int64) (audit.Event, error)
	EventTypesSince(ctx context.Context, seq int64) ([]string, error)
	EventTypesTo(ctx context.Context, seq int64) (types []string, head int64, err error)
	OwnersChangedSince(ctx context.Context, seq, upTo int64) ([]string, error)
	EventsSince(ctx context.Context, seq, upTo int64, types []string, fn func(audit.Event) error) error
	Aliases(ctx context.Context) (map[string]string, error)
}

var _ tableCacheStore = (*audit.Store)(nil)

// logPoint is a point of an event log: the hash of its first event (which
// log) and the seq and hash of an event (how far).
type logPoint struct {
	genesis string
	seq     int64
	hash    string
}

// ownersOnly are the event types after which a table differs from the one
// cached before them in owners only, and in the findings that follow an
// owner, which rowsSince names. Checked against what the table
// derives from (audit/query.go: statuses, renames, owners, marks,
// suggestions, findings under the policy, the directory of people, the
// members and the standing exceptions): a note is read by the detail
// only; a campaign's creation (an offboarding's too) records undecided
// items; a removal check (campaign.verify) its verification columns; a
// refusal nothing; an escalation reviewers. A decision, an undo, an
// approval or a close can start or end an exception (its lapse is the
// exception-expired finding, campaigns/exceptions.go): those name whom
// they change, and patch those rows (tablepatch.go). Snapshots, people
// and policy change anything: those, and types neither list knows, make
// a full read.
var ownersOnly = map[string]bool{
	audit.EventOwnerSet: true,
	audit.EventNoteAdd:  true,
	"campaign.create":   true, // campaigns.EventCreate
	"offboard.create":   true, // campaigns.EventOffboard
	"campaign.verify":   true, // campaigns.EventVerify
	"decision.refused":  true,
	"decision.escalate": true, // campaigns.EventEscalate
}

// Format of a cache file: the magic, the version, a header (the key and
// the sections' lengths), the sections, and a CRC-32C of everything after
// the magic.
const (
	tableCacheMagic   = "NHITABLE"
	tableCacheVersion = 5 // 3: a run of pairs never straddles a pairStore chunk; 4: suggestions are runs of pairs; 5: a row's may be pending (suggPending)
	tableCacheExt     = ".table"
	// tableCacheKeep is how many files a log keeps (its newest heads).
	tableCacheKeep = 2
	maxHeaderLen   = 1 << 16
)

// tableCacheWrites is the format written: tableCacheVersion, but for a
// test of a file of the format before.
var tableCacheWrites uint64 = tableCacheVersion

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sections of a cache file, in order.
const (
	secOffsets  = iota // uint32 offsets of the texts in secText, one more than texts
	secText            // the texts' bytes, one after the other
	secInterned        // bit i: text i is in the intern index (rowBuilder.strIdx)
	secPairs           // tables.pairs
	secFinds           // tables.finds
	secRows            // the rows, in the population's order
	secNameIdx         // nameOrder.idx
	secNameTie         // nameOrder.tie
	secOther           // fkinds and repeats, encoded (tableEncoder)
	nSections
)

// codeIdentity says which executable derives: its path, size and
// modification time. "" when it cannot be told: then no cache is used.
var codeIdentity = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return codeIdentityOf(exe)
})

// codeIdentityOf is codeIdentity of the executable at exe.
func codeIdentityOf(exe string) string {
	fi, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return exe + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
}

// tableCacheName is the file of the table at head p in dir.
func tableCacheName(dir string, p logPoint) string {
	return filepath.Join(dir, logName(p.genesis)+"-"+fmt.Sprintf("%016d", p.seq)+tableCacheExt)
}

// logName names a log in file names: a digest of its first event's hash.
func logName(genesis string) string {
	sum := sha256.Sum256([]byte(genesis))
	return hex.EncodeToString(sum[:8])
}

// cachedHeads is the heads whose tables dir holds for the log of genesis,
// newest first, as file paths.
func cachedHeads(dir, genesis string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, logName(genesis)+"-*"+tableCacheExt))
	slices.Sort(files) // the seq is zero-padded
	slices.Reverse(files)
	return files
}

// tableCache is what a complete population needs to be read back: the
// tables its rows index, the rows, the names' ranking, and what rebuilds
// the builder's intern index.
type tableCache struct {
	at logPoint
	t  tables
	// rows are the rows read; chunks, n the rows to write (population).
	rows     []idRow
	chunks   [][]idRow
	n        int
	interned []uint64
	repeats  []classRepeats
	names    *nameOrder
	// patch is, for a table of an older head, the identities whose rows
	// are re-derived once it is loaded (rowsSince).
	patch []string
}

// classRepeats is a repeatCount of class.
type classRepeats struct {
	class   uint32
	n, know int64
}

// snapshotTable is what p holds, for writing as the table at head at.
// The intern index is read under the builder's lock.
func snapshotTable(p *population, at logPoint) *tableCache {
	c := &tableCache{at: at, t: p.t, names: p.names, chunks: p.chunks, n: p.n}
	n := c.t.strs.len()
	c.interned = make([]uint64, (n+63)/64)
	b := p.b
	b.mu.Lock()
	if b.unindexed != nil {
		// Nothing encoded since the cache was read: its texts are.
		copy(c.interned, b.unindexed)
	}
	if b.strIdx != nil {
		b.strIdx.each(func(i uint32) {
			if int(i) < n {
				c.interned[i/64] |= 1 << (i % 64)
			}
		})
	}
	for class, r := range b.repeats {
		c.repeats = append(c.repeats, classRepeats{class, int64(r.n), int64(r.known)})
	}
	b.mu.Unlock()
	slices.SortFunc(c.repeats, func(x, y classRepeats) int { return cmp.Compare(x.class, y.class) })
	return c
}

// restore makes c's tables b's. Its indexes over them are rebuilt by the
// first row encoded (index), so the rows encoded from now on (a patch, a
// live owner change) intern into the same texts: counts by text (tally)
// do not split. Not here: the maps of a million identities' texts and
// suggestion lists took a sixth of a cached open's CPU before its first
// frame, and most opens encode no row.
func (b *rowBuilder) restore(c *tableCache) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t = c.t
	b.unindexed = c.interned
	if b.unindexed == nil {
		b.unindexed = []uint64{} // no text interned, yet not indexed
	}
	b.strIdx, b.fkIdx, b.suggIdx = nil, nil, nil
	b.repeats = make(map[uint32]*repeatCount, len(c.repeats))
	b.fixedRepeats = [nFixedClasses]*repeatCount{} // they are repeats' again
	for _, r := range c.repeats {
		b.repeats[r.class] = &repeatCount{n: int(r.n), known: int(r.know)}
	}
	b.encoded, b.expected, b.reserved = len(c.rows), len(c.rows), true
	b.last, b.lastAttr, b.lastPerm, b.lastMsg = [nLastFields]lastText{}, pairRun{}, pairRun{}, nil
	b.lastSugg, b.lastList = pairRun{}, nil
	b.block = nil
}

// index builds the indexes restore left to build, over the tables as
// restore left them (nothing is encoded before); the caller holds b.mu.
func (b *rowBuilder) index() {
	if b.unindexed == nil {
		return
	}
	n := 0
	for _, word := range b.unindexed {
		n += bits.OnesCount64(word)
	}
	b.strIdx = newTextIndex(n)
	for w, word := range b.unindexed {
		for word != 0 {
			k := uint32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			b.strIdx.put(&b.t.strs, b.t.strs.at(k), k)
		}
	}
	b.fkIdx = make(map[findingKind]uint32, len(b.t.fkinds))
	for i, k := range b.t.fkinds {
		b.fkIdx[k] = uint32(i)
	}
	b.suggIdx = map[uintptr]pairRun{} // keyed by the store's lists, which a cache has none of
	b.unindexed = nil
}

// bytesOf is the memory of s as bytes: a cache file is read by the
// executable that wrote it (codeIdentity), so rows are written and read
// as they lie in memory.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// writeTableCache writes c into dir, as a temporary file renamed in
// place (locked until then: tablecache_temp.go), and removes the log's
// older files but the newest tableCacheKeep, and the temporary files of
// writers that are gone.
func writeTableCache(ctx context.Context, dir string, c *tableCache) error {
	code := codeIdentity()
	if code == "" {
		return errors.New("the executable cannot be identified")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := createTableTemp(dir)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer f.Close()
	defer os.Remove(tmp) // gone once renamed
	if err := c.write(ctx, f, code); err != nil {
		return err
	}
	// Renamed while the lock is held, so no removeDeadWrites takes it.
	if err := os.Rename(tmp, tableCacheName(dir, c.at)); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	heads := cachedHeads(dir, c.at.genesis)
	for _, old := range heads[min(tableCacheKeep, len(heads)):] {
		os.Remove(old)
	}
	removeDeadWrites(dir)
	return nil
}

func (c *tableCache) write(ctx context.Context, f io.Writer, code string) error {
	offs := make([]uint32, c.t.strs.len()+1)
	var total uint64
	for i := range c.t.strs.len() {
		total += uint64(c.t.strs.ref(uint32(i)).n)
		if total > math.MaxUint32 {
			return errors.New("too much text for a cache file")
		}
		offs[i+1] = uint32(total)
	}
	var other tableEncoder
	other.u64(uint64(len(c.t.fkinds)))
	for _, k := range c.t.fkinds {
		other.str(k.rule)
		other.str(k.severity)
		other.str(k.owasp)
	}
	other.u64(uint64(len(c.repeats)))
	for _, r := range c.repeats {
		other.u64(uint64(r.class))
		other.u64(uint64(r.n))
		other.u64(uint64(r.know))
	}
	var nameIdx []uint32
	var nameTie []uint64
	hasNames := c.names != nil && c.names.rows == c.n
	if hasNames {
		nameIdx, nameTie = c.names.idx, c.names.tie
	}
	var lens [nSections]uint64
	lens[secOffsets] = uint64(len(bytesOf(offs)))
	lens[secText] = total
	lens[secInterned] = uint64(len(bytesOf(c.interned)))
	lens[secPairs] = uint64(c.t.pairs.n) * 4
	lens[secFinds] = uint64(len(bytesOf(c.t.finds)))
	lens[secRows] = uint64(c.n) * uint64(unsafe.Sizeof(idRow{}))
	lens[secNameIdx] = uint64(len(bytesOf(nameIdx)))
	lens[secNameTie] = uint64(len(bytesOf(nameTie)))
	lens[secOther] = uint64(len(other.b))

	var h tableEncoder
	h.u64(tableCacheWrites)
	h.str(code)
	h.str(c.at.genesis)
	h.u64(uint64(c.at.seq))
	h.str(c.at.hash)
	h.u64(uint64(c.n))
	if hasNames {
		h.u64(1)
	} else {
		h.u64(0)
	}
	for _, n := range lens {
		h.u64(n)
	}

	w := bufio.NewWriterSize(f, 1<<20)
	crc := crc32.New(castagnoli)
	out := &countingWriter{w: io.MultiWriter(w, crc), n: uint64(len(tableCacheMagic))}
	if _, err := w.WriteString(tableCacheMagic); err != nil {
		return err
	}
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(h.b)))
	out.write(n[:])
	out.write(h.b)
	// Each section starts on a multiple of 8 (align8).
	out.pad()
	out.write(bytesOf(offs))
	out.pad()
	for i := range c.t.strs.len() {
		s := c.t.strs.at(uint32(i))
		out.write(unsafe.Slice(unsafe.StringData(s), len(s)))
		if i%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	out.pad()
	out.write(bytesOf(c.interned))
	out.pad()
	for p := range c.t.pairs.entries {
		out.write(bytesOf(p))
	}
	out.pad()
	out.write(bytesOf(c.t.finds))
	out.pad()
	for k := 0; k < c.n; k += rowChunk {
		out.write(bytesOf(c.chunks[k/rowChunk][:min(rowChunk, c.n-k)]))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for _, p := range [][]byte{bytesOf(nameIdx), bytesOf(nameTie), other.b} {
		out.pad()
		out.write(p)
	}
	out.pad()
	if out.err != nil {
		return out.err
	}
	binary.LittleEndian.PutUint32(n[:], crc.Sum32())
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	return w.Flush()
}

// countingWriter writes to w, counting the bytes from the file's start;
// err is the first write's error, after which it writes nothing.
type countingWriter struct {
	w   io.Writer
	n   uint64
	err error
}

func (c *countingWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	var k int
	k, c.err = c.w.Write(b)
	c.n += uint64(k)
}

// pad writes zeros up to the next multiple of 8.
func (c *countingWriter) pad() {
	var zeros [8]byte
	c.write(zeros[:align8(c.n)-c.n])
}

// errStale is a cache file that does not hold this log's table at a head
// it can use.
var errStale = errors.New("not this log's table")

// align8 is n rounded up to a multiple of 8: every section starts there,
// so a mapped file's sections are read in place as the types they hold.
func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// readTableCache reads the table cached at path, if it is one of head's
// log at head or at an ancestor of it that onChain tells is usable. The
// file is mapped into memory where the system can (mapFile): the texts,
// the rows and the tables of pairs and findings stay views into it,
// read-only (what changes is copied first: appends reallocate, a changed
// row's chunk is copied, population.withRows).
func readTableCache(path string, head logPoint, onChain func(seq int64, hash string) bool) (*tableCache, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	c, err := parseTableCache(data, head, onChain)
	if err != nil {
		unmap()
		return nil, err
	}
	return c, nil
}

// parseTableCache is the table data holds (a cache file's bytes).
func parseTableCache(data []byte, head logPoint, onChain func(seq int64, hash string) bool) (*tableCache, error) {
	lm := len(tableCacheMagic)
	if len(data) < lm+4+4 || string(data[:lm]) != tableCacheMagic {
		return nil, errors.New("not a table cache")
	}
	hlen := uint64(binary.LittleEndian.Uint32(data[lm:]))
	if hlen > maxHeaderLen || uint64(len(data)) < uint64(lm)+4+hlen {
		return nil, errors.New("header cut short")
	}
	h := tableDecoder{b: data[lm+4 : uint64(lm)+4+hlen]}
	version, code, genesis := h.u64(), h.str(), h.str()
	at := logPoint{genesis: genesis, seq: int64(h.u64()), hash: h.str()}
	nrows, hasNames := h.u64(), h.u64() == 1
	var secs [nSections][]byte
	off := align8(uint64(lm) + 4 + hlen)
	var lens [nSections]uint64
	for i := range lens {
		lens[i] = h.u64()
	}
	for i, n := range lens {
		if off+n < off || off+n > uint64(len(data)) {
			return nil, errors.New("truncated")
		}
		secs[i] = data[off : off+n : off+n]
		off = align8(off + n)
	}
	switch {
	case h.err != nil:
		return nil, h.err
	case version != tableCacheVersion && version != 4:
		// Format 4 is 5 with every row's suggestions derived (no row
		// suggPending): read as it is.
		return nil, fmt.Errorf("format %d, not %d", version, tableCacheVersion)
	case code != codeIdentity():
		return nil, errors.New("written by another executable")
	case genesis != head.genesis:
		return nil, errStale
	case at.seq > head.seq || at.seq == head.seq && at.hash != head.hash:
		return nil, errStale
	case uint64(len(data)) != off+4:
		return nil, errors.New("truncated")
	case at.seq < head.seq && !onChain(at.seq, at.hash):
		return nil, errStale
	}
	if crc32.Checksum(data[lm:off], castagnoli) != binary.LittleEndian.Uint32(data[off:]) {
		return nil, errors.New("checksum mismatch")
	}
	c := &tableCache{at: at}
	offs, err1 := viewOf[uint32](secs[secOffsets])
	text := secs[secText]
	interned, err2 := viewOf[uint64](secs[secInterned])
	pairs, err3 := viewOf[uint32](secs[secPairs])
	finds, err4 := viewOf[findingRef](secs[secFinds])
	rows, err5 := viewOf[idRow](secs[secRows])
	nameIdx, err6 := viewOf[uint32](secs[secNameIdx])
	nameTie, err7 := viewOf[uint64](secs[secNameTie])
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return nil, err
	}
	c.interned, c.t.pairs, c.t.finds, c.rows = interned, viewPairs(pairs), finds, rows
	if uint64(len(rows)) != nrows || len(offs) == 0 || uint64(offs[len(offs)-1]) != uint64(len(text)) ||
		len(interned) != (len(offs)-1+63)/64 || len(nameTie) != (len(nameIdx)+63)/64 {
		return nil, errors.New("sections do not agree")
	}
	if hasNames {
		c.names = &nameOrder{idx: nameIdx, tie: nameTie, rows: len(rows)}
	}
	// The texts are views into the file's bytes, as the builder's are
	// into its blocks; the texts a patch or a live owner change encodes
	// (an ID, a finding's message) go to the last chunk of references'
	// room, or a new chunk (textStore.add), and to a block of their own.
	c.t.strs = textStore{blocks: [][]byte{text}}
	for i := range len(offs) - 1 {
		if a, b := offs[i], offs[i+1]; b >= a {
			c.t.strs.add(textRef{0, a, b - a})
		} else {
			return nil, errors.New("texts out of order")
		}
	}
	if c.t.strs.len() < len(fixedTexts) {
		return nil, errors.New("not this build's texts")
	}
	for i, s := range fixedTexts {
		if c.t.strs.at(uint32(i)) != s {
			return nil, errors.New("not this build's texts")
		}
	}
	other := secs[secOther]
	d := tableDecoder{b: other}
	c.t.fkinds = make([]findingKind, min(d.u64(), uint64(len(other))))
	for i := range c.t.fkinds {
		c.t.fkinds[i] = findingKind{d.str(), d.str(), d.str()}
	}
	c.repeats = make([]classRepeats, min(d.u64(), uint64(len(other))))
	for i := range c.repeats {
		c.repeats[i] = classRepeats{uint32(d.u64()), int64(d.u64()), int64(d.u64())}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errors.New("sections do not agree")
	}
	return c, nil
}

// viewOf is b's bytes as Ts, in place (its length and capacity alike,
// so an append never writes into the file's memory).
func viewOf[T any](b []byte) ([]T, error) {
	var z T
	size := int(unsafe.Sizeof(z))
	if len(b)%size != 0 {
		return nil, errors.New("a section's length is not whole")
	}
	if len(b) == 0 {
		return nil, nil
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(z) != 0 {
		return nil, errors.New("a section out of line")
	}
	n := len(b) / size
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)[:n:n], nil
}

// tableEncoder writes numbers and texts of a header or the other section.
type tableEncoder struct{ b []byte }

func (e *tableEncoder) u64(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *tableEncoder) str(s string) {
	e.u64(uint64(len(s)))
	e.b = append(e.b, s...)
}

// tableDecoder reads what tableEncoder wrote; err says it ran short.
type tableDecoder struct {
	b   []byte
	err error
}

func (d *tableDecoder) u64() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("short section")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *tableDecoder) str() string {
	n := d.u64()
	if n > uint64(len(d.b)) {
		d.err = errors.New("short section")
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// cachedTable is the table of the newest usable file of dir for the
// store's log as it stands (head), or nil: no file, or none usable. A
// close since makes a full read (cachedTableWith lists its exceptions).
func cachedTable(ctx context.Context, dir string, s tableCacheStore, head logPoint) *tableCache {
	return cachedTableWith(ctx, dir, s, nil, head)
}

// cachedTableWith is cachedTable, with x to list the exceptions of a
// campaign closed since (nil: none can be).
func cachedTableWith(ctx context.Context, dir string, s tableCacheStore, x ExceptionLister, head logPoint) *tableCache {
	removeDeadWrites(dir) // what a TUI killed while it wrote left
	var patch []string
	onChain := func(seq int64, hash string) bool {
		ev, err := s.EventAt(ctx, seq)
		if err != nil || ev.Hash != hash {
			return false
		}
		patch, err = rowsSince(ctx, s, x, seq, head.seq, nil, patchMax)
		return err == nil
	}
	for _, path := range cachedHeads(dir, head.genesis) {
		patch = nil
		c, err := readTableCache(path, head, onChain)
		if err == nil {
			c.patch = patch
			return c
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// logPointOf is where the store's log stands: its first event and its
// head; ok is false for an empty log or a store that cannot say.
func logPointOf(ctx context.Context, s tableCacheStore) (logPoint, bool) {
	head, err := s.LogHead(ctx)
	if err != nil || head.Seq == 0 {
		return logPoint{}, false
	}
	first, err := s.EventAt(ctx, 1)
	if err != nil {
		return logPoint{}, false
	}
	return logPoint{genesis: first.Hash, seq: head.Seq, hash: head.Hash}, true
}

// tableCacheState is the table cache's part of a Model.
type tableCacheState struct {
	// writeCtx stops a write under way (Run's context: a quit waits for
	// the write, an interrupt does not); writes is the writes under way.
	writeCtx context.Context
	writes   sync.WaitGroup
	// read is the head whose cached table the population was read from,
	// nil when it was read from the store; patched says the rows changed
	// since were re-derived (tablepatch.go), pending the head the table
	// will match once they are all in, to be written as its cache.
	read    *logPoint
	patched bool
	pending *logPoint
	// wrote is the last write's outcome: a cache that cannot be written
	// is said nowhere but here (tests), the table is right without it.
	wroteMu sync.Mutex
	wrote   error
}

// tableLoad is one load of the table: where the cache is, and how the
// count learns that the rows come from it (decided: their number, or -1)
// and when the first batch has gone to the event loop (first, closed).
type tableLoad struct {
	dir        string
	store      tableCacheStore // nil: no cache
	exceptions ExceptionLister // nil: a close since makes a full read
	decided    chan int
	first      chan struct{}
	// itemsRead, when not nil, is closed once the campaign picked has
	// its items read, which a table derived from the store waits for
	// (Init).
	itemsRead chan struct{}
}

// tableLoad is the load Init starts.
func (m *Model) tableLoad() *tableLoad {
	l := newTableLoad(m.st.store, m.opts.TableCache)
	if l.store != nil {
		l.exceptions, _ = m.st.reviewer.(ExceptionLister)
	}
	return l
}

// newTableLoad is a load of store's table with its cache in dir ("":
// none), with no ExceptionLister (a close since a cached head makes a
// full read; the Model's load sets the reviewer's).
func newTableLoad(store Store, dir string) *tableLoad {
	l := &tableLoad{dir: dir, decided: make(chan int, 1), first: make(chan struct{})}
	if s, ok := store.(tableCacheStore); ok && l.dir != "" && codeIdentity() != "" {
		l.store = s
	} else {
		l.decided <- -1 // the store counts, at once
	}
	return l
}

// before is where the log stands; false without a cache.
func (l *tableLoad) before(ctx context.Context) (logPoint, bool) {
	if l.store == nil {
		return logPoint{}, false
	}
	return logPointOf(ctx, l.store)
}

// sendCached hands c's rows to the event loop as a read from the store
// hands its own (identitiesBatchMsg, in batches that double), once the
// builder holds c's tables; the log stood at head.
func sendCached(b *rowBuilder, c *tableCache, head logPoint, send func(identitiesBatchMsg) error) {
	b.restore(c)
	// Batches of whole chunks, so the population takes the rows as they
	// lie in the file (population.appended).
	rows, size := c.rows, rowChunk
	for len(rows) > size {
		if send(identitiesBatchMsg{rows: rows[:size:size]}) != nil {
			return
		}
		rows, size = rows[size:], min(2*size, maxBatch)
	}
	at := c.at
	send(identitiesBatchMsg{rows: rows, done: true, names: c.names, cachedAt: &at, head: &head, patch: c.patch})
}

// writeCache writes the population as the table at head at, off the
// event loop, recording the outcome in m.cache.wrote; with s, only if
// the log still stands at at when the write begins (a patched table,
// which the log may have moved past while its rows were re-derived).
func (m *Model) writeCache(at logPoint, s tableCacheStore) {
	pop, dir, ctx := m.st.pop, m.opts.TableCache, m.cache.writeCtx
	m.cache.writes.Add(1)
	go func() {
		defer m.cache.writes.Done()
		if s != nil {
			if now, ok := logPointOf(ctx, s); !ok || now != at {
				return
			}
		}
		err := writeTableCache(ctx, dir, snapshotTable(pop, at))
		m.cache.wroteMu.Lock()
		m.cache.wrote = err
		m.cache.wroteMu.Unlock()
	}()
}

// tableCacheDone follows a complete load: a read from the store is
// written to the cache, off the event loop; a table read from a cache of
// an older head has the rows changed since re-derived (patchTable).
func (m *Model) tableCacheDone(msg identitiesBatchMsg) tea.Cmd {
	switch {
	case msg.readAt == nil || m.readShort:
	case m.st.pop.unsuggested > 0:
		// Cached once the owner suggestions are in (suggest.go), so the
		// next open has them, if the log still stands at the read's head.
		m.sugg.cacheAt = msg.readAt
	default:
		m.writeCache(*msg.readAt, nil)
	}
	if msg.cachedAt == nil {
		return nil
	}
	m.cache.read = msg.cachedAt
	if m.st.head == 0 {
		// What the watch re-reads next is what comes after this head.
		m.st.head = msg.head.seq
	}
	if msg.cachedAt.seq == msg.head.seq {
		return nil
	}
	m.cache.patched = true
	return m.patchTable(*msg.head, msg.patch)
}
