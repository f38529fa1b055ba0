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
// Still unanswered, the list is a gap that says so and what to do; once
// one list has given up, later ones are asked once each until the server
// answers again, so a server gone for good costs the run seconds, not
// minutes.

// retries is how many times an unanswered page is asked again.
const retries = 4

// unanswered reports whether err says the API server did not answer, or
// cannot answer for now.
func unanswered(err error) bool {
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
	err    error
	tries  int
	waited time.Duration
}

func (e *unansweredError) Error() string {
	if e.tries == 1 {
		return fmt.Sprintf("the API server did not answer (%s), as it had stopped answering earlier in this run: it may be restarting, overloaded or unreachable; what was read is kept and this list is not; run the same command again once it answers", shortErr(e.err))
	}
	return fmt.Sprintf("the API server did not answer (%s), asked %d times over %s: it may be restarting, overloaded or unreachable; what was read is kept and this list is not; run the same command again once it answers", shortErr(e.err), e.tries, e.waited)
}

func (e *unansweredError) Unwrap() error { return e.err }

// retried asks for one page, and again while the API server does not
// answer (see above).
func retried[T any](c *Connector, ctx context.Context, ns string, page pageFunc[T], opts metav1.ListOptions) ([]T, string, error) {
	items, next, err := page(ctx, ns, opts)
	tries, waited := 1, time.Duration(0)
	for wait := c.retryWait; err != nil && unanswered(err) && !c.down && tries <= retries && ctx.Err() == nil; wait *= 2 {
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(wait):
		}
		waited += wait
		tries++
		items, next, err = page(ctx, ns, opts)
	}
	switch {
	case err == nil:
		c.down = false
	case unanswered(err) && ctx.Err() == nil:
		c.down = true
		err = &unansweredError{err: err, tries: tries, waited: waited}
	}
	return items, next, err
}
