//go:build !linux

package hugepages

import "errors"

var errNotLinux = errors.New("not Linux")

func supported() bool { return false }

func untouched([]byte) bool { return false }

func advise([][]byte) []Range { return nil }

func populate(lo, n uintptr) error { return errNotLinux }
