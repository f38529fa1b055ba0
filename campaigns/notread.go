package campaigns

import (
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Accounts a campaign could not take as they are now: those whose newest
// run did not finish when it was created. A campaign holds an older
// snapshot's read of such an account, or nothing of one never read, so its
// reviewers review less than the estate; create says so, and its events
// record it (not_read), so the report says it too (docs/campaigns.md,
// "Accounts not read"; docs/offboarding.md, "The population").

// NotRead is an account whose newest run did not finish.
type NotRead struct {
	Attempt audit.Snapshot // the newest run: failed, stopped or running
	Used    int64          // the snapshot the campaign holds of it; 0 for none
}

// AccountNotRead is a NotRead as a campaign.create or offboard.create
// event records it: frozen then, since the run may be taken over and
// finished later.
type AccountNotRead struct {
	Source  string `json:"source"`
	Account string `json:"account"`
	Attempt int64  `json:"attempt"` // the newest run's snapshot
	Started string `json:"started"` // its start, RFC 3339
	Status  string `json:"status"`  // failed, stopped (no live process holds it) or running
	Reason  string `json:"reason,omitempty"`
	// Snapshot is the snapshot the campaign holds of the account, an
	// older read; 0 (absent) when it holds nothing of it.
	Snapshot int64 `json:"snapshot,omitempty"`
}

// Record is n as an event records it.
func (n NotRead) Record() AccountNotRead {
	a := n.Attempt
	r := AccountNotRead{Source: a.Source, Account: a.Account, Attempt: a.ID, Started: a.StartedAt.UTC().Format(time.RFC3339),
		Status: a.Status, Snapshot: n.Used}
	switch {
	case a.Stopped:
		r.Status = "stopped"
	case a.Status == audit.SnapshotFailed:
		r.Reason = a.ErrorSummary()
	}
	return r
}

// What says what became of the run, for a sentence: "failed: REASON",
// "stopped before it finished", "has not finished".
func (r AccountNotRead) What() string {
	switch r.Status {
	case audit.SnapshotFailed:
		if r.Reason != "" {
			return "failed: " + audit.Printable(r.Reason)
		}
		return "failed"
	case "stopped":
		return "stopped before it finished"
	}
	return "has not finished"
}

// records is ns as an event records them; nil for none, so an event
// without any is the event it always was.
func records(ns []NotRead) []AccountNotRead {
	var out []AccountNotRead
	for _, n := range ns {
		out = append(out, n.Record())
	}
	return out
}

// notRead lists the accounts of snaps whose newest run did not finish
// (audit.FailedSince, audit.UnreadOf), current being audit.CurrentOf(snaps).
func notRead(snaps, current []audit.Snapshot) []NotRead {
	var out []NotRead
	failed := audit.FailedSince(snaps, current)
	for _, c := range current {
		if f, ok := failed[c.ID]; ok {
			out = append(out, NotRead{Attempt: f, Used: c.ID})
		}
	}
	for _, u := range audit.UnreadOf(snaps) {
		out = append(out, NotRead{Attempt: u})
	}
	slices.SortStableFunc(out, func(a, b NotRead) int {
		return strings.Compare(a.Attempt.Source+"\x00"+a.Attempt.Account, b.Attempt.Source+"\x00"+b.Attempt.Account)
	})
	return out
}

// campaignNotRead is notRead for a campaign over picked (all: every
// snapshot of the file): the accounts the spec reviews whose newest run
// did not finish. Without --snapshot, every account its --source and
// --account allow, a never-read one included; with --snapshot, those
// named whose snapshot is their account's current one (a snapshot named
// older than that was chosen knowing a newer one exists).
func campaignNotRead(all []audit.Snapshot, picked []*audit.Snapshot, spec Spec) []NotRead {
	named := spec.SnapshotID != 0 || len(spec.SnapshotIDs) > 0
	var out []NotRead
	for _, n := range notRead(all, audit.CurrentOf(all)) {
		a := n.Attempt
		switch {
		case named:
			if !slices.ContainsFunc(picked, func(p *audit.Snapshot) bool { return n.Used != 0 && p.ID == n.Used }) {
				continue
			}
		case !wanted(spec.Sources, a.Source) || !wanted(spec.Accounts, a.Account):
			continue
		}
		out = append(out, n)
	}
	return out
}

// wanted reports whether v is in list (case-insensitively), or list is
// empty: --source and --account.
func wanted(list []string, v string) bool {
	return len(list) == 0 || slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), v) })
}
