package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

func newCampaignCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Run access-review campaigns: create, list, show, remind, escalate, close, verify, sample",
		Long: `A campaign is the periodic access review (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18,
PCI DSS 7.2.5.1): it freezes a population of identities, reviewers decide each
one with ` + "`nhi decide`" + `, close turns what nobody decided into no-response, and
later snapshots verify that what was approved for removal is gone.
See docs/campaigns.md.`,
	}
	cmd.AddCommand(newCampaignCreateCmd(a), newCampaignListCmd(a), newCampaignShowCmd(a),
		newCampaignCloseCmd(a), newCampaignVerifyCmd(a), newCampaignSampleCmd(a),
		newCampaignEscalateCmd(a), newCampaignRemindCmd(a))
	return cmd
}

// campaignError turns a campaigns refusal into what the CLI reports: a
// filter that does not parse shows its caret; a malformed argument is a
// usage error (exit 2); anything else a failure (exit 1).
func campaignError(cmd *cobra.Command, flag string, err error) error {
	var fe *filter.Error
	if errors.As(err, &fe) {
		caret := strings.ReplaceAll(fe.Caret(), "\n", "\n  ")
		return topicError{"filter", fmt.Errorf("%s: %w\n  %s", flag, err, caret)}
	}
	for _, u := range []error{campaigns.ErrBadName, campaigns.ErrBadDue, campaigns.ErrBadDecision, campaigns.ErrSnapshotChoice, campaigns.ErrNoResponseRule} {
		if errors.Is(err, u) {
			return usageError{cmd.CommandPath(), err}
		}
	}
	return err
}

