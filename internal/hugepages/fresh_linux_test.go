package hugepages

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// freedAtTop is kept live, then let go, by a child of
// TestPreparedRangeIsFresh.
var freedAtTop []byte

// TestPreparedRangeIsFresh checks that Prepare leaves the ranges it
// advised untouched, so the read that follows faults it in huge pages:
// not one of its pages may be resident. Where the heap's top holds pages
// the collector freed (here 32 MiB, written and let go), the runtime
// zeroed an allocation placed over them, the whole of it, page by page,
// in one process of three or so, since where it falls against the
// runtime's arenas moves with the heap's base, which the runtime places
// at random. So each look runs in a process of its own, four of them.
func TestPreparedRangeIsFresh(t *testing.T) {
	if os.Getenv("NHI_HUGEPAGES_FRESH") == "" {
		if !supported() {
			t.Skip("transparent huge pages are off on this system")
		}
		for range 4 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPreparedRangeIsFresh$", "-test.v")
			cmd.Env = append(os.Environ(), "NHI_HUGEPAGES_FRESH=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
		}
		return
	}
	freedAtTop = make([]byte, 32<<20)
	for i := range freedAtTop {
		freedAtTop[i] = 1
	}
	freedAtTop = nil
	runtime.GC()
	ranges := Prepare(256 << 20)
	total, pages, resident := uintptr(0), 0, 0
	for _, r := range ranges {
		total += r.Hi - r.Lo
		n := int((r.Hi - r.Lo) / uintptr(os.Getpagesize()))
		vec := make([]byte, n)
		// x/sys/unix has no mincore(2) for Linux.
		if _, _, errno := unix.Syscall(unix.SYS_MINCORE, r.Lo, r.Hi-r.Lo, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
			t.Fatal(errno)
		}
		pages += n
		for _, v := range vec {
			resident += int(v & 1)
		}
	}
	if total < 240<<20 {
		t.Fatalf("Prepare(256 MiB) advised %d bytes: %#x", total, ranges)
	}
	if resident > 0 {
		t.Errorf("%d of the %d pages Prepare advised are resident already: the runtime touched them (zeroed an allocation), so they will not fault as huge pages", resident, pages)
	}
}
