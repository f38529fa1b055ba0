package aws

import (
	"context"
	"sync"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// DefaultAccounts is how many accounts Snapshot reads at once.
const DefaultAccounts = 4

// Snapshot takes one snapshot per account of the plan into st with
// connectors.Run, up to concurrency accounts at a time (their writes queue
// on the file's write lock), and calls done once per account, never two at
// once, in the plan's order. It stops starting accounts once ctx is done.
func (p *Plan) Snapshot(ctx context.Context, st *audit.Store, opts connectors.RunOptions, concurrency int, done func(*Connector, *audit.Snapshot, error)) {
	if concurrency < 1 {
		concurrency = 1
	}
	type result struct {
		snap *audit.Snapshot
		err  error
	}
	results := make([]chan result, len(p.Connectors))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	go func() {
		for i, c := range p.Connectors {
			sem <- struct{}{}
			if ctx.Err() != nil {
				<-sem
				results[i] <- result{err: ctx.Err()}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				snap, err := connectors.Run(ctx, st, c, opts)
				results[i] <- result{snap, err}
			}()
		}
	}()
	for i, c := range p.Connectors {
		r := <-results[i]
		done(c, r.snap, r.err)
	}
	wg.Wait()
}
