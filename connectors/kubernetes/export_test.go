package kubernetes

import "time"

// SetRetryWait sets the first wait before an unanswered page is asked
// again (1s; each further wait doubles), so tests wait milliseconds.
func SetRetryWait(c *Connector, d time.Duration) { c.retryWait = d }

// SetRequestTimeout sets how long a request may go unanswered (2 minutes).
func SetRequestTimeout(c *Connector, d time.Duration) { c.requestTimeout = d }
