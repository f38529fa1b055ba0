//go:build !unix

package benchmem

import "time"

// CPUTime is not measured here: benchmarks' CPU metrics read 0.
func CPUTime() time.Duration { return 0 }
