package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ghconn "github.com/nhi-audit/nhi/connectors/github"
)

// fakeTime is a clock tests move by hand.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time          { return f.t }
func (f *fakeTime) advance(d time.Duration) { f.t = f.t.Add(d) }
func progressAt(done, total int) ghconn.Progress {
	return ghconn.Progress{
		Org: "acme", Phase: ghconn.PhaseRepos, ReposDone: done, ReposTotal: total,
		Stats:     ghconn.Stats{Identities: done * 5, Requests: done * 11, NotModified: done * 10},
		RateLimit: 5000, RateRemaining: 4000, RateReset: time.Date(2026, 11, 2, 14, 5, 0, 0, time.UTC),
	}
}

// TestProgressLog: without a terminal, a long run logs a line per tenth of
// the repositories, not per repository.
func TestProgressLog(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeTime{t: time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)}
	p := newProgressPrinter(&out, false, 0, clock.now)
	p.Update(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseOrg, Doing: "GET /orgs/acme/hooks", RateRemaining: -1})
	p.Update(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseOrg, Doing: "GET /orgs/acme/actions/runners", RateRemaining: -1})
	for i := 0; i <= 1000; i++ {
		clock.advance(10 * time.Millisecond)
		p.Update(progressAt(i, 1000))
	}
	p.Update(ghconn.Progress{Org: "acme", Message: "Resuming snapshot 3: 120 units already read"})
	p.Update(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseDone, ReposDone: 1000, ReposTotal: 1000, RateRemaining: -1,
		Stats: ghconn.Stats{Requests: 9300, RESTPoints: 9280, GraphQLPoints: 130, GraphQLQueries: 10}})
	p.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// org, 0%, 10%..100%, the message, done
	if len(lines) != 1+1+10+1+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for _, want := range []string{
		"github/acme: reading GET /orgs/acme/hooks",
		"github/acme: repositories 500/1000 (50%), 2500 identities, 5500 requests (90% unchanged), rate limit 4000/5000 left until 14:05 UTC",
		"Resuming snapshot 3: 120 units already read",
		"github/acme: done, 1000 repositories, 0 identities, 9300 requests, rate-limit points 9280 REST and 130 GraphQL",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "\r") || strings.Contains(out.String(), "\x1b") {
		t.Error("terminal control sequences in a log")
	}

	// Slow progress still shows life every 30 seconds.
	out.Reset()
	p = newProgressPrinter(&out, false, 0, clock.now)
	for i := 0; i < 10; i++ {
		clock.advance(20 * time.Second)
		p.Update(progressAt(1, 1000))
	}
	if n := strings.Count(out.String(), "\n"); n < 5 || n > 7 {
		t.Errorf("%d lines in 200 s of slow progress:\n%s", n, out.String())
	}
}

// TestProgressWaiting: the countdown to the rate-limit reset is logged
// once a minute, and says how to stop instead.
func TestProgressWaiting(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeTime{t: time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)}
	p := newProgressPrinter(&out, false, 0, clock.now)
	reset := clock.t.Add(10 * time.Minute)
	for left := 10 * time.Minute; left > 0; left -= time.Second {
		p.Update(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseWaiting, Wait: left, RateReset: reset, RateRemaining: 0, RateLimit: 5000})
		clock.advance(time.Second)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 9 || len(lines) > 11 {
		t.Errorf("%d lines for a 10-minute wait:\n%s", len(lines), out.String())
	}
	if want := "github/acme: API rate limit exhausted; waiting 10m0s for the reset at 13:10:00 UTC (--no-wait stops instead)"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}

	// A secondary limit's pause, with most of the primary budget left,
	// is not called the budget exhausted, nor timed by its reset.
	out.Reset()
	p = newProgressPrinter(&out, false, 0, clock.now)
	p.Update(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseWaiting, Wait: time.Minute, Until: clock.t.Add(time.Minute), Secondary: true,
		RateReset: clock.t.Add(50 * time.Minute), RateRemaining: 4541, RateLimit: 5000})
	if want := "github/acme: GitHub's secondary rate limit asked to pause; every worker waits 1m0s, until 13:11:00 UTC (--no-wait stops instead)\n"; out.String() != want {
		t.Errorf("a secondary limit's pause: %q, want %q", out.String(), want)
	}
}

// TestProgressTerminal: on a terminal one line is redrawn in place, at
// most ten times a second, and messages go above it.
func TestProgressTerminal(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeTime{t: time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)}
	p := newProgressPrinter(&out, true, 60, clock.now)
	for i := 0; i <= 1000; i++ {
		clock.advance(time.Millisecond)
		p.Update(progressAt(i, 1000))
	}
	p.Update(ghconn.Progress{Org: "acme", Message: "GET /x: 502; retrying in 1s"})
	p.Close()
	s := out.String()
	if n := strings.Count(s, "\r\x1b[K"); n < 10 || n > 16 {
		t.Errorf("%d redraws for a second of progress", n)
	}
	if strings.Count(s, "\n") != 2 || !strings.Contains(s, "\r\x1b[KGET /x: 502; retrying in 1s\n") {
		t.Errorf("message or final newline wrong: %q", s[max(0, len(s)-200):])
	}
	for _, l := range strings.Split(s, "\r\x1b[K") {
		if l = strings.TrimSuffix(l, "\n"); len([]rune(l)) > 60 {
			t.Errorf("line wider than the terminal: %q", l)
		}
	}
}

// One of anything is said in the singular.
func TestProgressLineCountsOne(t *testing.T) {
	got := line(ghconn.Progress{Org: "acme", Phase: ghconn.PhaseDone, ReposDone: 1, ReposTotal: 1, RateRemaining: -1,
		Stats: ghconn.Stats{Requests: 1, Identities: 1}})
	if want := "github/acme: done, 1 repository, 1 identity, 1 request"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}
