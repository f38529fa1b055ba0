//go:build linux || darwin || freebsd

package tui

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nhi-audit/nhi/audit"
)

// A note the evidence file has no room for (here past this process's
// file size limit, as on a full disk or a FAT32 disk's 4 GB) says where
// the room went and what to do, as nhi's commands do after such a write,
// where the UI said "Note not added: disk I/O error (778)" and nothing
// more. (Go ignores SIGXFSZ: the write fails with EFBIG.)
func TestNoteWithNoRoomSaysWhy(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 100, 30, Options{Actor: testActor})
	press(t, m, "c", "no room for this")
	var was unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &was); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(restore)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 1024, Max: was.Max}); err != nil {
		t.Fatal(err)
	}
	press(t, m, "enter")
	restore()
	says := strings.Join(strings.Fields(m.View()), " ")
	for _, want := range []string{"Note not added: Could not write to " + e.path, "(ulimit -f)", "make the change again"} {
		if !strings.Contains(says, want) {
			t.Errorf("the screen does not say %q:\n%s", want, m.View())
		}
	}
	evs, err := e.store.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type == audit.EventNoteAdd {
			t.Errorf("the log holds a note (event #%d) the screen says was not added", ev.Seq)
		}
	}
}
