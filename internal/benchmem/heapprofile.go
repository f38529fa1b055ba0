package benchmem

import (
	"os"
	"runtime/pprof"
	"testing"
)

// WriteHeapProfile writes a heap profile to the file
// NHI_BENCH_HEAPPROFILE names, if it names one: what a benchmark's live
// heap is made of at the moment it calls it (collect first, as its
// figures of the live heap do).
func WriteHeapProfile(b *testing.B) {
	out := os.Getenv("NHI_BENCH_HEAPPROFILE")
	if out == "" {
		return
	}
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
