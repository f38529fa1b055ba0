package benchmem

import (
	"runtime"
	"testing"
)

// Loop runs op once for each turn of b.Loop, each after a collection
// (what the fixture left behind is not the operation's), and reports the
// CPU time of a turn, its collection included (cpu-s/op), and the highest
// peak of the heap op reached (heap-MB): what the million-item benchmarks
// of a write, an export or a verify report. op gets the turn's number,
// from 1.
func Loop(b *testing.B, op func(turn int)) {
	var peak float64
	turns := 0
	before := CPUTime()
	for b.Loop() {
		turns++
		runtime.GC()
		stop := Start()
		op(turns)
		peak = max(peak, stop().HeapMB())
	}
	b.ReportMetric((CPUTime()-before).Seconds()/float64(turns), "cpu-s/op")
	b.ReportMetric(peak, "heap-MB")
}
