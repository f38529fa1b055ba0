package connectors

import (
	"context"
	"errors"
	"fmt"

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

// Resumer is implemented by connectors that want to know they continue an
// interrupted snapshot (to say so): units is how many units of work the
// interrupted run had checkpointed.
type Resumer interface {
	Resuming(snapshotID int64, units int)
}

// Snapshot runs c once into st: into the snapshot an interrupted earlier run
// of the same account left unfinished, or else a new one. It ends as
// complete, partial (gaps were recorded) or failed (c returned an error). A
// run interrupted by ctx or stopped with ErrResumable stays unfinished, never
// current, for the next run to continue.
func Snapshot(ctx context.Context, st *audit.Store, c Connector, toolVersion string) (*audit.Snapshot, error) {
	w, err := st.ResumeSnapshot(ctx, c.Source(), c.Account())
	if err != nil {
		return nil, err
	}
	if w == nil {
		// StartedAt is left to the store's clock.
		w, err = st.BeginSnapshot(ctx, audit.SnapshotInfo{
			Source: c.Source(), Account: c.Account(), APIURL: c.APIURL(),
			ToolVersion: toolVersion,
		})
		if err != nil {
			return nil, err
		}
	} else if r, ok := c.(Resumer); ok {
		r.Resuming(w.ID(), w.Resumed())
	}
	var runErr error
	if cc, ok := c.(Credentialed); ok {
		var cred string
		if cred, runErr = cc.Credential(ctx); runErr == nil {
			runErr = w.SetCredential(ctx, cred)
		}
	}
	if runErr == nil {
		runErr = c.Run(ctx, w)
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	if d, ok := c.(Described); ok {
		if version, notes := d.Server(); version != "" || len(notes) > 0 {
			if err := w.SetServer(context.WithoutCancel(ctx), version, notes); err != nil && runErr == nil {
				runErr = err
			}
		}
	}
	if errors.Is(runErr, context.Canceled) || errors.Is(runErr, ErrResumable) {
		if err := w.Suspend(context.WithoutCancel(ctx)); err != nil {
			return nil, err
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
