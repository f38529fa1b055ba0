package github_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestSecondaryLimitPausesEveryWorker: after a secondary limit with
// Retry-After: 60, no request leaves until the minute is over — only
// those already on their way may land — and then at most 4 (half of 8)
// are in flight at once, those still on their way from before included:
// the workers that waited out the pause do not leave together (GitHub:
// make requests serially, not concurrently, after a secondary limit). The
// clock is fake, so the minute takes no time; the log reads it, so it
// tells a request sent during the pause from one sent after.
func TestSecondaryLimitPausesEveryWorker(t *testing.T) {
	o := githubtest.SampleOrg(60)
	keys := "/repos/" + githubtest.SampleLogin + "/" + o.Repos[20].Name + "/keys"
	_, opts, clock := clocked(t, o, githubtest.WithHTTPFault(githubtest.SecondaryRateLimit(keys, 1, time.Minute)))
	log := githubtest.NewRequestLog(slowToConnect{opts.HTTPClient.Transport}, clock.Now)
	opts.HTTPClient = &http.Client{Transport: log}
	opts.Concurrency = 8
	var (
		mu     sync.Mutex
		paused = -1 // requests sent when the pause was said
		until  time.Time
	)
	opts.Progress = func(p ghconn.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(p.Message, "secondary rate limit") {
			paused = log.Len()
		}
		if p.Phase == ghconn.PhaseWaiting && until.IsZero() {
			until = p.Until
		}
	}
	rec, err := runWith(t, githubtest.SampleLogin, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if paused < 0 || until.IsZero() {
		t.Fatalf("no pause said (note after %d requests, until %v)", paused, until)
	}
	var during []string
	after, peak := 0, 0
	for _, r := range log.Sent()[paused:] {
		if r.At.Before(until) {
			during = append(during, r.Path)
			continue
		}
		after++
		peak = max(peak, r.InFlight)
	}
	if len(during) != 0 {
		t.Errorf("%d requests sent during the pause: %v", len(during), during)
	}
	if after == 0 || peak > 4 {
		t.Errorf("%d requests sent after the pause, up to %d in flight at once; want some, at most 4 (half of 8)", after, peak)
	}
}

// slowToConnect lets the other goroutines run before each request goes
// on its way, as a connection slow to open does: workers pile up behind
// a request that passed the gate as a pause begins.
type slowToConnect struct{ next http.RoundTripper }

func (s slowToConnect) RoundTrip(r *http.Request) (*http.Response, error) {
	for range 20 {
		runtime.Gosched()
	}
	return s.next.RoundTrip(r)
}

// TestSecondaryLimitWaits: the pause lasts as GitHub asks — Retry-After,
// else until X-RateLimit-Reset when the budget is spent, else a minute —
// and --no-wait, or a pause longer than --max-wait, stops resumably.
func TestSecondaryLimitWaits(t *testing.T) {
	const path = "/orgs/acme/hooks"
	resetIn := func(clock *githubtest.FakeClock) githubtest.HTTPFault {
		h := http.Header{}
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(clock.Now().Add(2*time.Minute).Unix(), 10))
		return githubtest.FailTimes(path, 1, http.StatusForbidden, h, githubtest.SecondaryRateLimitBody)
	}
	for _, tc := range []struct {
		name  string
		fault func(*githubtest.FakeClock) githubtest.HTTPFault
		want  time.Duration
	}{
		{"Retry-After", func(*githubtest.FakeClock) githubtest.HTTPFault {
			return githubtest.SecondaryRateLimit(path, 1, 30*time.Second)
		}, 30 * time.Second},
		{"X-RateLimit-Reset", resetIn, 2*time.Minute + 2*time.Second},
		{"nothing said", func(*githubtest.FakeClock) githubtest.HTTPFault {
			return githubtest.SecondaryRateLimit(path, 1, 0)
		}, time.Minute},
	} {
		o := smallOrg()
		s, opts, clock := clocked(t, o)
		s.AddHTTPFault(tc.fault(clock))
		var mu sync.Mutex
		waiting, secondary := 0, 0
		opts.Progress = func(p ghconn.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if p.Phase == ghconn.PhaseWaiting {
				waiting++
				if p.Secondary {
					secondary++
				}
			}
		}
		rec, err := runWith(t, "acme", opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// With X-RateLimit-Remaining: 0 the budget is spent, and the wait
		// is for its reset; otherwise it is the secondary limit's pause.
		if want := waiting; waiting == 0 || tc.name == "X-RateLimit-Reset" && secondary != 0 || tc.name != "X-RateLimit-Reset" && secondary != want {
			t.Errorf("%s: %d of %d waiting reports say it is a secondary limit's pause", tc.name, secondary, waiting)
		}
		checkCounts(t, o, rec)
		if got := clock.Total(); got != tc.want || s.RequestsTo(path) != 2 {
			t.Errorf("%s: waited %v with %d requests; want %v and 2", tc.name, got, s.RequestsTo(path), tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		set  func(*ghconn.Options)
		want string
	}{
		{"--no-wait", func(o *ghconn.Options) { o.NoWait = true }, "because of --no-wait"},
		{"--max-wait", func(o *ghconn.Options) { o.MaxWait = 10 * time.Minute }, "rather than wait longer than 10m0s (--max-wait)"},
	} {
		s, opts, clock := clocked(t, smallOrg(), githubtest.WithHTTPFault(githubtest.SecondaryRateLimit(path, 1, time.Hour)))
		tc.set(&opts)
		_, err := runWith(t, "acme", opts)
		if !errors.Is(err, connectors.ErrResumable) || !strings.Contains(err.Error(), "secondary rate limit") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if clock.Total() != 0 || s.RequestsTo(path) != 1 {
			t.Errorf("%s: waited %v, %d requests", tc.name, clock.Total(), s.RequestsTo(path))
		}
	}
	// Without a flag, a Retry-After over 15 minutes stops too.
	_, opts, _ := clocked(t, smallOrg(), githubtest.WithHTTPFault(githubtest.SecondaryRateLimit(path, 1, 16*time.Minute)))
	if _, err := runWith(t, "acme", opts); !errors.Is(err, connectors.ErrResumable) || !strings.Contains(err.Error(), "longer than 15m0s") {
		t.Errorf("a 16-minute Retry-After: %v", err)
	}
}

// TestServerStopsAnswering: a request unanswered in time is abandoned and
// tried twice more at most; then the run stops, resumably, naming the
// endpoint. With the default 25 s per request that is about 80 s.
func TestServerStopsAnswering(t *testing.T) {
	const path = "/repos/acme/api/hooks"
	s, opts, _ := clocked(t, smallOrg(), githubtest.WithHTTPFault(githubtest.Hang(path)))
	// Short enough for a test; the requests the server answers are sent
	// without the connector's time limit (answeredInTime), so a loaded
	// machine is not a server that stopped answering.
	opts.RequestTimeout = 500 * time.Millisecond
	log := githubtest.NewRequestLog(s.Client().Transport, nil)
	opts.HTTPClient = &http.Client{Transport: answeredInTime{log, path}}
	_, err := runWith(t, "acme", opts)
	if !errors.Is(err, connectors.ErrResumable) || !strings.Contains(err.Error(), "GET "+path) || !strings.Contains(err.Error(), "stopped answering") {
		t.Errorf("a hanging server: %v", err)
	}
	sent := 0
	for _, r := range log.Sent() {
		if r.Path == path {
			sent++
		}
	}
	if sent != 3 {
		t.Errorf("%d requests sent to the hanging endpoint; want 3 (two retries)", sent)
	}
}

// answeredInTime sends every request but those to hang without the
// time limit of its context (it is still stopped if the run is): the
// server answers them in time however long a loaded machine takes.
type answeredInTime struct {
	next http.RoundTripper
	hang string
}

func (a answeredInTime) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == a.hang || strings.HasPrefix(r.URL.Path, a.hang+"/") { // githubtest.Hang's paths
		return a.next.RoundTrip(r)
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(r.Context()))
	go func() {
		select {
		case <-r.Context().Done():
			if errors.Is(r.Context().Err(), context.Canceled) {
				stop()
			}
		case <-ctx.Done():
		}
	}()
	resp, err := a.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		stop()
		return nil, err
	}
	resp.Body = stopOnClose{resp.Body, stop}
	return resp, nil
}

// stopOnClose ends its request's context once its body is closed.
type stopOnClose struct {
	io.ReadCloser
	stop context.CancelFunc
}

func (b stopOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

// TestSecondaryLimitNoteCountsRequests: the note of a secondary limit's
// pause says how many requests go at a time after it, in words that agree
// with the count ("1 request at a time", where it said "request(s)").
func TestSecondaryLimitNoteCountsRequests(t *testing.T) {
	for _, tc := range []struct {
		concurrency int
		want        string
	}{
		{1, "then goes on with 1 request at a time"},
		{8, "then goes on with 4 requests at a time"},
	} {
		s, opts, _ := clocked(t, smallOrg())
		s.AddHTTPFault(githubtest.SecondaryRateLimit("/orgs/acme/hooks", 1, 30*time.Second))
		opts.Concurrency = tc.concurrency
		var mu sync.Mutex
		var notes []string
		opts.Progress = func(p ghconn.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(p.Message, "secondary rate limit") {
				notes = append(notes, p.Message)
			}
		}
		if _, err := runWith(t, "acme", opts); err != nil {
			t.Fatal(err)
		}
		if len(notes) != 1 || !strings.HasSuffix(notes[0], tc.want) {
			t.Errorf("concurrency %d: notes %q; want one ending %q", tc.concurrency, notes, tc.want)
		}
	}
}

// TestAppTokenSignedAfterThePause: the App's JSON web token is signed
// when its request leaves, after any pause at the gate, not before: a
// request answered with a secondary limit that asks ten minutes' pause
// (the installation token's mint, then GET /app) is sent again after
// it with a token GitHub still takes, where one signed before the pause
// (nine minutes' life) was expired and the run failed, GitHub "rejecting
// the App's JSON web token". The clock is fake: the pauses take no time.
func TestAppTokenSignedAfterThePause(t *testing.T) {
	for _, path := range []string{"/app/installations", "/app"} {
		o := smallOrg()
		_, opts, clock := clocked(t, o, githubtest.WithHTTPFault(githubtest.SecondaryRateLimit(path, 1, 10*time.Minute)))
		rec, err := runWith(t, "acme", opts)
		if err != nil {
			t.Fatalf("%s paused ten minutes: %v", path, err)
		}
		checkCounts(t, o, rec)
		if waited := clock.Total(); waited < 10*time.Minute {
			t.Errorf("%s: waited %s in all, want the ten minutes' pause", path, waited)
		}
	}
}

// TestInstallationTokenRenewedAfterThePause: an installation token with
// eight minutes left when its request meets a ten-minute pause is renewed
// after the pause, before the request leaves again, where the request
// went out with the token that expired while it waited: a 401 GitHub
// answers, and a request spent, before the token was renewed.
func TestInstallationTokenRenewedAfterThePause(t *testing.T) {
	o := smallOrg()
	var clock *githubtest.FakeClock
	pause := githubtest.SecondaryRateLimit("/orgs/acme/hooks", 1, 10*time.Minute)
	late := func(r *http.Request) (func(http.ResponseWriter), bool) {
		w, ok := pause(r)
		if ok {
			// Minted as the run began, the hour's token has 8 minutes left.
			_ = clock.Sleep(context.Background(), 52*time.Minute)
		}
		return w, ok
	}
	_, opts, clk := clocked(t, o, githubtest.WithHTTPFault(late))
	clock = clk
	var rejected atomic.Int32
	next := opts.HTTPClient.Transport
	opts.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusUnauthorized {
			rejected.Add(1)
		}
		return resp, err
	})}
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if waited := clock.Total(); waited < 62*time.Minute {
		t.Errorf("the clock moved %s, want the 52 minutes and the ten minutes' pause", waited)
	}
	if n := rejected.Load(); n != 0 {
		t.Errorf("GitHub answered 401 %d times: a token that expired during the pause was sent", n)
	}
}

// roundTrip is a function as an http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
