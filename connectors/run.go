package connectors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// ErrResumable marks a run that stopped before it finished but can go on
// later (a rate limit the user chose not to wait for). Like an interrupt,
// it leaves the snapshot unfinished for the next run to resume.
var ErrResumable = errors.New("stopped before the end; run the same command again to continue")

// Credentialed is implemented by connectors that can say which credential
// they read with (a token owner's login and scopes, an App's slug), so the
// snapshot records it for the auditor.
type Credentialed interface {
	Credential(ctx context.Context) (string, error)
}

// Cache keeps what a connector derived from an answer (never the raw
// answer: it may hold a secret) under the answer's ETag, for conditional
// requests. *audit.Store implements it.
type Cache interface {
	CacheGet(ctx context.Context, key string) (etag string, value []byte, ok bool, err error)
	CachePut(ctx context.Context, key, etag string, value []byte) error
}

var _ Cache = (*audit.Store)(nil)

// Described is implemented by connectors that can say, at the end of a
// run, what answered (a server version, "" when the service has none) and
// what holds for the whole run, once (kinds the server does not have,
// what this sort of credential can never see): the snapshot records both.
type Described interface {
	Server() (version string, notes []string)
}

// Reacher is implemented by connectors that can say, at the end of a run,
// how much of the source it read (units read and not read, requests made)
// and what the connector cannot see: the snapshot records it, and an
// evidence report states it per source (docs/report.md).
type Reacher interface {
	Reach() audit.Reach
}

// Resumer is implemented by connectors that want to know they continue an
// interrupted snapshot (to say so): units is how many units of work the
// interrupted run had checkpointed.
type Resumer interface {
	Resuming(snapshotID int64, units int)
}

// Checker is implemented by connectors that can tell, before a snapshot
// opens, that what they are to read is there: the account exists and the
// credential can see it. A run that fails the check learned nothing (a
// mistyped --org), so it opens no snapshot and records nothing.
type Checker interface {
	Check(ctx context.Context) error
}

// NotStartedError is the error of a run that stopped before its snapshot
// opened (see Check): nothing of it was recorded. It says what Err says.
type NotStartedError struct{ Err error }

func (e *NotStartedError) Error() string { return e.Err.Error() }
func (e *NotStartedError) Unwrap() error { return e.Err }

// Check does what Run does before a snapshot opens: asks c which
// credential it reads with (Credentialed) and checks the account
// (Checker). It returns the credential ("" when c does not say); an error
// means there is nothing to read, and no snapshot should open.
func Check(ctx context.Context, c Connector) (credential string, err error) {
	if cc, ok := c.(Credentialed); ok {
		if credential, err = cc.Credential(ctx); err != nil {
			return "", err
		}
	}
	if ch, ok := c.(Checker); ok {
		if err := ch.Check(ctx); err != nil {
			return "", err
		}
	}
	return credential, nil
}

// Whole is implemented by connectors that read their whole population in
// one go and never checkpoint (an import, a certificate scan). An earlier
// run of theirs that was interrupted is never resumed: what it read may no
// longer be there, and the new run reads it all again. So a run of theirs
// that stops (interrupted, or the file stayed busy) is closed as failed
// rather than left unfinished, and the next one closes any its
// predecessor could not (audit.Store.BeginSnapshot).
type Whole interface {
	Whole()
}

// Snapshot runs c once into st (see Run), failing at once when another
// process is taking a snapshot of the same account.
func Snapshot(ctx context.Context, st *audit.Store, c Connector, toolVersion string) (*audit.Snapshot, error) {
	return Run(ctx, st, c, RunOptions{ToolVersion: toolVersion})
}

// RunOptions are the choices of one Run.
type RunOptions struct {
	ToolVersion string
	// Actor is who runs the snapshot, for the event that records it.
	Actor string
	// Wait, when another process is taking a snapshot of the same account,
	// waits for it to finish instead of failing; OnWait is told once.
	Wait   bool
	OnWait func(held error)
	// Notice is told what the start did that the user should know (an
	// unfinished snapshot not resumed, and why; a dead run taken over),
	// and that a Whole source's run stopped busy is being closed.
	Notice func(string)
	// StartedAt is when the run began, when that was before Run: a run
	// into a new evidence file checks the account before the file exists
	// and writes what that check cached once it does (cmd/nhi), and the
	// snapshot's record vouches only for cache entries stored since its
	// start (audit.Store.CacheGet). The zero value is when Run is called.
	StartedAt time.Time
}

// pollLock is how often a waiting run looks at the snapshot lock again.
const pollLock = 500 * time.Millisecond

