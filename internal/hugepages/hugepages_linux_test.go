package hugepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPreparedRangeIsAdvised checks what Prepare leaves behind: the range
// it reports lies inside mappings the kernel lists as advised for huge
// pages ("hg" in /proc/self/smaps), or, where the kernel offers none, it
// reports none.
func TestPreparedRangeIsAdvised(t *testing.T) {
	lo, hi := Prepare(16 << 20)
	if !supported() {
		if lo != hi {
			t.Fatalf("huge pages are off here, yet Prepare advised %#x–%#x", lo, hi)
		}
		t.Skip("transparent huge pages are off on this system")
	}
	if hi-lo < 12<<20 || lo%hugePage != 0 || hi%hugePage != 0 {
		t.Fatalf("Prepare(16 MiB) advised %#x–%#x: want at least 12 MiB of whole huge pages", lo, hi)
	}
	advised := uintptr(0)
	for _, m := range mappings(t) {
		if m.hi <= lo || m.lo >= hi {
			continue
		}
		if !m.huge {
			t.Errorf("mapping %#x–%#x, inside the prepared %#x–%#x, is not advised for huge pages", m.lo, m.hi, lo, hi)
		}
		advised += min(m.hi, hi) - max(m.lo, lo)
	}
	if advised != hi-lo {
		t.Errorf("mappings cover %d bytes of the prepared %d", advised, hi-lo)
	}
}

func TestPrepareLessThanAHugePageDoesNothing(t *testing.T) {
	if lo, hi := Prepare(hugePage - 1); lo != hi {
		t.Fatalf("Prepare(2 MiB − 1) advised %#x–%#x", lo, hi)
	}
}

type mapping struct {
	lo, hi uintptr
	huge   bool
}

// mappings are the process's mappings as /proc/self/smaps lists them.
func mappings(t *testing.T) []mapping {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && len(ms) > 0 {
			ms[len(ms)-1].huge = strings.Contains(" "+flags+" ", " hg ")
			continue
		}
		span, _, _ := strings.Cut(line, " ")
		from, to, ok := strings.Cut(span, "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(from, 16, 64)
		b, err2 := strconv.ParseUint(to, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ms = append(ms, mapping{lo: uintptr(a), hi: uintptr(b)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}
