package benchmem

import (
	"runtime"
	"testing"
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
	if u.AboveBaseMB() < 64 || u.HeapMB() < u.AboveBaseMB() || u.SysMB() < u.HeapMB() {
		t.Errorf("usage %+v: %.1f MB above base, %.1f MB heap, %.1f MB sys; want at least 64 MB above base", u, u.AboveBaseMB(), u.HeapMB(), u.SysMB())
	}
}
