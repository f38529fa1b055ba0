// Package hugepages asks the kernel to back the part of the Go heap a
// large read is about to fill with transparent huge pages, where the
// system offers them (Linux); elsewhere it does nothing.
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
// pages where the system offers them, and reports the range it advised
// (empty where it advised none). It allocates n bytes, which the runtime
// takes from fresh memory it maps and does not touch, advises the kernel
// that the 2 MiB pages inside them are to be huge, and collects the
// allocation: the pages go back to the heap untouched, advised, and the
// heap's page allocator, which takes the lowest free pages first, fills
// them before it maps more. (A heap that already has n bytes free gives
// those, touched before; the advice then changes little.) Memory stays
// resident only as it is touched, so n is address space, not memory; the
// advice is a hint the kernel may refuse (no huge page free), and a page
// it refuses faults as before.
//
// Prepare runs a collection: call it before a read, not during one. It
// prepares no more than the heap's soft limit (GOMEMLIMIT), which an
// allocation of n would otherwise pass.
func Prepare(n int) (lo, hi uintptr) {
	if limit := debug.SetMemoryLimit(-1); int64(n) > limit {
		n = int(limit)
	}
	if n < hugePage || !supported() {
		return 0, 0
	}
	b := make([]byte, n)
	lo, hi = advise(b)
	b = nil
	runtime.GC()
	return lo, hi
}

// hugePage is the size of an x86-64 or arm64 huge page, which Prepare
// rounds its range in to.
const hugePage = 2 << 20
