package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

func newDecideCmd(a *app) *cobra.Command {
	var (
		reason, filter, batch string
		until                 string
		transferTo            string
		replacement           string
		includeDecided        bool
		confirmCarried        bool
		allReviewers          bool
		undo                  int64
		sign                  signing
		bulk                  bulkFlags
	)
	cmd := &cobra.Command{
		Use:   "decide CAMPAIGN ID decommission|keep|rotate|transfer [--reason TEXT] [--to PERSON]",
		Short: "Record a review decision in a campaign",
		Long: `decide records your decision on one identity of an open campaign, as an event in
the log signed with your name (--as, NHI_REVIEWER, or git user.email):

  decommission  approve removal (verified by later snapshots)
  keep          reject removal; --reason required if the identity has findings,
                and then the keep is an exception: it expires after the policy's
                exception_days (default 90) or on --until DATE, whichever is
                sooner
  rotate        keep, but the credential must be replaced; --reason as for keep;
                for a deploy key, --replacement KEY names the new key (its ID or
                SHA256 fingerprint), which campaign verify then looks for
  transfer      (offboarding campaigns) hand it to --to PERSON, an active person
                who is not the leaver; the new owner is recorded with it

You may not decide an identity you own (its recorded owner, at the campaign's
creation or now, or who the source says holds it; @login counts as login, and
so does any alias the directory of people gives you), nor one a team you
belong to owns, nor any in a campaign you created unless it was created with
--allow-admin-review; each refusal is recorded, and names the rule.
Anyone else may, also outside their assignment: the record says so, and
show counts it. A decision can be changed until the campaign closes; every
change stays in the log, and an item re-decided by someone other than its
last decider is marked as a conflict.

Other forms:
  --filter EXPR DECISION --reason TEXT   the same decision on every undecided
        item matching EXPR (pending, or carried and unconfirmed); add
        --include-decided to change decided ones too. Items you own are skipped.
        Only the items assigned to you are decided: the preview says how
        many of other reviewers (or of nobody) it left out, and
        --all-reviewers decides them too (flagged as decided outside the
        assignment; the separation-of-duties rules still hold).
        It first prints how many items it will decide and the first of them;
        --dry-run stops there, and above 10 a terminal is asked to confirm
        (--yes does not ask).
  --confirm-carried --reason TEXT        confirm the carried-forward decisions
        (all, or those matching --filter), yours only unless --all-reviewers
  --undo SEQ                             reverse the decision event SEQ with a
        compensating event; the items go back to their earlier decision
  --batch FILE                           one decision per CSV line
        "ID,DECISION[,REASON]" ('-' reads stdin), each committed on its own;
        prints "ok SEQ ID DECISION" once a line is recorded`,
		Example: `  nhi decide 2026-Q4 github:acme:github_deploy_key:api/123 decommission
  nhi decide 2026-Q4 github:acme:github_app_installation:42 keep \
      --reason "CI deploys; owner @acme/platform"
  nhi decide 2026-Q4 --filter 'kind:deploy_key unused>1y' decommission \
      --reason "unused for a year"
  nhi decide 2027-Q1 --confirm-carried --reason "unchanged since 2026-Q4"
  nhi decide 2026-Q4 --batch decisions.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			want, form := 3, "CAMPAIGN ID DECISION"
			switch {
			case batch != "" || confirmCarried || undo != 0:
				want, form = 1, "CAMPAIGN"
			case filter != "":
				want, form = 2, "CAMPAIGN DECISION"
			}
			if len(args) != want {
				return wrongArgCount{fmt.Errorf("expected %s, got %s", form, counted(len(args), "argument", "arguments"))}
			}
			n := 0
			for _, on := range []bool{batch != "", confirmCarried, undo != 0} {
				if on {
					n++
				}
			}
			if n > 1 {
				return errors.New("--batch, --confirm-carried and --undo cannot be combined")
			}
			if filter != "" && (batch != "" || undo != 0) {
				return errors.New("--filter goes with a DECISION or --confirm-carried")
			}
			if replacement != "" && want != 3 {
				return errors.New("--replacement names the new key of one deploy key: nhi decide CAMPAIGN ID rotate --replacement KEY")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, err := sign.context(cmd.Context(), a)
			if err != nil {
				return err
			}
			if until != "" {
				t, err := time.Parse("2006-01-02", until)
				if err != nil {
					return usageError{cmd.CommandPath(), fmt.Errorf("--until %q: use YYYY-MM-DD, the last day the exception holds", until)}
				}
				ctx = campaigns.ExceptUntil(ctx, t)
			}
			cmd.SetContext(ctx) // --batch decides with it too
			st, actor, err := a.openAs(ctx, audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			name := args[0]
			if !allReviewers {
				ctx = campaigns.MineOnly(ctx) // --filter and --confirm-carried
			}
			// The preview shows the first items and counts the rest, the
			// decision counts them: neither holds a list of every item
			// (issue 21).
			ctx = campaigns.ListFirst(ctx, previewRows)
			switch {
			case batch != "":
				return decideBatch(cmd, a, st, actor, name, batch)
			case undo != 0:
				u, err := campaigns.Undo(ctx, st, actor, name, undo)
				if err != nil {
					return err
				}
				for _, id := range u.Items {
					a.sayf("Undid event %d on %s: back to %s\n", undo, audit.Printable(id), stateWord(u.Restored[id]))
				}
				a.sayf("(event %d, by %s)\n", u.Event.Seq, audit.Printable(actor))
				return nil
			case confirmCarried:
				p, err := campaigns.ConfirmCarried(campaigns.Preview(ctx), st, actor, name, filter, reason)
				if err != nil {
					return campaignError(cmd, "--filter", err)
				}
				if goOn, err := a.confirmItems(ctx, st, bulk, name, p, "Confirm the carried decision of"); !goOn {
					return err
				}
				o, err := campaigns.ConfirmCarried(ctx, st, actor, name, filter, reason)
				if err != nil {
					return campaignError(cmd, "--filter", err)
				}
				printBulk(a, o, "Confirmed", "carried decision", "carried decisions", actor)
				return nil
			case filter != "":
				d, err := campaigns.ParseDecision(args[1])
				if err != nil {
					return usageError{cmd.CommandPath(), err}
				}
				p, err := campaigns.DecideMatching(campaigns.Preview(ctx), st, actor, name, filter, d, reason, includeDecided)
				if err != nil {
					return campaignError(cmd, "--filter", err)
				}
				if goOn, err := a.confirmItems(ctx, st, bulk, name, p, "Decide "+string(d)+" on"); !goOn {
					return err
				}
				o, err := campaigns.DecideMatching(ctx, st, actor, name, filter, d, reason, includeDecided)
				if err != nil {
					return campaignError(cmd, "--filter", err)
				}
				printBulk(a, o, "Decided "+string(d)+" on", "item", "items", actor)
				return nil
			}
			d, err := campaigns.ParseDecision(args[2])
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			if (d == campaigns.Transfer) != (transferTo != "") {
				return usageError{cmd.CommandPath(), errors.New("--to PERSON goes with transfer, and transfer needs it")}
			}
			if d == campaigns.Transfer {
				outs, err := campaigns.TransferItems(ctx, st, actor, name, []string{args[1]}, transferTo, reason)
				if err != nil {
					return campaignError(cmd, "", err)
				}
				printTransfer(sayWriter{a}, name, transferTo, actor, outs)
				return nil
			}
			if replacement != "" && d != campaigns.Rotate {
				return usageError{cmd.CommandPath(), errors.New("--replacement goes with rotate: it names the key that replaces a deploy key")}
			}
			var o *campaigns.Outcome
			if replacement != "" {
				o, err = campaigns.RotateReplacing(ctx, st, actor, name, args[1], reason, replacement)
			} else {
				o, err = campaigns.Decide(ctx, st, actor, name, args[1], d, reason)
			}
			if same, ok := errors.AsType[*campaigns.AlreadyDecidedError](err); ok {
				// Deciding again what you decided is no change: say so and
				// exit 0, so a script that runs twice does no harm.
				a.sayf("Nothing was written: %s.\n", same)
				return nil
			}
			if err != nil {
				return campaignError(cmd, "", err)
			}
			a.sayf("Decided %s on %s in %s (event %d, by %s)\n", d, decidedItem(o), name, o.Event.Seq, audit.Printable(actor))
			if replacement != "" {
				a.sayf("Replacement named: %s; nhi campaign verify looks for that key, and for the old one gone.\n", audit.Printable(strings.TrimSpace(replacement)))
			}
			if o.ExceptionExpires != "" {
				a.sayf("Exception: it has findings, so this keep holds until %s (end of day, UTC).\n", o.ExceptionExpires)
				if o.ExceptionApproval {
					a.sayf("The policy requires a second person to approve it: nhi exception approve %s %s\n", name, audit.Printable(o.Item))
				}
			}
			if !o.Assigned {
				who := "nobody"
				if o.Reviewer != "" {
					who = audit.Printable(o.Reviewer)
				}
				a.sayf("Note: the item is assigned to %s; recorded as decided outside the assignment.\n", who)
			}
			if o.Conflict {
				a.sayf("Note: this replaces %s's %s; both stay in the log and the item is marked as a conflict.\n",
					audit.Printable(o.PreviousBy), o.Previous)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&reason, "reason", "", "justification, recorded with the decision")
	f.StringVar(&until, "until", "", "for a keep on an identity with findings (an exception): its last day, YYYY-MM-DD; at most the policy's exception_days")
	f.StringVar(&transferTo, "to", "", "with transfer: the person who takes the identity over")
	f.StringVar(&replacement, "replacement", "", "with rotate of a deploy key: the new key (its ID or SHA256 fingerprint) that verification looks for")
	f.StringVar(&filter, "filter", "", "decide every undecided item matching this filter expression")
	f.BoolVar(&includeDecided, "include-decided", false, "with --filter: change items already decided too")
	f.BoolVar(&allReviewers, "all-reviewers", false, "with --filter or --confirm-carried: decide the matching items of every reviewer, not only yours")
	f.BoolVar(&confirmCarried, "confirm-carried", false, "confirm the decisions carried forward from the previous campaign")
	f.Int64Var(&undo, "undo", 0, "reverse the decision event SEQ (see history in nhi campaign show --json)")
	bulk.add(cmd, "--filter or --confirm-carried")
	f.StringVar(&batch, "batch", "", "read ID,DECISION[,REASON] lines from FILE ('-' for stdin)")
	f.StringVar(&sign.keyPath, "sign-with", "", "sign the decision with this SSH key: a private key file, or a public key whose private half is in ssh-agent (env "+signingKeyEnv+")")
	f.StringVar(&sign.allowedSigners, "allowed-signers", "", "an allowed_signers file listing your key, when the directory of people does not list it")
	return cmd
}

// confirmItems shows what a bulk decision or confirmation previewed in p
// will touch, as campaign show lists items, and asks (see confirm).
func (a *app) confirmItems(ctx context.Context, st *audit.Store, b bulkFlags, campaign string, p *campaigns.BulkOutcome, verb string) (bool, error) {
	// Only the items shown are read, as campaign show reads them: the
	// campaign whole (campaigns.Get) held every item with its history to
	// print ten (issue 21).
	c, err := campaigns.Load(ctx, st, campaign)
	if err != nil {
		return false, err
	}
	shown := min(p.Decided, previewRows)
	ir, err := campaigns.NewItemReader(ctx, st, c)
	if err != nil {
		return false, err
	}
	items, err := ir.Of(ctx, st, p.Items[:shown])
	if err != nil {
		return false, err
	}
	headline := fmt.Sprintf("%s %s of %s", verb, counted(p.Decided, "item", "items"), audit.Printable(campaign))
	var left []string
	if p.SkippedDecided > 0 {
		left = append(left, fmt.Sprintf("%d already decided", p.SkippedDecided))
	}
	if n := len(p.SkippedOwn); n > 0 {
		left = append(left, fmt.Sprintf("%d you own", n))
	}
	if len(left) > 0 {
		headline += " (left alone: " + strings.Join(left, ", ") + ")"
	}
	if n := p.NotMine + p.Unassigned; n > 0 {
		a.sayf("%s; use --all-reviewers\n", notMineNote(p))
	}
	rows := func(w io.Writer) error {
		t := newTable(outputWidth(a.stdout), itemColumns(false)...)
		t.more = "nhi campaign show --wide shows them"
		for i := range items {
			t.Row(itemCells(c, &items[i], st.Now())...)
		}
		return t.Flush(w)
	}
	return a.confirm(b, preview{headline: headline + ":", rows: rows, count: p.Decided, shown: shown,
		question: fmt.Sprintf("%s %s?", verb, counted(p.Decided, "item", "items"))}, false)
}

func stateWord(d campaigns.Decision) string {
	if d == campaigns.Pending {
		return "pending"
	}
	return string(d)
}

// notMineNote is "12 items of other reviewers not decided", with those
// of nobody when there are some.
func notMineNote(p *campaigns.BulkOutcome) string {
	var parts []string
	if p.NotMine > 0 {
		parts = append(parts, counted(p.NotMine, "item", "items")+" of other reviewers")
	}
	if p.Unassigned > 0 {
		parts = append(parts, counted(p.Unassigned, "item", "items")+" with no reviewer")
	}
	return strings.Join(parts, " and ") + " not decided"
}

// decidedItem names the item an outcome decided: "NEW (was OLD)" when the
// campaign froze it before its repository was renamed, since the decision
// is recorded under the ID it froze and a reader knows it by the ID now.
func decidedItem(o *campaigns.Outcome) string { return renamedItem(o.Item, o.Current) }

// renamedItem names an item frozen under id: "CURRENT (was ID)" when its
// identity has the ID current now (its repository renamed since).
func renamedItem(id, current string) string {
	if current != "" {
		return audit.Printable(current) + " (was " + audit.Printable(id) + ")"
	}
	return audit.Printable(id)
}

func printBulk(a *app, o *campaigns.BulkOutcome, verb, one, many, actor string) {
	a.sayf("%s %s (event %d, by %s)\n", verb, counted(o.Decided, one, many), o.Event.Seq, audit.Printable(actor))
	if o.NotMine+o.Unassigned > 0 {
		a.sayf("Left alone: %s (--all-reviewers decides them).\n", notMineNote(o))
	}
	if o.NotAssigned > 0 {
		a.sayf("Note: %d of them %s assigned to another reviewer; recorded as decided outside the assignment.\n", o.NotAssigned, plural(o.NotAssigned, "is", "are"))
	}
	if o.Conflicts > 0 {
		a.sayf("Note: %d replaced someone else's decision; marked as conflicts.\n", o.Conflicts)
	}
	if o.SkippedDecided > 0 {
		a.sayf("Left alone: %s already decided.\n", counted(o.SkippedDecided, "matching item", "matching items"))
	}
	if n := len(o.SkippedOwn); n > 0 {
		a.sayf("Skipped %s you own (another reviewer must decide %s):\n", counted(n, "item", "items"), plural(n, "it", "them"))
		for _, id := range o.SkippedOwn {
			fmt.Fprintf(a.stdout, "  %s\n", audit.Printable(id))
		}
	}
}

// decideBatch records one decision per CSV line, each in its own
// transaction, and prints "ok SEQ ID DECISION" as soon as a line is
// committed: a line printed is a line that survives a crash.
func decideBatch(cmd *cobra.Command, a *app, st *audit.Store, actor, campaign, path string) error {
	var in io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("--batch: %w", err)
		}
		defer f.Close()
		in = f
	}
	r := csv.NewReader(bufio.NewReader(in))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	var ok, failed int
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("--batch line %d: %w (%d recorded before it)", line, err, ok)
		}
		if len(rec) < 2 || len(rec) > 3 {
			fmt.Fprintf(a.stderr, "nhi: line %d: want ID,DECISION[,REASON]\n", line)
			failed++
			continue
		}
		d, err := campaigns.ParseDecision(rec[1])
		if err == nil {
			reason := ""
			if len(rec) == 3 {
				reason = rec[2]
			}
			var o *campaigns.Outcome
			if o, err = campaigns.Decide(cmd.Context(), st, actor, campaign, strings.TrimSpace(rec[0]), d, reason); err == nil {
				fmt.Fprintf(a.stdout, "ok %d %s %s\n", o.Event.Seq, audit.Printable(o.Item), d)
				ok++
				continue
			}
			if same, isSame := errors.AsType[*campaigns.AlreadyDecidedError](err); isSame {
				// A batch run again: the line is recorded, by its first event.
				fmt.Fprintf(a.stdout, "ok %d %s %s\n", same.Seq, audit.Printable(same.Item), d)
				ok++
				continue
			}
		}
		if errors.Is(err, campaigns.ErrNotFound) || errors.Is(err, campaigns.ErrClosed) || cmd.Context().Err() != nil {
			return fmt.Errorf("line %d: %w (%d recorded before it)", line, err, ok)
		}
		fmt.Fprintf(a.stderr, "nhi: line %d: %v\n", line, err)
		failed++
	}
	if failed > 0 {
		return fmt.Errorf("%s recorded, %d refused (see above)", counted(ok, "decision", "decisions"), failed)
	}
	fmt.Fprintf(a.stderr, "%s recorded in %s\n", counted(ok, "decision", "decisions"), campaign)
	return nil
}
