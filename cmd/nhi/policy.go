package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show or set the thresholds behind findings",
		Long: `The policy holds every threshold the findings use (days before a credential
is stale or unrotated, severities, your own GitHub Apps) and how long review
campaigns' exceptions last and whether a second person approves them
(exception_days, exception_approval). The built-in default
is in force until one is set; setting one is an event in the log, and each
snapshot keeps the policy it was taken under.` + "\n" + policyHelp(),
	}
	// The policy prints as YAML, and -o names it so, as kubectl's does;
	// -o text, its name before, still prints it.
	out := textOrJSON("yaml")
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the policy in force (YAML; a template for `policy set`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out.format == "text" {
				out.format = "yaml"
			}
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			p := audit.DefaultPolicy()
			if _, err := os.Stat(a.db); err == nil {
				st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
				if err != nil {
					return err
				}
				defer st.Close()
				if p, _, err = st.Policy(cmd.Context()); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			fmt.Fprint(a.stdout, p.YAML())
			return nil
		},
	}
	out.addTextOrJSONFlags(show, "print JSON")
	set := &cobra.Command{
		Use:     "set FILE",
		Short:   "Record FILE as the policy in force from now on (an event in the log)",
		Example: "  nhi policy show > policy.yaml && $EDITOR policy.yaml\n  nhi policy set policy.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Read before the evidence file is opened: a wrong file
			// writes nothing, not even a new evidence file.
			data, err := readInputFile("", args[0], "YAML", "give a policy file; `nhi policy show > policy.yaml` writes one to start from")
			if err != nil {
				return err
			}
			p, err := audit.ParsePolicy(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			// The same policy again is no change: a second event would say
			// something was decided when nothing was (issue 15).
			cur, row, err := st.Policy(cmd.Context())
			if err != nil {
				return err
			}
			if row != 0 && cur.Digest() == p.Digest() {
				fmt.Fprintf(a.stdout, "Policy %.12s is already in force; nothing was written.\n", p.Digest())
				return nil
			}
			ev, err := st.SetPolicy(cmd.Context(), actor, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Policy %.12s is in force (event %d, by %s); findings follow it now, and new snapshots are taken under it.\n", p.Digest(), ev.Seq, actor)
			return nil
		},
	}
	cmd.AddCommand(show, set)
	return cmd
}
