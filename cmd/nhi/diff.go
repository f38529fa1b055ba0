package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newDiffCmd(a *app) *cobra.Command {
	var from, to int64
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what changed between two snapshots",
		Long: `diff lists identities that are new, removed, or changed between two snapshots of
one account: permissions widened or narrowed, scope changed, rotated, expiry
changed, owner changed, new findings. An identity is removed only when the
newer snapshot read where it lived and it was not there; one absent from a
place the newer snapshot could not read (a repository the credential does
not see, an endpoint that was a gap) is listed apart as not seen, with the
reason. By default it compares the two newest finished snapshots of the
source/account most recently snapshotted twice, and says which accounts
read since then it passed over (they have a single snapshot, nothing to
compare); --to alone compares that snapshot with the one before it of its
account.`,
		Example: `  nhi diff
  nhi diff --from 3 --to 7 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			if from != 0 && to != 0 && from >= to {
				return usageError{cmd.CommandPath(), fmt.Errorf("--from %d is not older than --to %d: diff compares an older snapshot with a newer one (nhi snapshots lists them)", from, to)}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			d, err := st.Diff(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			if from == 0 && to == 0 && len(d.Single) > 0 {
				fmt.Fprintf(a.stderr, "Comparing %s/%s, the newest source/account with two snapshots; passed over, with a single snapshot: %s (--from and --to choose others; nhi snapshots lists them)\n",
					audit.Printable(d.To.Source), audit.Printable(d.To.Account), audit.Printable(strings.Join(d.Single, ", ")))
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			fmt.Fprintf(a.stdout, "Snapshot %d → %d of %s/%s: %d new, %d removed, %d changed, %d unchanged",
				d.FromID, d.ToID, d.To.Source, d.To.Account, d.New, d.Removed, d.Changed, d.Unchanged)
			if d.NotSeen > 0 {
				fmt.Fprintf(a.stdout, ", %d not seen", d.NotSeen)
			}
			fmt.Fprintln(a.stdout)
			mark := map[string]string{audit.ChangeNew: "+", audit.ChangeRemoved: "-", audit.ChangeChanged: "~", audit.ChangeNotSeen: "?"}
			heading := false
			for _, c := range d.Changes {
				if c.Change == audit.ChangeNotSeen && !heading {
					heading = true
					fmt.Fprintf(a.stdout, "Not seen (snapshot %d did not read where they live; they may or may not be gone):\n", d.ToID)
				}
				fmt.Fprintf(a.stdout, "%s %s\n", mark[c.Change], audit.Printable(c.ID))
				for _, det := range c.Details {
					fmt.Fprintf(a.stdout, "    %s\n", audit.Printable(det))
				}
			}
			if len(d.Changes) == 0 {
				fmt.Fprintln(a.stdout, "Nothing changed.")
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "older snapshot (default: the one before --to)")
	cmd.Flags().Int64Var(&to, "to", 0, "newer snapshot (default: the newest finished one)")
	out.addTextOrJSONFlags(cmd, "print JSON")
	return cmd
}
