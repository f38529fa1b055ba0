package hugepages

import (
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// supported says whether the kernel gives huge pages to memory a program
// advises: "always" or "madvise" in its setting, not "never" or absent.
// Only a 64-bit process prepares: on 32 bits an allocation of hundreds of
// MB may find no room, which ends a Go program.
func supported() bool {
	if strconv.IntSize != 64 {
		return false
	}
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
}

// advise advises the huge pages wholly inside b and returns their range.
func advise(b []byte) (lo, hi uintptr) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo = (start + hugePage - 1) &^ (hugePage - 1)
	hi = (start + uintptr(len(b))) &^ (hugePage - 1)
	if lo >= hi {
		return 0, 0
	}
	if err := unix.Madvise(b[lo-start:hi-start], unix.MADV_HUGEPAGE); err != nil {
		return 0, 0 // a hint: where the kernel refuses it, pages fault as before
	}
	return lo, hi
}
