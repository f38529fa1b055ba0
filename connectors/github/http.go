package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// This file is the one place requests leave from: every GET and the App
// token POST go through Connector.do, which waits out rate limits, retries
// what may succeed on a second try, and counts what it sent.

// Clock is the time source for every wait (rate-limit resets, backoff).
// Tests pass a fake one (githubtest.FakeClock) so nothing sleeps for real.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry policy. A server error or a dropped connection is retried
// maxRetries times with exponential backoff and jitter; a secondary rate
// limit is waited out up to maxSecondary times in a row.
const (
	defaultRetries = 4
	baseBackoff    = time.Second
	maxSecondary   = 6
	maxPrimary     = 4               // waits for one request before giving up
	maxBody        = 64 << 20        // bytes: more is not a GitHub list page
	resetMargin    = 2 * time.Second // GitHub's reset is rounded to the second
	// A request unanswered for requestTimeout is abandoned, and retried at
	// most maxTimeouts times: a server that stops answering fails the run
	// in about 80 s, resumably.
	requestTimeout = 25 * time.Second
	maxTimeouts    = 2
	// DefaultMaxWait is the longest wait for a rate limit before the run
	// stops resumably instead.
	DefaultMaxWait = 15 * time.Minute
)

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// message is GitHub's error message in the body, or the status text.
func (r *response) message() string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.body, &e) == nil && e.Message != "" {
		return redactServerText(e.Message) // see redact.go
	}
	return http.StatusText(r.status)
}

// rateState is what the last answers said of the primary rate limit,
// shared by every worker so one exhausted budget stops them all.
type rateState struct {
	mu        sync.Mutex
	limit     int
	remaining int // -1: unknown
	reset     time.Time
	// pauseUntil is the end of a secondary-limit pause: no worker sends
	// before it (GitHub: continuing while limited can get an integration
	// banned). The first worker to wait counts down for them all.
	pauseUntil time.Time
	waiting    chan struct{} // closed when the worker waiting for the reset is done
}

func (r *rateState) observe(h http.Header) {
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var reset time.Time
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		reset = time.Unix(s, 0)
	}
	// Answers to concurrent requests arrive in any order: within one window
	// (the same reset time) the budget only falls, so an answer that left
	// earlier never raises what is left.
	if !reset.IsZero() && reset.Equal(r.reset) && r.remaining >= 0 && rem > r.remaining {
		rem = r.remaining
	}
	r.remaining = rem
	if l, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil {
		r.limit = l
	}
	if !reset.IsZero() {
		r.reset = reset
	}
}

func (r *rateState) snapshot() (limit, remaining int, reset time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limit, r.remaining, r.reset
}

