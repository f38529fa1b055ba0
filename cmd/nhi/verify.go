package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
)

func newVerifyCmd(a *app) *cobra.Command {
	var reportDir, allowedSigners, headArg, headFile string
	cmd := &cobra.Command{
		Use:   "verify [--head SEQ:HASH | --head-file F] [--report DIR]",
		Short: "Check the evidence file (or an exported report) has not been edited behind nhi's back",
		Long: `verify recomputes the event log's hash chain, replays it to rebuild the tables
the UI reads (owners, campaign decisions, ...) and compares them, and recomputes
every snapshot's digest and every campaign population's digest, checks each
snapshot against its record in the log (status, credential, API URL, times,
gaps, principals), rebuilds the identities table from the observations, and
checks the request cache. It exits 1 and names the first broken record when
anything differs. docs/verify.md lists every check.

A rewrite of the whole log (an event edited and every hash after it
recomputed) leaves the chain intact; a head recorded outside the file catches
it. --head SEQ:HASH (what ` + "`nhi log head`" + ` printed earlier, pasted into a ticket
or an e-mail) or --head-file F (a file holding it, or a bundle's
manifest.json) checks that the log still extends that head.

With --report DIR it checks a bundle written by nhi export instead: every file
against manifest.json (none missing, none added), the signature when there is
one (--allowed-signers FILE pins the key, as ssh-keygen -Y verify -f does),
every decision signature in signatures.jsonl (over the signed bytes it carries,
by the signer's key in the directory at that event, or in --allowed-signers;
and each signed decision of report.json must match one), and, against the
evidence file (--db), that the manifest's head event is in the log with that
hash, that the log is intact, and that the report rebuilt from the log as of
that event is the same, byte for byte. Without an evidence file (no --db, and
no ./nhi.db) the files and the signatures are checked, and the bundle against
itself: every file must be what nhi renders from its report.json (and the
manifest's formats), so an edited cell of a CSV table, with the hashes redone,
fails naming its row. That proves the files consistent, not true: whoever holds
an unsigned bundle can rewrite all of them alike. Any edited byte fails, naming
the file.`,
		Example: `  nhi verify
  nhi verify --head 42:3f9a...     # the line nhi log head printed
  nhi verify --head-file evidence/2026-Q4/manifest.json
  nhi verify --report evidence/2026-Q4 --db nhi.db
  nhi verify --report evidence/2026-Q4 --db nhi.db \
      --allowed-signers allowed_signers`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reportDir != "" {
				return a.verifyReport(cmd, reportDir, allowedSigners)
			}
			var allowed []byte
			if allowedSigners != "" {
				data, err := readAllowedSigners(allowedSigners)
				if err != nil {
					return err
				}
				allowed = data
			}
			var head *audit.Head
			switch {
			case headArg != "" && headFile != "":
				return usageError{cmd.CommandPath(), errors.New("pass --head or --head-file, not both")}
			case headArg != "":
				h, err := audit.ParseHead(headArg)
				if err != nil {
					return usageError{cmd.CommandPath(), fmt.Errorf("--head %q: %w", headArg, err)}
				}
				head = &h
			case headFile != "":
				data, err := readInputFile("--head-file", headFile, "text", "give the file nhi log head's line was saved in, or a bundle's manifest.json")
				if err != nil {
					return err
				}
				h, err := audit.ParseHead(string(data))
				if err != nil {
					return usageError{cmd.CommandPath(), fmt.Errorf("--head-file %s: %w", audit.Printable(headFile), err)}
				}
				head = &h
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			// Campaign tables are projections of campaign.* events, with
			// digests over their frozen populations: checked beside the
			// log and audit's tables.
			r, err := campaigns.VerifyStore(cmd.Context(), st, allowed)
			if err != nil {
				return err
			}
			if head != nil {
				p, err := st.CheckHead(cmd.Context(), *head)
				if err != nil {
					return err
				}
				if p != "" {
					r.Problems = append(r.Problems, p)
				}
			}
			if !r.OK() {
				for _, p := range r.Problems {
					hang(a.stdout, proseWidth(a.stdout), "FAIL ", p)
				}
				return fmt.Errorf("%s failed verification: %s", st.Path(), r.Problems[0])
			}
			// Sentences, wrapped at a terminal's width (whole in a pipe,
			// for grep), as every command's prose is (sayf); the OK line
			// ran to 200 columns.
			ok := fmt.Sprintf("OK %s: %s, chain head %s; %s digests and records; identities, owners and campaigns match the log",
				st.Path(), counted(int(r.Events), "event", "events"), r.Head, counted(r.Snapshots, "snapshot matches its", "snapshots match their"))
			if r.Signed > 0 {
				ok += "; " + counted(r.Signed, "signature verifies", "signatures verify")
			}
			a.sayf("%s", ok)
			if head != nil {
				a.sayf("OK the log still extends the head recorded earlier (%s)", head)
			} else {
				a.sayf("Not checked: a rewrite of the whole log; pass --head with a head recorded earlier (nhi log head)")
			}
			if len(r.OldForm) > 0 {
				a.sayf("Old form: %s finished before nhi recorded snapshots in the log; checked by the digest of their observations only", snapshotList(r.OldForm))
			}
			return a.unfinishedSnapshots(cmd.Context(), st)
		},
	}
	cmd.Flags().StringVar(&reportDir, "report", "", "check the evidence bundle nhi export wrote into DIR")
	cmd.Flags().StringVar(&headArg, "head", "", "check the log still extends this head (SEQ:HASH, as nhi log head prints it)")
	cmd.Flags().StringVar(&headFile, "head-file", "", "check the log still extends the head in this file (nhi log head's output, or a bundle's manifest.json)")
	cmd.Flags().StringVar(&allowedSigners, "allowed-signers", "", "an allowed_signers file (ssh-keygen format): with --report, the bundle's signing key must be listed in it; otherwise, keys listed for a decision's actor are accepted besides the directory's")
	return cmd
}

