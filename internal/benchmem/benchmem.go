// Package benchmem measures what a benchmark's run takes: the memory —
// the Go heap in use when the run starts, and the peaks of the heap in
// use and of the memory obtained from the OS while it runs, sampled in
// the background — and the process's CPU time (CPUTime) — and, for a
// test, how many of the values a read was given it still holds (Held).
// Only tests import it (internal/archtest checks).
package benchmem

import (
	"runtime"
	"sync"
	"time"
)

// Interval is how often the heap is sampled while a run goes on: a peak
// shorter than that may be missed, the reason the figures are called
// sampled peaks.
const Interval = 20 * time.Millisecond

// Usage is what a sampler saw, in bytes.
type Usage struct {
	BaseHeap uint64 // heap in use when Start was called
	PeakHeap uint64 // highest heap in use sampled
	PeakSys  uint64 // highest memory obtained from the OS sampled
}

const mb = 1 << 20

// HeapMB is the peak heap in use, in MB.
func (u Usage) HeapMB() float64 { return float64(u.PeakHeap) / mb }

// SysMB is the peak memory obtained from the OS, in MB.
func (u Usage) SysMB() float64 { return float64(u.PeakSys) / mb }

// AboveBaseMB is how far the heap in use rose above where it started, in
// MB: the run's own share when the process held data before it.
func (u Usage) AboveBaseMB() float64 {
	if u.PeakHeap < u.BaseHeap {
		return 0
	}
	return float64(u.PeakHeap-u.BaseHeap) / mb
}

// Start samples the heap every Interval until stop is called; stop
// samples once more and returns what was seen. Call runtime.GC before
// Start for a baseline without garbage.
func Start() (stop func() Usage) {
	var (
		mu       sync.Mutex
		u        Usage
		done     = make(chan struct{})
		finished = make(chan struct{})
		sample   = func() {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			u.PeakHeap, u.PeakSys = max(u.PeakHeap, m.HeapInuse), max(u.PeakSys, m.Sys)
			mu.Unlock()
		}
	)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	u.BaseHeap, u.PeakHeap, u.PeakSys = m.HeapInuse, m.HeapInuse, m.Sys
	go func() {
		defer close(finished)
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() Usage {
		close(done)
		<-finished
		sample()
		mu.Lock()
		defer mu.Unlock()
		return u
	}
}