// beforeRequest waits while the primary budget is known to be spent, or a
// secondary limit pauses every worker: one worker counts down (reporting
// progress), the others wait for it. With NoWait, or a wait longer than
// MaxWait, it returns an error wrapping connectors.ErrResumable.
func (c *Connector) beforeRequest(ctx context.Context, ep endpoint) error {
	for {
		// The primary budget is the endpoint's own (REST's or GraphQL's:
		// separate at GitHub); a secondary-limit pause stops both.
		p := c.primary(ep)
		_, remaining, reset := p.snapshot()
		r := &c.rate
		r.mu.Lock()
		now := c.clock.Now()
		until, secondary := r.pauseUntil, true
		if remaining == 0 && reset.Add(resetMargin).After(until) {
			until, secondary = reset.Add(resetMargin), false
		}
		if !now.Before(until) {
			r.mu.Unlock()
			return ctx.Err()
		}
		if (ep.batch || ep.spare) && !secondary {
			// GraphQL's budget is spent: REST reads on rather than wait.
			r.mu.Unlock()
			return fmt.Errorf("github: %s: %w", ep, errGraphQLSpent)
		}
		if c.noWait || until.Sub(now) > c.waitLimit(secondary) {
			r.mu.Unlock()
			return c.exhausted(ep, until, secondary)
		}
		if ch := r.waiting; ch != nil {
			r.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ch := make(chan struct{})
		r.waiting = ch
		r.mu.Unlock()

		err := c.countdown(ctx, until, secondary)

		r.mu.Lock()
		r.waiting = nil
		r.mu.Unlock()
		p.mu.Lock()
		if err == nil && p.remaining == 0 && !c.clock.Now().Before(until) {
			p.remaining = -1 // a new window: unknown until the next answer
		}
		p.mu.Unlock()
		close(ch)
		if err != nil {
			return err
		}
	}
}

// waitLimit is the longest wait before stopping resumably: MaxWait when
// set; else DefaultMaxWait for a secondary limit's pause, and no limit for
// the primary reset, which GitHub keeps within the hour.
func (c *Connector) waitLimit(secondary bool) time.Duration {
	switch {
	case c.maxWait > 0:
		return c.maxWait
	case secondary:
		return DefaultMaxWait
	}
	return 1<<63 - 1
}

// gateClosed reports whether beforeRequest would wait now for ep.
func (c *Connector) gateClosed(ep endpoint) bool {
	_, remaining, reset := c.primary(ep).snapshot()
	r := &c.rate
	r.mu.Lock()
	defer r.mu.Unlock()
	now := c.clock.Now()
	return now.Before(r.pauseUntil) || (remaining == 0 && now.Before(reset.Add(resetMargin)))
}

// primary is the primary rate-limit budget ep spends: GraphQL's for a
// GraphQL query, REST's for the rest (GitHub keeps them apart).
func (c *Connector) primary(ep endpoint) *rateState {
	if ep.graphql {
		return &c.gqlRate
	}
	return &c.rate
}

// bucket is the budget an answer reports on, by its X-RateLimit-Resource.
func (c *Connector) bucket(h http.Header) *rateState {
	if h.Get("X-RateLimit-Resource") == "graphql" {
		return &c.gqlRate
	}
	return &c.rate
}

func (c *Connector) exhausted(ep endpoint, until time.Time, secondary bool) error {
	what := "the API rate limit is exhausted"
	if secondary {
		what = "GitHub's secondary rate limit asks to pause"
	}
	why := "because of --no-wait"
	if !c.noWait {
		why = fmt.Sprintf("rather than wait longer than %s (--max-wait)", c.waitLimit(secondary))
	}
	return fmt.Errorf("github: %s: %s until %s (%s from now); stopped %s: %w",
		ep, what, until.UTC().Format("15:04:05 MST"), c.until(until), why, connectors.ErrResumable)
}

func (c *Connector) until(t time.Time) time.Duration {
	return max(t.Sub(c.clock.Now()), 0).Round(time.Second)
}

// countdown sleeps until t, a second at a time, telling progress how
// long is left and whether it is a secondary limit's pause.
func (c *Connector) countdown(ctx context.Context, t time.Time, secondary bool) error {
	c.progressMu.Lock()
	prev := c.phase
	c.waitUntil, c.waitSecondary = t, secondary
	c.progressMu.Unlock()
	defer c.emit(prev, "", 0)
	for {
		left := t.Sub(c.clock.Now())
		if left <= 0 {
			return nil
		}
		c.emit(PhaseWaiting, "", left)
		if err := c.clock.Sleep(ctx, min(left, time.Second)); err != nil {
			return err
		}
	}
}

// do sends one request and reads its answer, waiting out rate limits and
// retrying server errors and dropped connections. u is relative to the API
// base URL. etag, when set, makes the request conditional. jwt authenticates
// as the App itself rather than as the token or installation. A 401 is
// ErrBadCredentials; any other answer is returned for the caller to judge.
func (c *Connector) do(ctx context.Context, ep endpoint, method, u, etag string, jwt bool) (*response, error) {
	attempts, secondary, primary, timeouts, redirects := 0, 0, 0, 0, 0
	renewed := false
	for {
		resp, err := c.send(ctx, ep, method, u, etag, jwt)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var fe *fatalError
			if errors.As(err, &fe) {
				return nil, fe.err
			}
			if errors.Is(err, errTimeout) && ep.batch {
				return nil, err // graphql.go asks again with fewer repositories
			}
			if errors.Is(err, errTimeout) {
				timeouts++
				if timeouts > maxTimeouts {
					return nil, fmt.Errorf("github: %s: no answer within %s, %d times: the server stopped answering; run the same command again to continue: %w",
						ep, c.requestTimeout, timeouts, connectors.ErrResumable)
				}
			}
			// A server never reached is the wrong address or no network:
			// say so at once, as a failure to fix, not a run to resume.
			if !c.reached.Load() && unreachable(err) {
				return nil, fmt.Errorf("github: cannot reach %s (%s: %v): check --api-url and the network; nothing was read", c.client.BaseURL, ep, err)
			}
			// A dropped connection or a body cut short: try again.
			attempts++
			if attempts > c.retryLimit() {
				gaveUp := fmt.Errorf("github: %s: %v (gave up after %d attempts): %w", ep, err, attempts, connectors.ErrResumable)
				if ep.need != "" && c.answering(ctx, jwt) {
					return nil, c.brokenOrStorm(ep, &brokenEndpoint{message: "an answer cut short (" + err.Error() + ")", attempts: attempts, err: gaveUp})
				}
				return nil, gaveUp
			}
			if err := c.backoff(ctx, ep, attempts, c.retryLimit(), err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		c.bucket(resp.header).observe(resp.header)
		if v := resp.header.Get("X-GitHub-Enterprise-Version"); v != "" {
			c.setServerVersion(v)
		}
		switch s := resp.status; {
		case isRedirect(s):
			// A renamed or transferred repository: GitHub answers its old
			// name with 301 to /repositories/{id}/…. Followed only within
			// the API, a few times, with the same token.
			next, err := c.redirect(ep, resp, redirects)
			if err != nil {
				return nil, err
			}
			redirects++
			u = next
			continue
		case s == http.StatusUnauthorized:
			if jwt {
				return nil, fmt.Errorf("github: %s: %w", ep, errAppRejected)
			}
			if c.app != nil && !renewed {
				// An installation token may expire or be revoked under
				// us: mint a new one, once.
				c.app.invalidate()
				renewed = true
				continue
			}
			return nil, fmt.Errorf("github: %s: %w", ep, c.badCredentials())
		case (s == http.StatusForbidden || s == http.StatusTooManyRequests) && resp.header.Get("X-RateLimit-Remaining") == "0" && resp.header.Get("Retry-After") == "":
			// The primary budget is spent: wait for the reset (beforeRequest
			// sees remaining 0), or stop resumably.
			primary++
			if primary > maxPrimary {
				return nil, fmt.Errorf("github: %s: still rate limited after %d waits for the reset: %w", ep, maxPrimary, connectors.ErrResumable)
			}
			p := c.bucket(resp.header)
			if ep.batch || ep.spare {
				// GraphQL's budget: REST reads on rather than wait (graphql.go).
				return nil, fmt.Errorf("github: %s: %w", ep, errGraphQLSpent)
			}
			p.mu.Lock()
			if !p.reset.After(c.clock.Now()) {
				// A reset already past by our clock: wait a little anyway.
				p.reset = c.clock.Now().Add(time.Duration(primary) * 30 * time.Second)
			}
			p.remaining = 0
			p.mu.Unlock()
			continue
		case isSecondaryLimit(resp):
			secondary++
			if secondary > maxSecondary {
				return nil, fmt.Errorf("github: %s: still hitting GitHub's secondary rate limit after %d waits: %w", ep, maxSecondary, connectors.ErrResumable)
			}
			c.pause(ep, resp, secondary)
			continue
		case s >= 500 && ep.batch:
			// A query too large to answer in time: the caller asks again
			// with fewer repositories (graphql.go), not the same again.
			return resp, nil
		case s >= 500:
			attempts++
			if attempts > c.retryLimit() {
				err := fmt.Errorf("github: %s: GitHub answered %d %s (gave up after %d attempts): %w",
					ep, s, resp.message(), attempts, connectors.ErrResumable)
				if ep.need != "" && c.answering(ctx, jwt) {
					return nil, c.brokenOrStorm(ep, &brokenEndpoint{status: s, message: resp.message(), attempts: attempts, err: err})
				}
				return nil, err
			}
			if err := c.backoff(ctx, ep, attempts, c.retryLimit(), fmt.Sprintf("%d %s", s, resp.message())); err != nil {
				return nil, err
			}
			continue
		}
		if !jwt && !ep.graphql && resp.status < 500 {
			c.storm.answered() // GitHub serves REST: no storm (storm.go)
		}
		return resp, nil
	}
}

// maxRedirects is how many redirects one request follows.
const maxRedirects = 3

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirect is where a redirect answer leads, relative to the API base;
// one that leaves the API, has no Location or is one too many is an error
// naming the endpoint (the token is never sent elsewhere).
func (c *Connector) redirect(ep endpoint, resp *response, followed int) (string, error) {
	loc := resp.header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("github: %s: GitHub answered %d without a Location", ep, resp.status)
	}
	if followed >= maxRedirects {
		return "", fmt.Errorf("github: %s: more than %d redirects, the last to %s", ep, maxRedirects, redactedURL(loc))
	}
	next, err := c.relative(loc)
	if err != nil {
		return "", fmt.Errorf("github: %s: GitHub answered %d: %w", ep, resp.status, err)
	}
	if followed == 0 {
		c.note(fmt.Sprintf("%s moved (%d): followed to /%s (a repository renamed or transferred while the run read it)", ep, resp.status, strings.SplitN(next, "?", 2)[0]))
	}
	return next, nil
}

func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "an unreadable URL"
}