func newCampaignCreateCmd(a *app) *cobra.Command {
	var (
		spec       campaigns.Spec
		reviewerCS string
		out        = textOrJSON("table")
	)
	cmd := &cobra.Command{
		Use:   "create NAME --scope EXPR --due YYYY-MM-DD --reviewer R...",
		Short: "Freeze a population for review and assign it to reviewers",
		Long: `create evaluates --scope (the filter language of nhi identities --filter) over
the current snapshot of every source and account in the evidence file (GitHub
organisations, AWS accounts, imports, certificate scans), each as of its own
start, and freezes what it selects: each identity's owner, findings and
permissions as they are now, the policy in force (its digest), a reviewer,
and each snapshot used (ID, status, digest). The population's SHA-256 digest
goes into the campaign.create event, so nhi verify shows any later edit.

--source and --account narrow the snapshots to some sources or accounts;
--snapshot ID (repeatable, one per source/account) names them instead.

Each snapshot must be complete: a partial one (some endpoints could not be
read) is refused unless you pass --allow-partial, or pick an earlier complete
one with --snapshot ID.

Reviewers: items go to the reviewer the --reviewer-map CSV (owner,reviewer)
names for their owner; the rest are shared evenly and deterministically among
the --reviewer list (items in ID order, each to the eligible reviewer with the
fewest so far). Nobody is ever assigned an identity they own.

--carry-forward PREVIOUS pre-fills the keep decisions of a closed earlier
campaign for identities unchanged since (same owner, no new finding, same
permissions), marked carried until confirmed with
nhi decide NAME --confirm-carried --reason TEXT. An identity whose repository
was renamed since is matched under the ID it had there, and create lists it.`,
		Example: `  nhi campaign create 2026-Q4 --scope 'kind:deploy_key or finding:stale' \
      --due 2026-12-31 --reviewer alice@acme.com --reviewer bob@acme.com
  nhi campaign create 2027-Q1 --scope 'id:*' --due 2027-03-31 \
      --reviewer-map owners.csv --carry-forward 2026-Q4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			// A flag the usage line asks for, missing, is a mistake in
			// the call (exit 2), said before the evidence is opened.
			var missing string
			switch {
			case strings.TrimSpace(spec.Scope) == "":
				missing = "--scope is required: say which identities to review (e.g. 'kind:deploy_key', or 'id:*' for all)"
			case strings.TrimSpace(spec.Due) == "":
				missing = "--due is required: the day the review is due, YYYY-MM-DD"
			case len(spec.Reviewers) == 0 && reviewerCS == "":
				missing = "--reviewer is required: name at least one (repeat it, or separate with commas), or give --reviewer-map FILE"
			}
			if missing != "" {
				return usageError{cmd.CommandPath(), errors.New(missing)}
			}
			ctx := cmd.Context()
			spec.Name = args[0]
			if reviewerCS != "" {
				f, err := os.Open(reviewerCS)
				if err != nil {
					return fmt.Errorf("--reviewer-map: %w", err)
				}
				spec.ReviewerMap, err = campaigns.ReadReviewerMap(f)
				f.Close()
				if err != nil {
					return usageError{cmd.CommandPath(), err}
				}
			}
			st, actor, err := a.openAs(ctx, audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := campaigns.Create(ctx, st, actor, spec)
			if err != nil {
				return campaignError(cmd, "--scope", err)
			}
			if asJSON {
				return writeJSON(a.stdout, campaignToJSON(res.Campaign, st.Now()))
			}
			printCreated(a.stdout, res, actor, proseWidth(a.stdout))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Scope, "scope", "", "filter expression selecting the population (required; 'id:*' for all)")
	f.StringVar(&spec.Due, "due", "", "due date, YYYY-MM-DD (required)")
	f.StringSliceVar(&spec.Reviewers, "reviewer", nil, "a reviewer; repeat or separate with commas")
	f.StringVar(&reviewerCS, "reviewer-map", "", "CSV file of owner,reviewer rows assigning an owner's identities")
	f.Int64SliceVar(&spec.SnapshotIDs, "snapshot", nil, "snapshot `ID` to review, one per source/account; repeat or separate with commas (default: the current one of each)")
	// pflag takes an empty int64 slice's "[]" for a default to print
	// after the one the usage gives in words.
	f.Lookup("snapshot").DefValue = ""
	f.StringSliceVar(&spec.Sources, "source", nil, "review only the current snapshots of these sources (github, aws, x509, an import's --source)")
	f.StringSliceVar(&spec.Accounts, "account", nil, "review only the current snapshots of these accounts (an organisation, an AWS account ID, ...)")
	f.BoolVar(&spec.AllowPartial, "allow-partial", false, "accept a partial snapshot (its population may be incomplete)")
	f.BoolVar(&spec.RequireSigned, "require-signed", false, "refuse decisions that are not signed with the reviewer's SSH key (see nhi decide --sign-with)")
	f.BoolVar(&spec.AllowAdminReview, "allow-admin-review", false, "let the creator, and whoever closes, review items too (separation of duties is off; the report says so)")
	f.StringVar(&spec.CarryForward, "carry-forward", "", "closed earlier campaign whose keep decisions to carry over")
	f.StringVar(&spec.OnNoResponse, "on-no-response", "", "what an item nobody decides comes to: keep, decommission, or escalate (to the reviewer's manager; see nhi campaign escalate)")
	f.StringVar(&spec.FallbackReviewer, "fallback-reviewer", "", "with --on-no-response escalate: who takes items whose reviewer has no manager to take them")
	f.IntVar(&spec.EscalateAfter, "escalate-after", 0, fmt.Sprintf("with --on-no-response escalate: days after creation before pending items escalate (default %d)", campaigns.DefaultEscalateAfter))
	out.addTextOrJSONFlags(cmd, "print the campaign as JSON")
	interruptedNote(cmd, "no campaign was created (it is recorded in one transaction, whole or not at all); run the same command again")
	return cmd
}

// printCreated says what campaign create made: its sentences wrap at
// prose (the terminal's width; 0, whole, in a pipe) and its digests
// shorten to fit it, as campaign show's do; -o json has them whole.
func printCreated(w io.Writer, res *campaigns.Created, actor string, prose int) {
	c, sn := res.Campaign, res.Snapshot
	if len(c.Snapshots) == 1 {
		hang(w, prose, "", fmt.Sprintf("Created campaign %s (event %d, by %s): %s from snapshot %d (%s/%s, %s, %s)",
			c.Name, res.Event.Seq, audit.Printable(actor), counted(c.Count, "identity", "identities"), sn.ID, audit.Printable(sn.Source), audit.Printable(sn.Account), sn.Status, sn.StartedAt.Format(time.RFC3339)))
	} else {
		hang(w, prose, "", fmt.Sprintf("Created campaign %s (event %d, by %s): %s from %d snapshots:",
			c.Name, res.Event.Seq, audit.Printable(actor), counted(c.Count, "identity", "identities"), len(c.Snapshots)))
		printSnapshotUses(w, c.Snapshots, prose, "nhi campaign show "+c.Name+" --wide shows them")
	}
	hang(w, prose, "  scope       ", audit.Printable(c.Scope))
	fmt.Fprintf(w, "  due         %s\n", c.Due)
	fitLine(w, prose, "  policy      sha256:%s\n", c.PolicyDigest)
	fitLine(w, prose, "  population  sha256:%s\n", c.PopulationDigest)
	var parts []string
	for _, r := range c.Reviewers {
		parts = append(parts, fmt.Sprintf("%s %d", audit.Printable(r), res.Assigned[r]))
	}
	hang(w, prose, "  reviewers   ", strings.Join(parts, " · "))
	if c.CarriedFrom != "" {
		hang(w, prose, "  carried     ", fmt.Sprintf("%s from %s, awaiting confirmation: nhi decide %s --confirm-carried --reason TEXT",
			counted(res.Carried, "keep decision", "keep decisions"), c.CarriedFrom, c.Name))
		if n := len(res.CarriedAs); n > 0 {
			hang(w, prose, "  renamed     ", fmt.Sprintf("%s carried from %s under the ID %s then:", counted(n, "keep was", "keeps were"), c.CarriedFrom, plural(n, "its identity had", "their identities had")))
			for _, id := range slices.Sorted(maps.Keys(res.CarriedAs)) {
				fmt.Fprintf(w, "    %s (carried as %s)\n", audit.Printable(id), audit.Printable(res.CarriedAs[id]))
			}
		}
	}
	for i, sn := range res.Snapshots {
		if sn.Status != audit.SnapshotPartial {
			continue
		}
		took := ""
		if i < len(c.Snapshots) && c.Snapshots[i].Count == 0 {
			took = " (the scope took none of its identities: it may exclude them, or they may be among what was not read)"
		}
		hang(w, prose, "", fmt.Sprintf("Warning: snapshot %d (%s/%s) is partial%s; %s not read, so the population may be incomplete:",
			sn.ID, audit.Printable(sn.Source), audit.Printable(sn.Account), took, counted(len(sn.Gaps), "endpoint was", "endpoints were")))
		for _, g := range sn.Gaps {
			hang(w, prose, "  ", fmt.Sprintf("%s: %s", audit.Printable(g.Endpoint), audit.Printable(g.Reason)))
		}
	}
	for _, n := range res.NotRead {
		hang(w, prose, "", campaignNotReadWarning(n.Record()))
	}
	if res.Unevaluated > 0 {
		hang(w, prose, "", unevaluatedWarning(res.Unevaluated, "campaign"))
	}
	if n := len(res.Unassigned); n > 0 {
		hang(w, prose, "", fmt.Sprintf("Warning: %s no reviewer (every reviewer owns %s); anyone who does not own %s may decide:", counted(n, "item has", "items have"), plural(n, "it", "them"), plural(n, "it", "them")))
		for _, id := range res.Unassigned {
			fmt.Fprintf(w, "  %s\n", audit.Printable(id))
		}
	}
}

// campaignNotReadWarning says that the newest run of an account a new
// campaign reviews did not finish, what the campaign holds of it
// therefore, and what to do (docs/campaigns.md, "Accounts not read").
func campaignNotReadWarning(n campaigns.AccountNotRead) string {
	where := audit.Printable(n.Source) + "/" + audit.Printable(n.Account)
	todo := fmt.Sprintf("read it again once what stopped it is put right (nhi snapshots show %d says what: a permission the credential lacks, say), then create the campaign again, or review knowing it: the campaign.create event records it (not_read)", n.Attempt)
	if n.Snapshot == 0 {
		return fmt.Sprintf("Warning: %s was never read (its run, snapshot %d, started %s, %s): none of its identities are in this campaign, so the population is smaller than the estate; %s.",
			where, n.Attempt, n.Started, n.What(), todo)
	}
	return fmt.Sprintf("Warning: the newest run of %s (snapshot %d, started %s) %s: this campaign holds what snapshot %d read of it, not what is there now; %s.",
		where, n.Attempt, n.Started, n.What(), n.Snapshot, todo)
}

// unevaluatedWarning says that the scope of a new campaign (what: campaign
// or offboarding) could not judge n identities of what it reviews, as what
// it asks of them was not read, and what to do (docs/campaigns.md,
// "Identities the scope could not judge").
func unevaluatedWarning(n int, what string) string {
	return fmt.Sprintf("Warning: the scope could not judge %s of the snapshots reviewed: what it asks of %s was not read (an AWS role's policies or trust policy, a last use, an import's empty cell: policies_unknown, trust_unknown, last_used_unknown, tags_unknown, expires_unknown, rotated_unknown), so %s not in this %s, whether or not %s what it asks for; give the credential what it lacks (or the file what it leaves out) and snapshot again, then create the %s again, or review %s apart (nhi identities --filter 'attr.policies_unknown:true or attr.trust_unknown:true or attr.last_used_unknown:true or attr.tags_unknown:true or attr.expires_unknown:true or attr.rotated_unknown:true' lists every identity with something not read); the campaign.create event records the count (unevaluated).",
		counted(n, "identity", "identities"), plural(n, "it", "them"), plural(n, "it is", "they are"), what, plural(n, "it is", "they are"), what, plural(n, "it", "them"))
}

// printSnapshotUses lists a campaign's snapshots, a table under the
// line that counts them, indented: at a terminal narrower than its whole
// width (prose; 0: whole) the digests are hidden first (more: what shows
// them), the others cut.
func printSnapshotUses(w io.Writer, uses []campaigns.SnapshotUse, prose int, more string) {
	t := newTable(max(prose-2, 0), column{Title: "SNAPSHOT"}, column{Title: "SOURCE", Min: 12, Want: 24}, column{Title: "STATUS"},
		column{Title: "AS OF", Min: 10, Want: 20}, column{Title: "IN SCOPE"}, column{Title: "DIGEST", Hide: 1})
	t.more = more
	for _, u := range uses {
		t.Row(strconv.FormatInt(u.ID, 10), audit.Printable(u.Source)+"/"+audit.Printable(u.Account), u.Status, u.AsOf,
			strconv.Itoa(u.Count), fmt.Sprintf("sha256:%.12s…", u.Digest))
	}
	var b strings.Builder
	t.Flush(&b)
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if l != "" {
			io.WriteString(w, "  "+l)
		}
	}
}

func newCampaignListCmd(a *app) *cobra.Command {
	out := output{allow: []string{"table", "wide", "csv", "json"}}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List campaigns with their progress",
		Aliases: []string{"ls"},
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := out.Resolve()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := campaigns.List(cmd.Context(), st)
			if err != nil {
				return err
			}
			now := st.Now()
			header := []string{"NAME", "STATUS", "DUE", "ITEMS", "DECIDED", "PENDING", "CARRIED", "NO-RESPONSE", "CONFLICTS"}
			cells := func(c *campaigns.Campaign) []string {
				p := c.Progress
				return []string{audit.Printable(c.Name), statusWord(c, now), c.Due, fmt.Sprint(p.Total), fmt.Sprint(p.Decided),
					fmt.Sprint(p.Pending), fmt.Sprint(p.Carried), fmt.Sprint(p.NoResponse), fmt.Sprint(p.Conflicts)}
			}
			if format == "csv" {
				t, err := newCSVTable(a.stdout, strings.Split(strings.ToLower(strings.Join(header, ",")), ",")...)
				if err != nil {
					return err
				}
				for i := range list {
					if err := t.Row(cells(&list[i])...); err != nil {
						return err
					}
				}
				return t.Flush()
			}
			if format == "json" {
				out := make([]campaignJSON, 0, len(list))
				for i := range list {
					out = append(out, campaignToJSON(&list[i], now))
				}
				return writeJSON(a.stdout, out)
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "No campaigns yet. Start one: nhi campaign create NAME --scope EXPR --due YYYY-MM-DD --reviewer R")
				return nil
			}
			// NAME is what every other command takes: never cut. At a
			// narrow terminal the counts a list needs least give way,
			// named under the table (--wide shows them).
			cols := make([]column, len(header))
			for i, h := range header {
				cols[i] = column{Title: h}
			}
			cols[6].Hide, cols[8].Hide, cols[7].Hide = 3, 2, 1
			width := outputWidth(a.stdout)
			if format == "wide" {
				width = 0
			}
			t := newTable(width, cols...)
			for i := range list {
				t.Row(cells(&list[i])...)
			}
			return t.Flush(a.stdout)
		},
	}
	out.addFlags(cmd, "print a JSON array of campaigns, without items", "table, wide, csv or json")
	cmd.Flags().BoolVar(&out.wide, "wide", false, "hide no column (-o wide)")
	return cmd
}

func statusWord(c *campaigns.Campaign, now time.Time) string {
	if c.Overdue(now) {
		return "open, OVERDUE"
	}
	return c.Status
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newCampaignCloseCmd(a *app) *cobra.Command {
	var b bulkFlags
	cmd := &cobra.Command{
		Use:   "close NAME",
		Short: "Close a campaign: undecided items become no-response",
		Long: `close makes a campaign's decisions final. Every item nobody decided (pending,
or carried and never confirmed) becomes no-response: flagged in the report,
never approved. Decisions can no longer change; decommission decisions are
then verified by later snapshots (nhi campaign verify NAME).

It first prints what becomes no-response and asks; --dry-run stops there,
--yes does not ask. Without a terminal to ask, it needs --yes.`,
		Example: `  nhi campaign close 2026-Q4 --dry-run
  nhi campaign close 2026-Q4
  nhi campaign close 2026-Q4 --yes     # in a script`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			if goOn, err := a.confirmClose(cmd, st, args[0], b); !goOn {
				return err
			}
			res, err := campaigns.Close(cmd.Context(), st, actor, args[0])
			if err != nil {
				return err
			}
			closed := fmt.Sprintf("Closed campaign %s (event %d, by %s): %d decided, %d no-response",
				args[0], res.Event.Seq, audit.Printable(actor), res.Decided, res.NoResponse)
			if res.CarriedUnconfirmed > 0 {
				closed += fmt.Sprintf(" (%d of them carried and never confirmed)", res.CarriedUnconfirmed)
			}
			a.sayf("%s\n", closed)
			if res.NoResponse > 0 && res.Rule.On != "" {
				a.sayf("No-response rule: %s.\n", res.Rule.Describe())
			}
			return nil
		},
	}
	b.add(cmd, "closing")
	return cmd
}

