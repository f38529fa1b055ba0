package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// The Markdown report: the same sections as the HTML one, in GitHub
// flavoured Markdown tables.

// md escapes text for Markdown: backslash, table pipes, backticks and the
// characters that open emphasis, links and images are backslash-escaped;
// < > & become entities, so no HTML passes through a renderer. Empty text
// is "—".
func md(s string) string {
	if s == "" {
		return "—"
	}
	if !strings.ContainsAny(s, "\\|`*[]<>&_~") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|', '`', '*', '[', ']', '~':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '_':
			// Intraword underscores never open emphasis (github_deploy_key);
			// escape only at a word's edge.
			if i == 0 || i == len(s)-1 || !isWord(s[i-1]) || !isWord(s[i+1]) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

type mdWriter struct{ *bufio.Writer }

func (w *mdWriter) p(format string, args ...any) { fmt.Fprintf(w.Writer, format, args...) }

func (w *mdWriter) table(header []string, rows [][]string) {
	w.header(header...)
	for _, r := range rows {
		w.row(r...)
	}
	w.WriteByte('\n')
}

func (w *mdWriter) header(cells ...string) {
	w.WriteString("| " + strings.Join(cells, " | ") + " |\n|")
	for range cells {
		w.WriteString("---|")
	}
	w.WriteByte('\n')
}

func (w *mdWriter) row(cells ...string) {
	w.WriteString("| ")
	for i, c := range cells {
		if i > 0 {
			w.WriteString(" | ")
		}
		w.WriteString(c)
	}
	w.WriteString(" |\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

func seqText(n int64) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprint(n)
}

// WriteMarkdown writes the report as Markdown.
func (r *Report) WriteMarkdown(out io.Writer) error {
	w := &mdWriter{bufio.NewWriterSize(out, 1<<16)}
	a := &r.Attestation
	w.p("# Evidence report: access review %s\n\n", md(a.Campaign))
	if r.Draft {
		w.p("> **Interim report.** Campaign %s is still open: decisions may change and undecided items are shown as pending.\n\n", md(a.Campaign))
	}
	w.p("Generated %s by %s; signer %s. Reflects nhi's event log up to event %d (`%s`).\n\n",
		r.GeneratedAt, md(r.Tool), md(orEmpty(a.Signer)), r.Integrity.Head.Seq, r.Integrity.Head.Hash)
	w.p("Contents: 1. Attestation · 2. Population · 3. Criteria · 4. Decision register · 5. Exceptions · 6. Remediation · 7. Reviewer statistics · 8. Integrity\n\n")
	w.offboarding(r.Offboarding)

	// 1. Attestation
	w.p("## 1. Attestation\n\n")
	closed := "—"
	if a.ClosedAt != "" {
		closed = fmt.Sprintf("%s by %s (event %d)", a.ClosedAt, md(a.ClosedBy), a.CloseEvent)
	}
	if a.Summary.ClosedBeforeDue {
		closed += " " + closedEarlyText(a)
	}
	scope := md(a.Scope)
	if a.ScopeInput != "" {
		scope += " (as typed: " + md(a.ScopeInput) + ")"
	}
	carried := ""
	if a.CarriedFrom != "" {
		carried = md(a.CarriedFrom)
	}
	w.table([]string{"Field", "Value"}, [][]string{
		{"Campaign", md(a.Campaign) + " (" + a.Status + ")"},
		{"Period", fmt.Sprintf("%s → %s (%s)", a.PeriodStart, a.PeriodEnd, a.PeriodEndIs)},
		{"Due", a.Due},
		{"Scope", scope},
		{"Created", fmt.Sprintf("%s by %s (event %d)", a.CreatedAt, md(a.CreatedBy), a.CreateEvent)},
		{"Closed", closed},
		{"Reviewers", md(strings.Join(a.Reviewers, ", "))},
		{"Decisions carried from", md(carried)},
		{"Signer", md(a.Signer)},
	})
	w.p("%s\n\n", md(a.Statement))
	if a.SelfReview != "" {
		w.p("> **%s**\n\n", md(a.SelfReview))
	}
	s := &a.Summary
	head := []string{"Items", "Decommission", "Keep", "Rotate", "No response", "Pending", "With findings", "Exceptions", "Not assignee", "Conflicts", "Late", "Overdue", "Not yet checked"}
	counts := []string{itoa(s.Items), itoa(s.Decommission), itoa(s.Keep), itoa(s.Rotate), itoa(s.NoResponse), itoa(s.Pending),
		itoa(s.WithFindings), itoa(s.Exceptions), itoa(s.NotAssignee), itoa(s.Conflicts), itoa(s.Late), itoa(s.Overdue), itoa(s.NotYetChecked)}
	if s.Transfer > 0 { // an offboarding's transfers, after rotate
		head = slices.Insert(head, 4, "Transfer")
		counts = slices.Insert(counts, 4, itoa(s.Transfer))
	}
	if s.SelfReviews > 0 {
		head, counts = append(head, "Self-reviews"), append(counts, "**"+itoa(s.SelfReviews)+"**")
	}
	w.table(head, [][]string{counts})
	w.p("### Controls served\n\n")
	var ctl [][]string
	for _, c := range a.Controls {
		ctl = append(ctl, []string{md(c.Framework), c.ID, md(c.Title), md(c.How)})
	}
	w.table([]string{"Framework", "Control", "Title", "How this report serves it"}, ctl)

	// 2. Population
	p := &r.Population
	w.p("## 2. Population\n\n")
	if len(p.Sources) > 1 {
		w.p("The population comes from %d snapshots, one per source and account; the scope was evaluated over each as of its own start.\n\n", len(p.Sources))
		var rows [][]string
		for _, src := range p.Sources {
			v := &src.Snapshot
			rows = append(rows, []string{md(v.Source) + " / " + md(v.Account), fmt.Sprintf("%d (%s)", v.ID, v.Status), v.Started + " → " + orEmpty(v.Finished),
				md(v.APIURL), md(v.Credential), md(v.ToolVersion), "sha256:" + v.Digest, fmt.Sprintf("%d of %d", src.InScope, v.Total), itoa(len(v.Gaps))})
		}
		w.table([]string{"Source", "Snapshot", "Taken", "API", "Read with", "Tool", "Digest", "In scope", "Gaps"}, rows)
		w.table([]string{"Field", "Value"}, [][]string{
			{"In scope", fmt.Sprintf("%d of the snapshots' %d identities", p.InScope, p.SnapshotTotal)},
			{"Population digest", "sha256:" + p.PopulationDigest},
		})
	} else {
		w.table([]string{"Field", "Value"}, [][]string{
			{"Source", md(p.Source) + " / " + md(p.Account)},
			{"API", md(p.APIURL)},
			{"Read with", md(p.Credential)},
			{"Snapshot", fmt.Sprintf("%d (%s), %s → %s, tool %s", p.Snapshot, p.SnapshotStatus, p.SnapshotStarted, orEmpty(p.SnapshotFinished), md(p.ToolVersion))},
			{"Snapshot digest", "sha256:" + p.SnapshotDigest},
			{"In scope", fmt.Sprintf("%d of the snapshot's %d identities", p.InScope, p.SnapshotTotal)},
			{"Population digest", "sha256:" + p.PopulationDigest},
		})
	}
	w.p("### Counts per kind\n\n")
	var kinds [][]string
	for _, k := range p.Kinds {
		kinds = append(kinds, []string{md(k.Label), md(k.Kind), itoa(k.Snapshot), itoa(k.Campaign)})
	}
	kinds = append(kinds, []string{"**Total**", "", itoa(p.SnapshotTotal), itoa(p.InScope)})
	w.table([]string{"Kind", "Identifier", "In snapshot", "In campaign"}, kinds)
	w.p("### Coverage gaps\n\n")
	switch {
	case len(p.Gaps) == 0 && len(p.Sources) > 1:
		w.p("None: every snapshot read every endpoint.\n\n")
	case len(p.Gaps) == 0:
		w.p("None: the snapshot read every endpoint.\n\n")
	case len(p.Sources) > 1:
		w.p("The snapshots could not read these endpoints. Identities they hold were **%s**.\n\n", notReadText)
		var gaps [][]string
		for _, g := range p.Gaps {
			gaps = append(gaps, []string{itoa(int(g.Snapshot)), md(g.Endpoint), md(g.Kind), md(g.Scope), statusText(g.Status), md(g.Reason), g.Effect})
		}
		w.table([]string{"Snapshot", "Endpoint", "Kind", "Scope", "Status", "Reason", "Effect"}, gaps)
	default:
		w.p("The snapshot could not read these endpoints. Identities they hold were **%s**.\n\n", notReadText)
		var gaps [][]string
		for _, g := range p.Gaps {
			gaps = append(gaps, []string{md(g.Endpoint), md(g.Kind), md(g.Scope), statusText(g.Status), md(g.Reason), g.Effect})
		}
		w.table([]string{"Endpoint", "Kind", "Scope", "Status", "Reason", "Effect"}, gaps)
	}
	if len(p.AccountsNotRead) > 0 {
		w.p("### Accounts not read\n\n")
		w.p("When the campaign was created, the newest run of these accounts had not finished, so the population is smaller than the estate:\n\n")
		var rows [][]string
		for _, n := range p.AccountsNotRead {
			rows = append(rows, []string{md(n.Source) + " / " + md(n.Account), fmt.Sprintf("%d, started %s", n.Attempt, n.Started), md(n.Status), md(orDash(n.Reason)), n.Effect})
		}
		w.table([]string{"Source", "Newest run", "Status", "Reason", "Effect"}, rows)
	}
	if p.Unevaluated > 0 {
		w.p("### Identities the scope could not judge\n\n")
		w.p("**%s** of the snapshots reviewed could not be judged by the scope when the campaign was created: what it asks of them was not read (an AWS role's policies or trust policy, a last use). They are not in the population, whether or not they are what the scope asks for.\n\n", audit.Counted(p.Unevaluated, "identity", "identities"))
	}
	w.p("### Completeness\n\n")
	w.p("What each snapshot read of its source, as its connector counted it, and what the connector does not collect or cannot see: the review covers what was read, within these limits.\n\n")
	var comp [][]string
	for _, src := range p.Sources {
		c := &src.Completeness
		read, notRead, requests := "not recorded", "not recorded", "not recorded"
		if c.Recorded {
			read, notRead, requests = fmt.Sprintf("%s: %d", c.Unit, c.Read), listCell(c.NotRead), itoa(c.Requests)
		}
		places := "—"
		if c.PlacesRead != nil {
			places = itoa(*c.PlacesRead)
		}
		comp = append(comp, []string{md(src.Snapshot.Source) + " / " + md(src.Snapshot.Account), md(read), md(notRead), requests, places,
			md(listCell(c.NotCollected)), md(listCell(c.CannotSee))})
	}
	w.table([]string{"Source", "Read", "Not read", "Requests", "Endpoints read in full", "Not collected", "Cannot see"}, comp)
	w.p("### Verifying snapshots\n\n")
	if len(p.VerifyingSnapshots) == 0 {
		w.p("None: no later snapshot has checked a decommission yet.\n\n")
	} else {
		w.p("The remediation states (section 6) rest on these later snapshots; each is evidence as the population's snapshot is.\n\n")
		var rows [][]string
		for _, v := range p.VerifyingSnapshots {
			var kinds []string
			for _, k := range v.Kinds {
				kinds = append(kinds, fmt.Sprintf("%d %s", k.Snapshot, k.Label))
			}
			gaps := "none"
			if len(v.Gaps) > 0 {
				var gs []string
				for _, g := range v.Gaps {
					gs = append(gs, fmt.Sprintf("%s (%s, HTTP %s): %s — %s", g.Endpoint, g.Scope, statusText(g.Status), g.Reason, g.Effect))
				}
				gaps = strings.Join(gs, "; ")
			}
			rows = append(rows, []string{itoa(int(v.ID)), v.Status, v.Started + " → " + orEmpty(v.Finished), md(v.Source) + " / " + md(v.Account),
				md(v.APIURL), md(v.Credential), "sha256:" + v.Digest, md(fmt.Sprintf("%d: %s", v.Total, strings.Join(kinds, ", "))), md(gaps)})
		}
		w.table([]string{"Snapshot", "Status", "Taken", "Source", "API", "Read with", "Digest", "Identities", "Coverage gaps"}, rows)
	}
	w.p("### Reconciliation with the previous campaign\n\n")
	rec := &p.Reconciliation
	if rec.First {
		if len(p.Sources) > 1 {
			w.p("First campaign over these sources and accounts: nothing to reconcile with.\n\n")
		} else {
			w.p("First campaign on %s / %s: nothing to reconcile with.\n\n", md(p.Source), md(p.Account))
		}
	} else {
		w.p("%s\n\n", md(reconText(rec)))
		var rows [][]string
		for _, k := range rec.Kinds {
			rows = append(rows, []string{md(k.Label), itoa(k.Previous), "+" + itoa(k.Added), "−" + itoa(k.Removed), itoa(k.Count)})
		}
		rows = append(rows, []string{"**Total**", itoa(rec.PreviousCount), "+" + itoa(rec.Added), "−" + itoa(rec.Removed), itoa(rec.Count)})
		w.table([]string{"Kind", md(rec.Previous), "Added", "Removed", md(a.Campaign)}, rows)
	}

	// 3. Criteria
	c := &r.Criteria
	w.p("## 3. Criteria\n\n")
	w.p("Findings were evaluated as of %s under policy `sha256:%s`, %s. First-party Apps: %s.\n\n",
		c.AsOf, c.PolicyDigest, md(c.PolicySource), md(strings.Join(c.FirstPartyApps, ", ")))
	var rules [][]string
	for _, x := range c.Rules {
		en := "on"
		if !x.Enabled {
			en = "**off**"
		}
		rules = append(rules, []string{x.Rule, en, x.Severity, md(x.OWASP), md(x.FiresWhen)})
	}
	w.p("The rules that can fire on identities of the sources the campaign covers (%s)", md(strings.Join(c.Sources, ", ")))
	if len(c.OtherRules) > 0 {
		w.p("; the policy's other rules (%s) apply to other sources only and are not listed", md(strings.Join(c.OtherRules, ", ")))
	}
	w.p(":\n\n")
	w.table([]string{"Rule", "Enabled", "Severity", "OWASP NHI", "Fires when"}, rules)
	var review [][]string
	for _, x := range c.Review {
		review = append(review, []string{md(x.Name), md(x.Rule)})
	}
	w.table([]string{"Review rule", "What it says"}, review)

	// 4. Register
	w.p("## 4. Decision register\n\n")
	w.p("One row per identity of the frozen population, in identity order; `decisions.csv` has the identity IDs and decision events. Flags: %s.\n\n", md(flagsOf(r)))
	if n := over(r.count(tableRegister)); n > 0 {
		w.p("**This report lists the first %d of the %d rows**, in identity order; the other %d are in `decisions.csv` (every row, with the population's facts in `population.csv`) and in `report.json`, whose SHA-256 sums section 8 gives. The counts above and the statistics below are over every row.\n\n", pageRows, r.count(tableRegister), n)
	}
	w.header("#", "Kind", "Name", "Scope", "Owner", "Findings", "Decision", "Reviewer", "Decided by", "Time", "Justification", "Signed", "Flags")
	for i := range page(r.Register) {
		x := &r.Register[i]
		w.row(itoa(x.N), md(x.KindLabel), md(x.Name), md(x.Scope), md(ownerText(x)), md(findingList(x.Findings, false)),
			decisionMD(x.Decision), md(x.Reviewer), md(x.DecidedBy), md(timeText(x)), md(x.Reason), md(signedText(x)), md(strings.Join(x.Flags, " ")))
	}
	w.WriteByte('\n')
	w.p("### Notes\n\n")
	if len(r.Notes) == 0 {
		w.p("No reviewer wrote a note on these identities.\n\n")
	} else {
		w.p("Reviewers' notes on these identities (`note.add` events), in the order they were written; `notes.csv` has them with the identity IDs.\n\n")
		var rows [][]string
		for _, n := range r.Notes {
			rows = append(rows, []string{itoa(n.N), md(n.Name), strconv.FormatInt(n.Event, 10), md(n.At), md(n.Actor), md(n.Text)})
		}
		w.table([]string{"#", "Name", "Event", "Time", "By", "Note"}, rows)
	}

	w.p("### Decision history\n\n")
	w.p("Every decision event of every item is in `history.csv` and in `report.json` (`decision_history`): decisions undone, overwritten (`conflict` when by someone else), carried and confirmed, no-response at close, and refused attempts.\n\n")
	if len(r.BulkDecisions) > 0 {
		var rows [][]string
		for _, b := range r.BulkDecisions {
			f := b.Filter
			if f == "" {
				f = "— (every carried item)"
			}
			rows = append(rows, []string{strconv.FormatInt(b.Event, 10), md(b.At), md(b.Actor), md(b.Decision), md(f), md(b.Reason), itoa(b.Items)})
		}
		w.table([]string{"Event", "Time", "By", "Decision", "Filter", "Justification", "Items"}, rows)
	}
	var trail [][]string
	for t := range r.trails() {
		for k := range t {
			e := &t[k]
			out := e.Outcome
			if e.By != 0 {
				out += " by event " + strconv.FormatInt(e.By, 10)
			}
			if e.Other {
				out += " (conflict)"
			}
			trail = append(trail, []string{itoa(e.N), strconv.FormatInt(e.Event, 10), md(e.At), md(e.Actor), md(e.Action), decisionMD(e.Decision), md(e.Reason), md(out), md(e.detailWithFilter())})
		}
	}
	left := r.trailsOut
	if len(trail) > 0 {
		w.p("The trail of each item with more than one event:\n\n")
		w.table([]string{"#", "Event", "Time", "By", "Action", "Decision", "Justification", "Outcome", "Detail"}, trail)
	}
	if left > 0 {
		w.p("%d more items have more than one event in their trail: this report shows the first %d; `history.csv` and `report.json` have every trail.\n\n", left, pageRows)
	}

	// 5. Exceptions
	w.p("## 5. Exceptions\n\n")
	if len(r.Exceptions) == 0 {
		w.p("None: no identity with findings was kept or left to rotation.\n\n")
	} else {
		w.p("%s\n\n", md(exceptionsText(r)))
		if n := over(r.count(tableExceptions)); n > 0 {
			w.p("**This report lists the first %d of the %d exceptions**; the other %d are in `exceptions.csv` and `report.json`.\n\n", pageRows, r.count(tableExceptions), n)
		}
		w.header("#", "Kind", "Name", "Scope", "Findings", "Decision", "Reviewer", "Decided by", "Time", "Justification", "Expires", "Approved by", "Flags")
		for i := range page(r.Exceptions) {
			x := &r.Exceptions[i]
			w.row(itoa(x.N), md(x.KindLabel), md(x.Name), md(x.Scope), md(findingList(x.Findings, true)), decisionMD(x.Decision),
				md(x.Reviewer), md(x.DecidedBy), md(x.DecidedAt), md(x.Reason), md(x.ExceptionExpires), md(approvalText(x)), md(strings.Join(x.Flags, " ")))
		}
		w.WriteByte('\n')
	}

	// 6. Remediation
	m := &r.Remediation
	w.p("## 6. Remediation and its verification\n\n")
	w.p("%s\n\n", remediationText(m, a.Due))
	if len(m.Rows) > 0 {
		if n := over(r.count(tableDecommissions)); n > 0 {
			w.p("**This report lists the first %d of the %d decommissions**; the other %d are in `remediation.csv` and `report.json`.\n\n", pageRows, r.count(tableDecommissions), n)
		}
		w.header("#", "Kind", "Name", "Scope", "Decided by", "Time", "State", "Checked by snapshot")
		for i := range page(m.Rows) {
			x := &m.Rows[i]
			state := x.Verification
			if x.Overdue {
				state = "**" + state + ", OVERDUE**"
			}
			// Why, in campaign verify's words (the gap behind a
			// not-checked row), before what the due date adds.
			if x.VerificationReason != "" {
				state += " — " + md(x.VerificationReason)
			}
			if !x.Overdue && slices.Contains(x.Flags, FlagNotYetChecked) {
				state += "; not yet checked after the due date"
			}
			w.row(itoa(x.N), md(x.KindLabel), md(x.Name), md(x.Scope), md(a.remediationDecider(x)), md(x.DecidedAt), state, seqText(x.VerifiedSnapshot))
		}
		w.WriteByte('\n')
	}

	// 7. Reviewers
	w.p("## 7. Reviewer statistics\n\n")
	var st [][]string
	for _, x := range r.Reviewers.Rows {
		name := md(x.Reviewer)
		if !x.Listed {
			name += " (not a listed reviewer)"
		}
		over := func(m, v string) string {
			if slices.Contains(x.Marks, m) {
				return "**" + v + "**"
			}
			return v
		}
		marks := "—"
		if len(x.Marks) > 0 {
			marks = strings.Join(x.Marks, ", ")
		}
		st = append(st, []string{name, itoa(x.Assigned), itoa(x.Decisions), itoa(x.Decommission), itoa(x.Keep), itoa(x.Rotate),
			itoa(x.ForOthers), itoa(x.NoResponse), itoa(x.Events), over(MarkMedianInterval, x.MedianInterval), over(MarkBulk, x.BulkShare),
			over(MarkKeptWithFindings, fmt.Sprintf("%d of %d (%s)", x.KeptFindings, x.DecidedFindings, x.KeptFindingShare)),
			over(MarkPerMinute, itoa(x.PeakPerMinute)), fmt.Sprintf("%d (%s)", x.Signed, x.SignedShare), marks})
	}
	w.table([]string{"Reviewer", "Assigned", "Decisions", "Decommission", "Keep", "Rotate", "For others", "No response", "Events", "Median interval", "In bulk", "Kept with findings", "Peak per minute", "Signed", "Marked"}, st)
	w.p("Thresholds, from the campaign's policy (review section); a value beyond one is in bold and marked:\n\n")
	var ths [][]string
	for _, th := range r.Reviewers.Thresholds {
		ths = append(ths, []string{"`" + th.Signal + "`", "`review." + th.Key + "`", itoa(th.Value), md(th.Rule)})
	}
	w.table([]string{"Mark or flag", "Policy key", "Value", "Rule"}, ths)
	for _, d := range r.Reviewers.Definitions {
		w.p("- **%s**: %s\n", md(d.Name), md(d.Rule))
	}
	w.p("\n")
	w.p("### Refused attempts\n\n")
	if len(r.Refused) == 0 {
		w.p("None: nobody tried to decide what a rule forbade them.\n\n")
	} else {
		w.p("Attempts the separation-of-duties and signature rules refused (`decision.refused` events): the controls at work.\n\n")
		var rows [][]string
		for _, x := range r.Refused {
			rows = append(rows, []string{strconv.FormatInt(x.Event, 10), md(x.At), md(x.Actor), md(x.Action), md(strings.Join(x.Items, ", ")), md(x.Rule), md(x.Detail)})
		}
		w.table([]string{"Event", "Time", "By", "Action", "Items", "Rule", "Why"}, rows)
	}

	// 8. Integrity
	r.awaitDataFiles()
	in := &r.Integrity
	w.p("## 8. Integrity\n\n")
	w.p("The bundle's `manifest.json` holds the SHA-256 of every file, the campaign, the snapshot and population digests and the event log's head; ")
	if in.Signature != nil {
		w.p("`manifest.json.sig` is its SSH signature (namespace `%s`) by %s, key %s `%s`.\n\n", Namespace, md(in.Signature.Signer), md(in.Signature.KeyType), in.Signature.Fingerprint)
	} else {
		w.p("it is not signed.\n\n")
	}
	w.p("%s\n\n", tablesAgree)
	w.table([]string{"Field", "Value"}, [][]string{
		{"Event log head", fmt.Sprintf("event %d (%s, %s) `%s`", in.Head.Seq, md(in.Head.Type), in.Head.At, in.Head.Hash)},
		{"Snapshot digest", snapshotDigests(in)},
		{"Population digest", "sha256:" + in.PopulationDigest},
		{"Policy digest", "sha256:" + in.PolicyDigest},
	})
	var evs [][]string
	for _, e := range in.CampaignEvents {
		evs = append(evs, []string{fmt.Sprint(e.Seq), md(e.Type), e.At, "`" + e.Hash + "`"})
	}
	w.table([]string{"Campaign event", "Type", "At", "Hash"}, evs)
	if len(in.DataFiles) > 0 {
		w.p("The data tables, in `sha256sum -c` form (`SHA256SUMS` in the bundle lists every file):\n\n```\n")
		for _, f := range in.DataFiles {
			w.p("%s  %s\n", f.SHA256, f.Path)
		}
		w.p("```\n\n")
	}
	w.p("How to verify:\n\n")
	for _, s := range in.Steps {
		w.p("- **%s**: `%s`  \n  %s\n", md(s.Name), s.Command, md(s.Does))
	}
	return w.Flush()
}

