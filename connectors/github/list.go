package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// endpoint is one list call, for gaps and error messages.
type endpoint struct {
	path  string     // "/orgs/acme/hooks": no query string
	kind  audit.Kind // what it yields
	scope string     // org or org/repo
	// need says what access a 403 or 404 usually means is missing. An
	// endpoint with a need turns those into a gap; without one they are
	// errors.
	need string
}

func (e endpoint) String() string { return "GET " + e.path }

// errNotFound marks a 404 on an endpoint that cannot be a gap.
var errNotFound = errors.New("not found")

// paginate reads every page of a list endpoint, per_page at its maximum,
// following GitHub's rel="next" links, and hands each item to emit. fetch
// reads one page. A 403/404 on an endpoint with a need is recorded on rec as
// a gap (the items of earlier pages stay recorded) and is not an error.
//
// This is the one place every list call goes through: retries, rate-limit
// waits and conditional requests belong here.
func paginate[T any](ctx context.Context, c *Connector, rec connectors.Recorder, ep endpoint,
	fetch func(opts github.ListOptions) ([]T, *github.Response, error),
	emit func(T) error,
) error {
	opts := github.ListOptions{PerPage: c.perPage, Page: 1}
	for pages := 0; ; pages++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		items, resp, err := fetch(opts)
		if err != nil {
			return c.failed(ctx, rec, ep, pages, resp, err)
		}
		for _, it := range items {
			if err := emit(it); err != nil {
				return fmt.Errorf("github: %s: %w", ep, err)
			}
		}
		if resp.NextPage == 0 {
			return nil
		}
		if resp.NextPage <= opts.Page {
			return fmt.Errorf("github: %s: page %d links back to page %d", ep, opts.Page, resp.NextPage)
		}
		opts.Page = resp.NextPage
	}
}

// failed decides what a failed list call means: a gap (nil) or an error.
func (c *Connector) failed(ctx context.Context, rec connectors.Recorder, ep endpoint, pages int, resp *github.Response, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var rl *github.RateLimitError
	var arl *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &arl) {
		return fmt.Errorf("github: %s: rate limited: %w", ep, err)
	}
	status := statusOf(resp, err)
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("github: %s: %w", ep, ErrBadCredentials)
	case (status == http.StatusForbidden || status == http.StatusNotFound) && ep.need != "" && rec != nil:
		reason := fmt.Sprintf("%s (GitHub answered %d %s)", ep.need, status, messageOf(err))
		if pages > 0 {
			reason += fmt.Sprintf("; only the first %d page(s) were read", pages)
		}
		gap := audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: status, Reason: reason}
		if gerr := rec.Gap(gap); gerr != nil {
			return fmt.Errorf("github: %s: recording gap: %w", ep, gerr)
		}
		return nil
	case status == http.StatusNotFound:
		return fmt.Errorf("github: %s: 404 %s: %w", ep, messageOf(err), errNotFound)
	}
	return c.fatal(ctx, ep, err)
}

// fatal names the endpoint and says plainly what went wrong.
func (c *Connector) fatal(ctx context.Context, ep endpoint, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var er *github.ErrorResponse
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &er) && er.Response != nil:
		if er.Response.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("github: %s: %w", ep, ErrBadCredentials)
		}
		return fmt.Errorf("github: %s: GitHub answered %d %s", ep, er.Response.StatusCode, messageOf(err))
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("github: %s: malformed JSON response: %w", ep, err)
	}
	return fmt.Errorf("github: %s: %w", ep, err)
}

// statusOf is the HTTP status of a failed call, 0 if there was no response.
func statusOf(resp *github.Response, err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	return 0
}

// messageOf is GitHub's own message for a failed call.
func messageOf(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		if er.Message != "" {
			return er.Message
		}
		if er.Response != nil {
			return http.StatusText(er.Response.StatusCode)
		}
	}
	return err.Error()
}

// getPage reads one page of an endpoint go-github v60 has no (complete)
// type for, into v, through the client so auth, base URL, rate-limit
// tracking and Link parsing are the same as for every other call.
func (c *Connector) getPage(ctx context.Context, path string, opts github.ListOptions, v any) (*github.Response, error) {
	u := fmt.Sprintf("%s?per_page=%d&page=%d", path, opts.PerPage, opts.Page)
	req, err := c.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.client.Do(ctx, req, v)
}
