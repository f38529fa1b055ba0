package campaigns_test

import (
	"os"
	"strconv"
	"syscall"
)

// yieldCPU lowers the scheduling priority of every thread of this process
// to nice n (threads the runtime starts later inherit it from the thread
// that starts them) and returns what puts it back, false when it cannot:
// the 40 writers of a benchmark then take the two cores only when the
// server does not want them, as they would on 40 laptops of their own.
func yieldCPU(n int) (restore func() bool, ok bool) {
	set := func(n int) bool {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return false
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// A thread that has exited since the read is no matter.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil && err != syscall.ESRCH {
				return false
			}
		}
		return true
	}
	old, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil || !set(n) {
		return nil, false
	}
	// Linux's getpriority returns 20 − nice.
	return func() bool { return set(20 - old) }, true
}