// pause stops every worker for as long as GitHub asks after a secondary
// limit: Retry-After, else until X-RateLimit-Reset when the budget is
// spent, else a minute, doubling each time in a row; and halves the
// requests in flight for the rest of the run.
func (c *Connector) pause(ep endpoint, resp *response, nth int) {
	now := c.clock.Now()
	wait := time.Minute << (nth - 1)
	if ra, err := strconv.Atoi(strings.TrimSpace(resp.header.Get("Retry-After"))); err == nil && ra >= 0 {
		wait = time.Duration(ra) * time.Second
	} else if resp.header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.header.Get("X-RateLimit-Reset"), 10, 64); err == nil && time.Unix(s, 0).After(now) {
			wait = time.Unix(s, 0).Sub(now) + resetMargin
		}
	}
	// The bound is lowered as the gate closes, in one step for send: no
	// request leaves between them, and none after them with a slot taken
	// under the old bound.
	c.sendMu.Lock() // waits for requests past the gate to leave
	n := c.slots.lower()
	c.rate.mu.Lock()
	if until := now.Add(wait); until.After(c.rate.pauseUntil) {
		c.rate.pauseUntil = until
	}
	c.rate.mu.Unlock()
	c.sendMu.Unlock()
	c.note(fmt.Sprintf("secondary rate limit on %s: every worker waits %s, then goes on with %s at a time", ep, wait.Round(time.Second), audit.Counted(n, "request", "requests")))
	c.stats.retries.Add(1)
}

