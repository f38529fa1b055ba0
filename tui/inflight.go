package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// A change the user made (an owner, a note, a decision, an approval, an
// undo, an export) is written off the event loop, and may still be on its
// way when the UI closes: the evidence file busy with another writer
// holds it up to five busy timeouts. It runs under the caller's context
// (Run's: nhi's main ends it on SIGINT and SIGTERM), never the session's,
// which ends with the program: q or ctrl+c then cancelled the write, and
// the decision the user had just made was not recorded, without a word,
// and nhi exited 0. Run waits for every write begun, says on stderr what
// each did once the screen is gone, and fails naming what was not
// recorded (TestQuitWaitsForTheWriteInFlight).

// written is the answer of a write: the events it appended, or why not.
type written interface {
	writeResult() ([]audit.Event, error)
}

func (m ownersSetMsg) writeResult() ([]audit.Event, error)  { return m.events, m.err }
func (m notesAddedMsg) writeResult() ([]audit.Event, error) { return m.events, m.err }
func (m undoneMsg) writeResult() ([]audit.Event, error)     { return m.events, m.err }
func (m decidedMsg) writeResult() ([]audit.Event, error)    { return m.events, m.err }
func (m exportedMsg) writeResult() ([]audit.Event, error)   { return nil, m.err }
func (m approvedMsg) writeResult() ([]audit.Event, error) {
	if m.err != nil {
		return nil, m.err
	}
	return []audit.Event{m.event}, nil
}

// inflight keeps the writes of a session whose answer the event loop has
// not taken yet.
type inflight struct {
	mu      sync.Mutex
	closed  bool // the program has ended: a write not begun never begins
	next    int
	entries map[int]*writeEntry
	wg      sync.WaitGroup // the writes begun
	// after is what the writes the screen never answered did, in the
	// order they answered; lost is the labels of those that recorded
	// nothing.
	after []string
	lost  []string
}

type writeEntry struct {
	label string
	begun bool
	done  bool
	msg   tea.Msg // the answer, once done
}

// writtenMsg carries a write's answer to the event loop, which takes it
// off the writes in flight (Model.update) and handles msg.
type writtenMsg struct {
	k   int
	msg tea.Msg
}

// write returns the tea.Cmd that runs f, a write the user asked for,
// under the caller's context, and says on screen that it is on its way.
// label names the change as the messages do ("decision keep for x in
// q4"); f's message must be written.
func (m *Model) write(label string, f func(ctx context.Context) tea.Msg) tea.Cmd {
	w, ctx := &m.st.writes, m.st.writeCtx
	w.mu.Lock()
	if w.entries == nil {
		w.entries = map[int]*writeEntry{}
	}
	w.next++
	k, e := w.next, &writeEntry{label: label}
	w.entries[k] = e
	w.mu.Unlock()
	m.setFlash("Recording "+label+"…", false)
	return func() tea.Msg {
		w.mu.Lock()
		if w.closed {
			// The program ended before the write began: it never will.
			w.mu.Unlock()
			return nil
		}
		e.begun = true
		w.wg.Add(1)
		w.mu.Unlock()
		defer w.wg.Done()
		msg := f(ctx)
		w.mu.Lock()
		defer w.mu.Unlock()
		e.done, e.msg = true, msg
		if w.closed {
			w.record(e)
		}
		return writtenMsg{k, msg}
	}
}

// taken says the event loop has the answer of write k.
func (w *inflight) taken(k int) {
	w.mu.Lock()
	delete(w.entries, k)
	w.mu.Unlock()
}

// record keeps what e did, for settle to say.
func (w *inflight) record(e *writeEntry) {
	var err error
	var evs []audit.Event
	if r, ok := e.msg.(written); ok {
		evs, err = r.writeResult()
	}
	switch {
	case errors.Is(err, context.Canceled):
		// nhi was stopped (SIGINT, SIGTERM) while the write waited.
		w.after = append(w.after, "not recorded: "+e.label+": stopped before it was written")
		w.lost = append(w.lost, e.label)
		return
	case err != nil:
		w.after = append(w.after, "not recorded: "+e.label+": "+audit.Printable(err.Error()))
		w.lost = append(w.lost, e.label)
		return
	}
	line := "recorded " + e.label
	if len(evs) > 0 {
		line += " (" + eventRange(evs) + ")"
	}
	w.after = append(w.after, line)
}

// settle is called once the program has ended (err is what it ended
// with): it waits for the writes begun, saying on out what it waits for
// and then what each write the screen did not answer did, and returns
// the error Run returns: err, or what was not recorded; ctx is the
// caller's.
func (w *inflight) settle(ctx context.Context, out io.Writer, err error) error {
	w.mu.Lock()
	w.closed = true
	keys := slices.Sorted(maps.Keys(w.entries))
	var begun []string
	for _, k := range keys {
		switch e := w.entries[k]; {
		case e.done:
			w.record(e) // answered, but the screen closed before it said so
		case e.begun:
			begun = append(begun, e.label)
		default:
			w.lost = append(w.lost, e.label)
		}
	}
	w.mu.Unlock()
	if len(begun) > 0 {
		fmt.Fprintf(out, "nhi: the review UI closed while writing %s: waiting for it (ctrl-c stops the wait; what is not written then is not recorded)\n",
			strings.Join(begun, "; "))
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range w.after {
		fmt.Fprintln(out, "nhi: "+line)
	}
	stopped := ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err()))
	if len(w.lost) == 0 {
		if stopped {
			return stoppedError{"interrupted: the review UI was stopped; every change it said it recorded is in the evidence file", ctx.Err()}
		}
		return err
	}
	them := "them"
	if len(w.lost) == 1 {
		them = "it"
	}
	what := "not recorded: " + strings.Join(w.lost, "; ") + "; open nhi and make " + them + " again"
	switch {
	case stopped:
		return stoppedError{"interrupted: the review UI was stopped before it recorded every change: " + what, ctx.Err()}
	case err != nil:
		return fmt.Errorf("%w; %s", err, what)
	}
	return errors.New("the review UI closed before it recorded every change: " + what)
}

// stoppedError is the UI stopped by the end of the caller's context (nhi:
// SIGINT, SIGTERM): it says what that left, and is the context's error.
type stoppedError struct {
	msg string
	err error
}

func (e stoppedError) Error() string { return e.msg }
func (e stoppedError) Unwrap() error { return e.err }
