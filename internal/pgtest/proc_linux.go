package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// quit asks postgres for an immediate shutdown (Crash).
func quit(p *os.Process) error { return p.Signal(syscall.SIGQUIT) }

// cpuOf is the CPU time, user and system, of process pid and of its
// children, those running (read one by one: a backend per connection)
// and those ended, from /proc; clock ticks are taken as 1/100 s, the
// USER_HZ of every Linux architecture Go supports.
func cpuOf(pid int) (time.Duration, error) {
	own, err := procTicks(pid, true)
	if err != nil {
		return 0, err
	}
	total := own
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil || child == pid {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue // ended meanwhile: counted in the parent's
		}
		f := statFields(b)
		if len(f) > 15 && f[1] == strconv.Itoa(pid) {
			total += ticks(f[11]) + ticks(f[12])
		}
	}
	return total * 10 * time.Millisecond, nil
}

// procTicks is a process's utime+stime in clock ticks, with its ended
// children's when children is set.
func procTicks(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	f := statFields(b)
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	t := ticks(f[11]) + ticks(f[12])
	if children {
		t += ticks(f[13]) + ticks(f[14])
	}
	return t, nil
}

// statFields are the fields of /proc/PID/stat after the command name
// (which may hold spaces, in parentheses): f[0] is the state, f[1] the
// parent, f[11] utime, f[12] stime, f[13] cutime, f[14] cstime.
func statFields(b []byte) []string {
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n)
}
