package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
)

func newSnapshotsCmd(a *app) *cobra.Command {
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List the snapshots in the evidence file, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
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
				out := make([]snapshotJSON, 0, len(snaps))
				for _, s := range snaps {
					out = append(out, snapshotRow(s, current[s.ID]))
				}
				return writeJSON(a.stdout, out)
			}
			if len(snaps) == 0 {
				fmt.Fprintln(a.stdout, "No snapshots yet. Take one: nhi demo, or nhi snapshot github --org ORG")
				return nil
			}
			width := outputWidth(a.stdout)
			// An account whose every run failed has no population: it is
			// listed all the same, with no count (a gap is never zero).
			unread := audit.UnreadOf(snaps)
			if len(cur)+len(unread) > 1 {
				// Several sources or accounts: each has its own population,
				// so say first which snapshot is current for each.
				t := newTable(width, column{Title: "SOURCE/ACCOUNT", Min: 16}, column{Title: "CURRENT"}, column{Title: "TAKEN (UTC)"},
					column{Title: "STATUS"}, column{Title: "IDENTITIES"}, column{Title: "NOT READ", Min: 12})
				for _, s := range audit.Accounts(cur, unread) {
					account := audit.Printable(s.Source) + "/" + audit.Printable(s.Account)
					if s.Status != audit.SnapshotComplete && s.Status != audit.SnapshotPartial {
						t.Row(account, "—", s.StartedAt.Format("2006-01-02 15:04"), s.Status, "—", "—")
						continue
					}
					t.Row(account, fmt.Sprintf("#%d", s.ID),
						s.StartedAt.Format("2006-01-02 15:04"), s.Status, fmt.Sprint(s.Total()), notRead(s.Gaps))
				}
				if err := t.Flush(a.stdout); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout)
			}
			t := newTable(width, column{Title: "ID"}, column{Title: "ACCOUNT", Min: 16}, column{Title: "STARTED (UTC)"}, column{Title: "STATUS"},
				column{Title: "IDENTITIES"}, column{Title: "NOT READ"}, column{Title: "READ BY", Min: 16, Hide: 1})
			// At 80 columns the never-cut columns leave READ BY no room:
			// it gives way, said under the table, where the rows ran to 88.
			t.more = "nhi snapshots show ID names it"
			var unfinished, stopped, failedRuns []string
			var runners []*audit.Snapshot
			for i, s := range snaps {
				total, gaps := fmt.Sprint(s.Total()), fmt.Sprint(len(s.Gaps))
				switch s.Status {
				case audit.SnapshotRunning:
					// Counted when it finishes: 0 would claim what it did not see.
					total, gaps = "—", "—"
					switch {
					case s.Runner != nil:
						runners = append(runners, &snaps[i])
					case s.Stopped:
						stopped = append(stopped, fmt.Sprintf("%d (%s/%s)", s.ID, audit.Printable(s.Source), audit.Printable(s.Account)))
					default:
						unfinished = append(unfinished, fmt.Sprint(s.ID))
					}
				case audit.SnapshotFailed:
					// What it read before it failed is no population: beside
					// the finished ones' counts it would read as one (the
					// review UI's overview gives it none either).
					total = "—"
					failedRuns = append(failedRuns, fmt.Sprint(s.ID))
				}
				t.Row(fmt.Sprint(s.ID), audit.Printable(s.Source)+"/"+audit.Printable(s.Account), s.StartedAt.Format("2006-01-02 15:04"),
					s.Status, total, gaps, readBy(s.Credential))
			}
			if err := t.Flush(a.stdout); err != nil {
				return err
			}
			for _, s := range runners {
				a.sayf("Snapshot %d is %s: its identities and endpoints not read are counted when it finishes\n", s.ID, s.RunState())
			}
			if len(stopped) > 0 {
				// No process will finish it: say so, and what does.
				what := "Snapshot " + stopped[0] + " was stopped before it finished: no live nhi process holds it. Nothing of it is current or counted;"
				if len(stopped) > 1 {
					what = "Snapshots " + strings.Join(stopped, ", ") + " were stopped before they finished: no live nhi process holds them. Nothing of them is current or counted;"
				}
				a.sayf("%s run the command that took it again (nhi snapshot, import or demo): the next run of its source and account continues what was read, or closes it as failed and reads everything again\n", what)
			}
			if len(unfinished) > 0 {
				what := "Snapshot " + unfinished[0] + " is running, or was stopped before it finished: its"
				if len(unfinished) > 1 {
					what = "Snapshots " + strings.Join(unfinished, ", ") + " are running, or were stopped before they finished: their"
				}
				a.sayf("%s identities and endpoints not read are counted when it finishes; the next run of the same source and account continues it or closes it as failed\n", what)
			}
			if len(failedRuns) > 0 {
				a.sayf("A failed snapshot has no population (—); nhi snapshots show %s says what it read before it failed\n", failedRuns[0])
			}
			for _, s := range unread {
				a.sayf("%s/%s has no finished snapshot, so no population: the newest, snapshot %d, %s (nhi snapshots show %d)\n",
					audit.Printable(s.Source), audit.Printable(s.Account), s.ID, s.UnreadState(), s.ID)
			}
			// A run that failed after an account's current snapshot: its
			// population is older than the last attempt to read it.
			failed := audit.FailedSince(snaps, cur)
			for _, c := range cur {
				if f, ok := failed[c.ID]; ok {
					a.sayf("%s/%s: a newer run, snapshot %d, %s; the population is still snapshot %d's, taken %s (nhi snapshots show %d)\n",
						audit.Printable(c.Source), audit.Printable(c.Account), f.ID, f.UnreadState(), c.ID, c.StartedAt.Format("2006-01-02 15:04"), f.ID)
				}
			}
			for _, s := range snaps {
				for _, g := range s.Gaps {
					if g.Coverage() {
						a.sayf("Snapshot %d coverage: %s\n", s.ID, audit.Printable(g.Reason))
					}
				}
				for _, n := range s.Notes {
					a.sayf("Snapshot %d note: %s\n", s.ID, audit.Printable(n))
				}
			}
			return nil
		},
	}
	out.addTextOrJSONFlags(cmd, "print JSON")
	cmd.AddCommand(newSnapshotShowCmd(a))
	return cmd
}