// confirmClose shows what closing the campaign makes no-response, and
// asks; a campaign already closed (or unknown) is left to Close to refuse.
func (a *app) confirmClose(cmd *cobra.Command, st *audit.Store, name string, b bulkFlags) (bool, error) {
	// Only the rows shown are read whole: a million-item campaign's close
	// holds ten items, not all of them (issue 21).
	p, err := campaigns.PreviewClose(cmd.Context(), st, name, previewRows)
	if err != nil {
		return false, err
	}
	c := p.Campaign
	if c.Status != campaigns.StatusOpen {
		return true, nil
	}
	now := st.Now()
	// The items that become no-response are listed under the sentence
	// that counts them, which ends with a colon where it ended with "No
	// response:", split over two lines at 80 columns.
	headline := fmt.Sprintf("Closing %s makes its decisions final: %d of %s decided, %d %s no-response.",
		audit.Printable(c.Name), p.Decided, counted(p.Total, "item", "items"), p.Undecided, plural(p.Undecided, "becomes", "become"))
	if p.Undecided > 0 && len(p.First) > 0 {
		headline = strings.TrimSuffix(headline, ".") + ":"
	}
	shown := len(p.First)
	rows := func(w io.Writer) error {
		if shown == 0 {
			return nil
		}
		t := newTable(outputWidth(a.stdout), itemColumns(false)...)
		t.more = "nhi campaign show --wide shows them"
		for i := range p.First {
			t.Row(itemCells(c, &p.First[i], now)...)
		}
		return t.Flush(w)
	}
	return a.confirm(b, preview{headline: headline, rows: rows, count: p.Undecided, shown: shown,
		question: fmt.Sprintf("Close %s?", audit.Printable(c.Name))}, true)
}

