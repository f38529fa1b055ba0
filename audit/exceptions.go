package audit

import (
	"context"
	"sync"
	"time"
)

// Exceptions are decided in review campaigns (package campaigns, which
// keeps them in its tables), but their lapse is a finding like any other,
// evaluated here with owners and leavers: live, at the moment an identity is
// read, since it changes with decisions recorded after the snapshot
// (docs/campaigns.md, "Exceptions").

// Exception is an identity's standing exception: kept despite its
// findings until Until.
type Exception struct {
	Until time.Time
	// Lapsed is the finding's message once Until has passed: who kept it,
	// in which campaign, and why it ended (expired, never approved).
	Lapsed string
}

// ExceptionSource reads every identity's standing exception, by identity
// ID.
type ExceptionSource func(ctx context.Context, st *Store) (map[string]Exception, error)

var exceptionSource struct {
	sync.Mutex
	f ExceptionSource
}

// RegisterExceptions installs the function that reads exceptions from the
// evidence file, as RegisterMigrations installs a package's tables; the
// campaigns package calls it from init. Without one no exception lapses.
func RegisterExceptions(f ExceptionSource) {
	exceptionSource.Lock()
	defer exceptionSource.Unlock()
	exceptionSource.f = f
}

// exceptions reads the standing exceptions, or none without a source.
func (s *Store) exceptions(ctx context.Context) (map[string]Exception, error) {
	exceptionSource.Lock()
	f := exceptionSource.f
	exceptionSource.Unlock()
	if f == nil {
		return nil, nil
	}
	return f(ctx, s)
}

// SetExceptions gives the standing exceptions, so one that has lapsed by
// the evaluation's moment is an exception-expired finding.
func (e *Evaluator) SetExceptions(x map[string]Exception) { e.exceptions = x }

// exceptionExpired is the exception-expired rule.
func (e *Evaluator) exceptionExpired(id *Identity) string {
	x, ok := e.exceptions[id.ID]
	if !ok || e.now.Before(x.Until) {
		return ""
	}
	return x.Lapsed
}
