package tui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/jackc/pgx/v5"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// liveSession is the TUI in a real Bubble Tea program on the fixture
// organisation in a PostgreSQL database, reviewing campaign 2025-Q2 (the
// two identities of acme/api), and a second store on the same database:
// another reviewer's process.
type liveSession struct {
	e     *evidence
	other *audit.Store
	r     *recorder
	tm    *teatest.TestModel
	// What the program handled so far: the first head read, notices.
	heads, listening, lost atomic.Int32
}

func startLive(t *testing.T, poll time.Duration) *liveSession {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	e := newEvidenceIn(t, url)
	if _, err := campaigns.Create(ctx, e.store, "lead@example.com", campaigns.Spec{
		Name: "2025-Q2", Scope: "scope:acme/api", Due: testNow.AddDate(0, 0, 14).Format("2006-01-02"),
		Reviewers: []string{testActor}, AllowPartial: true,
	}); err != nil {
		t.Fatal(err)
	}
	other, err := audit.Open(ctx, url, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	l := &liveSession{e: e, other: other}
	l.r = &recorder{m: New(e.snap, e.ids, Options{Now: clock, Store: e.store, Actor: testActor,
		Reviewer: campaignsReviewer{e.store}, Campaign: "2025-Q2", Poll: poll})}
	l.r.handled = func(msg tea.Msg) {
		switch msg := msg.(type) {
		case headMsg:
			l.heads.Add(1)
		case noticeMsg:
			if msg.notice.Lost {
				l.lost.Add(1)
			} else {
				l.listening.Add(1)
			}
		}
	}
	l.tm = teatest.NewTestModel(t, l.r, teatest.WithInitialTermSize(120, 30))
	l.r.waitFor(t, "My items 2 · campaign 2025-Q2")
	// The TUI has read the head, listens, and has read it again once
	// listening: what is written from now on is news to it.
	waitUntil(t, "the TUI listens", func() bool { return l.heads.Load() >= 2 && l.listening.Load() > 0 })
	return l
}

func (l *liveSession) quit(t *testing.T) {
	l.tm.Type("q")
	l.tm.WaitFinished(t, teatest.WithFinalTimeout(time.Minute))
}

// waitUntil waits for cond; a minute is no speed limit, only when to
// stop waiting for what will not happen.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLiveOnPostgres: on PostgreSQL the TUI follows another reviewer's
// process from the database's notifications, not its poll (an hour
// apart here, so no poll comes during the test): a decision and an owner
// written through another connection show on screen by themselves.
func TestLiveOnPostgres(t *testing.T) {
	ctx := context.Background()
	l := startLive(t, time.Hour)
	heads := l.heads.Load()
	deploy := l.e.byName(t, "deploy-prod").ID
	if _, err := campaigns.DecideEach(ctx, l.other, testActor, "2025-Q2", []string{deploy}, campaigns.Decommission, "gone"); err != nil {
		t.Fatal(err)
	}
	if row := rowOf(t, l.r.waitFor(t, "decom."), "deploy-prod"); !strings.Contains(row, "decom.") {
		t.Errorf("the decision is not on deploy-prod's row: %q", row)
	}
	if _, err := l.other.SetOwner(ctx, "cli@example.com", deploy, "zoe"); err != nil {
		t.Fatal(err)
	}
	if row := rowOf(t, l.r.waitFor(t, "zoe"), "deploy-prod"); !strings.Contains(row, "zoe") {
		t.Errorf("the owner is not on deploy-prod's row: %q", row)
	}
	if n := l.heads.Load(); n != heads {
		t.Errorf("the log's head was read %d more times: the notices carry it", n-heads)
	}
	l.quit(t)
}

// TestLiveOnPostgresFallsBackToPolling: when the listening connection is
// cut (a restart, a proxy's idle timeout) the TUI polls until it is back,
// and what another process writes meanwhile still shows.
func TestLiveOnPostgresFallsBackToPolling(t *testing.T) {
	defer func(d time.Duration) { audit.WatchReconnectDelay = d }(audit.WatchReconnectDelay)
	audit.WatchReconnectDelay = time.Hour // not back during the test
	ctx := context.Background()
	l := startLive(t, 50*time.Millisecond)
	conn, err := pgx.Connect(ctx, l.e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, audit.WatchApplication); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the TUI sees the connection lost", func() bool { return l.lost.Load() > 0 })
	deploy := l.e.byName(t, "deploy-prod").ID
	if _, err := campaigns.DecideEach(ctx, l.other, testActor, "2025-Q2", []string{deploy}, campaigns.Decommission, "gone"); err != nil {
		t.Fatal(err)
	}
	if row := rowOf(t, l.r.waitFor(t, "decom."), "deploy-prod"); !strings.Contains(row, "decom.") {
		t.Errorf("the decision is not on deploy-prod's row: %q", row)
	}
	l.quit(t)
}

// TestCtrlROnPostgresSaysDatabase: on PostgreSQL the help's ctrl+r and
// what it says when done name the database, not an evidence file the
// user does not have.
func TestCtrlROnPostgresSaysDatabase(t *testing.T) {
	l := startLive(t, time.Hour)
	l.tm.Type("?")
	l.r.waitFor(t, "ctrl+r read the database again")
	l.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	l.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlR})
	if screen := l.r.waitFor(t, "Read the database again"); strings.Contains(screen, "evidence file") {
		t.Errorf("the screen names an evidence file on PostgreSQL:\n%s", screen)
	}
	l.quit(t)
}

// TestLoadingOnPostgresSaysDatabase: the first frame, while the
// identities are read, names the database on PostgreSQL.
func TestLoadingOnPostgresSaysDatabase(t *testing.T) {
	e := newEvidenceIn(t, pgtest.URL(t))
	m := New(e.snap, nil, Options{Now: clock, Store: e.store})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := m.View(); !strings.Contains(v, "from the database…") || strings.Contains(v, "evidence file") {
		t.Errorf("first frame on PostgreSQL:\n%s", v)
	}
}
