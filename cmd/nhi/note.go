package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newNoteCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "note",
		Short: "Add and read reviewers' notes on identities",
	}
	var filter string
	var bulk bulkFlags
	add := &cobra.Command{
		Use:   "add {ID | --filter EXPR} TEXT...",
		Short: "Add a note to an identity, or to every identity a filter matches",
		Long: `Adds TEXT as a note on identity ID, or with --filter on every identity the
filter matches (nhi help filter): what the data does not say — who was
asked, a ticket, a plan. Each note is an event in the evidence file's log, in
your name (--as, NHI_REVIEWER, or git user.email); notes are never edited or
removed: add another to correct one. At most 2,000 characters. The words
after ID are the text, quoted or not. With --filter it first prints how many
identities the note goes on and the first of them; --dry-run stops there.
Above 10, a terminal is asked to confirm (--yes does not ask).`,
		Example: `  nhi note add github:acme:github_deploy_key:api/123 \
      'asked @acme/platform in SEC-42'
  nhi note add github:acme:github_deploy_key:api/123 asked bob too
  nhi note add --filter 'kind:runner status:active' \
      'runners move to ephemeral ARC in Q1'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if filter != "" {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			return cobra.MinimumNArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			// first is the first identity noted, which a note on one names.
			first, ids, text := args[0], audit.Each(args[:1]), strings.Join(args[1:], " ")
			if filter != "" {
				text = strings.Join(args, " ")
				matched, err := matchingSome(cmd.Context(), st, filter)
				if err != nil {
					return err
				}
				defer matched.remove()
				if goOn, err := a.confirm(bulk, preview{headline: fmt.Sprintf("The note goes on %s:", counted(matched.count, "identity", "identities")),
					rows: identityPreview(matched, outputWidth(a.stdout)), count: matched.count, shown: len(matched.first),
					question: fmt.Sprintf("Add the note to %s?", counted(matched.count, "identity", "identities"))}, false); !goOn {
					return err
				}
				first, ids = matched.first[0].ID, matched.each()
			}
			span, err := st.AddNotesSpan(cmd.Context(), actor, ids, text)
			if err != nil {
				return err
			}
			if span.Count == 1 {
				fmt.Fprintf(a.stdout, "Noted on %s (event %d, by %s)\n", audit.Printable(first), span.First, actor)
				return nil
			}
			fmt.Fprintf(a.stdout, "Noted on %d identities (events %d–%d, by %s)\n", span.Count, span.First, span.Last, actor)
			return nil
		},
	}
	add.Flags().StringVar(&filter, "filter", "", "add the note to every identity this filter matches (nhi help filter)")
	bulk.add(add, "--filter")

	out := textOrJSON("table")
	list := &cobra.Command{
		Use:   "list ID",
		Short: "Print the notes on an identity, oldest first",
		Long: `Prints the notes on identity ID, oldest first, each with its event number,
time and author. --json prints an array of {seq, at, actor, text}.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.Identity(cmd.Context(), args[0]); err != nil {
				return err
			}
			notes, err := st.Notes(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				type noteJSON struct {
					Seq   int64  `json:"seq"`
					At    string `json:"at"`
					Actor string `json:"actor"`
					Text  string `json:"text"`
				}
				out := make([]noteJSON, len(notes))
				for i, n := range notes {
					out[i] = noteJSON{n.Seq, n.At.UTC().Format(time.RFC3339), n.Actor, n.Text}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(notes) == 0 {
				fmt.Fprintf(a.stdout, "No note on %s yet; add one with: nhi note add %s TEXT\n", audit.Printable(args[0]), audit.Printable(args[0]))
				return nil
			}
			for _, n := range notes {
				fmt.Fprintf(a.stdout, "#%d %s %s\n    %s\n", n.Seq, n.At.UTC().Format("2006-01-02 15:04 UTC"), audit.Printable(n.Actor), audit.Printable(n.Text))
			}
			return nil
		},
	}
	out.addTextOrJSONFlags(list, "print a JSON array")
	cmd.AddCommand(add, list)
	return cmd
}
