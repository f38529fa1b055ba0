package hugepages

import (
	"cmp"
	"os"
	"slices"
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

// untouched says whether none of b's pages is resident.
func untouched(b []byte) bool {
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo, hi := start&^(page-1), (start+uintptr(len(b))+page-1)&^(page-1)
	vec := make([]byte, (hi-lo)/page)
	// x/sys/unix has no mincore(2) for Linux.
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return false
	}
	for _, v := range vec {
		if v&1 != 0 {
			return false
		}
	}
	return true
}

// advise advises the huge pages wholly inside runs of adjacent chunks,
// and returns those it advised.
func advise(chunks [][]byte) []Range {
	var runs []Range
	for _, c := range chunks {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(c)))
		runs = append(runs, Range{lo, lo + uintptr(len(c))})
	}
	slices.SortFunc(runs, func(a, b Range) int { return cmp.Compare(a.Lo, b.Lo) })
	var merged []Range
	for _, r := range runs {
		if k := len(merged) - 1; k >= 0 && merged[k].Hi == r.Lo {
			merged[k].Hi = r.Hi
			continue
		}
		merged = append(merged, r)
	}
	var advised []Range
	for _, r := range merged {
		lo, hi := (r.Lo+hugePage-1)&^(hugePage-1), r.Hi&^(hugePage-1)
		if lo >= hi {
			continue
		}
		// A hint: where the kernel refuses it, pages fault as before.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_HUGEPAGE); errno == 0 {
			advised = append(advised, Range{lo, hi})
		}
	}
	return advised
}

// populate faults in the n bytes at lo as a write would, without
// writing (madvise(MADV_POPULATE_WRITE), Linux 5.14).
func populate(lo, n uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, n, unix.MADV_POPULATE_WRITE); errno != 0 {
		return errno
	}
	return nil
}
