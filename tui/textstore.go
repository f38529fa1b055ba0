package tui

import "unsafe"

// The texts and the runs of pairs that rows refer to (rows.go): stores
// that grow by chunks and hold no pointer per text, so the garbage
// collector does not visit what a million rows refer to (issue 21).

// textStore holds a population's texts: their bytes in large blocks,
// each text a reference to its block, offset and length. The references
// hold no pointer, so the garbage collector does not visit them: as
// three million strings into the blocks, every collection while a
// million identities loaded followed each of them (three million
// strings into blocks took a quarter of a second a collection on the
// shared 2-core machine, as many references a hundredth), and the load
// runs a dozen collections under the heap limit (issue 21).
type textStore struct {
	// refs are the references, in chunks of refChunk, each allocated
	// whole and filled in place, so the store grows by a chunk rather
	// than copying three million references by doubling; n is how many
	// are used.
	refs [][]textRef
	n    uint32
	// blocks are the texts' bytes: the builder's blocks of blockSize,
	// a long text's own, a cache file's text section. Once added, a
	// block's header is never written again (the builder fills the
	// block's bytes after those taken), so a population version reads
	// its texts while a newer one adds more.
	blocks [][]byte
}

// textRef is where a text lies in textStore.blocks.
type textRef struct{ block, off, n uint32 }

// refChunk is how many references a chunk holds (768 KB).
const (
	refChunkBits = 16
	refChunk     = 1 << refChunkBits
)

// len is how many texts the store holds.
func (t *textStore) len() int { return int(t.n) }

// ref is the i-th text's reference.
func (t *textStore) ref(i uint32) textRef { return t.refs[i>>refChunkBits][i&(refChunk-1)] }

// add adds the reference of a text and returns its index.
func (t *textStore) add(r textRef) uint32 {
	i := t.n
	if int(i>>refChunkBits) == len(t.refs) {
		t.refs = append(t.refs, make([]textRef, refChunk))
	}
	t.refs[i>>refChunkBits][i&(refChunk-1)] = r
	t.n++
	return i
}

// in is the text of n bytes at off in block b.
func (t *textStore) in(b, off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(t.blocks[b][off:off+n]), n)
}

// at is the i-th text.
func (t *textStore) at(i uint32) string {
	if i >= t.n {
		panic("text index out of range")
	}
	r := t.ref(i)
	if r.n == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(t.blocks[r.block][r.off:r.off+r.n]), r.n)
}

// pairStore holds the runs of (key, value) pairs of attributes and
// permissions: key, value, key, value, ... as text indices. Its entries
// are numbered as one array, kept in chunks of pairChunk entries that a
// run never straddles, so it grows by adding a chunk, never by copying
// what it holds: a million identities bring ten million entries or more,
// and a slice grown by doubling was copied, and its old arrays collected,
// three times in the last fifth of a first open, when the rows bring more
// pairs than the first rows foretold (issue 21). A chunk the builder
// allocates is pairChunk long; one read from a cache file is a view of
// the file as long as the entries it holds, which the builder never
// writes to (it starts a chunk of its own: add).
type pairStore struct {
	chunks [][]uint32
	n      uint32 // entries numbered: the next run starts here or on the next chunk
}

// pairChunk is how many entries a chunk holds (1 MB): at least the
// longest run, math.MaxUint16 pairs.
const (
	pairChunkBits = 18
	pairChunk     = 1 << pairChunkBits
)

// run is the n pairs from entry at.
func (p *pairStore) run(at uint32, n uint16) []uint32 {
	if n == 0 {
		return nil
	}
	c, off := p.chunks[at>>pairChunkBits], at&(pairChunk-1)
	return c[off : off+2*uint32(n)]
}

// add makes room for n pairs and returns where they start and the room
// to fill: the rest of the last chunk when it has room and is the
// builder's, else a new chunk.
func (p *pairStore) add(n int) (uint32, []uint32) {
	at := p.n
	c, off := int(at>>pairChunkBits), int(at&(pairChunk-1))
	if c >= len(p.chunks) || off+2*n > len(p.chunks[c]) {
		c, off = len(p.chunks), 0
		p.chunks = append(p.chunks, make([]uint32, pairChunk))
		at = uint32(c) << pairChunkBits
	}
	p.n = at + 2*uint32(n)
	return at, p.chunks[c][off : off+2*n]
}

// entries yields the store's entries as one array would hold them, a
// chunk at a time: the room a chunk left unused is zeros.
func (p *pairStore) entries(yield func([]uint32) bool) {
	var zeros []uint32
	for i, c := range p.chunks {
		start := uint32(i) << pairChunkBits
		if i == len(p.chunks)-1 {
			yield(c[:p.n-start])
			return
		}
		if !yield(c) {
			return
		}
		if len(c) < pairChunk {
			if zeros == nil {
				zeros = make([]uint32, pairChunk)
			}
			if !yield(zeros[:pairChunk-len(c)]) {
				return
			}
		}
	}
}

// viewPairs is the store whose entries are e (a cache file's), cut into
// chunks that are views of it with no room to append to.
func viewPairs(e []uint32) pairStore {
	p := pairStore{n: uint32(len(e))}
	for start := 0; start < len(e); start += pairChunk {
		end := min(start+pairChunk, len(e))
		p.chunks = append(p.chunks, e[start:end:end])
	}
	return p
}