const flagLegend = "not-assignee (decided by someone other than the assigned reviewer), unassigned (every reviewer owns it), conflict (re-decided or undone by someone other than its last decider), carried (decision carried from the previous campaign), bulk (bulk decision or confirmation), changed (decided more than once or undone), no-response (nobody decided it before close: no decision time, no decider; the close time is shown instead), late (decided after the due date), overdue (approved for removal, and a snapshot taken after the due date still shows it), not-yet-checked (approved for removal, past the due date, and no snapshot taken after it has checked), short-reason (an exception's justification shorter than the policy's minimum), reused-reason (one justification on exceptions of more kinds than the policy allows)"

// selfReviewLegend is the legend of flag self-review, given only when a
// register row has it.
const selfReviewLegend = ", self-review (decided by the identity's own owner or holder, a member of its owning team or the campaign's creator, or handed to the decider herself: nhi refuses that, so it was written around nhi)"

// flagsOf is the legend of the register's flags.
func flagsOf(r *Report) string {
	if r.Attestation.Summary.SelfReviewsInForce > 0 {
		return flagLegend + selfReviewLegend
	}
	return flagLegend
}

// closedEarlyText says a campaign closed before its due date, and what
// that left without a response.
func closedEarlyText(a *Attestation) string {
	return fmt.Sprintf("— before the due date (%s), leaving %s without a response", a.Due, audit.Counted(a.Summary.NoResponse, "item", "items"))
}

