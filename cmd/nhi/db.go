package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newDBInitCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create nhi's tables and roles in a PostgreSQL database",
		Long: `Creates nhi's tables in the PostgreSQL database --db names (when it has
none), and the roles a team's members are granted, when missing:

  nhi_admin      campaigns, policy, owners, people
  nhi_connector  snapshots
  nhi_reviewer   decisions and notes
  nhi_auditor    reads only

They are group roles that cannot log in: the database's administrator
grants them to people's login roles (GRANT nhi_reviewer TO alice). No role
but the tables' owner — the one running nhi db init, who needs CREATEROLE —
may update or delete the log or the snapshots, and triggers refuse it even
to the owner (docs/team.md). Run again, it changes nothing; run it again
after upgrading nhi, so new tables get their grants.`,
		Example: `  nhi --db 'postgres://nhi_owner@db.acme.test/nhi' db init`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !audit.IsPostgresURL(a.db) {
				return fmt.Errorf("nhi db init is for a PostgreSQL database (--db postgres://…); %s is an evidence file, whose access is its file permissions, so nothing was done", a.db)
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{Create: true})
			if err != nil {
				return err
			}
			defer st.Close()
			created, err := st.InitRoles(cmd.Context())
			if err != nil {
				return err
			}
			// The open made the tables if the database had none: say they
			// are there, and whether evidence is, so the owner knows what
			// the first run did.
			head, err := st.LogHead(cmd.Context())
			if err != nil {
				return err
			}
			if head.Seq == 0 {
				fmt.Fprintf(a.stdout, "nhi's tables are in place in %s; it holds no evidence yet (a snapshot records the first: nhi snapshot …, or nhi demo).\n", st.Path())
			} else {
				fmt.Fprintf(a.stdout, "nhi's tables are in place in %s, its log at event %d.\n", st.Path(), head.Seq)
			}
			if len(created) == 0 {
				fmt.Fprintf(a.stdout, "The roles %s were there; their grants are in place.\n", strings.Join(audit.Roles, ", "))
			} else {
				fmt.Fprintf(a.stdout, "Created the roles %s; the grants of %s are in place.\n", strings.Join(created, ", "), strings.Join(audit.Roles, ", "))
			}
			fmt.Fprintln(a.stdout, "Grant them to people's login roles, e.g. GRANT nhi_reviewer TO alice (docs/team.md).")
			return nil
		},
	}
}
