package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newLogCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Read the event log's head, to cite and check later",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "head",
		Short: "Print the event log's head, to record outside the file",
		Long: `head prints the event log's current head as SEQ:HASH on stdout. Keep it
outside the evidence file (a ticket, an e-mail, a report): later,
` + "`nhi verify --head SEQ:HASH`" + ` proves the log still extends it, which catches a
rewrite of the whole log that the hash chain alone cannot show.`,
		Example: `  nhi log head
  nhi log head > head-2026-12-01.txt
  nhi verify --head-file head-2026-12-01.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			e, err := st.LogHead(cmd.Context())
			if err != nil {
				return err
			}
			if e.Seq == 0 {
				return fmt.Errorf("the event log of %s is empty: there is no head to record yet", st.Path())
			}
			h := audit.Head{Seq: e.Seq, Hash: e.Hash}
			fmt.Fprintln(a.stdout, h)
			fmt.Fprintf(a.stderr, "Event %d (%s by %s at %s) of %s. Later, `nhi verify --head %s` proves the log still extends it.\n",
				e.Seq, e.Type, audit.Printable(e.Actor), e.At.UTC().Format("2006-01-02 15:04:05 UTC"), st.Path(), h)
			return nil
		},
	})
	return cmd
}
