package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"maps"
	"slices"
)

// recordSet is what a SnapshotWriter remembers of each observation it
// recorded: the identity's ID, so a repeat is kept once, and the digest of
// its canonical row, for the snapshot's digest. Kept in a
// map[string][32]byte, a million of them (issue 21) made the garbage
// collector walk a million strings on every cycle of the run; here the IDs
// lie back to back in chunks of bytes, every part is free of pointers, so
// the collector never looks inside, and nothing written is copied again:
// one growing slice of a million records spent 3 s in its copies.
type recordSet struct {
	seed  maphash.Seed
	ids   [][]byte   // the IDs back to back, in chunks of idChunk bytes (or one ID's length)
	recs  [][]record // in chunks of recordChunk
	n     int
	index map[uint64]int32 // hash of an ID -> its position
	// clash holds the IDs whose hash an earlier ID already took: with 64
	// bits, in practice never, but a clash must not drop an identity.
	clash map[string]int32
}

// record is one observation's: its row digest and where its ID lies.
type record struct {
	sum               [sha256.Size]byte
	chunk, start, end uint32 // the ID is ids[chunk][start:end]
}

const (
	recordChunk = 1 << 14
	idChunk     = 1 << 20
)

func newRecordSet() *recordSet {
	return &recordSet{seed: maphash.MakeSeed(), index: map[uint64]int32{}}
}

// recordSetOf is the set of records a map holds (an interrupted run's,
// read back from the file).
func recordSetOf(m map[string][sha256.Size]byte) *recordSet {
	r := newRecordSet()
	for _, id := range slices.Sorted(maps.Keys(m)) {
		r.add(id, m[id])
	}
	return r
}

func (r *recordSet) len() int { return r.n }

func (r *recordSet) rec(i int32) *record { return &r.recs[i/recordChunk][i%recordChunk] }

func (r *recordSet) id(i int32) []byte {
	rc := r.rec(i)
	return r.ids[rc.chunk][rc.start:rc.end]
}

func (r *recordSet) has(id string) bool {
	h := maphash.String(r.seed, id)
	if i, ok := r.index[h]; ok {
		if string(r.id(i)) == id {
			return true
		}
		_, ok := r.clash[id]
		return ok
	}
	return false
}

// add records id with its row digest and reports true, or false when id
// is already there (the first record stands).
func (r *recordSet) add(id string, sum [sha256.Size]byte) bool {
	h := maphash.String(r.seed, id)
	i, taken := r.index[h]
	if taken {
		if string(r.id(i)) == id {
			return false
		}
		if _, ok := r.clash[id]; ok {
			return false
		}
	}
	if len(r.ids) == 0 || len(r.ids[len(r.ids)-1])+len(id) > cap(r.ids[len(r.ids)-1]) {
		r.ids = append(r.ids, make([]byte, 0, max(idChunk, len(id))))
	}
	c := len(r.ids) - 1
	start := len(r.ids[c])
	r.ids[c] = append(r.ids[c], id...)
	if r.n%recordChunk == 0 {
		r.recs = append(r.recs, make([]record, 0, recordChunk))
	}
	last := len(r.recs) - 1
	r.recs[last] = append(r.recs[last], record{sum: sum, chunk: uint32(c), start: uint32(start), end: uint32(start + len(id))})
	pos := int32(r.n)
	r.n++
	if taken {
		if r.clash == nil {
			r.clash = map[string]int32{}
		}
		r.clash[id] = pos
	} else {
		r.index[h] = pos
	}
	return true
}

// digest is digestRecords(withScopes(records, scopes)) without building
// either map: SHA-256 over every (ID, record digest) in ID order, a
// coverage record standing for an observation of the same key.
func (r *recordSet) digest(scopes map[string][sha256.Size]byte) string {
	order := make([]int32, r.n)
	for i := range order {
		order[i] = int32(i)
	}
	byID := func(a, b int32) int { return bytes.Compare(r.id(a), r.id(b)) }
	// Connectors that read in ID order leave nothing to sort.
	if !slices.IsSortedFunc(order, byID) {
		slices.SortFunc(order, byID)
	}
	keys := slices.Sorted(maps.Keys(scopes))
	h := sha256.New()
	put := func(id []byte, sum *[sha256.Size]byte) {
		h.Write(id)
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	k := 0
	for _, i := range order {
		id := r.id(i)
		for k < len(keys) && keys[k] < string(id) {
			sum := scopes[keys[k]]
			put([]byte(keys[k]), &sum)
			k++
		}
		if k < len(keys) && keys[k] == string(id) {
			sum := scopes[keys[k]] // the scope's record stands for both
			put(id, &sum)
			k++
			continue
		}
		put(id, &r.rec(i).sum)
	}
	for ; k < len(keys); k++ {
		sum := scopes[keys[k]]
		put([]byte(keys[k]), &sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}
