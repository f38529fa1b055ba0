//go:build !linux

package pgtest

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// asUser runs the server as this process's user: only Linux CI runs the
// tests as root.
func asUser(*ids) *syscall.SysProcAttr { return nil }

// interrupt stops postgres (no signals on every platform).
func interrupt(p *os.Process) error { return p.Kill() }

// quit stops postgres at once (Crash).
func quit(p *os.Process) error { return p.Kill() }

// cpuOf is not measured off Linux.
func cpuOf(int) (time.Duration, error) { return 0, errors.ErrUnsupported }
