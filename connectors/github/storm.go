package github

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// An endpoint that answers 5xx every time while GitHub answers /rate_limit
// is a gap for that endpoint (brokenEndpoint, http.go): one repository
// GitHub cannot serve must not stop every run. When it is not one
// endpoint's but every one's, gaps would be the whole snapshot, read at
// ~15 s of retries an endpoint: a storm stops the run resumably instead.
//
// A storm is stormEndpoints endpoints in a row ending as brokenEndpoint,
// in at least stormRepos repositories (the organisation counting as one),
// with no REST answer below 500 between them from any worker. Repositories,
// not endpoints, since one broken repository fails each of its ten or so
// endpoints in turn and is still one repository's trouble; "in a row", not
// "within a window", since any answer shows GitHub serving, and the
// connector's clock then needs no part in it. GraphQL's answers and the
// /rate_limit probe do not end a streak: they are served apart from the
// REST endpoints failing. Once stormSuspect endpoints have failed in a
// row, each further one is tried stormRetries+1 times, not c.retries+1,
// so the stop comes within about a minute rather than after N × 15 s.
const (
	stormEndpoints = 8
	stormRepos     = 4
	stormSuspect   = 2
	stormRetries   = 1
	stormExamples  = 3
)

// storm is the streak of broken endpoints, shared by every worker.
type storm struct {
	n        atomic.Int32 // broken endpoints since the last REST answer
	mu       sync.Mutex
	repos    map[string]bool
	examples []string
	status   bool // some answer in the streak was a 5xx
	cut      bool // some answer in the streak was cut short
	err      error
	held     []*unit // finished in a streak: see finishUnit
}

// answered ends the streak: GitHub answered a REST request. Cheap when
// there is none, as on almost every answer.
func (s *storm) answered() {
	if s.n.Load() == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return // stopped already
	}
	s.n.Store(0)
	clear(s.repos)
	s.examples, s.status, s.cut = nil, false, false
}

// suspect reports whether the streak is long enough that retries are cut
// short.
func (s *storm) suspect() bool { return s.n.Load() >= stormSuspect }

// retryLimit is how many times a failing request is retried now.
func (c *Connector) retryLimit() int {
	if c.storm.suspect() {
		return min(c.retries, stormRetries)
	}
	return c.retries
}

// broken adds ep, which ended as brokenEndpoint with answer, to the
// streak, and returns the error that stops the run once it is a storm
// (and for every endpoint ending so after), else nil.
func (c *Connector) broken(ep endpoint, b *brokenEndpoint) error {
	s := &c.storm
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.repos == nil {
		s.repos = map[string]bool{}
	}
	s.repos[repoOf(ep.scope)] = true
	answer := b.message
	if b.status != 0 {
		answer = fmt.Sprintf("%d %s", b.status, b.message)
		s.status = true
	} else {
		s.cut = true
	}
	if len(s.examples) < stormExamples {
		s.examples = append(s.examples, fmt.Sprintf("%s: %s", ep, answer))
	}
	n := s.n.Add(1)
	if n == stormSuspect && c.retries > stormRetries {
		c.note(fmt.Sprintf("%d endpoints in a row failed every time they were asked: each further one is tried %d times, not %d, until GitHub answers one",
			n, stormRetries+1, c.retries+1))
	}
	if n < stormEndpoints || len(s.repos) < stormRepos {
		return nil
	}
	what := "answered 5xx"
	switch {
	case s.status && s.cut:
		what = "answered 5xx, or cut its answer short,"
	case s.cut:
		what = "cut its answer short"
	}
	examples := strings.Join(s.examples, "; ")
	if int(n) > len(s.examples) {
		examples += "; …"
	}
	s.err = fmt.Errorf("github: GitHub %s to each of the last %d endpoints it was asked, in %s, with no answer between (%s), while its /rate_limit answers: its API is failing, not one endpoint, so the run stopped rather than record a gap for each; later, it resumes where it stopped: %w",
		what, n, c.places(s.repos), examples, connectors.ErrResumable)
	return s.err
}

// places names how many repositories (and whether the organisation) repos
// holds.
func (c *Connector) places(repos map[string]bool) string {
	n := len(repos)
	if repos[c.org] {
		return "the organisation and " + audit.Counted(n-1, "repository", "repositories")
	}
	return audit.Counted(n, "repository", "repositories")
}

// repoOf is the repository of a scope ("org/repo/environment" →
// "org/repo"), or the organisation.
func repoOf(scope string) string {
	if i := strings.IndexByte(scope, '/'); i >= 0 {
		if j := strings.IndexByte(scope[i+1:], '/'); j >= 0 {
			return scope[:i+1+j]
		}
	}
	return scope
}

// finishUnit hands u to the writer, unless an endpoint of it ended as
// brokenEndpoint in a streak no answer has ended yet: then it is held back
// until the run's repositories are read (finishHeld), so that a storm
// stopping the run leaves it unread, to be read again when the run
// resumes, rather than checkpointed with a gap for what the storm kept
// from it.
func (c *Connector) finishUnit(ctx context.Context, u *unit) error {
	if u.broken {
		s := &c.storm
		s.mu.Lock()
		if s.err != nil {
			s.mu.Unlock()
			return s.err
		}
		if s.n.Load() > 0 {
			s.held = append(s.held, u)
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
	}
	return u.finish(ctx)
}

// finishHeld hands the writer the units finishUnit held back: no storm
// stopped the run.
func (c *Connector) finishHeld(ctx context.Context) error {
	s := &c.storm
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, u := range held {
		if err := u.finish(ctx); err != nil {
			return err
		}
	}
	return nil
}