// Run runs c once into st: into the snapshot an interrupted earlier run of
// the same account left unfinished when it was the same run (same API URL
// and credential), or else a new one. It ends as complete, partial (gaps
// were recorded) or failed (c returned an error). A run interrupted by ctx
// or stopped with ErrResumable, or whose writes met the file busy
// (audit.ErrBusy), stays unfinished, never current, for the next run to
// continue; a Whole source's is closed as failed instead. One process at
// a time snapshots an account: the account's lock is taken when the
// snapshot starts (see audit.Store.StartSnapshot). A run that fails before
// its snapshot opens (Check) returns a *NotStartedError and no snapshot.
func Run(ctx context.Context, st *audit.Store, c Connector, opts RunOptions) (*audit.Snapshot, error) {
	info := audit.SnapshotInfo{
		Source: c.Source(), Account: c.Account(), APIURL: c.APIURL(),
		ToolVersion: opts.ToolVersion, StartedAt: opts.StartedAt, Actor: opts.Actor,
	}
	if info.StartedAt.IsZero() {
		info.StartedAt = st.Now()
	}
	// The credential is known before the snapshot starts, so a resume can
	// be matched against it: another credential is another run. The
	// account is checked then too, so a run that could read nothing
	// leaves no failed snapshot behind.
	cred, err := Check(ctx, c)
	if err != nil {
		return nil, &NotStartedError{err}
	}
	info.Credential = cred
	start := st.StartSnapshot
	if _, ok := c.(Whole); ok {
		start = st.BeginSnapshot
	}
	w, err := start(ctx, info)
	for told := false; errors.Is(err, audit.ErrSnapshotRunning) && opts.Wait; {
		if !told && opts.OnWait != nil {
			opts.OnWait(err)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollLock):
		}
		w, err = start(ctx, info)
	}
	if err != nil {
		return nil, err
	}
	for _, n := range w.StartNotes() {
		if opts.Notice != nil {
			opts.Notice(n)
		}
	}
	if w.Continues() {
		if r, ok := c.(Resumer); ok {
			r.Resuming(w.ID(), w.Resumed())
		}
	}
	runErr := c.Run(ctx, w)
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	_, whole := c.(Whole)
	if errors.Is(runErr, audit.ErrBusy) && !whole {
		// Another process kept the file's write lock through every
		// wait: recording the server, the reach or the outcome would
		// wait as long again, and marking the run failed would throw
		// away what the next run can resume. The committed batches stay.
		w.Leave()
		return nil, fmt.Errorf("snapshot %d stopped unfinished and is never current; it keeps the batches it wrote, and running the same command again continues it: %w", w.ID(), runErr)
	}
	if errors.Is(runErr, audit.ErrBusy) {
		// A source read in one go is never resumed: left unfinished,
		// its snapshot would be listed as running with nothing to
		// continue it. It is closed as failed, with the busy error,
		// once the file lets it (the waits of any write); if the file
		// stays busy through those too, the next run of the account
		// closes it (audit.Store.BeginSnapshot).
		if opts.Notice != nil {
			opts.Notice(fmt.Sprintf("the evidence file stayed busy: snapshot %d stops here and is closed as failed once the file is free (this source is read in one go, so nothing of it is continued)", w.ID()))
		}
		snap, err := w.Finish(context.WithoutCancel(ctx), runErr)
		if err != nil {
			return nil, fmt.Errorf("snapshot %d stopped unfinished and is never current, and the file stayed busy for its close too: the next run of %s/%s closes it as failed and reads everything again; run the same command again: %w", w.ID(), c.Source(), c.Account(), err)
		}
		return snap, runErr
	}
	if d, ok := c.(Described); ok {
		if version, notes := d.Server(); version != "" || len(notes) > 0 {
			if err := w.SetServer(context.WithoutCancel(ctx), version, notes); err != nil && runErr == nil {
				runErr = err
			}
		}
	}
	if rc, ok := c.(Reacher); ok {
		if err := w.SetReach(context.WithoutCancel(ctx), rc.Reach()); err != nil && runErr == nil {
			runErr = err
		}
	}
	if (errors.Is(runErr, context.Canceled) || errors.Is(runErr, ErrResumable)) && !whole {
		if err := w.Suspend(context.WithoutCancel(ctx)); err != nil {
			return nil, err
		}
		if errors.Is(runErr, ErrResumable) {
			// runErr ends with what to do (ErrResumable's words): said once.
			return nil, fmt.Errorf("what was read is kept (snapshot %d): %w", w.ID(), runErr)
		}
		return nil, fmt.Errorf("interrupted; what was read is kept (snapshot %d), run the same command again to continue: %w", w.ID(), runErr)
	}
	// Record the outcome even when ctx is done: the file must say the run
	// failed rather than leave it looking resumable.
	snap, err := w.Finish(context.WithoutCancel(ctx), runErr)
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		return snap, runErr
	}
	return snap, nil
}