// snapshotJSON is one snapshot as nhi snapshots --json prints it.
type snapshotJSON struct {
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
	Counts      map[audit.Kind]int `json:"counts"` // null while it runs: counted when it finishes
	Gaps        []audit.Gap        `json:"gaps"`
	Digest      string             `json:"digest"`
	Server      string             `json:"server_version,omitempty"`
	Notes       []string           `json:"notes,omitempty"`
	// Reach: units read and not read, requests, and what the connector
	// does not collect or cannot see.
	Reach *audit.Reach `json:"reach,omitempty"`
	// Current: the newest finished snapshot of its source and account,
	// the one its population comes from.
	Current bool `json:"current"`
	// Run says, of a snapshot still running, whether a live process
	// holds it ("running", with that process) or none does ("stopped":
	// killed, or out of room; nothing finishes it but the next run of
	// its source and account, which closes it as failed), so a script
	// does not wait on a status that will never change. Absent when the
	// snapshot finished, or the locks could not be read.
	Run *snapshotRunJSON `json:"run,omitempty"`
	// runState is a running snapshot's audit.Snapshot.RunState, for the
	// text; Run says which it is.
	runState string
}

// snapshotRunJSON is a running snapshot's run in nhi snapshots --json.
type snapshotRunJSON struct {
	State string `json:"state"` // "running" or "stopped"
	PID   int    `json:"pid,omitempty"`
	Host  string `json:"host,omitempty"`
}

func snapshotRow(s audit.Snapshot, current bool) snapshotJSON {
	r := snapshotJSON{ID: s.ID, Source: s.Source, Account: s.Account, APIURL: s.APIURL, Credential: s.Credential,
		ToolVersion: s.ToolVersion, StartedAt: s.StartedAt.Format(audit.TimeLayout), Status: s.Status,
		Error: s.Error, Counts: s.Counts, Gaps: s.Gaps, Digest: s.Digest, Server: s.ServerVersion, Notes: s.Notes, Reach: s.Reach, Current: current}
	if s.FinishedAt != nil {
		f := s.FinishedAt.Format(audit.TimeLayout)
		r.FinishedAt = &f
	}
	if r.Gaps == nil {
		r.Gaps = []audit.Gap{}
	}
	if s.Status == audit.SnapshotRunning {
		r.runState = s.RunState()
		switch {
		case s.Runner != nil:
			r.Run = &snapshotRunJSON{State: "running", PID: s.Runner.PID, Host: s.Runner.Host}
		case s.Stopped:
			r.Run = &snapshotRunJSON{State: "stopped"}
		}
		// Counted when it finishes: {} would say none of any kind, where
		// it may have written batches already. Its gaps are those written
		// so far.
		r.Counts = nil
	}
	return r
}

