package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// nextNotice is the next notice WatchEvents sends. The wait is no speed
// limit: a notice that has not come in this long will not come.
func nextNotice(t *testing.T, ch <-chan LogNotice) LogNotice {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatal("the notices ended")
		}
		return n
	case <-time.After(60 * time.Second):
		t.Fatal("no notice")
	}
	return LogNotice{}
}

// An evidence file has nothing to listen on: WatchEvents says so, and the
// caller polls.
func TestWatchEventsUnsupportedOnFile(t *testing.T) {
	s := openNew(t)
	if _, err := s.WatchEvents(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("WatchEvents on an evidence file: %v, want ErrUnsupported", err)
	}
}

// On PostgreSQL another connection's appends are notified with the new
// head, and only its number crosses the wire; a lost listening connection
// says so (the caller polls) and is made again; closing the store ends
// the notices.
func TestWatchEventsPostgres(t *testing.T) {
	defer func(d time.Duration) { WatchReconnectDelay = d }(WatchReconnectDelay)
	WatchReconnectDelay = 20 * time.Millisecond
	url := pgtest.URL(t)
	s := openAt(t, url)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	// Read-only, as an auditor's TUI may open it: listening is no write.
	watcher, err := Open(ctx, url, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := watcher.WatchEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, ch); n != (LogNotice{}) {
		t.Fatalf("the first notice is %+v, want the connection listening (head unknown)", n)
	}

	// What is on the wire, seen by a listener of our own.
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, "LISTEN "+EventsChannel); err != nil {
		t.Fatal(err)
	}

	// Another process writes: an owner, and a note with a canary in it.
	const canary = "ghp_canaryCANARYcanary0123456789abcd"
	ev, err := s.SetOwner(ctx, "auditor@acme.test", a.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, ch); n != (LogNotice{Head: ev.Seq}) {
		t.Errorf("after owner.set #%d the notice is %+v", ev.Seq, n)
	}
	notes, err := s.AddNotes(ctx, "auditor@acme.test", []string{a.ID}, "pasted by mistake: "+canary)
	if err != nil {
		t.Fatal(err)
	}
	head := notes[len(notes)-1].Seq
	if n := nextNotice(t, ch); n != (LogNotice{Head: head}) {
		t.Errorf("after note #%d the notice is %+v", head, n)
	}
	for _, want := range []int64{ev.Seq, head} {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		msg, err := raw.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if msg.Channel != EventsChannel || msg.Payload != strconv.FormatInt(want, 10) {
			t.Errorf("notification on %q with payload %q, want %q and the event number %d alone", msg.Channel, msg.Payload, EventsChannel, want)
		}
		if strings.Contains(msg.Payload, canary) || strings.Contains(msg.Payload, "alice") {
			t.Errorf("the notification carries what the event holds: %q", msg.Payload)
		}
	}

	// The listening connection is cut (a restart, a proxy's timeout).
	var ended bool
	if err := raw.QueryRow(ctx, `SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, WatchApplication).Scan(&ended); err != nil || !ended {
		t.Fatalf("terminating the listening connection: %v, %v", ended, err)
	}
	if n := nextNotice(t, ch); !n.Lost {
		t.Fatalf("after the connection was cut the notice is %+v, want Lost", n)
	}
	if n := nextNotice(t, ch); n != (LogNotice{}) {
		t.Fatalf("after the connection was made again the notice is %+v, want listening with the head unknown", n)
	}
	ev, err = s.SetOwner(ctx, "auditor@acme.test", a.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, ch); n != (LogNotice{Head: ev.Seq}) {
		t.Errorf("after reconnecting, owner.set #%d gave the notice %+v", ev.Seq, n)
	}

	watcher.Close()
	select {
	case n, ok := <-ch:
		if ok {
			t.Errorf("a notice after Close: %+v", n)
		}
	case <-time.After(time.Minute):
		t.Error("the notices did not end with the store")
	}
}

// After a notice a watch stops listening for its gap (WatchGap): a burst
// of 1,000 appends by another process wakes the connection of a watch in
// its gap not once, and one whose gap ends meanwhile learns the burst's
// last head from the log, however few notifications it was sent.
func TestWatchSleepsThroughABurst(t *testing.T) {
	url := pgtest.URL(t)
	s := openAt(t, url)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	watcher, err := Open(ctx, url, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	// The first watch's connection is made first: its backend is the
	// older in pg_stat_activity.
	asleep, err := watcher.watch(ctx, time.Hour) // its gap outlasts the test
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, asleep.ch); n != (LogNotice{}) {
		t.Fatalf("the first notice is %+v, want the connection listening", n)
	}
	awake, err := watcher.watch(ctx, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, awake.ch); n != (LogNotice{}) {
		t.Fatalf("the first notice is %+v, want the connection listening", n)
	}
	ev, err := s.SetOwner(ctx, "auditor@acme.test", a.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := nextNotice(t, asleep.ch); n != (LogNotice{Head: ev.Seq}) {
		t.Fatalf("after owner.set #%d the notice is %+v", ev.Seq, n)
	}

	var last int64
	for i := range 1000 {
		notes, err := s.AddNotes(ctx, "auditor@acme.test", []string{a.ID}, fmt.Sprint("burst ", i))
		if err != nil {
			t.Fatal(err)
		}
		last = notes[len(notes)-1].Seq
	}
	// The watch whose gaps end learns the last head, whatever it was sent.
	for head := int64(0); head != last; {
		n := nextNotice(t, awake.ch)
		if n.Lost || n.Head < head || n.Head > last {
			t.Fatalf("during the burst to #%d a notice %+v after head %d", last, n, head)
		}
		head = n.Head
	}
	// The server's side: the sleeping watch's backend last ran the
	// UNLISTEN, and listens on nothing the server would notify.
	var state, query string
	if err := s.db.QueryRowContext(ctx, `SELECT state, query FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() ORDER BY backend_start LIMIT 1`, WatchApplication).Scan(&state, &query); err != nil {
		t.Fatal(err)
	}
	if state != "idle" || query != unlistenSQL {
		t.Errorf("the watch in its gap: its backend %s after %q, want idle after %q", state, query, unlistenSQL)
	}
	if got := asleep.received.Load(); got != 1 {
		t.Errorf("the watch in its gap was sent %d notifications, the first append's and %d of the burst's 1,000; want that one only", got, got-1)
	}
	if len(asleep.ch) != 0 {
		t.Errorf("the watch in its gap sent %+v", <-asleep.ch)
	}
	t.Logf("the watch with 1-ms gaps was sent %d notifications for 1,001 appends", awake.received.Load())
}

// Notices the receiver has not taken merge into one: the newest head, or
// an unknown head when one of them did not know it.
func TestNoticesMerge(t *testing.T) {
	for _, c := range []struct {
		sent []LogNotice
		want LogNotice
	}{
		{[]LogNotice{{Head: 4}, {Head: 9}}, LogNotice{Head: 9}},
		{[]LogNotice{{}, {Head: 9}}, LogNotice{}},
		{[]LogNotice{{Head: 9}, {Lost: true}}, LogNotice{Lost: true}},
		{[]LogNotice{{Lost: true}, {}, {Head: 12}}, LogNotice{}},
	} {
		n := &notifier{ch: make(chan LogNotice, 1)}
		for _, s := range c.sent {
			n.send(s)
		}
		if got := <-n.ch; got != c.want {
			t.Errorf("%+v merged into %+v, want %+v", c.sent, got, c.want)
		}
		if len(n.ch) != 0 {
			t.Errorf("%+v left %d notices", c.sent, len(n.ch))
		}
	}
}
