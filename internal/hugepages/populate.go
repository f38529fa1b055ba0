package hugepages

import "sync"

// A Populater faults in the ranges Prepare advised, in address order and
// up to what it is allowed, on a goroutine of its own, so that the pages
// the heap grows into are there before the read touches them.
//
// Why: the kernel zeroes each page a process touches first, and on the
// virtual machine nhi is measured on that zeroing was a seventh of the
// CPU of a first open of a million identities (clear_page in perf), most
// of it in the reader's copy of each page's text and in the rows'
// encoding, the goroutines the table waits for, while a quarter of the
// two cores' time went idle (docs/performance.md, "The heap faulted in
// beside the read"). madvise(MADV_POPULATE_WRITE) faults pages in as a
// write would, without writing: a page already there, or one the heap
// has written meanwhile, is left as it is, so it needs no agreement with
// the runtime over who touches what. It does work the read would do
// anyway, earlier and beside it; where it falls behind, the read faults
// its pages in itself, as it did before. At the lowest priority (nice 19
// for its thread) it was no faster. Nothing in the runtime or the
// standard library offers it.
//
// It populates no more than it is allowed (Allow), which its user sizes
// to what the read will surely touch: populated memory is resident, and
// a small table must not hold half a gigabyte it never used.
type Populater struct {
	mu      sync.Mutex
	ranges  []Range
	allowed uintptr // bytes, counted from the first range's start
	done    uintptr // bytes populated, or given up on
	running bool    // a goroutine is populating
}

// NewPopulater returns a Populater of the ranges Prepare advised (it may
// be none: it then does nothing).
func NewPopulater(ranges []Range) *Populater {
	return &Populater{ranges: ranges}
}

// Allow lets p populate the first n bytes of its ranges, in address
// order, and starts it doing so in the background. An allowance lower
// than one before changes nothing.
func (p *Populater) Allow(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 || uintptr(n) <= p.allowed {
		return
	}
	p.allowed = uintptr(n)
	if !p.running && p.done < p.allowed && p.done < p.total() {
		p.running = true
		go p.run()
	}
}

// total is the size of p's ranges; the caller holds p.mu.
func (p *Populater) total() uintptr {
	var n uintptr
	for _, r := range p.ranges {
		n += r.Hi - r.Lo
	}
	return n
}

// Populated is how many bytes of its ranges p has faulted in, or given
// up on (a kernel without MADV_POPULATE_WRITE).
func (p *Populater) Populated() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.done)
}

// populateStep is how much one call populates: a huge page, so the
// allowance is followed closely and each call is short.
const populateStep = hugePage

// run populates up to the allowance, a step at a time, and ends when it
// has reached it (a later Allow starts another).
func (p *Populater) run() {
	for {
		p.mu.Lock()
		lo, n, ok := p.next()
		if !ok {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		err := populate(lo, n)
		p.mu.Lock()
		p.done += n
		if err != nil {
			// No such advice (Linux before 5.14), or the range is
			// no longer mapped: the read faults its pages as before.
			p.done = p.total()
		}
		p.mu.Unlock()
	}
}

// next is the span to populate next, within the allowance; the caller
// holds p.mu.
func (p *Populater) next() (lo, n uintptr, ok bool) {
	limit := min(p.allowed, p.total())
	if p.done >= limit {
		return 0, 0, false
	}
	at := p.done
	for _, r := range p.ranges {
		size := r.Hi - r.Lo
		if at < size {
			return r.Lo + at, min(populateStep, size-at, limit-p.done), true
		}
		at -= size
	}
	return 0, 0, false
}
