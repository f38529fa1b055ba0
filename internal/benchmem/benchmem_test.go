package benchmem

import (
	"runtime"
	"testing"
	"time"
)

// A run that holds 64 MB shows a peak at least that far above its base.
func TestStartSeesWhatTheRunHolds(t *testing.T) {
	runtime.GC()
	stop := Start()
	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20)
		held[i][0] = 1
	}
	u := stop()
	runtime.KeepAlive(held)
	// At least 60 of the 64 MB held: memory the process freed meanwhile
	// (spans of other goroutines' garbage, swept while these were
	// allocated) lowers the peak above the base by a few KB (it read
	// 63.99 once, loaded), but a Start that missed the run would see
	// next to nothing.
	if u.AboveBaseMB() < 60 || u.HeapMB() < u.AboveBaseMB() || u.SysMB() < u.HeapMB() {
		t.Errorf("usage %+v: %.1f MB above base, %.1f MB heap, %.1f MB sys; want at least 60 of the 64 MB held above base", u, u.AboveBaseMB(), u.HeapMB(), u.SysMB())
	}
}

// Work the process does shows in CPUTime, and no more of it than the
// wall clock allows on this machine's processors.
func TestCPUTimeSeesWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("CPUTime is not measured on " + runtime.GOOS)
	}
	start, before := time.Now(), CPUTime()
	x := uint64(1)
	for range 50_000_000 { // some tens of milliseconds of one core
		x = x*6364136223846793005 + 1442695040888963407
	}
	spent, wall := CPUTime()-before, time.Since(start)
	if x == 0 {
		t.Log("never: x keeps the loop from being optimised away")
	}
	if spent <= 0 || spent > wall*time.Duration(runtime.NumCPU())+10*time.Millisecond {
		t.Errorf("CPUTime grew by %v over a loop of %v wall time on %d processors", spent, wall, runtime.NumCPU())
	}
}

// Loop gives op each turn's number and reports the peak heap an op held
// and a CPU time per turn.
func TestLoopReportsEachTurnsPeak(t *testing.T) {
	var turns []int
	r := testing.Benchmark(func(b *testing.B) {
		turns = turns[:0]
		Loop(b, func(turn int) {
			turns = append(turns, turn)
			held := make([][]byte, 32)
			for i := range held {
				held[i] = make([]byte, 1<<20)
				held[i][0] = 1
			}
			runtime.KeepAlive(held)
		})
	})
	for i, turn := range turns {
		if turn != i+1 {
			t.Fatalf("turns %v, want 1 to %d", turns, len(turns))
		}
	}
	if len(turns) != r.N || r.N == 0 {
		t.Errorf("%d turns in %d iterations", len(turns), r.N)
	}
	if r.Extra["heap-MB"] < 32 {
		t.Errorf("heap-MB %.1f, want at least the 32 MB an op held", r.Extra["heap-MB"])
	}
	if _, ok := r.Extra["cpu-s/op"]; !ok {
		t.Errorf("no cpu-s/op in %v", r.Extra)
	}
}