// timeText is a register row's time: its decision's, or the close for a
// no-response row, which has none.
func timeText(x *Row) string {
	if x.ClosedAt != "" {
		return "closed " + x.ClosedAt
	}
	return x.DecidedAt
}

func orEmpty(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func decisionMD(d string) string {
	if d == "no-response" {
		return "**no-response**"
	}
	return md(d)
}

func ownerText(x *Row) string {
	switch {
	case x.Owner != "":
		return x.Owner
	case x.Holder != "":
		return x.Holder + " (holder, per the source)"
	}
	return ""
}

func statusText(s int) string {
	if s == 0 {
		return "—"
	}
	return fmt.Sprint(s)
}

func reconText(rec *Reconciliation) string {
	t := fmt.Sprintf("Previous campaign on this account: %s (snapshot %d). %d + %d added − %d removed = %d", rec.Previous, rec.PreviousSnapshot,
		rec.PreviousCount, rec.Added, rec.Removed, rec.Count)
	if rec.Balanced {
		t += ", which is this campaign's population."
	} else {
		t += fmt.Sprintf(", which does NOT match this campaign's population of %d.", rec.Count)
	}
	if rec.Removed > 0 {
		t += fmt.Sprintf(" Of the %d removed, %d had been approved for decommissioning by %s.", rec.Removed, rec.RemovedApproved, rec.Previous)
	}
	if !rec.SameScope {
		t += fmt.Sprintf(" The scopes differ (%s was %q), so identities also enter and leave by scope.", rec.Previous, rec.PreviousScope)
	}
	return t
}

func remediationText(m *Remediation, due string) string {
	if m.Decommission == 0 {
		return "No identity was approved for decommissioning."
	}
	t := fmt.Sprintf("%s approved for decommissioning (due %s): %d removed, %d still present, %d not checked (the checking snapshot could not read where they live), %d not verified yet (no later snapshot).",
		audit.Counted(m.Decommission, "identity was", "identities were"), due, m.Removed, m.StillPresent, m.NotChecked, m.NotVerified)
	if m.Overdue > 0 {
		t += fmt.Sprintf(" Overdue, still shown by a snapshot taken after the due date: %d.", m.Overdue)
	}
	if m.NotYetChecked > 0 {
		t += fmt.Sprintf(" Past the due date but not yet checked by a snapshot taken after it: %d.", m.NotYetChecked)
	}
	if len(m.Snapshots) > 0 {
		var parts []string
		for _, s := range m.Snapshots {
			parts = append(parts, fmt.Sprintf("snapshot %d (%s, %s, sha256:%.12s…)", s.ID, s.Started, s.Status, s.Digest))
		}
		t += " Checked by " + strings.Join(parts, ", ") + "."
	}
	return t
}

// snapshotDigests are the population snapshots' digests, as one cell.
func snapshotDigests(in *Integrity) string {
	var each []string
	for _, d := range in.SnapshotDigests {
		each = append(each, "sha256:"+d)
	}
	return strings.Join(each, ", ")
}

// listCell is a list as one cell: "none" when empty.
func listCell(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, "; ")
}

// exceptionsText introduces the exceptions and counts their flagged
// justifications.
func exceptionsText(r *Report) string {
	short, reused := r.shortReasons, r.reusedReasons
	min, kinds := 0, 0
	for _, th := range r.Reviewers.Thresholds {
		switch th.Signal {
		case FlagShortReason:
			min = th.Value
		case FlagReusedReason:
			kinds = th.Value
		}
	}
	return fmt.Sprintf("Identities kept, or kept for rotation, although they had findings at creation, with the assigned reviewer, who decided, the justification recorded and the flags of exceptions.csv. Of their justifications, %d are shorter than %d characters (short-reason) and %d are on exceptions of more than %s (reused-reason).",
		short, min, reused, audit.Counted(kinds, "kind", "kinds"))
}
