//go:build unix

package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// SIGTERM ends the UI as it ends every nhi command: main turns it into
// the end of its context (signal.NotifyContext), and Run returns that
// context's error, which main reports as an interruption and exits 1 on.
// Bubble Tea's own handler also took SIGTERM, and quit the program as q
// does: when it won the race, Run returned nil and a killed nhi exited 0
// without a word. The program is started as main starts it, and killed
// twenty times over, since the race was won either way.
func TestTerminateEndsRunWithItsContext(t *testing.T) {
	for range 20 {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		st := slowStore{started: make(chan struct{}), stopped: make(chan error, 1)}
		m := New(testSnapshot(), nil, Options{Store: st, Now: clock})
		in, typed := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- runProgram(ctx, m, tea.WithInput(in), tea.WithOutput(io.Discard)) }()
		<-st.started
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := <-done
		stop()
		typed.Close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after SIGTERM returned %v, want the context's end (nhi then exits 1, saying it was interrupted)", err)
		}
	}
}
