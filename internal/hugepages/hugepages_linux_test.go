package hugepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPreparedRangeIsAdvised checks what Prepare leaves behind: the
// ranges it reports are whole huge pages, at least half of what was
// asked, and lie inside mappings the kernel lists as advised for huge
// pages ("hg" in /proc/self/smaps), or, where the kernel offers none, it
// reports none.
func TestPreparedRangeIsAdvised(t *testing.T) {
	ranges := Prepare(16 << 20)
	if !supported() {
		if len(ranges) > 0 {
			t.Fatalf("huge pages are off here, yet Prepare advised %#x", ranges)
		}
		t.Skip("transparent huge pages are off on this system")
	}
	total := uintptr(0)
	for _, r := range ranges {
		if r.Lo%hugePage != 0 || r.Hi%hugePage != 0 || r.Lo >= r.Hi {
			t.Errorf("Prepare advised %#x–%#x: not whole huge pages", r.Lo, r.Hi)
		}
		total += r.Hi - r.Lo
		advised := uintptr(0)
		for _, m := range mappings(t) {
			if m.hi <= r.Lo || m.lo >= r.Hi {
				continue
			}
			if !m.huge {
				t.Errorf("mapping %#x–%#x, inside the prepared %#x–%#x, is not advised for huge pages", m.lo, m.hi, r.Lo, r.Hi)
			}
			advised += min(m.hi, r.Hi) - max(m.lo, r.Lo)
		}
		if advised != r.Hi-r.Lo {
			t.Errorf("mappings cover %d bytes of the prepared %#x–%#x", advised, r.Lo, r.Hi)
		}
	}
	if total < 8<<20 {
		t.Fatalf("Prepare(16 MiB) advised %d bytes in %#x: want at least 8 MiB of whole huge pages", total, ranges)
	}
}

func TestPrepareLessThanAHugePageDoesNothing(t *testing.T) {
	if r := Prepare(hugePage - 1); len(r) > 0 {
		t.Fatalf("Prepare(2 MiB − 1) advised %#x", r)
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
