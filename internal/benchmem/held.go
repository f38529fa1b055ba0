package benchmem

import (
	"runtime"
	"unsafe"
	"weak"
)

// heldEvery is how many values a Held is given between its counts: a
// collection each time, so a count costs the test, not the read.
const heldEvery = 500

// Held counts, of the values a read is given one at a time (through a
// test hook), how many it still holds: after every 500th it collects
// garbage and counts those still reachable, keeping the most. A read
// that should hold a batch and not the population is tested on Most;
// unlike a figure of the heap, the count fails on the old code whatever
// else the process holds.
type Held[T any] struct {
	given []weak.Pointer[T]
	most  int
}

// Add records p as given to the read.
func (h *Held[T]) Add(p *T) {
	h.given = append(h.given, weak.Make(p))
	if len(h.given)%heldEvery != 0 {
		return
	}
	runtime.GC()
	live := 0
	for _, w := range h.given {
		if w.Value() != nil {
			live++
		}
	}
	h.most = max(h.most, live)
}

// AddString records s as given, by its bytes: a string the read kept,
// or cut from a text it kept, holds them.
func AddString(h *Held[byte], s string) { h.Add(unsafe.StringData(s)) }

// Given is how many values were given.
func (h *Held[T]) Given() int { return len(h.given) }

// Most is the most of them held at once, at a count.
func (h *Held[T]) Most() int { return h.most }
