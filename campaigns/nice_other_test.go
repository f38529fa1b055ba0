//go:build !linux

package campaigns_test

// yieldCPU lowers this process's priority where the benchmark knows how:
// on Linux only (nice_linux_test.go).
func yieldCPU(int) (func() bool, bool) { return nil, false }
