//go:build !linux

package hugepages

func supported() bool { return false }

func untouched([]byte) bool { return false }

func advise([][]byte) []Range { return nil }
