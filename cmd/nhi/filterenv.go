package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// filterEnvInOrder is what f needs besides the identities, for a read of
// them in ID order (audit.Store.StreamIdentities): the clock, and the
// campaigns its campaign terms read (docs/filter.md: the campaign in
// view is inView, or the one campaign f names), for actor (reviewer:me),
// their items read through cursors beside the identities
// (campaigns.OrderedReview), not held whole. done closes them and
// returns what a cursor met; call it once the read is through, and trust
// no match it made when it returns an error. A filter with decision: or
// reviewer: terms and no campaign to read them in is a usage error that
// says what to add, never a list that is empty for no reason, and points
// to nhi help filter, where those terms are explained.
func filterEnvInOrder(ctx context.Context, st *audit.Store, actor, inView string, f *filter.Filter) (env *filter.Env, done func() error, err error) {
	env = &filter.Env{Now: st.Now()}
	r, err := campaigns.FilterReviewInOrder(ctx, st, actor, inView, f)
	switch {
	case errors.Is(err, campaigns.ErrNoCampaignInView):
		return nil, nil, topicError{topic: "filter", err: err}
	case err != nil:
		return nil, nil, err
	}
	done = func() error { return nil }
	if r != nil { // a nil *OrderedReview in env.Review would not be a nil Review
		env.Review, done = r, r.Close
	}
	if people := f.People(); len(people) > 0 { // person: terms (docs/offboarding.md)
		if env.Related, err = st.PersonRelated(ctx, people); err != nil {
			done()
			return nil, nil, err
		}
	}
	return env, done, nil
}

// campaignNamed is the name of the campaign name names, case-insensitively,
// or an error listing the campaigns. It reads their names alone, not
// their progress (issue 21: opening the review UI on a campaign of a
// million items counted them all to check its name).
func campaignNamed(ctx context.Context, st *audit.Store, name string) (string, error) {
	list, err := campaigns.Names(ctx, st)
	if err != nil {
		return "", err
	}
	names := make([]string, len(list))
	for i, n := range list {
		if strings.EqualFold(n, name) {
			return n, nil
		}
		names[i] = audit.Printable(n)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%w %q: the file has no campaign yet (nhi campaign create)", campaigns.ErrNotFound, audit.Printable(name))
	}
	return "", fmt.Errorf("%w %q: campaigns are %s", campaigns.ErrNotFound, audit.Printable(name), strings.Join(names, ", "))
}
