package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// Exceptions: keep decisions on identities with findings, their expiry and
// their approval (docs/campaigns.md, "Exceptions").

func newExceptionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exception",
		Short: "List and approve exceptions: keep decisions on identities with findings",
		Long: `A keep on an identity that had findings is an exception: it expires after the
campaign's policy's exception_days (default 90; nhi decide --until DATE sets an
earlier day), and where the policy says exception_approval: required a second
person, not the reviewer, approves it. An exception that expires, or is still
unapproved when its campaign closes, raises the exception-expired finding and
the identity comes back in the next campaign. See docs/campaigns.md.`,
	}
	cmd.AddCommand(newExceptionListCmd(a), newExceptionApproveCmd(a))
	return cmd
}

func newExceptionListCmd(a *app) *cobra.Command {
	out := output{allow: []string{"table", "wide", "json"}}
	cmd := &cobra.Command{
		Use:   "list CAMPAIGN [-o wide|json]",
		Short: "List a campaign's exceptions: who kept what, until when, who approved",
		Long: `list prints a campaign's exceptions: who kept which identity, until when, and
who approved. An identity whose repository was renamed since the campaign froze
it is listed under the ID it has now, "NEW (was OLD)", as nhi decide names it;
-o json keeps the ID the campaign froze as id and gives the one now as
current_id.

The table fits the terminal (120 columns in a pipe) as nhi campaign show's
do: it hides KEPT BY, APPROVED BY and EVENT before it cuts an identity, and
says which it hid; --wide cuts and hides nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := out.Resolve()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			xs, err := campaigns.Exceptions(cmd.Context(), st, args[0], 0)
			if err != nil {
				return err
			}
			list := sortedExceptions(xs)
			if format == "json" {
				out := make([]exceptionJSON, len(list))
				for i, x := range list {
					out[i] = exceptionToJSON(x, st.Now())
				}
				return writeJSON(a.stdout, out)
			}
			width := outputWidth(a.stdout)
			if format == "wide" {
				width = 0
			}
			return printExceptions(a.stdout, list, st.Now(), width)
		},
	}
	out.addFlags(cmd, "print the exceptions as JSON", "table (the default), wide or json")
	cmd.Flags().BoolVar(&out.wide, "wide", false, "cut and hide nothing of the table (-o wide)")
	return cmd
}

func newExceptionApproveCmd(a *app) *cobra.Command {
	var sign signing
	cmd := &cobra.Command{
		Use:   "approve CAMPAIGN ID",
		Short: "Approve an exception as the second person (exception_approval: required)",
		Long: `approve records your approval of the exception on identity ID of an open
campaign: its decision must be a keep on an identity that had findings. You may
not approve an exception you kept yourself (under any alias), nor one on an
identity you may not decide (you own it, a team of yours owns it, you hold it,
you created the campaign): the refusal is recorded as a decision.refused event.
The approval is signed like a decision (--sign-with, NHI_SIGNING_KEY).`,
		Example: `  nhi exception approve 2026-Q4 github:acme:github_deploy_key:api/123 \
      --as mia@acme.com`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := sign.context(cmd.Context(), a)
			if err != nil {
				return err
			}
			st, actor, err := a.openAs(ctx, audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			ap, err := campaigns.ApproveException(ctx, st, actor, args[0], args[1])
			if err != nil {
				return err
			}
			x := ap.Exception
			fmt.Fprintf(a.stdout, "Approved the exception on %s in %s (event %d, by %s): kept by %s (event %d), until %s\n",
				audit.Printable(x.ID), audit.Printable(x.Campaign), ap.Event.Seq, audit.Printable(actor),
				audit.Printable(x.DecidedBy), x.Seq, dashIfEmpty(x.Expires))
			return nil
		},
	}
	cmd.Flags().StringVar(&sign.keyPath, "sign-with", "", "sign the approval with this SSH key: a private key file, or a public key whose private half is in ssh-agent (env "+signingKeyEnv+")")
	cmd.Flags().StringVar(&sign.allowedSigners, "allowed-signers", "", "an allowed_signers file listing your key, when the directory of people does not list it")
	return cmd
}

func sortedExceptions(xs map[string]*campaigns.Exception) []*campaigns.Exception {
	out := make([]*campaigns.Exception, 0, len(xs))
	for _, x := range xs {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b *campaigns.Exception) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// exceptionStatus is an exception's state in words, with expired when it
// has lapsed at now.
func exceptionStatus(x *campaigns.Exception, now time.Time) string {
	if x.Expired(now) {
		if x.State == campaigns.ExceptionUnapproved {
			return "lapsed: never approved"
		}
		return "expired"
	}
	return x.State
}

// printExceptions writes the exceptions' table fitting width (0: --wide),
// as nhi campaign show fits its own: the ID an exception is approved
// with (the one it has now) is cut only once the columns saying who kept
// it, who approved it and the event are hidden; a renamed one's "(was
// OLD)" gives its width first, cut to "NEW …".
func printExceptions(w io.Writer, list []*campaigns.Exception, now time.Time, width int) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No exceptions: no keep decision on an identity with findings.")
		return err
	}
	want := 20
	for _, x := range list {
		id := ansi.StringWidth(audit.Printable(x.ID))
		if x.CurrentID != "" {
			// "NEW …" when it is cut: the "…" apart from the ID.
			id = ansi.StringWidth(audit.Printable(x.CurrentID)) + 2
		}
		want = max(want, id)
	}
	t := newTable(width, column{Title: "IDENTITY", Min: 20, Want: want}, column{Title: "KEPT BY", Min: 10, Hide: 1},
		column{Title: "EVENT", Hide: 3}, column{Title: "EXPIRES"}, column{Title: "APPROVED BY", Min: 10, Hide: 2}, column{Title: "STATE"})
	var not []string
	for _, x := range list {
		approved := dashIfEmpty(audit.Printable(x.ApprovedBy))
		if x.NotApproved != nil {
			// The approval the log holds that approves nothing: said
			// under the table, whole.
			approved = "none (see below)"
			not = append(not, "Not approved: "+audit.Printable(x.ID)+": "+x.NotApproved.String()+" (nhi verify names it).")
		}
		t.Row(renamedItem(x.ID, x.CurrentID), audit.Printable(x.DecidedBy), strconv.FormatInt(x.Seq, 10),
			dashIfEmpty(x.Expires), approved, exceptionStatus(x, now))
	}
	if err := t.Flush(w); err != nil {
		return err
	}
	for _, line := range not {
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

type exceptionJSON struct {
	Campaign         string  `json:"campaign"`
	ID               string  `json:"id"` // as the campaign froze it
	CurrentID        string  `json:"current_id,omitempty"`
	Event            int64   `json:"event"`
	KeptBy           string  `json:"kept_by"`
	KeptAt           string  `json:"kept_at"`
	Reason           string  `json:"reason"`
	Expires          *string `json:"expires"`
	ApprovalRequired bool    `json:"approval_required"`
	ApprovedBy       *string `json:"approved_by"`
	ApprovedAt       *string `json:"approved_at"`
	ApproveEvent     int64   `json:"approve_event,omitempty"`
	State            string  `json:"state"`
	Expired          bool    `json:"expired"`
	// NotApproved is an approval the log holds that approves nothing (a
	// leaver's, or one a rule refuses), when none that counts approved it.
	NotApproved *notApprovedJSON `json:"not_approved,omitempty"`
}

type notApprovedJSON struct {
	Event  int64  `json:"event"`
	By     string `json:"by"`
	Left   string `json:"left"`
	Marked int64  `json:"marked_left_by_event"`
	// Rule is the rule the approval breaks (approver, owner, holder,
	// team-owner, creator, unsigned); absent for a leaver's, which left
	// and marked_left_by_event describe.
	Rule string `json:"rule,omitempty"`
	Why  string `json:"why"`
}

func exceptionToJSON(x *campaigns.Exception, now time.Time) exceptionJSON {
	return exceptionJSON{Campaign: x.Campaign, ID: x.ID, CurrentID: x.CurrentID, Event: x.Seq, KeptBy: x.DecidedBy, KeptAt: x.DecidedAt.UTC().Format(time.RFC3339),
		Reason: x.Reason, Expires: strOrNull(x.Expires), ApprovalRequired: x.ApprovalRequired, ApprovedBy: strOrNull(x.ApprovedBy),
		ApprovedAt: timeOrNull(x.ApprovedAt), ApproveEvent: x.ApproveSeq, State: x.State, Expired: x.Expired(now), NotApproved: notApprovedToJSON(x.NotApproved)}
}

func notApprovedToJSON(n *campaigns.NotAnApproval) *notApprovedJSON {
	if n == nil {
		return nil
	}
	return &notApprovedJSON{Event: n.Event, By: n.By, Left: n.Left, Marked: n.Marked, Rule: n.Rule, Why: n.String()}
}
