package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/nhi-audit/nhi/campaigns"
)

// recorder runs the Model in a real Bubble Tea program (teatest) and
// keeps the last frame it drew, so a test can wait for a screen and
// compare it with a golden one. The raw output stream is the renderer's
// diff of frames: not something to read by eye.
type recorder struct {
	m     *Model
	mu    sync.Mutex
	frame string
	// handled, when set, is told of each message once the model has
	// handled it (on the program's goroutine).
	handled func(tea.Msg)
}

func (r *recorder) Init() tea.Cmd { return r.m.Init() }

func (r *recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := r.m.Update(msg)
	if r.handled != nil {
		r.handled(msg)
	}
	return r, cmd
}

func (r *recorder) View() string {
	v := r.m.View()
	r.mu.Lock()
	r.frame = v
	r.mu.Unlock()
	return v
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frame
}

// busyMarks are what a frame shows while work runs off the event loop;
// a golden screen is taken only once none is on screen, or it would
// depend on how fast the machine is.
var busyMarks = []string{"filtering…", "reading identities…", "being recomputed", "reading the event log…"}

// waitFor waits (up to 60 s) until the frame on screen contains every
// want and no background work is shown.
func (r *recorder) waitFor(t *testing.T, want ...string) string {
	t.Helper()
	// Not a speed limit: a frame that has not come in this long is one
	// that will not come (a slow machine under -race needs more than 5 s).
	deadline := time.Now().Add(60 * time.Second)
	for {
		f := r.last()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(f, w)
		}
		for _, b := range busyMarks {
			ok = ok && !strings.Contains(f, b)
		}
		if ok {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; last frame:\n%s", want, f)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGoldenFlow walks the TUI as an auditor would, in a real Bubble Tea
// program at 80x24 in the Ascii profile: open, filter, select, set the
// owner of the selection (confirmed), undo it, quit. Every screen on the
// way is a golden file in testdata/tui.
func TestGoldenFlow(t *testing.T) {
	e := newEvidence(t)
	r := &recorder{m: New(e.snap, e.ids, Options{Now: clock, Store: e.store, Actor: testActor})}
	tm := teatest.NewTestModel(t, r, teatest.WithInitialTermSize(80, 24))
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }

	checkGolden(t, "flow_1_open_80x24.txt", r.waitFor(t, "Identities 40", "renovate"))

	tm.Type("/")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("scope:acme/api")}) // typed fast: one message
	checkGolden(t, "flow_2_filter_80x24.txt", r.waitFor(t, "Identities 2 of 40", "/scope:acme/api█"))

	key(tea.KeyEnter)
	tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	checkGolden(t, "flow_3_select_80x24.txt", r.waitFor(t, "2 selected", "filter scope:acme/api"))

	tm.Type("o")
	r.waitFor(t, "Owner of 2 identities: █")
	tm.Type("@ac")
	key(tea.KeyTab)
	checkGolden(t, "flow_4_owner_80x24.txt", r.waitFor(t, "Owner of 2 identities: @acme/platform█"))

	key(tea.KeyEnter)
	checkGolden(t, "flow_5_confirm_80x24.txt", r.waitFor(t, "Set owner of 2 identities to @acme/platform? [y/N]"))

	tm.Type("y")
	// The owner shows at once; the findings that depend on it follow
	// from the file (the reload), and the golden is taken after that.
	r.waitFor(t, "Owner of 2 identities set to @acme/platform (events #2–#3) · u undoes")
	checkGolden(t, "flow_6_owner_set_80x24.txt", r.waitFor(t, "stale,unr…", "insecure-…"))

	tm.Type("u")
	checkGolden(t, "flow_7_undo_80x24.txt", r.waitFor(t, "Undo: owner of 2 identities set to @acme/platform? [y/N]"))

	tm.Type("y")
	// Again after the reload: the webhook is orphaned once more.
	checkGolden(t, "flow_8_undone_80x24.txt", r.waitFor(t, "Undone: owner of 2 identities set to @acme/platform (events #4–#5)", "orphaned,…"))

	tm.Type("q")
	tm.WaitFinished(t) // however long a loaded machine takes: no time limit decides
	for _, name := range []string{"deploy-prod", "https://hooks.example.com/ci"} {
		if got := e.owner(t, name); got != "" {
			t.Errorf("%s: owner %q after the undo", name, got)
		}
	}
	if n := e.ownerEvents(t); n != 4 {
		t.Errorf("%d owner events, want 4 (2 set, 2 compensating)", n)
	}
}

// TestGoldenDecisionFlow walks a review in a real Bubble Tea program at
// 80x24 through the real campaigns package: pick the campaign, filter,
// jump to the next undecided identity, keep it with a justification, undo
// the decision, quit. Every screen on the way is a golden file.
func TestGoldenDecisionFlow(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key or kind:webhook")
	r := &recorder{m: New(e.snap, e.ids, Options{Now: clock, Store: e.store, Actor: testActor, Reviewer: campaignsReviewer{e.store}})}
	tm := teatest.NewTestModel(t, r, teatest.WithInitialTermSize(80, 24))
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }
	typed := func(s string) { tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

	r.waitFor(t, "Identities 40", "renovate")
	typed(":campaigns")
	key(tea.KeyEnter)
	checkGolden(t, "decide_1_campaigns_80x24.txt", r.waitFor(t, "Campaigns 1", "2025-Q2", "Reviewers: "+testActor))

	key(tea.KeyEnter)
	// The campaign's decisions arrive in the background; n needs them.
	r.waitFor(t, "campaign 2025-Q2", "pending")
	tm.Type("/")
	typed("scope:acme/api")
	key(tea.KeyEnter)
	r.waitFor(t, "filter scope:acme/api", "> deploy key")
	tm.Type("n") // from deploy-prod to the next identity still to decide
	checkGolden(t, "decide_2_next_80x24.txt", r.waitFor(t, "filter scope:acme/api", "> webhook"))

	tm.Type("K")
	r.waitFor(t, "Why keep https://hooks.example.com/ci? █")
	typed("CI notifications; secret added in SEC-42")
	checkGolden(t, "decide_3_reason_80x24.txt", r.waitFor(t, "Why keep https://hooks.example.com/ci? CI notifications; secret added in SEC-42█"))

	key(tea.KeyEnter)
	checkGolden(t, "decide_4_kept_80x24.txt", r.waitFor(t, "Decided keep for https://hooks.example.com/ci in 2025-Q2 (event #3); it has"))

	tm.Type("u")
	r.waitFor(t, "[y/N]")
	tm.Type("y")
	checkGolden(t, "decide_5_undone_80x24.txt", r.waitFor(t, "Undone: decision keep for https://hooks.example.com/ci in 2025-Q2"))

	tm.Type("q")
	tm.WaitFinished(t) // however long a loaded machine takes: no time limit decides
	d, err := campaigns.Decisions(context.Background(), e.store, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range d {
		if v != campaigns.Pending {
			t.Errorf("%s is %s after the undo", id, v)
		}
	}
	if problems, err := campaigns.Verify(context.Background(), e.store); err != nil || len(problems) != 0 {
		t.Errorf("campaign verification: %v %v", problems, err)
	}
}
