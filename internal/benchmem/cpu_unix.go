//go:build unix

package benchmem

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time the process has used so far, user and system:
// on a shared, loaded machine a benchmark's wall time says more about the
// other processes than about nhi; this does not stretch (much).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
