package tui

import (
	"context"
	"errors"
	"io"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// slowStore takes as long to read the identities as its context lets it.
type slowStore struct {
	Store
	started chan struct{}
	stopped chan error
}

func (s slowStore) Identities(ctx context.Context) ([]audit.Identity, error) {
	close(s.started)
	<-ctx.Done()
	s.stopped <- ctx.Err()
	return nil, ctx.Err()
}

// ctrl+c in the middle of a long read quits at once, and the read stops:
// it runs under the session's context, which ends with the program.
func TestQuitCancelsReads(t *testing.T) {
	st := slowStore{started: make(chan struct{}), stopped: make(chan error, 1)}
	m := New(testSnapshot(), nil, Options{Store: st, Now: clock})
	in, typed := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runProgram(context.Background(), m, tea.WithInput(in), tea.WithOutput(io.Discard)) }()
	<-st.started
	if _, err := typed.Write([]byte{0x03}); err != nil { // ctrl+c
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run after ctrl+c: %v", err)
	}
	if err := <-st.stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the read ended with %v, want it cancelled", err)
	}
	typed.Close()
}

// The caller's context ends the program too (nhi cancels it on SIGTERM).
func TestRunEndsWithItsContext(t *testing.T) {
	st := slowStore{started: make(chan struct{}), stopped: make(chan error, 1)}
	m := New(testSnapshot(), nil, Options{Store: st, Now: clock})
	in, typed := io.Pipe()
	defer typed.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runProgram(ctx, m, tea.WithInput(in), tea.WithOutput(io.Discard)) }()
	<-st.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after its context ended: %v", err)
	}
	if err := <-st.stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the read ended with %v", err)
	}
}
