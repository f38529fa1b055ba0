package main

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// Shell completion (nhi completion bash|zsh|fish|powershell, README):
// campaign names, identity IDs, people and decisions, read from the
// evidence file named by --db. A completion never writes and never fails
// loudly: an unreadable file completes nothing.

// completer lists the candidates for one word, given the words before it.
type completer func(ctx context.Context, st *audit.Store, args []string, prefix string) []string

// maxCompletions bounds what one completion returns: a shell shows no more
// usefully, and a large file has hundreds of thousands of IDs.
const maxCompletions = 1000

// addCompletions attaches the completion of positional arguments and of
// the flags that name a person or a campaign, by command path.
func addCompletions(root *cobra.Command, a *app) {
	args := map[string][]completer{
		"nhi campaign show":   {campaignNames},
		"nhi campaign close":  {campaignNames},
		"nhi campaign verify": {campaignNames},
		"nhi campaign sample": {campaignNames},
		"nhi export":          {campaignNames},
		"nhi decide":          {campaignNames, campaignItems, decisionWords},
		"nhi owner set":       {identityIDs, people},
		"nhi note add":        {identityIDs},
		"nhi note list":       {identityIDs},
		"nhi people show":     {people},
	}
	flags := map[string]map[string]completer{
		"nhi":                 {"as": people},
		"nhi campaign create": {"reviewer": people, "carry-forward": campaignNames},
		"nhi campaign show":   {"reviewer": campaignReviewers},
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if list, ok := args[c.CommandPath()]; ok {
			c.ValidArgsFunction = func(cmd *cobra.Command, done []string, prefix string) ([]string, cobra.ShellCompDirective) {
				if cmd.Flags().Changed("filter") || len(done) >= len(list) {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return a.complete(cmd, list[len(done)], done, prefix)
			}
		}
		for name, comp := range flags[c.CommandPath()] {
			_ = c.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, done []string, prefix string) ([]string, cobra.ShellCompDirective) {
				return a.complete(cmd, comp, done, prefix)
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func (a *app) complete(cmd *cobra.Command, comp completer, done []string, prefix string) ([]string, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := a.open(ctx, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer st.Close()
	out := comp(ctx, st, done, prefix)
	if len(out) > maxCompletions {
		out = out[:maxCompletions]
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(prefix)) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func campaignNames(ctx context.Context, st *audit.Store, _ []string, prefix string) []string {
	names, err := campaigns.Names(ctx, st)
	if err != nil {
		return nil
	}
	return withPrefix(names, prefix)
}

// campaignItems are the IDs of the items of the campaign named before,
// read alone (campaigns.ItemIDs), not the campaign whole.
func campaignItems(ctx context.Context, st *audit.Store, done []string, prefix string) []string {
	ids, err := campaigns.ItemIDs(ctx, st, done[0], prefix, maxCompletions)
	if err != nil {
		return nil
	}
	return ids
}

// campaignReviewers are "me" and the reviewers of the campaign named
// before.
func campaignReviewers(ctx context.Context, st *audit.Store, done []string, prefix string) []string {
	names := []string{"me"}
	if len(done) > 0 {
		if c, err := campaigns.Get(ctx, st, done[0]); err == nil {
			for _, r := range c.Progress.Reviewers {
				if r.Reviewer != "" {
					names = append(names, r.Reviewer)
				}
			}
		}
	}
	return withPrefix(names, prefix)
}

func decisionWords(_ context.Context, _ *audit.Store, _ []string, prefix string) []string {
	return withPrefix([]string{string(campaigns.Decommission), string(campaigns.Keep), string(campaigns.Rotate)}, prefix)
}

// errEnough stops the read once maxCompletions IDs are found.
var errEnough = errors.New("enough")

func identityIDs(ctx context.Context, st *audit.Store, _ []string, prefix string) []string {
	var ids []string
	// The read reuses each identity for the next: its ID, a string, is
	// what is kept.
	_ = st.EachTableIdentity(ctx, func(id *audit.Identity) error {
		if strings.HasPrefix(id.ID, prefix) {
			ids = append(ids, id.ID)
		}
		if len(ids) >= maxCompletions {
			return errEnough
		}
		return nil
	})
	return ids
}

// people are the directory's e-mails, or without a directory the owners
// already recorded.
func people(ctx context.Context, st *audit.Store, _ []string, prefix string) []string {
	dir, err := st.People(ctx)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, p := range dir.People() {
		seen[p.Email] = true
	}
	if len(seen) == 0 {
		_ = st.EachTableIdentity(ctx, func(id *audit.Identity) error {
			if id.Owner != "" {
				seen[id.Owner] = true
			}
			return nil
		})
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	return withPrefix(names, prefix)
}
