// Package hugepages asks the kernel to back the part of the Go heap a
// large read is about to fill with transparent huge pages, and faults it
// in ahead of the read (Populater), where the system offers them
// (Linux); elsewhere it does nothing.
//
// Why: each 4 KiB page a process touches for the first time is a page
// fault, and opening a million identities touches some 600 MB: 150,000
// faults. A huge page is one fault for 2 MiB. The kernel still zeroes
// every page it gives, but the faults' own cost (entering and leaving
// the kernel, and the processor missing its cache of page tables over
// that much memory) was about a CPU-second of an open of six on the
// machine nhi is measured on (docs/performance.md, "The kernel's part").
// Linux gives huge pages only where a program asks
// (madvise(MADV_HUGEPAGE)) on most systems ("madvise" in
// /sys/kernel/mm/transparent_hugepage/enabled), and Go's runtime has not
// asked for its heap since Go 1.21.1; nothing in the runtime or the
// standard library offers it, so it is written here.
package hugepages

import (
	"runtime"
	"runtime/debug"
)

// Prepare makes the next n bytes the Go heap grows by fault in huge
// pages where the system offers them, and reports the ranges it advised
// (none where it advised none). It allocates n bytes of fresh memory,
// which the runtime maps and does not touch, advises the kernel that the
// 2 MiB pages inside them are to be huge, and collects the allocation:
// the pages go back to the heap untouched, advised, and the heap's page
// allocator, which takes the lowest free pages first, fills them before
// it maps more. Memory stays resident only as it is touched, so n is
// address space, not memory; the advice is a hint the kernel may refuse
// (no huge page free), and a page it refuses faults as before.
//
// It allocates in chunks, and advises only those none of whose pages is
// resident. The runtime zeroes an allocation that begins below the
// highest page its arena ever gave out, all of it, touching every page
// (4 KiB each, before any advice): pages the read was to fault as huge
// are then faulted small, at once. Where the heap's base falls (the
// runtime places it at random) decides whether the free run the
// allocator takes begins there, and one first open of a million
// identities in three to five zeroed the 512 MiB it prepared as one
// allocation: some 130,000 faults and 1.5–2 s before the first row
// showed, on the machine nhi is measured on (docs/performance.md, "The
// slow opens were our own"). In chunks, only those over pages given out
// before are zeroed, memory mostly resident already; Prepare takes more
// until it holds n bytes untouched, or has met maxTouched bytes of the
// others.
//
// Prepare runs a collection: call it before a read, not during one. What
// it allocates stays within the heap's soft limit (GOMEMLIMIT), which it
// would otherwise pass: n is cut to fit.
func Prepare(n int) []Range {
	if limit := debug.SetMemoryLimit(-1); int64(n+maxTouched) > limit {
		n = int(limit) - maxTouched
	}
	if n < hugePage || !supported() {
		return nil
	}
	// The chunks the runtime touched are held too, so the next is not
	// given the same pages.
	var fresh, touched [][]byte
	for got, met := 0, 0; got < n && met < maxTouched; {
		c := make([]byte, chunkSize)
		if untouched(c) {
			fresh, got = append(fresh, c), got+len(c)
		} else {
			touched, met = append(touched, c), met+len(c)
		}
	}
	advised := advise(fresh)
	clear(fresh)
	clear(touched)
	runtime.GC()
	return advised
}

// A Range is a span of addresses, from Lo up to Hi.
type Range struct{ Lo, Hi uintptr }

// chunkSize is how much Prepare allocates at a time; maxTouched is how
// much of the allocations the runtime touched it goes on past. At that
// one first open in three to five, the chunks the runtime zeroed were
// 36–100 MiB.
const (
	chunkSize  = 4 << 20
	maxTouched = 128 << 20
)

// hugePage is the size of an x86-64 or arm64 huge page, which Prepare
// rounds its range in to.
const hugePage = 2 << 20
