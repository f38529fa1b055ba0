//go:build !linux

package pgtest

import (
	"os"
	"syscall"
)

// asUser runs the server as this process's user: only Linux CI runs the
// tests as root.
func asUser(*ids) *syscall.SysProcAttr { return nil }

// interrupt stops postgres (no signals on every platform).
func interrupt(p *os.Process) error { return p.Kill() }
