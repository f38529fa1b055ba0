package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

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
		return e.Message
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
	waiting   chan struct{} // closed when the worker waiting for the reset is done
}

func (r *rateState) observe(h http.Header) {
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remaining = rem
	if l, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil {
		r.limit = l
	}
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		r.reset = time.Unix(s, 0)
	}
}

func (r *rateState) snapshot() (limit, remaining int, reset time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limit, r.remaining, r.reset
}

// beforeRequest waits while the primary budget is known to be spent: one
// worker counts down to the reset (reporting progress), the others wait for
// it. With NoWait it returns an error wrapping connectors.ErrResumable.
func (c *Connector) beforeRequest(ctx context.Context, ep endpoint) error {
	for {
		r := &c.rate
		r.mu.Lock()
		now := c.clock.Now()
		if r.remaining != 0 || !now.Before(r.reset.Add(resetMargin)) {
			r.mu.Unlock()
			return ctx.Err()
		}
		if c.noWait {
			reset := r.reset
			r.mu.Unlock()
			return c.exhausted(ep, reset)
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
		until := r.reset.Add(resetMargin)
		r.mu.Unlock()

		err := c.countdown(ctx, until)

		r.mu.Lock()
		r.waiting = nil
		if err == nil && r.remaining == 0 && !c.clock.Now().Before(until) {
			r.remaining = -1 // a new window: unknown until the next answer
		}
		r.mu.Unlock()
		close(ch)
		if err != nil {
			return err
		}
	}
}

func (c *Connector) exhausted(ep endpoint, reset time.Time) error {
	return fmt.Errorf("github: %s: the API rate limit is exhausted until %s (%s from now); stopped because of --no-wait: %w",
		ep, reset.UTC().Format("15:04:05 MST"), c.until(reset), connectors.ErrResumable)
}

func (c *Connector) until(t time.Time) time.Duration {
	return max(t.Sub(c.clock.Now()), 0).Round(time.Second)
}

// countdown sleeps until t, a second at a time, telling progress how long is left.
func (c *Connector) countdown(ctx context.Context, t time.Time) error {
	c.progressMu.Lock()
	prev := c.phase
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
	attempts, secondary, primary := 0, 0, 0
	renewed := false
	for {
		if err := c.beforeRequest(ctx, ep); err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, ep, method, u, etag, jwt)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var fe *fatalError
			if errors.As(err, &fe) {
				return nil, fe.err
			}
			// A dropped connection or a body cut short: try again.
			attempts++
			if attempts > c.retries {
				return nil, fmt.Errorf("github: %s: %v (gave up after %d attempts): %w", ep, err, attempts, connectors.ErrResumable)
			}
			if err := c.backoff(ctx, ep, attempts, err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		c.rate.observe(resp.header)
		switch s := resp.status; {
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
			c.rate.mu.Lock()
			if !c.rate.reset.After(c.clock.Now()) {
				// A reset already past by our clock: wait a little anyway.
				c.rate.reset = c.clock.Now().Add(time.Duration(primary) * 30 * time.Second)
			}
			c.rate.remaining = 0
			c.rate.mu.Unlock()
			continue
		case isSecondaryLimit(resp):
			secondary++
			if secondary > maxSecondary {
				return nil, fmt.Errorf("github: %s: still hitting GitHub's secondary rate limit after %d waits: %w", ep, maxSecondary, connectors.ErrResumable)
			}
			wait := time.Minute << (secondary - 1) // GitHub: at least a minute, then longer
			if ra, err := strconv.Atoi(strings.TrimSpace(resp.header.Get("Retry-After"))); err == nil && ra >= 0 {
				wait = time.Duration(ra) * time.Second
			} else if resp.header.Get("X-RateLimit-Remaining") == "0" {
				if _, _, reset := c.rate.snapshot(); reset.After(c.clock.Now()) {
					wait = reset.Sub(c.clock.Now()) + resetMargin
				}
			}
			c.note(fmt.Sprintf("secondary rate limit on %s: waiting %s", ep, wait.Round(time.Second)))
			c.stats.retries.Add(1)
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case s >= 500:
			attempts++
			if attempts > c.retries {
				return nil, fmt.Errorf("github: %s: GitHub answered %d %s (gave up after %d attempts): %w",
					ep, s, resp.message(), attempts, connectors.ErrResumable)
			}
			if err := c.backoff(ctx, ep, attempts, fmt.Sprintf("%d %s", s, resp.message())); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
	}
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
func (c *Connector) backoff(ctx context.Context, ep endpoint, attempt int, why string) error {
	d := baseBackoff << (attempt - 1)
	d = time.Duration(float64(d) * (0.5 + rand.Float64()))
	c.stats.retries.Add(1)
	c.note(fmt.Sprintf("%s: %s; retrying in %s (attempt %d of %d)", ep, why, d.Round(100*time.Millisecond), attempt+1, c.retries+1))
	return c.clock.Sleep(ctx, d)
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
	req, err := c.client.NewRequest(method, u, nil)
	if err != nil {
		return nil, &fatalError{err}
	}
	if ep.accept != "" {
		req.Header.Set("Accept", ep.accept)
	}
	req = req.WithContext(ctx)
	var authz string
	switch {
	case jwt:
		authz, err = c.app.jwt(c.clock.Now())
		authz = "Bearer " + authz
	case c.auth != nil:
		authz, err = c.auth.authorization(ctx)
	}
	if err != nil {
		return nil, &fatalError{err}
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	c.stats.requests.Add(1)
	hr, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// Its URL is ours: keep the message short and free of queries.
			return nil, ue.Err
		}
		return nil, err
	}
	defer hr.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("answer larger than %d MB", maxBody>>20)
	}
	if hr.StatusCode == http.StatusNotModified {
		c.stats.notModified.Add(1)
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

// newRequestClient is a go-github client used only to build requests
// (base URL, User-Agent, API version, Accept): requests are sent by do,
// so go-github's own rate-limit bookkeeping never blocks a retry.
func newRequestClient(apiURL string) (*github.Client, error) {
	client := github.NewClient(nil)
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("github: API URL %q is not an http(s) URL", apiURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		client.BaseURL = u
	}
	client.UserAgent = "nhi (+https://github.com/nhi-audit/nhi)"
	return client, nil
}
