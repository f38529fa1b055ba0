package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

func newVerifyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the evidence file has not been edited behind nhi's back",
		Long: `verify recomputes the event log's hash chain, replays it to rebuild the tables
the UI reads (owners, campaign decisions, ...) and compares them, and recomputes
every snapshot's digest and every campaign population's digest. It exits 1 and
names the first broken record when anything differs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := st.Verify(cmd.Context())
			if err != nil {
				return err
			}
			// Campaign tables are projections of campaign.* events, with
			// digests over their frozen populations.
			problems, err := campaigns.Verify(cmd.Context(), st)
			if err != nil {
				return err
			}
			r.Problems = append(r.Problems, problems...)
			if !r.OK() {
				for _, p := range r.Problems {
					fmt.Fprintf(a.stdout, "FAIL %s\n", p)
				}
				return fmt.Errorf("%s failed verification: %s", st.Path(), r.Problems[0])
			}
			fmt.Fprintf(a.stdout, "OK %s: %d events, chain head %s; %d snapshots match their digests; campaigns match the log\n",
				st.Path(), r.Events, r.Head, r.Snapshots)
			return nil
		},
	}
}