// isSecondaryLimit tells GitHub's secondary (abuse) rate limit apart from
// a plain 403: a Retry-After header, a 429, or GitHub's message.
func isSecondaryLimit(r *response) bool {
	if r.status != http.StatusForbidden && r.status != http.StatusTooManyRequests {
		return false
	}
	if r.status == http.StatusTooManyRequests || r.header.Get("Retry-After") != "" {
		return true
	}
	m := strings.ToLower(r.message())
	return strings.Contains(m, "secondary rate limit") || strings.Contains(m, "abuse")
}

// backoff waits before retry number attempt: 1 s, 2 s, 4 s, 8 s, each
// scaled by a random factor in [0.5, 1.5) so workers do not retry in step.
func (c *Connector) backoff(ctx context.Context, ep endpoint, attempt, retries int, why string) error {
	d := baseBackoff << (attempt - 1)
	d = time.Duration(float64(d) * (0.5 + rand.Float64()))
	c.stats.retries.Add(1)
	c.note(fmt.Sprintf("%s: %s; retrying in %s (attempt %d of %d)", ep, why, d.Round(100*time.Millisecond), attempt+1, retries+1))
	return c.clock.Sleep(ctx, d)
}

// errGraphQLSpent: GraphQL's own rate limit is spent (graphql.go then
// reads through REST).
var errGraphQLSpent = errors.New("GitHub's GraphQL rate limit is spent")

