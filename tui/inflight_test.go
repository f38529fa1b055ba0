package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// probedReviewer is the real campaigns reviewer that says when a
// decision has begun.
type probedReviewer struct {
	campaignsReviewer
	deciding chan struct{}
}

func (r probedReviewer) Decide(ctx context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error) {
	close(r.deciding)
	return r.campaignsReviewer.Decide(ctx, actor, campaign, ids, decision, reason)
}

// lines is what Run says on stderr; said is told of each line.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	said chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for _, s := range strings.SplitAfter(string(p), "\n") {
		if s != "" {
			select {
			case l.said <- s:
			default:
			}
		}
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startedWith is the model the program runs, sent msg (a key typed
// before the program started) once it starts.
type startedWith struct {
	*Model
	msg tea.Msg
}

func (s startedWith) Init() tea.Cmd {
	return tea.Batch(s.Model.Init(), func() tea.Msg { return s.msg })
}

func (s startedWith) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := s.Model.Update(msg)
	return s, cmd
}

// busyDecision is a keep the user typed on a file whose write lock
// another process holds until release is closed: enter, the model's
// first message, records it, and the decision is on its way, waiting for
// the lock, once deciding is closed. It returns the model and the
// identity kept.
func busyDecision(t *testing.T, e *evidence) (m startedWith, id audit.Identity, deciding, release chan struct{}) {
	t.Helper()
	e.campaign(t, "scope:acme/api")
	deciding, release = make(chan struct{}), make(chan struct{})
	m = startedWith{e.model(t, 100, 30, Options{Actor: testActor, Reviewer: probedReviewer{campaignsReviewer{e.store}, deciding}, Campaign: "2025-Q2"}),
		keyMsg("enter")}
	run(t, m.Model, m.Model.Init(), 0)
	i, _ := m.ids.table.Selected()
	id = *m.st.identity(i)
	holding, held := make(chan struct{}), make(chan error, 1)
	go func() {
		held <- e.otherProcess(t).Write(context.Background(), func(*audit.Tx) error { close(holding); <-release; return nil })
	}()
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		if err := <-held; err != nil {
			t.Errorf("the other process's write: %v", err)
		}
	})
	<-holding
	press(t, m.Model, "K", "CI deploys")
	if !strings.Contains(m.View(), "Why keep "+id.Name+"? CI deploys") {
		t.Fatalf("the reason is not in the prompt:\n%s", m.View())
	}
	return m, id, deciding, release
}

// decisionOf is what campaign 2025-Q2 records for id.
func decisionOf(t *testing.T, e *evidence, id string) campaigns.Decision {
	t.Helper()
	as, err := campaigns.Assignments(context.Background(), e.store, "2025-Q2", testActor)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := as[id]
	if !ok {
		t.Fatalf("%s is not in the campaign", id)
	}
	return a.Decision
}

// A keep typed and confirmed while another process holds the evidence
// file's write lock is still on its way when the user quits (q). The UI
// waits for it once the screen is gone, saying so, and then what it
// recorded. Before, q cancelled the write: the decision was not recorded,
// nothing said so, and nhi exited 0.
func TestQuitWaitsForTheWriteInFlight(t *testing.T) {
	e := newEvidence(t)
	m, id, deciding, release := busyDecision(t, e)
	out := &lines{said: make(chan string, 16)}
	m.stderr = out
	in, typed := io.Pipe()
	defer typed.Close()
	done := make(chan error, 1)
	go func() {
		done <- runModel(context.Background(), m.Model, m, tea.WithInput(in), tea.WithOutput(io.Discard))
	}()
	<-deciding
	if _, err := typed.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("the UI ended (%v) without waiting for the decision on its way; the file records %q for it; stderr:\n%s",
			err, decisionOf(t, e, id.ID), out)
	case line := <-out.said:
		if !strings.Contains(line, "waiting for it") || !strings.Contains(line, "decision keep for "+id.Name+" in 2025-Q2") {
			t.Errorf("what the UI says while it waits: %q", line)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("Run after the decision was recorded: %v", err)
	}
	if d := decisionOf(t, e, id.ID); d != campaigns.Keep {
		t.Errorf("the file records %q for %s, want the keep the user made", d, id.Name)
	}
	if !strings.Contains(out.String(), "nhi: recorded decision keep for "+id.Name+" in 2025-Q2 (event #") {
		t.Errorf("stderr does not say the decision was recorded:\n%s", out)
	}
}

// The same decision on its way when nhi is stopped (SIGTERM: the
// caller's context ends): the wait ends too, and Run fails naming the
// decision that was not recorded and what to do, where before it
// returned the context's error alone (nhi: "interrupted ...; run it
// again") whatever had been lost.
func TestStoppedWithAWriteInFlight(t *testing.T) {
	e := newEvidence(t)
	m, id, deciding, _ := busyDecision(t, e)
	out := &lines{said: make(chan string, 16)}
	m.stderr = out
	in, typed := io.Pipe()
	defer typed.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runModel(ctx, m.Model, m, tea.WithInput(in), tea.WithOutput(io.Discard))
	}()
	<-deciding
	stop()
	err := <-done
	t.Logf("stderr:\n%s", out)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run after its context ended: %v, want the context's error", err)
	}
	want := "interrupted: the review UI was stopped before it recorded every change: not recorded: decision keep for " + id.Name + " in 2025-Q2; open nhi and make it again"
	if err == nil || err.Error() != want {
		t.Errorf("Run says\n%v\nwant\n%s", err, want)
	}
	if d := decisionOf(t, e, id.ID); d != campaigns.Pending {
		t.Errorf("the file records %q for %s after the UI said it was not recorded", d, id.Name)
	}
}

// The same decision on its way when the terminal hangs up (SIGHUP: nhi's
// main ends Run's context, not the one Options.Writes gives): the UI
// ends, its screen gone, and the decision is still recorded, where it
// was cancelled as on SIGTERM and nobody was left to be told to make it
// again.
func TestHangUpWithAWriteInFlight(t *testing.T) {
	e := newEvidence(t)
	m, id, deciding, release := busyDecision(t, e)
	m.opts.Writes = context.Background()
	out := &lines{said: make(chan string, 16)}
	m.stderr = out
	in, typed := io.Pipe()
	defer typed.Close()
	ctx, hangUp := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runModel(ctx, m.Model, m, tea.WithInput(in), tea.WithOutput(io.Discard))
	}()
	<-deciding
	hangUp()
	if line := <-out.said; !strings.Contains(line, "waiting for it") {
		t.Errorf("what the UI says while it waits: %q", line)
	}
	close(release)
	err := <-done
	t.Logf("stderr:\n%s", out)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "every change it said it recorded is in the evidence file") {
		t.Errorf("Run after the hang-up: %v", err)
	}
	if d := decisionOf(t, e, id.ID); d != campaigns.Keep {
		t.Errorf("the file records %q for %s, want the keep the user made before the hang-up", d, id.Name)
	}
	if !strings.Contains(out.String(), "nhi: recorded decision keep for "+id.Name+" in 2025-Q2 (event #") {
		t.Errorf("stderr does not say the decision was recorded:\n%s", out)
	}
}
