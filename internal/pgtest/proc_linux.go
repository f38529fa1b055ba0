package pgtest

import (
	"os"
	"syscall"
)

// asUser runs a process as u (nil: as this process), and has the kernel
// end it when the test binary dies without calling Main's Stop (a panic, a
// -timeout): SIGQUIT, postgres's immediate shutdown.
func asUser(u *ids) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if u != nil {
		a.Credential = &syscall.Credential{Uid: u.Uid, Gid: u.Gid, NoSetGroups: true}
	}
	return a
}

// interrupt asks postgres for a fast shutdown.
func interrupt(p *os.Process) error { return p.Signal(syscall.SIGINT) }
