package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newSnapshotsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List the snapshots in the evidence file, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			snaps, err := st.Snapshots(cmd.Context())
			if err != nil {
				return err
			}
			current := map[int64]bool{}
			cur := audit.CurrentOf(snaps)
			for _, c := range cur {
				current[c.ID] = true
			}
			if asJSON {
				type gap = audit.Gap
				type row struct {
					ID          int64              `json:"id"`
					Source      string             `json:"source"`
					Account     string             `json:"account"`
					APIURL      string             `json:"api_url"`
					Credential  string             `json:"credential"`
					ToolVersion string             `json:"tool_version"`
					StartedAt   string             `json:"started_at"`
					FinishedAt  *string            `json:"finished_at"`
					Status      string             `json:"status"`
					Error       string             `json:"error,omitempty"`
					Counts      map[audit.Kind]int `json:"counts"`
					Gaps        []gap              `json:"gaps"`
					Digest      string             `json:"digest"`
					Server      string             `json:"server_version,omitempty"`
					Notes       []string           `json:"notes,omitempty"`
					// Reach: units read and not read, requests, and what
					// the connector does not collect or cannot see.
					Reach *audit.Reach `json:"reach,omitempty"`
					// Current: the newest finished snapshot of its source
					// and account, the one its population comes from.
					Current bool `json:"current"`
				}
				out := make([]row, 0, len(snaps))
				for _, s := range snaps {
					r := row{ID: s.ID, Source: s.Source, Account: s.Account, APIURL: s.APIURL, Credential: s.Credential,
						ToolVersion: s.ToolVersion, StartedAt: s.StartedAt.Format(audit.TimeLayout), Status: s.Status,
						Error: s.Error, Counts: s.Counts, Gaps: s.Gaps, Digest: s.Digest, Server: s.ServerVersion, Notes: s.Notes, Reach: s.Reach, Current: current[s.ID]}
					if s.FinishedAt != nil {
						f := s.FinishedAt.Format(audit.TimeLayout)
						r.FinishedAt = &f
					}
					if r.Gaps == nil {
						r.Gaps = []gap{}
					}
					out = append(out, r)
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(snaps) == 0 {
				fmt.Fprintln(a.stdout, "No snapshots yet. Take one: nhi demo, or nhi snapshot github --org ORG")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			if len(cur) > 1 {
				// Several sources or accounts: each has its own population,
				// so say first which snapshot is current for each.
				fmt.Fprintln(tw, "SOURCE/ACCOUNT\tCURRENT\tTAKEN (UTC)\tSTATUS\tIDENTITIES\tNOT READ")
				for _, s := range cur {
					fmt.Fprintf(tw, "%s/%s\t#%d\t%s\t%s\t%d\t%s\n", audit.Printable(s.Source), audit.Printable(s.Account), s.ID,
						s.StartedAt.Format("2006-01-02 15:04"), s.Status, s.Total(), notRead(s.Gaps))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintln(tw, "ID\tACCOUNT\tSTARTED (UTC)\tSTATUS\tIDENTITIES\tNOT READ\tREAD BY")
			for _, s := range snaps {
				fmt.Fprintf(tw, "%d\t%s/%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, audit.Printable(s.Source), audit.Printable(s.Account),
					s.StartedAt.Format("2006-01-02 15:04"), s.Status, s.Total(), len(s.Gaps), audit.Printable(s.Credential))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, s := range snaps {
				for _, g := range s.Gaps {
					if g.Coverage() {
						fmt.Fprintf(a.stdout, "Snapshot %d coverage: %s\n", s.ID, audit.Printable(g.Reason))
					}
				}
				for _, n := range s.Notes {
					fmt.Fprintf(a.stdout, "Snapshot %d note: %s\n", s.ID, audit.Printable(n))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// notRead is the gaps cell of the summary: how many endpoints were not
// read, and the first of them, so a partial population names its hole.
func notRead(gaps []audit.Gap) string {
	switch len(gaps) {
	case 0:
		return "0"
	case 1:
		return "1: " + audit.Printable(gaps[0].Endpoint)
	}
	return fmt.Sprintf("%d: %s, …", len(gaps), audit.Printable(gaps[0].Endpoint))
}
