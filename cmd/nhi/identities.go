package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

func newIdentitiesCmd(a *app) *cobra.Command {
	var asJSON bool
	var expr string
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "List every identity in the evidence file",
		Long: `Lists every identity the evidence file knows, with its latest observation,
owner and status (active, or removed when a later complete snapshot no longer
has it). --filter keeps those a filter expression matches (docs/filter.md).
--json prints an array of identity objects for scripts.`,
		Example: `  nhi identities
  nhi identities --filter 'finding:stale owner:none'
  nhi identities --filter 'kind:deploy_key perm.contents:write' --json
  nhi identities --json | jq '.[] | select(.owner == null) | .id'`,
		Aliases: []string{"ls"},
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterArg(expr)
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Identities(cmd.Context())
			if err != nil {
				return err
			}
			env := &filter.Env{Now: st.Now()}
			ids := all[:0]
			for i := range all {
				if f.Match(&all[i], env) {
					ids = append(ids, all[i])
				}
			}
			if asJSON {
				if len(ids) == 0 {
					ids = []audit.Identity{}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ids)
			}
			if len(ids) == 0 && len(all) > 0 {
				_, err := fmt.Fprintf(a.stdout, "No identity of %d matches the filter %q.\n", len(all), expr)
				return err
			}
			return printIdentities(a.stdout, ids, time.Now())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of identity objects")
	cmd.Flags().StringVar(&expr, "filter", "", "only identities this filter expression matches")
	return cmd
}

func printIdentities(w io.Writer, ids []audit.Identity, now time.Time) error {
	if len(ids) == 0 {
		_, err := fmt.Fprintln(w, "No identities yet. Take a snapshot: nhi demo, or nhi snapshot github --org ORG")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tOWNER\tLAST USED\tSTATUS\tFINDINGS")
	for _, id := range ids {
		owner := id.Owner
		if owner == "" {
			owner = "-"
		}
		findings := audit.RuleNames(id.Findings)
		if findings == "" {
			findings = "-"
		}
		status := id.Status
		if status == audit.StatusActive && id.Change != "" {
			status = id.Change
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n",
			audit.Printable(id.ID), id.Kind.Label(), audit.Printable(owner),
			lastUsed(&id, now), status, findings)
	}
	return tw.Flush()
}

// lastUsed says how long before now the identity was last used: "never",
// or "-" where its source does not report use.
func lastUsed(id *audit.Identity, now time.Time) string {
	if id.LastUsedAt == nil {
		if id.Kind.TracksLastUse() {
			return "never"
		}
		return "-"
	}
	t := id.LastUsedAt
	d := now.Sub(*t)
	switch {
	case d < 0:
		return t.UTC().Format("2006-01-02")
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h ago"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + "d ago"
	}
}
