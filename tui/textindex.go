package tui

import (
	"hash/maphash"
	"math/bits"
)

// textIndex finds a text of a textStore by its bytes: the intern index
// of the row builder (rowBuilder.strIdx, repeatCount.idx). It is a table
// of open addressing whose slots hold a text's index and 32 bits of its
// hash, with no pointer, where a map[string]uint32 held a string header
// per text (issue 21: some half a million texts at a million
// identities). So a text is hashed once, where the map hashed it for
// the look-up that missed and again to add it; growing moves slots
// without hashing any text again, where the map's growth hashed every
// text it held (an eighth of the encoding of a first open); and the
// garbage collector has no pointer in it to follow. Beside each slot it
// keeps where the text's bytes lie (at), so a look-up that finds a text
// reads the slot and the bytes, not the store's reference between them.
type textIndex struct {
	// slots hold, each, the text's hash (high 32 bits) and its index + 1
	// (low 32 bits): 0 is a free slot. Their number is a power of two;
	// a text's first slot is its hash's top bits (shift).
	slots []uint64
	// at holds, for each slot, where its text lies (textAt): a look-up
	// that finds the text compares it without reading its reference in
	// the store, a miss of the processor's cache each among millions
	// (issue 21: a third of the look-ups' time).
	at    []uint64
	n     int
	shift uint32
}

// textAt is where a text lies in its store's blocks, for textIndex.at:
// block (16 bits), offset (32) and length (16); noTextAt when the text's
// reference does not fit, so the store is asked.
func textAt(r textRef) uint64 {
	if r.block >= 1<<16-1 || r.n >= 1<<16 {
		return noTextAt
	}
	return uint64(r.block)<<48 | uint64(r.off)<<16 | uint64(r.n)
}

const noTextAt = ^uint64(0)

// textSeed seeds the hashes of every textIndex: one process's indexes
// are never written anywhere, so the seed need not last.
var textSeed = maphash.MakeSeed()

// hashText is the hash a textIndex keeps of s.
func hashText(s string) uint32 { return uint32(maphash.String(textSeed, s) >> 32) }

// minTextSlots is how many slots an index starts with.
const minTextSlots = 64

func newTextIndex(n int) *textIndex {
	x := &textIndex{}
	x.init(n)
	return x
}

// init empties x, with room for n texts before it grows.
func (x *textIndex) init(n int) {
	slots := minTextSlots
	for slots < 2*n {
		slots *= 2
	}
	x.slots, x.at, x.n, x.shift = make([]uint64, slots), make([]uint64, slots), 0, uint32(32-bits.TrailingZeros(uint(slots)))
}

// len is how many texts x holds.
func (x *textIndex) len() int { return x.n }

// find looks s, of hash h, up among the texts of t that x holds: its
// index and true, or the slot to add it in (add) and false.
func (x *textIndex) find(t *textStore, s string, h uint32) (i uint32, slot int, ok bool) {
	mask := len(x.slots) - 1
	for p := int(h >> x.shift); ; p = (p + 1) & mask {
		e := x.slots[p]
		if e == 0 {
			return 0, p, false
		}
		if uint32(e>>32) != h {
			continue
		}
		if a := x.at[p]; a != noTextAt {
			if int(uint16(a)) == len(s) && t.in(uint32(a>>48), uint32(a>>16), uint32(len(s))) == s {
				return uint32(e) - 1, p, true
			}
		} else if t.at(uint32(e)-1) == s {
			return uint32(e) - 1, p, true
		}
	}
}

// add puts text i of t, of hash h, in slot, which find returned for it,
// and grows x once it is half full: at most half full, a look-up that
// misses probes two or three slots.
func (x *textIndex) add(t *textStore, slot int, h, i uint32) {
	x.slots[slot] = uint64(h)<<32 | uint64(i+1)
	x.at[slot] = textAt(t.ref(i))
	x.n++
	if 2*x.n > len(x.slots) {
		x.grow()
	}
}

// put adds text i of t, s, unless x holds it already.
func (x *textIndex) put(t *textStore, s string, i uint32) {
	h := hashText(s)
	if _, slot, ok := x.find(t, s, h); !ok {
		x.add(t, slot, h, i)
	}
}

// grow doubles the slots, placing each text by the hash its slot kept.
func (x *textIndex) grow() {
	old, oldAt := x.slots, x.at
	x.slots, x.at, x.shift = make([]uint64, 2*len(old)), make([]uint64, 2*len(old)), x.shift-1
	mask := len(x.slots) - 1
	for k, e := range old {
		if e == 0 {
			continue
		}
		p := int(uint32(e>>32) >> x.shift)
		for x.slots[p] != 0 {
			p = (p + 1) & mask
		}
		x.slots[p], x.at[p] = e, oldAt[k]
	}
}

// each calls fn with the index of every text x holds.
func (x *textIndex) each(fn func(i uint32)) {
	for _, e := range x.slots {
		if e != 0 {
			fn(uint32(e) - 1)
		}
	}
}
