package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// A page the API server does not answer (docs/kubernetes.md): no answer
// at all (the connection refused or reset, a timeout: a server restarting
// or unreachable), or one that says it cannot answer now (429 without a
// Retry-After, 502, 503, 504), is asked again, after 1, 2, 4 and 8
// seconds: a restart is ridden over. client-go itself asks again only
// when the answer carries a Retry-After, or a GET's connection was reset.
// A request unanswered for requestTimeout is given up and counts as no
// answer. Still unanswered, the list is a gap that says so and what to
// do; once one list has given up, later ones are asked once each until
// the server answers again, so a server gone for good costs the run
// seconds (minutes if it froze), not hours.

// retries is how many times an unanswered page is asked again.
const retries = 4

// timedOut is a request the API server did not answer in time.
type timedOut struct {
	err   error
	after time.Duration
}

func (e *timedOut) Error() string {
	return fmt.Sprintf("no answer within %s: %s", e.after, shortErr(e.err))
}

func (e *timedOut) Unwrap() error { return e.err }

// unanswered reports whether err says the API server did not answer, or
// cannot answer for now.
func unanswered(err error) bool {
	var to *timedOut
	if errors.As(err, &to) {
		return true
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		switch se.Status().Code {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) || utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) ||
		utilnet.IsProbableEOF(err) || utilnet.IsTimeout(err)
}

// unansweredError is a page the API server did not answer, however often
// it was asked.
type unansweredError struct {
	err   error
	tries int
	took  time.Duration
}

func (e *unansweredError) Error() string {
	if e.tries == 1 {
		return fmt.Sprintf("the API server did not answer (%s), as it had stopped answering earlier in this run: it may be restarting, overloaded or unreachable; what was read is kept and this list is not; run the same command again once it answers", shortErr(e.err))
	}
	return fmt.Sprintf("the API server did not answer (%s), asked %d times over %s: it may be restarting, overloaded or unreachable; what was read is kept and this list is not; run the same command again once it answers", shortErr(e.err), e.tries, e.took)
}

func (e *unansweredError) Unwrap() error { return e.err }

// requestTimeout is how long a request may go unanswered: twice the API
// server's own limit on a request (--request-timeout, 1 minute by
// default), after which it answers 504 itself. A server that stops
// answering (frozen, or a network that drops what it is sent) would keep
// a request waiting for ever, since client-go sets no limit of its own.
const requestTimeout = 2 * time.Minute

// withTimeout is ctx limited to one request's time (requestTimeout).
func (c *Connector) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return c.limited(ctx, c.requestTimeout)
}

// limited is ctx limited to d: context.WithTimeout, unless a test ends
// the limit itself (c.timeLimit) when its fake server hangs a request.
func (c *Connector) limited(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if c.timeLimit != nil {
		return c.timeLimit(ctx, d)
	}
	return context.WithTimeout(ctx, d)
}

// retried asks for one page, and again while the API server does not
// answer (see above). A request unanswered in its time is asked once
// more, not four times: a server that froze would cost the run minutes a
// try. Once a list has given up, the next is given an eighth of the time
// (15 seconds), far more than a page takes a server that answers.
func retried[T any](c *Connector, ctx context.Context, ns string, page pageFunc[T], opts metav1.ListOptions) ([]T, string, error) {
	limit := c.requestTimeout
	if c.down {
		limit /= 8
	}
	timeouts := 0
	ask := func() ([]T, string, error) {
		pctx, cancel := c.limited(ctx, limit)
		defer cancel()
		items, next, err := page(pctx, ns, opts)
		if err != nil && ctx.Err() == nil && errors.Is(context.Cause(pctx), context.DeadlineExceeded) {
			timeouts++
			err = &timedOut{err: err, after: limit}
		}
		return items, next, err
	}
	start := time.Now()
	items, next, err := ask()
	tries := 1
	for wait := c.retryWait; err != nil && unanswered(err) && !c.down && tries <= retries && timeouts < 2 && ctx.Err() == nil; wait *= 2 {
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(wait):
		}
		tries++
		items, next, err = ask()
	}
	switch {
	case err == nil:
		c.down = false
	case unanswered(err) && ctx.Err() == nil:
		c.down = true
		err = &unansweredError{err: err, tries: tries, took: time.Since(start).Round(time.Second)}
	}
	return items, next, err
}
