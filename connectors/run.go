package connectors

import (
	"context"
	"errors"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Credentialed is implemented by connectors that can say which credential
// they read with (a token owner's login and scopes, an App's slug), so the
// snapshot records it for the auditor.
type Credentialed interface {
	Credential(ctx context.Context) (string, error)
}

// Snapshot runs c once into a new snapshot of st. The snapshot is finished
// as complete, partial (gaps were recorded) or failed (c returned an error,
// or ctx was cancelled); a failed one never becomes the current population.
func Snapshot(ctx context.Context, st *audit.Store, c Connector, toolVersion string) (*audit.Snapshot, error) {
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{
		Source: c.Source(), Account: c.Account(), APIURL: c.APIURL(),
		ToolVersion: toolVersion, StartedAt: time.Now(),
	})
	if err != nil {
		return nil, err
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
	if errors.Is(runErr, context.Canceled) {
		runErr = errors.New("interrupted before it finished")
	}
	// Record the outcome even when ctx is done: the file must say the run
	// failed rather than leave it looking as if it were still going.
	snap, err := w.Finish(context.WithoutCancel(ctx), runErr)
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		return snap, runErr
	}
	return snap, nil
}
