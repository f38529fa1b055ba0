package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// The reviewer statistics: signals of rubber-stamping.

var statDefinitions = []Principle{
	{"Assigned", "items the campaign assigned to the reviewer at creation."},
	{"Decisions", "items whose final decision the reviewer made (decommission, keep or rotate), whoever they were assigned to."},
	{"For others", "of those, items assigned to someone else (or to nobody)."},
	{"No response", "items assigned to the reviewer that nobody decided before close (still undecided, while the campaign is open)."},
	{"Events", "decision events the reviewer recorded in this campaign, including decisions later changed; a bulk decision is one event."},
	{"Median interval", "the median time between one of the reviewer's decision events and their next, in event order (\"—\" with fewer than two). Many decisions seconds apart suggest they were made without looking."},
	{"In bulk", "the share of the reviewer's decisions made by a bulk decision (--filter) or a bulk confirmation of carried decisions, rather than one at a time."},
	{"Kept with findings", "of the items with findings the reviewer decided, how many they kept (rejected decommissioning without requiring rotation), and that share. A high share approves risk wholesale; every such keep is listed under Exceptions with its justification."},
	{"Signed", "of the reviewer's decisions, how many were signed with their SSH key (namespace nhi-decision), and that share; the register gives each key's fingerprint."},
	{"Peak per minute", "the most decision events the reviewer recorded within any 60 seconds (a bulk decision is one event). A burst of decisions is the other face of a short median."},
	{"Marked", "a value beyond the policy's threshold for it (listed below the table) is marked: a signal to look at the reviewer's decisions, not a finding by itself."},
}