// readBy is the READ BY cell: the credential in a short phrase — what it
// is and whose, before the details in parentheses or after a comma
// ("GitHub App nhi-audit-demo", "token of audit-bot", "role/Auditor"). The
// whole of it is in nhi snapshots show N.
func readBy(credential string) string {
	c := audit.Printable(credential)
	if i := strings.IndexAny(c, "(,"); i > 0 {
		c = strings.TrimSpace(c[:i])
	}
	// An IAM ARN: the account is in the ACCOUNT column already.
	if strings.HasPrefix(c, "arn:aws:") {
		if i := strings.LastIndex(c, ":"); i >= 0 {
			c = c[i+1:]
		}
	}
	return dash(c)
}

func newSnapshotShowCmd(a *app) *cobra.Command {
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "show N",
		Short: "Show one snapshot in full: the credential that read it, its gaps, counts and digest",
		Long: `show prints snapshot N in full: the credential that read it, its gaps,
its counts and its digest.`,
		Example: `  nhi snapshots show 3
  nhi snapshots show 3 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || n <= 0 {
				return usageError{cmd.CommandPath(), fmt.Errorf("snapshot %q: give its number, as nhi snapshots lists it", args[0])}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			snaps, err := st.Snapshots(cmd.Context())
			if err != nil {
				return err
			}
			var found *audit.Snapshot
			for i := range snaps {
				if snaps[i].ID == n {
					found = &snaps[i]
				}
			}
			if found == nil {
				return fmt.Errorf("no snapshot %d in %s: nhi snapshots lists them", n, st.Path())
			}
			current := false
			for _, c := range audit.CurrentOf(snaps) {
				current = current || c.ID == n
			}
			r := snapshotRow(*found, current)
			if asJSON {
				return writeJSON(a.stdout, r)
			}
			return printSnapshotDetail(a.stdout, r)
		},
	}
	out.addTextOrJSONFlags(cmd, "print JSON")
	return cmd
}

func printSnapshotDetail(w io.Writer, r snapshotJSON) error {
	p := audit.Printable
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k, v)
		}
	}
	cur := ""
	if r.Current {
		cur = " (current for its account)"
	}
	fmt.Fprintf(w, "Snapshot %d of %s/%s: %s%s\n", r.ID, p(r.Source), p(r.Account), r.Status, cur)
	line("read by", p(r.Credential))
	line("api", p(r.APIURL))
	line("server", p(r.Server))
	line("started", r.StartedAt)
	if r.FinishedAt != nil {
		line("finished", *r.FinishedAt)
	}
	line("tool", p(r.ToolVersion))
	line("digest", r.Digest)
	line("error", p(r.Error))
	kinds := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	total := 0
	for _, k := range kinds {
		total += r.Counts[audit.Kind(k)]
	}
	if r.Status == audit.SnapshotRunning {
		// Its counts and gaps are written when it finishes: none yet is
		// not none.
		switch {
		case r.Run != nil && r.Run.State == "stopped":
			fmt.Fprintf(w, "Identities: never counted unless it finishes: it was %s; the next run of its source and account continues it or closes it as failed\n", r.runState)
		case r.Run != nil && r.Run.State == "running":
			fmt.Fprintf(w, "Identities: counted when it finishes (it is %s)\n", r.runState)
		default:
			fmt.Fprintln(w, "Identities: counted when it finishes (it is running, or was stopped: the next run of its source and account continues it or closes it as failed)")
		}
		fmt.Fprintln(w, "Not read: known when it finishes")
		return nil
	}
	if r.Status == audit.SnapshotFailed {
		fmt.Fprintf(w, "Identities: %s read before it failed (not a population: the account's is its current snapshot's)\n", counted(total, "identity", "identities"))
	} else {
		fmt.Fprintf(w, "Identities: %d\n", total)
	}
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-28s %d\n", audit.Kind(k).Label(), r.Counts[audit.Kind(k)])
	}
	if len(r.Gaps) == 0 {
		fmt.Fprintln(w, "Not read: nothing")
	} else {
		fmt.Fprintf(w, "Not read: %d\n", len(r.Gaps))
		for _, g := range r.Gaps {
			fmt.Fprintf(w, "  %s: %s\n", dash(p(g.Endpoint)), p(g.Reason))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", p(n))
	}
	return nil
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
