package main

import (
	"bufio"
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
	var expr, campaign string
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "List every identity in the evidence file",
		Long: `Lists the identities present in their account's newest snapshot, with
their latest observation, owner and status. --filter keeps those a filter
expression matches (docs/filter.md); a status: term says which statuses to
list instead (status:removed, status:not-checked, status:any). --campaign
names the campaign decision: and reviewer: terms read (by default the one
campaign a campaign: term names). --json prints an array of identity objects
for scripts.`,
		Example: `  nhi identities
  nhi identities --filter 'finding:stale owner:none'
  nhi identities --filter 'kind:deploy_key perm.contents:write' --json
  nhi identities --filter 'campaign:2025-Q2 reviewer:me decision:pending'
  nhi identities --filter status:any
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
			env, err := filterEnv(cmd.Context(), st, audit.ResolveActor(a.as), campaign, f)
			if err != nil {
				return err
			}
			f = filter.Active(f, audit.Vocabulary)
			// Rows stream from the store's cursor to the output: nothing
			// holds the whole population (issue 21: a million identities).
			out := bufio.NewWriterSize(a.stdout, 64<<10)
			var emit func(*audit.Identity) error
			var finish func(total, matched int) error
			if asJSON {
				emit, finish = jsonArray(out)
			} else {
				emit, finish = identityTable(out, expr, time.Now())
			}
			total, matched := 0, 0
			err = st.EachIdentity(cmd.Context(), func(id *audit.Identity) error {
				total++
				if !f.Match(id, env) {
					return nil
				}
				matched++
				return emit(id)
			})
			if err != nil {
				return err
			}
			if err := finish(total, matched); err != nil {
				return err
			}
			return out.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of identity objects")
	cmd.Flags().StringVar(&expr, "filter", "", "only identities this filter expression matches")
	cmd.Flags().StringVar(&campaign, "campaign", "", "the campaign decision: and reviewer: terms read")
	return cmd
}

// jsonArray writes identities as one indented JSON array, an element at a
// time, byte for byte what encoding a []audit.Identity with two-space
// indentation would print.
func jsonArray(w io.Writer) (emit func(*audit.Identity) error, finish func(total, matched int) error) {
	sep := "[\n  "
	emit = func(id *audit.Identity) error {
		b, err := json.MarshalIndent(id, "  ", "  ")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		sep = ",\n  "
		_, err = w.Write(b)
		return err
	}
	finish = func(_, matched int) error {
		end := "\n]\n"
		if matched == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(w, end)
		return err
	}
	return emit, finish
}

// identityTable prints the human table. Its columns are aligned over every
// row, so tabwriter keeps the cells (text, not identities) until finish.
func identityTable(w io.Writer, expr string, now time.Time) (emit func(*audit.Identity) error, finish func(total, matched int) error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tOWNER\tLAST USED\tSTATUS\tFINDINGS")
	emit = func(id *audit.Identity) error {
		printIdentityRow(tw, id, now)
		return nil
	}
	finish = func(total, matched int) error {
		switch {
		case total == 0:
			_, err := fmt.Fprintln(w, "No identities yet. Take a snapshot: nhi demo, or nhi snapshot github --org ORG")
			return err
		case matched == 0 && expr == "":
			_, err := fmt.Fprintf(w, "None of the %d identities is active; --filter status:any lists them all.\n", total)
			return err
		case matched == 0:
			_, err := fmt.Fprintf(w, "No identity of %d matches the filter %q.\n", total, expr)
			return err
		}
		return tw.Flush()
	}
	return emit, finish
}

func printIdentityRow(tw io.Writer, id *audit.Identity, now time.Time) {
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
		lastUsed(id, now), status, findings)
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
