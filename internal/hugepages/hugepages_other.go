//go:build !linux

package hugepages

func supported() bool { return false }

func advise([]byte) (lo, hi uintptr) { return 0, 0 }
