package githubtest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FailTimes answers the first n requests under pathPrefix (see
// [Server.Fail] for what "under" means) with status, header and body; n < 0
// fails every one. Use it for a server error that goes away (5xx then
// success) or never does.
func FailTimes(pathPrefix string, n int, status int, header http.Header, body string) HTTPFault {
	var mu sync.Mutex
	left := n
	return func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !under(r.URL.Path, pathPrefix) {
			return nil, false
		}
		mu.Lock()
		defer mu.Unlock()
		if left == 0 {
			return nil, false
		}
		if left > 0 {
			left--
		}
		return func(w http.ResponseWriter) {
			for k, v := range header {
				w.Header()[k] = v
			}
			writeRaw(w, status, body)
		}, true
	}
}

// SecondaryRateLimitBody is GitHub's answer to too many requests too fast.
const SecondaryRateLimitBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:000000.","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`

// SecondaryRateLimit answers the first n requests under pathPrefix 403
// with a secondary rate limit message and, when retryAfter > 0, a
// Retry-After header of that many seconds.
func SecondaryRateLimit(pathPrefix string, n int, retryAfter time.Duration) HTTPFault {
	h := http.Header{}
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	}
	return FailTimes(pathPrefix, n, http.StatusForbidden, h, SecondaryRateLimitBody)
}

// TruncatedBody answers the first n requests under pathPrefix 200 with a
// Content-Length longer than the body it sends before closing the
// connection: what a client sees when a connection drops mid-answer.
func TruncatedBody(pathPrefix string, n int) HTTPFault {
	inner := FailTimes(pathPrefix, n, 0, nil, "")
	return func(r *http.Request) (func(http.ResponseWriter), bool) {
		if _, ok := inner(r); !ok {
			return nil, false
		}
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "4096")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`[{"id": 1, "title": "cut`))
		}, true
	}
}

// FakeClock is a clock for tests: Sleep returns at once and moves Now on
// by the time asked, so waits for rate-limit resets and backoffs take no
// real time. Pass Now to [WithClock] so the server's rate-limit window
// moves with it. Safe for concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  []time.Duration
	OnWait func(d time.Duration) // called on every Sleep, if set
}

// NewFakeClock starts a fake clock at start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now is the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock on by d, unless ctx is done.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(max(d, 0))
	c.slept = append(c.slept, d)
	f := c.OnWait
	c.mu.Unlock()
	if f != nil {
		f(d)
	}
	return nil
}

// Slept is every duration Sleep was asked for, in order.
func (c *FakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// Total is the sum of Slept.
func (c *FakeClock) Total() time.Duration {
	var t time.Duration
	for _, d := range c.Slept() {
		t += d
	}
	return t
}

// Hang answers nothing to requests under pathPrefix until the client
// gives up (its request context ends): a server that stopped answering.
func Hang(pathPrefix string) HTTPFault {
	return func(r *http.Request) (func(http.ResponseWriter), bool) {
		if !under(r.URL.Path, pathPrefix) {
			return nil, false
		}
		return func(http.ResponseWriter) {
			// A server notices a client gone only once it has read the
			// body (a POST's): until then its context never ends.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, true
	}
}

// RequestLog is an http.RoundTripper that notes when each request left
// the client and how many were in flight, for tests of what a client
// sends while GitHub asked it to pause. Wrap a Server's transport with it
// and hand the connector an http.Client using it.
type RequestLog struct {
	next http.RoundTripper
	now  func() time.Time

	mu       sync.Mutex
	sent     []SentRequest
	inFlight int
}

// SentRequest is one request as the log saw it leave.
type SentRequest struct {
	At       time.Time // by the log's clock
	Path     string
	InFlight int // requests in flight once it left, itself included
	// Answered is when its answer came back (the response's headers, or
	// an error); zero while it is in flight.
	Answered time.Time
}

// NewRequestLog logs requests on their way to next, telling the time by
// now: a [FakeClock]'s Now, the connector's clock, puts each request
// before, during or after a wait the connector made; nil is time.Now.
func NewRequestLog(next http.RoundTripper, now func() time.Time) *RequestLog {
	if now == nil {
		now = time.Now
	}
	return &RequestLog{next: next, now: now}
}

// RoundTrip notes the request and sends it.
func (l *RequestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.inFlight++
	i := len(l.sent)
	l.sent = append(l.sent, SentRequest{At: l.now(), Path: r.URL.Path, InFlight: l.inFlight})
	l.mu.Unlock()
	resp, err := l.next.RoundTrip(r)
	l.mu.Lock()
	l.inFlight--
	l.sent[i].Answered = l.now()
	l.mu.Unlock()
	return resp, err
}

// Sent is every request so far, in the order they left.
func (l *RequestLog) Sent() []SentRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]SentRequest(nil), l.sent...)
}

// Len is how many requests have left so far.
func (l *RequestLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent)
}
