package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// A note while another process holds the evidence file's write lock
// through every wait (a campaign create of a million identities) fails
// saying at 80 columns who held the file, that nothing was recorded and
// what to do: where the commands' words, "… then run this command
// again", were cut before what to do, and named a command the UI does not
// have. The keys answered meanwhile: the write runs off the event loop.
func TestBusyRefusalFitsEightyColumns(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	// The UI's own connection waits 10 ms a try, not 10 s.
	ui, err := audit.Open(ctx, e.path, audit.OpenOptions{BusyTimeout: 10 * time.Millisecond, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	m := e.model(t, 80, 24, Options{Actor: testActor, Store: ui})
	held, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- e.otherProcess(t).WriteLong(ctx, "a campaign create of q4", func(*audit.Tx) error {
			close(held)
			<-stop
			return nil
		})
	}()
	<-held
	press(t, m, "c", "while the create runs", "enter")
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	v := m.View()
	says := strings.Join(strings.Fields(v), " ")
	for _, want := range []string{"Note not added: " + e.path + " stayed busy for ", "with a campaign create of q4 (pid ",
		"so nothing was recorded: make the change again once it is done"} {
		if !strings.Contains(says, want) {
			t.Errorf("the screen does not say %q:\n%s", want, v)
		}
	}
	checkFrame(t, v, 80, 24)
}

// TestRefusalOnALongPathKeepsWhatToDo: a refusal names the evidence file
// before what to do, and a file deep in an engagement's folders made it
// four lines at 80 columns, of which three showed, cut before "make the
// change again". At 80x24 a message takes up to six lines.
func TestRefusalOnALongPathKeepsWhatToDo(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 24)
	path := "/home/auditor/engagements/acme-corporation/2026-q4-access-review/evidence/nhi.db"
	send(t, m, flashMsg{"Note not added: " + path + " stayed busy for 50s with a campaign create of 2026-q4-access-review (pid 4242 on host build-runner-07, started 12:44 UTC), so nothing was recorded: make the change again once it is done", true})
	v := m.View()
	if says := strings.Join(strings.Fields(v), " "); !strings.Contains(says, "so nothing was recorded: make the change again once it is done") {
		t.Errorf("the refusal is cut before what to do:\n%s", v)
	}
	checkFrame(t, v, 80, 24)
}