// errTimeout is a request unanswered within the request timeout.
var errTimeout = errors.New("no answer in time")

// slots bounds the requests in flight; a secondary limit lowers the bound
// for the rest of the run.
type slots struct {
	mu   sync.Mutex
	cond *sync.Cond
	busy int
	max  int
}

func newSlots(n int) *slots {
	s := &slots{max: n}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *slots) acquire(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy >= s.max {
		stop := context.AfterFunc(ctx, s.wake)
		defer stop()
	}
	for s.busy >= s.max {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.cond.Wait() // release broadcasts, and so does ctx when done
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.busy++
	return nil
}

// within reports whether the slots taken are within the bound: after
// lower, those taken under the old bound may be more.
func (s *slots) within() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy <= s.max
}

func (s *slots) release() {
	s.mu.Lock()
	s.busy--
	s.mu.Unlock()
	s.cond.Broadcast()
}

// lower halves the bound (at least 1) and returns it.
func (s *slots) lower() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max(1, s.max/2)
	return s.max
}

// wake is for a done context; taking the lock first, it cannot slip in
// between acquire's check and its Wait.
func (s *slots) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// brokenEndpoint is an endpoint that answered 5xx, or an answer cut
// short, every time it was asked while GitHub answers other requests: one repository's
// endpoint GitHub cannot serve, which stopping the run would not mend
// (the resumed run would stop at it again, and never finish). An
// endpoint read by unit.list makes it a gap; elsewhere it ends the run
// resumably, as any 5xx that does not go away.
type brokenEndpoint struct {
	status   int    // the 5xx; 0 for answers cut short
	message  string // GitHub's message, or what was wrong with the answer
	attempts int
	err      error
}

// brokenOrStorm is b, or the error stopping the run when b makes the
// endpoints failing in a row a storm (storm.go).
func (c *Connector) brokenOrStorm(ep endpoint, b *brokenEndpoint) error {
	if err := c.broken(ep, b); err != nil {
		return err
	}
	return b
}

func (e *brokenEndpoint) Error() string { return e.err.Error() }
func (e *brokenEndpoint) Unwrap() error { return e.err }

// answering reports whether GitHub answers at all, asked GET /rate_limit,
// which costs nothing of the rate limit: an answer below 500 (GitHub
// Enterprise Server's 404 when it has no rate limit included) says an
// endpoint's 5xx are its own.
func (c *Connector) answering(ctx context.Context, jwt bool) bool {
	resp, err := c.send(ctx, endpoint{path: "/rate_limit", url: "rate_limit"}, http.MethodGet, "rate_limit", "", jwt)
	return err == nil && resp.status < 500
}

