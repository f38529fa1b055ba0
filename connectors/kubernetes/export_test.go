package kubernetes

import (
	"context"
	"time"
)

// SetRetryWait sets the first wait before an unanswered page is asked
// again (1s; each further wait doubles), so tests wait milliseconds.
func SetRetryWait(c *Connector, d time.Duration) { c.retryWait = d }

// SetTimeLimit has a request's time limit (requestTimeout, an eighth of
// it once the server stopped answering) made by limit rather than
// context.WithTimeout: a test ends it when its fake server hangs the
// request, as the limit would once past, however slow the machine.
func SetTimeLimit(c *Connector, limit func(context.Context, time.Duration) (context.Context, context.CancelFunc)) {
	c.timeLimit = limit
}
