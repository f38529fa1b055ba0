//go:build !unix

package main

// stdoutClosed is false here: a closed standard output is found at the
// first write, if the system fails it (stdoutclosed_unix.go).
func stdoutClosed() bool { return false }