// verifyReport checks an exported bundle, against the evidence file when
// there is one.
func (a *app) verifyReport(cmd *cobra.Command, dir, allowedSigners string) error {
	ctx := cmd.Context()
	opts := report.VerifyOptions{Tool: "nhi " + toolVersion()}
	if allowedSigners != "" {
		data, err := readAllowedSigners(allowedSigners)
		if err != nil {
			return err
		}
		opts.AllowedSigners = data
	}
	var st *audit.Store
	explicit := cmd.Flags().Changed("db") || os.Getenv("NHI_DB") != ""
	if _, err := os.Stat(a.db); explicit || !errors.Is(err, fs.ErrNotExist) {
		s, err := a.open(ctx, audit.OpenOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	}
	res, err := report.VerifyBundle(ctx, dir, st, opts)
	if err != nil {
		return err
	}
	for _, c := range res.Checks {
		// One line a check, whole, as a list to scan and grep: a digest
		// wrapped apart from its file reads worse than a long line.
		word := "OK  "
		if !c.OK {
			word = "FAIL"
		}
		fmt.Fprintf(a.stdout, "%s %s: %s\n", word, audit.Printable(c.Subject), c.Text)
	}
	if problems := res.Problems(); len(problems) > 0 {
		return fmt.Errorf("bundle %s failed verification (%s); first: %s: %s", dir, counted(len(problems), "problem", "problems"), audit.Printable(problems[0].Subject), problems[0].Text)
	}
	m := res.Manifest
	var b strings.Builder
	fmt.Fprintf(&b, "OK bundle %s: campaign %s, %s manifest.json", dir, audit.Printable(m.Campaign.Name), counted(len(m.Files), "file matches", "files match"))
	switch {
	case res.SignedBy != nil && res.Pinned:
		fmt.Fprintf(&b, "; signed by %s (key %s, in the allowed signers)", audit.Printable(m.Signature.Signer), res.SignedBy.Fingerprint)
	case res.SignedBy != nil:
		fmt.Fprintf(&b, "; signed by %s (key %s, not pinned: compare the fingerprint, or pass --allowed-signers)", audit.Printable(m.Signature.Signer), res.SignedBy.Fingerprint)
	default:
		fmt.Fprint(&b, "; not signed")
	}
	switch {
	case res.LogChecked:
		fmt.Fprintf(&b, "; rebuilt from %s as of event %d, identical\n", st.Path(), m.EventLogHead.Seq)
	case res.SelfChecked:
		// Consistent is not true: a bundle can be rewritten whole.
		who := "whoever holds an unsigned bundle can rewrite every file alike"
		if res.SignedBy != nil {
			who = "the signature says who vouched for them, not that they follow from the log"
		}
		fmt.Fprintf(&b, "; every file agrees with report.json\nNOT CHECKED against an evidence file (none at %s): the files agree with each other, which proves them consistent, not true (%s); pass --db PATH to tie the bundle to the event log\n", a.db, who)
	default:
		fmt.Fprintf(&b, "\nNOT CHECKED against an evidence file (none at %s), nor the files against each other (the bundle has no report.json to render them from): pass --db PATH to tie the bundle to the event log\n", a.db)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		a.sayf("%s", l)
	}
	return nil
}

// unfinishedSnapshots says, after a verification that passed, which
// snapshots have not finished (running, or stopped: killed, out of room):
// what they wrote so far has no record to check it against, and is no
// population. Before, the OK line counted the finished ones alone and
// said nothing of a run a kill left half written.
func (a *app) unfinishedSnapshots(ctx context.Context, st *audit.Store) error {
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return err
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := &snaps[i]
		if s.Status != audit.SnapshotRunning {
			continue
		}
		a.sayf("Not finished: snapshot %d of %s/%s, %s: what it wrote so far is not checked (its record, which verify checks a snapshot against, is written when it finishes) and is no population (nhi snapshots show %d)",
			s.ID, audit.Printable(s.Source), audit.Printable(s.Account), s.RunState(), s.ID)
	}
	return nil
}

// snapshotList is "snapshot 3" or "snapshots 1, 2 and 5".
func snapshotList(ids []int64) string {
	if len(ids) == 1 {
		return fmt.Sprintf("snapshot %d", ids[0])
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "snapshots " + audit.JoinAnd(parts)
}