func newCampaignVerifyCmd(a *app) *cobra.Command {
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "verify NAME",
		Short: "Check that what a closed campaign approved for removal is gone",
		Long: `verify checks every decommission decision of a closed campaign against the
newest finished snapshot of the same organisation taken after the campaign's
population: removed, still-present, or not-checked (that snapshot could not
read where the identity lives). It records the result as an event (once per
snapshot) and lists what is overdue: approved for removal but still present
in a snapshot taken after the due date.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			rs, err := campaigns.VerifyRemediation(cmd.Context(), st, actor, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]remediationJSON, 0, len(rs))
				for i := range rs {
					out = append(out, remediationToJSON(&rs[i]))
				}
				return writeJSON(a.stdout, out)
			}
			for i := range rs {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				printRemediation(a.stdout, &rs[i])
			}
			// What waits for a later snapshot is counted only when a
			// source/account of the campaign has none: counted every time
			// (then by reading the campaign whole), it was a fifth of the
			// command's CPU on a campaign of 100,665 items every account of
			// which was checked.
			c, err := campaigns.Load(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			if allVerified(c, rs) {
				return nil
			}
			waiting, err := campaigns.Awaiting(cmd.Context(), st, c)
			if err != nil {
				return err
			}
			printUnverified(a.stdout, c, waiting, rs)
			return nil
		},
	}
	out.addTextOrJSONFlags(cmd, "print the result as JSON")
	return cmd
}

// allVerified reports whether each of c's snapshots has its result in rs:
// printUnverified would then name none.
func allVerified(c *campaigns.Campaign, rs []campaigns.Remediation) bool {
	for _, u := range c.Snapshots {
		if !verifiedFrom(rs, u.ID) {
			return false
		}
	}
	return true
}

// verifiedFrom reports whether rs holds the result of the campaign's
// snapshot base: a later snapshot of its source/account checked it.
func verifiedFrom(rs []campaigns.Remediation, base int64) bool {
	return slices.ContainsFunc(rs, func(r campaigns.Remediation) bool { return r.Base.ID == base })
}

// printUnverified names the sources/accounts of a campaign with
// decommissions that no later snapshot has checked (waiting counts them
// by snapshot: campaigns.Awaiting): they stay unverified.
func printUnverified(w io.Writer, c *campaigns.Campaign, waiting map[int64]int, rs []campaigns.Remediation) {
	for _, u := range c.Snapshots {
		if waiting[u.ID] == 0 || verifiedFrom(rs, u.ID) {
			continue
		}
		fmt.Fprintf(w, "\nNot verified: %s of %s/%s: %s; take one, then verify again.\n",
			counted(waiting[u.ID], "decommission decision", "decommission decisions"), audit.Printable(u.Source), audit.Printable(u.Account),
			campaigns.NotVerifiedReason(u.Source, u.Account, u.ID, waiting[u.ID]))
	}
}

func printRemediation(w io.Writer, r *campaigns.Remediation) {
	sn := r.Snapshot
	// Rotate items gone or not checked are in Removed and NotChecked too:
	// counted here apart, under their own decision (printProof).
	removed, present, notChecked := r.Decommissions()
	n := len(removed) + len(present) + len(notChecked)
	what := []string{counted(n, "decommission decision", "decommission decisions")}
	rotations := len(r.Rotated) + len(r.NotRotated) + len(r.RotateChecks)
	transfers := len(r.Transferred) + len(r.NotTransferred)
	if n == 0 && rotations+transfers > 0 {
		what = nil
	}
	if rotations > 0 {
		what = append(what, counted(rotations, "rotate decision", "rotate decisions"))
	}
	if transfers > 0 {
		what = append(what, counted(transfers, "transfer decision", "transfer decisions"))
	}
	fmt.Fprintf(w, "Campaign %s: %s of %s/%s checked against snapshot %d (%s, %s)\n",
		r.Campaign, audit.JoinAnd(what), audit.Printable(sn.Source), audit.Printable(sn.Account), sn.ID, sn.Status, sn.StartedAt.Format(time.RFC3339))
	if n > 0 || rotations+transfers == 0 {
		fmt.Fprintf(w, "  removed        %d\n", len(removed))
		fmt.Fprintf(w, "  still-present  %d\n", len(present))
		fmt.Fprintf(w, "  not-checked    %d\n", len(notChecked))
	}
	if len(r.ByRule) > 0 {
		// Nobody decided these: the campaign's rule did, and its removal
		// is proven the same way.
		fmt.Fprintf(w, "Decommissioned by the campaign's rule (on-no-response: decommission; no reviewer decided them): %d\n", len(r.ByRule))
		// Each item's state found in a map, not by a search of the
		// lists: a campaign nobody reviewed has every item here, and
		// searching for each took the print of 100,665 items a third
		// of campaign verify's CPU.
		states := make(map[string]string, len(r.Removed)+len(r.StillPresent))
		for _, id := range r.StillPresent {
			states[id] = campaigns.StillPresent
		}
		for _, id := range r.Removed {
			states[id] = campaigns.Removed
		}
		for _, id := range r.ByRule {
			state := states[id]
			if state == "" {
				state = campaigns.NotChecked
			}
			fmt.Fprintf(w, "  %-14s %s\n", state, audit.Printable(id))
		}
	}
	list := func(title string, ids []string) {
		if len(ids) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		for _, id := range ids {
			fmt.Fprintf(w, "  %s\n", audit.Printable(id))
			if as := r.As[id]; as != "" {
				fmt.Fprintf(w, "    still present as %s\n", audit.Printable(as))
			}
		}
	}
	list(fmt.Sprintf("Overdue (approved for removal, still present after %s):", r.Due), r.Overdue)
	if len(r.Overdue) == 0 {
		list("Still present (not yet overdue):", r.StillPresent)
	}
	if len(notChecked) > 0 {
		fmt.Fprintln(w, "Not checked (this snapshot did not read where they live; they may or may not be gone):")
		for _, id := range notChecked {
			fmt.Fprintf(w, "  %s\n", audit.Printable(id))
			if why := r.Reason(id, campaigns.NotChecked); why != "" {
				fmt.Fprintf(w, "    %s\n", audit.Printable(why))
			}
		}
	}
	n += printProof(w, r)
	switch {
	case r.Recorded:
		fmt.Fprintf(w, "Recorded as event %d.\n", r.Event.Seq)
	case n > 0:
		fmt.Fprintf(w, "Already recorded for snapshot %d or a newer one; nothing new written.\n", sn.ID)
	}
}

func newCampaignSampleCmd(a *app) *cobra.Command {
	var size int
	var seed string
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "sample NAME --size N --seed S",
		Short: "Draw a reproducible audit sample of a campaign's items",
		Long: `sample draws N items for an external auditor; the same seed over the same
campaign always gives the same sample. Anyone can reproduce it: for every item
compute key = hex(SHA-256(seed || 0x00 || identity ID)), i.e.

  printf '%s\0%s' "$SEED" "$ID" | sha256sum

sort the items by key (ties by ID) and take the first N.`,
		Example: `  nhi campaign sample 2026-Q4 --size 25 --seed "$(date +%F)-external-audit"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			if size < 1 {
				return usageError{cmd.CommandPath(), errors.New("--size must be at least 1")}
			}
			if seed == "" {
				return usageError{cmd.CommandPath(), errors.New("--seed is required: the sample is only reproducible from it")}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			c, sample, err := campaigns.SampleOf(cmd.Context(), st, args[0], size, seed)
			if err != nil {
				return err
			}
			now := st.Now()
			if asJSON {
				out := sampleJSON{Campaign: c.Name, Seed: seed, Size: size, Population: c.Count,
					PopulationDigest: c.PopulationDigest, Algorithm: sampleAlgorithm, Items: []sampleItemJSON{}}
				for _, s := range sample {
					out.Items = append(out.Items, sampleItemJSON{Rank: s.Rank, Key: s.Key, itemJSON: itemToJSON(c, &s.Item, now)})
				}
				return writeJSON(a.stdout, out)
			}
			head, tw, flush := tabsOver(a.stdout, 0, 0)
			fmt.Fprintf(head, "Sample of %d from campaign %s (%s, population sha256:%s), seed %q\n",
				len(sample), c.Name, counted(c.Count, "item", "items"), c.PopulationDigest, seed)
			fmt.Fprintf(head, "Algorithm: %s\n", sampleAlgorithm)
			fmt.Fprintln(tw, "RANK\tID\tKEY\tDECISION\tBY\tREASON")
			for _, s := range sample {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.Rank, audit.Printable(s.Item.ID), s.Key[:16], s.Item.State(),
					dashIfEmpty(audit.Printable(s.Item.DecidedBy)), dashIfEmpty(audit.Printable(s.Item.Reason)))
			}
			return flush()
		},
	}
	cmd.Flags().IntVar(&size, "size", 0, "how many items to draw (required)")
	cmd.Flags().StringVar(&seed, "seed", "", "the seed; record it with the sample (required)")
	out.addTextOrJSONFlags(cmd, "print the sample as JSON")
	return cmd
}

const sampleAlgorithm = "key = hex(SHA-256(seed || 0x00 || identity ID)); sort by key, ties by ID; take the first N"
