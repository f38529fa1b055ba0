package hugepages

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPopulaterFaultsInWhatItIsAllowed checks a Populater on memory of
// its own (an anonymous mapping, so no other code touches it): it makes
// resident the bytes it is allowed, from the start and no further, and
// changes no byte, neither one written before nor, in the pages it
// faults in, the zeroes a page gives.
func TestPopulaterFaultsInWhatItIsAllowed(t *testing.T) {
	const size = 8 << 20
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	// Small pages only, so what is resident is what was populated to
	// the page, wherever the mapping falls against huge pages.
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	if err := populate(uintptr(unsafe.Pointer(&mem[size-page])), uintptr(page)); err != nil {
		t.Skipf("this kernel cannot populate (madvise MADV_POPULATE_WRITE, Linux 5.14): %v", err)
	}
	lo := uintptr(unsafe.Pointer(&mem[0]))
	// Written before: one byte in the first half, one in the second.
	mem[page+7], mem[5<<20+9] = 0xa5, 0x5a

	p := NewPopulater([]Range{{lo, lo + size/2}, {lo + size/2, lo + size}})
	p.Allow(3 << 20)
	wait(t, p, 3<<20)
	resident := residentPages(t, mem)
	for i, in := range resident {
		at := i * page
		switch {
		case at < 3<<20 && !in:
			t.Fatalf("page at %d MiB not resident, though allowed", at>>20)
		case at >= 3<<20 && in && at != 5<<20&^(page-1) && at != size-page:
			t.Fatalf("page at %#x resident, past the %d MiB allowed", at, 3)
		}
	}
	p.Allow(1 << 20) // less than before: nothing changes
	p.Allow(size)
	wait(t, p, size)
	for i, in := range residentPages(t, mem) {
		if !in {
			t.Fatalf("page at %#x not resident once the whole was allowed", i*page)
		}
	}
	for i, b := range mem {
		want := byte(0)
		switch i {
		case page + 7:
			want = 0xa5
		case 5<<20 + 9:
			want = 0x5a
		}
		if b != want {
			t.Fatalf("byte %d is %#x after populating, want %#x", i, b, want)
		}
	}
}

// TestPopulaterOfNothing checks that a Populater of no ranges, as
// Prepare gives where the system offers no huge pages, does nothing.
func TestPopulaterOfNothing(t *testing.T) {
	p := NewPopulater(nil)
	p.Allow(1 << 30)
	if n := p.Populated(); n != 0 {
		t.Fatalf("populated %d bytes of no ranges", n)
	}
}

// wait waits for p to have populated n bytes.
func wait(t *testing.T, p *Populater, n int) {
	t.Helper()
	for p.Populated() < n {
		p.mu.Lock()
		running := p.running
		p.mu.Unlock()
		if !running && p.Populated() < n {
			t.Fatalf("populater stopped at %d bytes of %d", p.Populated(), n)
		}
		runtime.Gosched()
	}
}

// residentPages says, per page of b, whether it is resident (mincore).
func residentPages(t *testing.T, b []byte) []bool {
	t.Helper()
	page := os.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	in := make([]bool, len(vec))
	for i, v := range vec {
		in[i] = v&1 != 0
	}
	return in
}