// fatalError is a failure before anything was sent (a request that cannot
// be built, App credentials that cannot be had): not worth retrying as a
// network error.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// send is one HTTP exchange. The body is read in full, so a connection
// dropped mid-answer is an error here, retried by do.
func (c *Connector) send(ctx context.Context, ep endpoint, method, u, etag string, jwt bool) (*response, error) {
	req, err := c.client.NewRequest(method, u, ep.body)
	if err != nil {
		return nil, &fatalError{err}
	}
	if ep.accept != "" {
		req.Header.Set("Accept", ep.accept)
	}
	req = req.WithContext(ctx)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
		c.stats.conditional.Add(1)
	}
	// A request waits at the gate holding no slot, then takes one; the
	// last look at the gate and at the bound, and the request's departure,
	// are one step for a pause, which takes sendMu to close the gate and
	// lower the bound (see pause): a request that passed the gate is on its
	// way (its connection asked for) before a pause begins, and none passes
	// it after until the pause ends, and then within the lowered bound. A
	// worker waiting out a pause with a slot would leave with every other
	// one when it ends, more at once than the bound: what GitHub asks
	// clients never to do after a secondary limit.
	//
	// The credential is taken after the gate, so a wait there never sends
	// one that expired meanwhile: the installation token (renewed when
	// less than five minutes are left) before a slot is taken, since
	// minting one is a request of its own; the App's JSON web token (nine
	// minutes' life, signed here without a request) once the request may
	// leave.
	var authz string
	for {
		if err := c.beforeRequest(ctx, ep); err != nil {
			return nil, &fatalError{err}
		}
		if !jwt && c.auth != nil {
			if authz, err = c.auth.authorization(ctx); err != nil {
				return nil, &fatalError{err}
			}
		}
		if err := c.slots.acquire(ctx); err != nil {
			return nil, err
		}
		c.sendMu.RLock()
		if !c.gateClosed(ep) && c.slots.within() {
			break
		}
		c.sendMu.RUnlock()
		c.slots.release()
	}
	defer c.slots.release()
	var once sync.Once
	unlock := func() { once.Do(c.sendMu.RUnlock) }
	defer unlock()
	if jwt {
		tok, err := c.app.jwt(c.clock.Now())
		if err != nil {
			return nil, &fatalError{err}
		}
		authz = "Bearer " + tok
	}
	if authz != "" {
		rememberSent(authz) // never echoed back into the file (redact.go)
		req.Header.Set("Authorization", authz)
	}
	c.stats.requests.Add(1)
	rctx, cancel := context.WithTimeoutCause(ctx, c.requestTimeout, errTimeout)
	defer cancel()
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{GetConn: func(string) { unlock() }})
	hr, err := c.http.Do(req.WithContext(rctx))
	unlock()
	if err != nil {
		if ctx.Err() == nil && context.Cause(rctx) == errTimeout {
			return nil, errTimeout
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			// Its URL is ours: keep the message short and free of queries.
			return nil, ue.Err
		}
		return nil, err
	}
	defer hr.Body.Close()
	c.reached.Store(true)
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		if ctx.Err() == nil && context.Cause(rctx) == errTimeout {
			return nil, errTimeout
		}
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("answer larger than %d MB", maxBody>>20)
	}
	switch {
	case hr.StatusCode == http.StatusNotModified:
		c.stats.notModified.Add(1) // free of the rate limit
	case !ep.graphql:
		c.stats.restPoints.Add(1)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: body}, nil
}

// authorizer supplies the Authorization header of API requests.
type authorizer interface {
	authorization(ctx context.Context) (string, error)
}

type staticToken string

func (t staticToken) authorization(context.Context) (string, error) {
	return "Bearer " + string(t), nil
}

// apiBase is the REST API's base URL for what a user gave. A host alone
// names a GitHub Enterprise Server, whose API lives at /api/v3/, as gh and
// go-github's WithEnterpriseURLs have it; github.com means api.github.com.
// api.* hosts and loopback addresses (test servers, nhi demo) are taken as
// given.
func apiBase(u *url.URL) *url.URL {
	u = &url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	host := strings.ToLower(u.Hostname())
	if host == "github.com" || host == "www.github.com" {
		return &url.URL{Scheme: "https", Host: "api.github.com", Path: "/"}
	}
	hostOnly := u.Path == "" || u.Path == "/"
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if hostOnly && !strings.HasPrefix(host, "api.") && !loopback {
		u.Path = "/api/v3/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u
}

// CheckAPIURL refuses an --api-url that is not an http(s) URL with a
// host, so a command can say so before it creates anything.
func CheckAPIURL(apiURL string) error {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("github: API URL %q is not an http(s) URL: pass the server's address, e.g. https://github.example.com", apiURL)
	}
	return nil
}

// unreachable reports whether err says the server cannot be reached at
// all (nothing listens, no such host, no route): retrying the first
// request only delays the answer.
func unreachable(err error) bool {
	var dns *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &dns) && dns.IsNotFound
}

// newRequestClient is a go-github client used only to build requests
// (base URL, User-Agent, API version, Accept): requests are sent by do,
// so go-github's own rate-limit bookkeeping never blocks a retry.
func newRequestClient(apiURL string) (*github.Client, error) {
	client := github.NewClient(nil)
	if apiURL != "" {
		if err := CheckAPIURL(apiURL); err != nil {
			return nil, err
		}
		u, _ := url.Parse(apiURL)
		client.BaseURL = apiBase(u)
	}
	client.UserAgent = "nhi (+https://github.com/nhi-audit/nhi)"
	return client, nil
}
