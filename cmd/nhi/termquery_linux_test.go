package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muesli/termenv"
	"golang.org/x/sys/unix"
)

// openPty opens a new pseudo-terminal pair from /dev/ptmx: the test reads
// what the program writes from the master, and answers nothing.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("naming the pty: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		t.Fatalf("opening the pty's terminal: %v", err)
	}
	return m, s
}

// ptySession is nhi running on a terminal of its own: its controlling
// terminal, the process in the foreground, as in a shell. The terminal
// answers nothing but what the test writes to it.
type ptySession struct {
	t      *testing.T
	ctx    context.Context
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // all the program wrote to the terminal
	more   chan struct{}
	read   chan error
}

func startOnPty(t *testing.T, args ...string) *ptySession {
	t.Helper()
	master, slave := openPty(t)
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 120}); err != nil {
		t.Fatal(err)
	}
	// The guard against a program that waits for good; the assertions
	// are on the bytes, not the time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, nhiBinary(t), args...)
	// CI is cleared too: termenv takes any CI variable to mean "not a
	// terminal" and asks nothing, so on a CI runner the UI's query would
	// never be seen and the commands' absence of one would prove nothing.
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GITHUB_TOKEN=", "GH_TOKEN=", "CI=",
		"TERM=xterm-256color", "TERM_PROGRAM=", "COLORTERM=", "NO_COLOR=", "CLICOLOR=", "CLICOLOR_FORCE=", "COLORFGBG=")
	cmd.Dir = t.TempDir()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close()
	s := &ptySession{t: t, ctx: ctx, master: master, cmd: cmd, more: make(chan struct{}, 1), read: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
			if err != nil {
				s.read <- err
				close(s.more)
				return
			}
		}
	}()
	return s
}

// output is what the program wrote so far.
func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitFor waits until the program has written one of wants, and says
// whether it did before it left its terminal.
func (s *ptySession) waitFor(wants ...string) bool {
	written := func() bool {
		out := s.output()
		for _, w := range wants {
			if strings.Contains(out, w) {
				return true
			}
		}
		return false
	}
	for {
		if written() {
			return true
		}
		select {
		case _, ok := <-s.more:
			if !ok {
				return written()
			}
		case <-s.ctx.Done():
			return false
		}
	}
}

// wait waits for the program to end, and for all it wrote.
func (s *ptySession) wait() (string, error) {
	runErr := s.cmd.Wait()
	// The program and its terminal are gone: the master reads what is
	// left, then EIO.
	if err := <-s.read; err != nil && !errors.Is(err, syscall.EIO) {
		s.t.Fatalf("reading the terminal: %v", err)
	}
	return s.output(), runErr
}

// onSilentTerminal runs nhi with args on a terminal that never answers a
// query, and returns all the program wrote to it.
func onSilentTerminal(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return startOnPty(t, args...).wait()
}

// The queries termenv writes for the background colour: OSC 11, then a
// cursor position report, whose answer comes after the OSC's.
const (
	backgroundQuery = "\x1b]11;?"
	positionQuery   = "\x1b[6n"
	altScreen       = "\x1b[?1049h" // the UI takes the screen
)

// lead is the start of out, for a failure's message.
func lead(out string) string {
	if len(out) > 400 {
		return out[:400] + "…"
	}
	return out
}

// TestCommandsDoNotQueryTheTerminal: a command whose output is a terminal
// does not ask the terminal for its background colour (OSC 11) nor for
// the cursor's position; only the TUI does, when it starts. A terminal
// that never answers (a CI runner's, script(1), a serial console) made
// every command, nhi version too, wait 5 s for the answer.
func TestCommandsDoNotQueryTheTerminal(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	for _, args := range [][]string{
		{"version"},
		{"identities", "--db", db},
		{"help"},
	} {
		out, err := onSilentTerminal(t, args...)
		if err != nil {
			t.Errorf("nhi %s: %v\n%q", args[0], err, lead(out))
			continue
		}
		if strings.Contains(out, backgroundQuery) || strings.Contains(out, positionQuery) {
			t.Errorf("nhi %s asked the terminal for its background colour:\n%q", args[0], lead(out))
		}
		if len(strings.TrimSpace(out)) == 0 {
			t.Errorf("nhi %s wrote nothing", args[0])
		}
	}
}

// TestTUIAsksTheTerminalOnce: the terminal UI asks the terminal for its
// background colour, once, before it takes the screen, and draws in the
// colours for the answer: a light background's.
func TestTUIAsksTheTerminalOnce(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	s := startOnPty(t, "--db", db, "--readonly")
	// The query comes before the screen is taken, or never.
	if !s.waitFor(positionQuery, altScreen) || !strings.Contains(s.output(), positionQuery) {
		s.master.WriteString("q")
		out, err := s.wait()
		t.Fatalf("the UI did not ask the terminal for its background colour before it took the screen (%v):\n%q", err, lead(out))
	}
	if _, err := s.master.WriteString("\x1b]11;rgb:ffff/ffff/ffff\x1b\\\x1b[1;1R"); err != nil {
		t.Fatal(err)
	}
	light := termenv.ANSI256.Color("#005FAF").Sequence(false) // colorAccent (tui/styles.go)
	dark := termenv.ANSI256.Color("#5FAFFF").Sequence(false)
	if !s.waitFor(light, dark) || !strings.Contains(s.output(), light) {
		s.master.WriteString("q")
		out, err := s.wait()
		t.Fatalf("the UI did not draw in a light background's colours (%v):\n%q", err, lead(out))
	}
	if _, err := s.master.WriteString("q"); err != nil {
		t.Fatal(err)
	}
	out, err := s.wait()
	if err != nil {
		t.Fatalf("nhi: %v\n%q", err, lead(out))
	}
	if n := strings.Count(out, backgroundQuery); n != 1 {
		t.Errorf("the UI asked the terminal for its background colour %d times, want once", n)
	}
	if strings.Contains(out, dark) {
		t.Errorf("the UI drew in a dark background's colours too (%q)", dark)
	}
	if i := strings.Index(out, altScreen); i < strings.Index(out, backgroundQuery) {
		t.Errorf("the UI took the screen before it asked the terminal for its background colour")
	}
}
