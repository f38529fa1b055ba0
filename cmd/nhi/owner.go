package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newOwnerCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "owner",
		Short: "Record who answers for an identity",
	}
	set := &cobra.Command{
		Use:   "set ID OWNER",
		Short: "Record OWNER as the owner of identity ID (an event in the log)",
		Long: `Records OWNER (a person or team, e.g. alice@acme.com or @acme/platform) as the
owner of identity ID. The change is an event in the evidence file's log, signed
with your name (--as, NHI_REVIEWER, or git user.email). An empty OWNER ("")
clears it.`,
		Example: `  nhi owner set github:acme:github_deploy_key:api/123 alice@acme.com`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			actor, err := a.actor()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			ev, err := st.SetOwner(cmd.Context(), actor, args[0], args[1])
			if err != nil {
				return err
			}
			if args[1] == "" {
				fmt.Fprintf(a.stdout, "Cleared the owner of %s (event %d, by %s)\n", args[0], ev.Seq, actor)
			} else {
				fmt.Fprintf(a.stdout, "Owner of %s is now %s (event %d, by %s)\n", args[0], audit.Printable(args[1]), ev.Seq, actor)
			}
			return nil
		},
	}
	cmd.AddCommand(set)
	return cmd
}