func normActor(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// reviewerAcc accumulates the reviewer statistics as the register's rows
// pass.
type reviewerAcc struct {
	rows   map[string]*ReviewerRow
	order  []string
	listed int
	events map[string]map[int64]int64 // actor -> decision event -> Unix nanoseconds
}

func newReviewerAcc(c *campaigns.Campaign) *reviewerAcc {
	a := &reviewerAcc{rows: map[string]*ReviewerRow{}, events: map[string]map[int64]int64{}}
	for _, r := range c.Reviewers {
		a.get(r, true)
	}
	a.listed = len(a.order)
	return a
}

func (a *reviewerAcc) get(name string, listed bool) *ReviewerRow {
	k := normActor(name)
	if r := a.rows[k]; r != nil {
		r.Listed = r.Listed || listed
		return r
	}
	r := &ReviewerRow{Reviewer: clean(name), Listed: listed}
	a.rows[k] = r
	a.order = append(a.order, k)
	return r
}

// add counts item it, whose register row is row.
func (a *reviewerAcc) add(it *campaigns.Item, row *Row) {
	if it.Reviewer != "" {
		rr := a.get(it.Reviewer, false)
		rr.Assigned++
		if it.Decision == campaigns.NoResponse || it.Decision == campaigns.Pending {
			rr.NoResponse++
		}
	}
	for _, h := range it.History {
		if h.Via == campaigns.ViaUndo {
			continue
		}
		k := normActor(h.Actor)
		a.get(h.Actor, false)
		if a.events[k] == nil {
			a.events[k] = map[int64]int64{}
		}
		a.events[k][h.Seq] = h.At.UnixNano()
	}
	switch it.Decision {
	case campaigns.Pending, campaigns.NoResponse:
		return
	}
	rr := a.get(it.DecidedBy, false)
	rr.Decisions++
	switch it.Decision {
	case campaigns.Decommission:
		rr.Decommission++
	case campaigns.Keep:
		rr.Keep++
	case campaigns.Rotate:
		rr.Rotate++
	}
	if it.Reviewer == "" || normActor(it.Reviewer) != normActor(it.DecidedBy) {
		rr.ForOthers++
	}
	if row.Via == campaigns.ViaBulk || row.Via == campaigns.ViaConfirm {
		rr.Bulk++
	}
	if len(it.Findings) > 0 {
		rr.DecidedFindings++
		if it.Decision == campaigns.Keep {
			rr.KeptFindings++
		}
	}
}

// stats are the statistics of every row added.
func (a *reviewerAcc) stats() ReviewerStats {
	// Listed reviewers in the campaign's order, then everyone else by name.
	order := a.order
	rest := order[a.listed:]
	slices.SortFunc(rest, func(a, b string) int { return strings.Compare(a, b) })
	out := ReviewerStats{Definitions: statDefinitions, Rows: []ReviewerRow{}}
	for _, k := range order {
		r := a.rows[k]
		events := a.events[k]
		seqs := make([]int64, 0, len(events))
		for s := range events {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		r.Events = len(seqs)
		r.MedianSeconds = -1
		if len(seqs) > 1 {
			gaps := make([]int64, 0, len(seqs)-1)
			for i := 1; i < len(seqs); i++ {
				d := time.Duration(events[seqs[i]] - events[seqs[i-1]])
				gaps = append(gaps, max(int64(d/time.Second), 0))
			}
			slices.Sort(gaps)
			n := len(gaps)
			if n%2 == 1 {
				r.MedianSeconds = gaps[n/2]
			} else {
				r.MedianSeconds = (gaps[n/2-1] + gaps[n/2]) / 2
			}
		}
		r.PeakPerMinute = peakPerMinute(events)
		r.MedianInterval = duration(r.MedianSeconds)
		r.BulkShare = percent(r.Bulk, r.Decisions)
		r.KeptFindingShare = percent(r.KeptFindings, r.DecidedFindings)
		out.Rows = append(out.Rows, *r)
	}
	return out
}

// duration formats whole seconds in one fixed way: 42s, 3m05s, 2h07m,
// 3d04h; "—" for a negative value (not applicable).
func duration(sec int64) string {
	switch {
	case sec < 0:
		return "—"
	case sec < 60:
		return fmt.Sprintf("%ds", sec)
	case sec < 3600:
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	case sec < 86400:
		return fmt.Sprintf("%dh%02dm", sec/3600, sec%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", sec/86400, sec%86400/3600)
}

// percent formats n/d with one decimal, "—" when d is 0. Integer
// arithmetic, rounded half up, so no float formatting is involved.
func percent(n, d int) string {
	if d == 0 {
		return "—"
	}
	tenths := (n*1000 + d/2) / d
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

// peakPerMinute is the most events within any 60 seconds.
func peakPerMinute(events map[int64]int64) int {
	at := make([]int64, 0, len(events))
	for _, t := range events {
		at = append(at, t)
	}
	slices.Sort(at)
	peak := 0
	for i, j := 0, 0; i < len(at); i++ {
		for j < len(at) && time.Duration(at[j]-at[i]) < time.Minute {
			j++
		}
		peak = max(peak, j-i)
	}
	return peak
}

// thresholds lists the policy's review limits as the report states them.
func thresholds(th audit.ReviewPolicy) []Threshold {
	return []Threshold{
		{FlagShortReason, "min_reason_chars", th.MinReasonChars, fmt.Sprintf("an exception's justification shorter than %d characters is flagged %s", th.MinReasonChars, FlagShortReason)},
		{FlagReusedReason, "max_reason_kinds", th.MaxReasonKinds, fmt.Sprintf("a justification on exceptions of more than %s is flagged %s", audit.Counted(th.MaxReasonKinds, "kind", "kinds"), FlagReusedReason)},
		{MarkMedianInterval, "min_median_seconds", th.MinMedianSeconds, fmt.Sprintf("a median interval shorter than %s is marked", duration(int64(th.MinMedianSeconds)))},
		{MarkBulk, "max_bulk_percent", th.MaxBulkPercent, fmt.Sprintf("more than %d%% of decisions in bulk is marked", th.MaxBulkPercent)},
		{MarkKeptWithFindings, "max_kept_findings_percent", th.MaxKeptFindingsPercent, fmt.Sprintf("keeping more than %d%% of the items with findings decided is marked", th.MaxKeptFindingsPercent)},
		{MarkPerMinute, "max_decisions_per_minute", th.MaxDecisionsPerMinute, fmt.Sprintf("more than %d decision events within a minute is marked", th.MaxDecisionsPerMinute)},
	}
}

// judgeReviewers marks each reviewer's signals beyond the thresholds. A
// signal that does not apply (fewer than two events, no decision) is
// never marked.
func judgeReviewers(s *ReviewerStats, th audit.ReviewPolicy) {
	s.Thresholds = thresholds(th)
	for i := range s.Rows {
		r := &s.Rows[i]
		r.Marks = []string{}
		mark := func(ok bool, m string) {
			if ok {
				r.Marks = append(r.Marks, m)
			}
		}
		mark(r.MedianSeconds >= 0 && r.MedianSeconds < int64(th.MinMedianSeconds), MarkMedianInterval)
		mark(r.Decisions > 0 && r.Bulk*100 > th.MaxBulkPercent*r.Decisions, MarkBulk)
		mark(r.DecidedFindings > 0 && r.KeptFindings*100 > th.MaxKeptFindingsPercent*r.DecidedFindings, MarkKeptWithFindings)
		mark(r.PeakPerMinute > th.MaxDecisionsPerMinute, MarkPerMinute)
	}
}

func normReason(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
