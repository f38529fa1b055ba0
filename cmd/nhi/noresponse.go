package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// The no-response rule of a campaign: escalation and reminders
// (docs/campaigns.md, "No response").

func newCampaignEscalateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "escalate NAME",
		Short: "Reassign items still pending to the reviewer's manager (--on-no-response escalate)",
		Long: `escalate reassigns the items of an open campaign created with --on-no-response
escalate that are still pending --escalate-after days after its creation: each
goes to its reviewer's manager in the directory of people, or to the
--fallback-reviewer when the reviewer has no manager there, the manager has
left, or the manager may not decide it (they own it, hold it, ...). Each
reassignment is a decision.escalate event, in the item's trail. An item is
escalated once; run it again (from cron, say) and only new cases move.
Before the escalation day it changes nothing and says when.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := campaigns.Escalate(cmd.Context(), st, actor, args[0])
			if err != nil {
				return err
			}
			n := 0
			for _, ids := range res.Moved {
				n += len(ids)
			}
			fmt.Fprintf(a.stdout, "Escalated %s of %s (due since %s), by %s\n", counted(n, "pending item", "pending items"), args[0], res.Due.UTC().Format(time.RFC3339), audit.Printable(actor))
			for _, ev := range res.Events {
				var p campaigns.EscalatePayload
				if err := json.Unmarshal(ev.Payload, &p); err != nil {
					return fmt.Errorf("event %d: %w", ev.Seq, err)
				}
				fmt.Fprintf(a.stdout, "  event %d: %s from %s to %s (%s)\n", ev.Seq, counted(len(p.Items), "item", "items"), dashIfEmpty(audit.Printable(p.From)), audit.Printable(p.To), p.Via)
			}
			if len(res.Stuck) > 0 {
				fmt.Fprintf(a.stdout, "Left with their reviewer (%d): nobody else may take them:\n", len(res.Stuck))
				for _, id := range sortedKeys(res.Stuck) {
					fmt.Fprintf(a.stdout, "  %s: %s\n", audit.Printable(id), audit.Printable(res.Stuck[id]))
				}
			}
			return nil
		},
	}
}

// remindHeld, when a test sets it, is called with each item campaign
// remind renders, as it renders it.
var remindHeld func(*campaigns.Item)

func newCampaignRemindCmd(a *app) *cobra.Command {
	var asCSV bool
	cmd := &cobra.Command{
		Use:   "remind NAME [--csv]",
		Short: "List each reviewer's pending items, for reminder mails",
		Long: `remind lists, per reviewer, the items of a campaign still waiting for a
decision (carried and unconfirmed ones included), after any escalation: the
reviewer is who should decide the item now. It writes nothing. --csv prints
one row per item for a mail merge: reviewer, name, campaign, due, identity,
kind, name of the identity, scope, findings, state, escalated from.`,
		Example: `  nhi campaign remind 2026-Q4 --csv > reminders.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			render := remindLine
			if asCSV {
				render = remindRow()
			}
			c, rs, err := campaigns.Remind(cmd.Context(), st, args[0], func(c *campaigns.Campaign, r *campaigns.Reminder, it *campaigns.Item, w io.Writer) error {
				if remindHeld != nil {
					remindHeld(it)
				}
				return render(c, r, it, w)
			})
			if err != nil {
				return err
			}
			defer campaigns.RemoveReminders(rs)
			// Each item's line is a record of its reviewer's spool, copied
			// out one at a time: written straight to stdout, a million
			// pending items were a million write calls (issue 21).
			out := bufio.NewWriterSize(a.stdout, 64<<10)
			if err := printReminders(out, c, rs, asCSV); err != nil {
				_ = out.Flush() // what was printed before the error
				return err
			}
			return out.Flush()
		},
	}
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print one CSV row per pending item, for a mail merge")
	return cmd
}

// printReminders prints the reminders rs of campaign c, as CSV rows or as
// a list per reviewer.
func printReminders(out io.Writer, c *campaigns.Campaign, rs []campaigns.Reminder, asCSV bool) error {
	if asCSV {
		w := csv.NewWriter(out)
		_ = w.Write([]string{"reviewer", "reviewer_name", "campaign", "due", "identity_id", "kind", "name", "scope", "findings", "state", "escalated_from"})
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		for _, r := range rs {
			if err := r.CopyTo(out); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rs) == 0 {
		fmt.Fprintf(out, "Nothing pending in %s.\n", c.Name)
		return nil
	}
	fmt.Fprintf(out, "Campaign %s, due %s: pending items per reviewer\n", c.Name, c.Due)
	for _, r := range rs {
		who := audit.Printable(r.Reviewer)
		if who == "" {
			who = "(no reviewer: anyone who does not own them)"
		} else if r.Name != "" {
			who = audit.Printable(r.Name) + " <" + who + ">"
		}
		fmt.Fprintf(out, "\n%s: %d pending\n", who, r.Pending)
		if err := r.CopyTo(out); err != nil {
			return err
		}
	}
	return nil
}

// remindLine is campaign remind's line for a pending item.
func remindLine(_ *campaigns.Campaign, _ *campaigns.Reminder, it *campaigns.Item, w io.Writer) error {
	line := fmt.Sprintf("  %s  %s  %s", audit.Printable(it.ID), it.State(), dashIfEmpty(audit.RuleNames(it.Findings)))
	if it.Escalated != nil {
		line += "  (escalated from " + dashIfEmpty(audit.Printable(it.Escalated.From)) + ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// remindRow returns campaign remind --csv's row writer for a pending
// item, its CSV writer made once for the writer Remind gives it (a
// buffer it reuses) and flushed after each row.
func remindRow() campaigns.RemindRender {
	var (
		cw  *csv.Writer
		out io.Writer
	)
	return func(c *campaigns.Campaign, r *campaigns.Reminder, it *campaigns.Item, w io.Writer) error {
		if cw == nil || out != w {
			cw, out = csv.NewWriter(w), w
		}
		from := ""
		if it.Escalated != nil {
			from = it.Escalated.From
		}
		_ = cw.Write(csvCells(r.Reviewer, r.Name, c.Name, c.Due, it.ID, string(it.Kind), it.Name, it.Scope, audit.RuleNames(it.Findings), it.State(), from))
		cw.Flush()
		return cw.Error()
	}
}

// csvCells neutralises cells a spreadsheet would run as a formula (the
// report's rule, docs/report.md): a leading =, +, -, @, tab or CR gets an
// apostrophe.
func csvCells(cells ...string) []string {
	for i, c := range cells {
		c = audit.Printable(c)
		if t := strings.TrimLeft(c, " "); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
			c = "'" + c
		}
		cells[i] = c
	}
	return cells
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
