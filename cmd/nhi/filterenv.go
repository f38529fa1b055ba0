package main

import (
	"context"
	"errors"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// filterEnv is what f needs besides the identities: the clock, and the
// campaigns its campaign terms read (docs/filter.md: the campaign in view
// is inView, or the one campaign f names), for actor (reviewer:me). A
// filter with decision: or reviewer: terms and no campaign to read them
// in is a usage error that says what to add, never a list that is empty
// for no reason.
func filterEnv(ctx context.Context, st *audit.Store, actor, inView string, f *filter.Filter) (*filter.Env, error) {
	env := &filter.Env{Now: st.Now()}
	r, err := campaigns.FilterReview(ctx, st, actor, inView, f)
	switch {
	case errors.Is(err, campaigns.ErrNoCampaignInView):
		return nil, usageError{command: "filter", err: err}
	case err != nil:
		return nil, err
	}
	env.Review = r
	return env, nil
}
