package tui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// overviewView is the engagement at a glance: the snapshot and what it
// could not read, identities per kind, identities without owner, the
// review campaigns with their progress, findings per rule, and what
// changed since the previous snapshot. The lines with a count lead to the
// identities they count: enter shows them in the table, with the filter
// that selects them; a campaign's line makes it the one decisions go to.
type overviewView struct {
	keys   listKeys
	st     *state
	width  int
	height int // lines of content, below the title
	lines  []overviewLine
	items  []int // indexes of the lines that lead somewhere
	cursor int   // index into items
	offset int
	// The leavers, as :offboard and nhi offboard --pending count and name
	// them (audit.LeaversOf over the population and the directory of
	// people), read off the event loop when the view opens and again as
	// the population changes; leaversAgain asks for one more read once
	// the one on its way answers.
	leavers      []audit.Leaver
	leaverTotals audit.LeaverTotals
	leaversState loadState
	leaversErr   error
	leaversAgain bool
}

type overviewLine struct {
	text     string
	filter   string        // the identities it counts; "" for a plain line
	campaign string        // the campaign it shows, chosen by enter
	offboard bool          // it leads to the :offboard view
	leaver   *audit.Person // the leaver whose person view it leads to
}

func (l overviewLine) leads() bool {
	return l.filter != "" || l.campaign != "" || l.offboard || l.leaver != nil
}

func newOverviewView(st *state) *overviewView {
	return &overviewView{keys: newListKeys("show these identities"), st: st}
}

// openOverview is the overview pushed, with the reads it shows.
func (m *Model) openOverview() tea.Cmd {
	v := newOverviewView(m.st)
	return m.st.pushView(v, tea.Batch(m.loadSnapshots(), m.loadCampaigns(), v.readLeavers()))
}

func (v *overviewView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *overviewView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *overviewView) SetSize(width, height int) {
	v.width, v.height = width, max(height-1, 0)
	v.relines()
}

// relines makes the lines again, from what the state and the view hold.
func (v *overviewView) relines() {
	v.lines = v.content()
	v.items = v.items[:0]
	for i, l := range v.lines {
		if l.leads() {
			v.items = append(v.items, i)
		}
	}
	v.Move(0)
}

func (v *overviewView) Move(n int) {
	if len(v.items) == 0 {
		v.offset = max(min(v.offset+n, len(v.lines)-v.height), 0)
		return
	}
	v.cursor = max(min(v.cursor+n, len(v.items)-1), 0)
	line := v.items[v.cursor]
	if v.cursor == 0 {
		v.offset = 0 // show the snapshot above the first count
	}
	if line < v.offset {
		v.offset = line
	}
	if line >= v.offset+v.height {
		v.offset = line - v.height + 1
	}
	if v.cursor == len(v.items)-1 {
		v.offset = max(len(v.lines)-v.height, v.offset) // and whatever follows the last
	}
	v.offset = max(min(v.offset, len(v.lines)-v.height), 0)
}

func (v *overviewView) GotoTop()      { v.Move(-len(v.lines)) }
func (v *overviewView) GotoBottom()   { v.Move(len(v.lines)) }
func (v *overviewView) PageSize() int { return max(v.height/2, 1) }

func (v *overviewView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case overviewLeaversMsg:
		if msg.v != v {
			return nil
		}
		v.leaversState, v.leaversErr = loaded, msg.err
		if msg.err == nil {
			v.leavers, v.leaverTotals = msg.leavers, msg.totals
		}
		v.relines()
		if v.leaversAgain {
			v.leaversAgain = false
			return v.readLeavers()
		}
		return nil
	case populationChangedMsg, populationGrewMsg:
		return v.readLeavers()
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, v.keys.Back):
		return popView
	case key.Matches(k, v.keys.Open):
		if len(v.items) > 0 {
			l := v.lines[v.items[v.cursor]]
			if l.campaign != "" {
				return func() tea.Msg { return campaignChosenMsg{l.campaign} }
			}
			if l.offboard {
				return v.st.pushView(newOffboardView(v.st), v.st.loadPeople())
			}
			if l.leaver != nil {
				return openPerson(v.st, *l.leaver)
			}
			return func() tea.Msg { return applyFilterMsg{l.filter} }
		}
	default:
		navigate(v.keys.navKeys, k, v)
	}
	return nil
}

// overviewLeaversMsg answers readLeavers.
type overviewLeaversMsg struct {
	v       *overviewView
	leavers []audit.Leaver
	totals  audit.LeaverTotals
	err     error
}

// readLeavers reads the leavers as :offboard does (loadPeople), off the
// event loop, over the population as it is now; while a read is on its
// way it starts none, and asks for another once it answers.
func (v *overviewView) readLeavers() tea.Cmd {
	store, ctx, pop := v.st.store, v.st.ctx, v.st.pop
	if store == nil {
		return nil // no directory of people: no leavers, as :offboard has none
	}
	if v.leaversState == loading {
		v.leaversAgain = true
		return nil
	}
	v.leaversState = loading
	return func() tea.Msg {
		dir, err := store.People(ctx)
		if err != nil {
			return overviewLeaversMsg{v: v, err: err}
		}
		leavers, totals := audit.LeaversTotalOf(dir, pop.lightIdentities())
		return overviewLeaversMsg{v: v, leavers: leavers, totals: totals}
	}
}

func (v *overviewView) View() string {
	var b strings.Builder
	b.WriteString(truncate(theme.Title.Render("Overview"), v.width))
	end := min(v.offset+v.height, len(v.lines))
	for i := v.offset; i < end; i++ {
		b.WriteByte('\n')
		l := v.lines[i]
		if len(v.items) > 0 && i == v.items[v.cursor] {
			line := ">" + l.text
			b.WriteString(theme.Selected.Render(line + strings.Repeat(" ", max(v.width-textWidth(line), 0))))
			continue
		}
		b.WriteString(" " + l.text)
	}
	return b.String()
}

// content is the overview's lines. Counts are of active identities, so
// that each equals the number of rows its filter shows.
func (v *overviewView) content() []overviewLine {
	st := v.st
	now := st.now()
	var out []overviewLine
	plain := func(s string) { out = append(out, overviewLine{text: s}) }
	blank := func() { out = append(out, overviewLine{}) }
	// Long values wrap: a coverage gap's reason is what the auditor needs.
	wrap := func(prefix, text string, indent int) {
		for _, l := range appendWrapped(nil, prefix, text, v.width-1, indent) {
			plain(l)
		}
	}
	row := func(label string, width int, value string) {
		wrap("  "+padRight(label, width)+" ", value, width+3)
	}

	// An account whose every run failed has no population: it is listed
	// all the same, with its state and no counts (UnreadOf).
	cur, unread := audit.CurrentOf(st.snapshots), audit.UnreadOf(st.snapshots)
	single := st.snap
	if single == nil && len(cur) == 0 && len(unread) == 1 {
		single = &unread[0]
	}
	// Nothing was read, and a run was tried: no count is 0, each is "—".
	noCounts := st.pop.len() == 0 && single != nil && single.Status != audit.SnapshotComplete && single.Status != audit.SnapshotPartial
	// A run that failed after the current snapshot: the population shown
	// is older than the last attempt to read it (FailedSince).
	failed := audit.FailedSince(st.snapshots, cur)
	if len(cur)+len(unread) > 1 {
		out = append(out, v.sourceLines(cur, unread, failed, now)...)
		noCounts = st.pop.len() == 0 && len(cur) == 0
	} else if s := single; s == nil {
		plain(theme.Section.Render("No snapshot yet"))
		plain("  run `nhi demo`, or `nhi snapshot github --org ORG`")
	} else {
		plain(theme.Section.Render("Snapshot #" + strconv.FormatInt(s.ID, 10) + " of " + audit.Printable(s.Source) + "/" + audit.Printable(s.Account)))
		status := audit.Printable(s.Status)
		if len(s.Gaps) > 0 {
			status += " (" + plural(len(s.Gaps), "endpoint", "endpoints") + " not read)"
		}
		row("status", 10, status)
		if s.FinishedAt != nil && s.Status == audit.SnapshotFailed {
			row("failed", 10, s.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")+" ("+audit.Ago(*s.FinishedAt, now)+")")
		} else if s.FinishedAt != nil {
			row("taken", 10, s.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")+" ("+audit.Ago(*s.FinishedAt, now)+")")
		} else {
			row("started", 10, s.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		row("read by", 10, orDash(audit.Printable(s.Credential)))
		row("API", 10, orDash(audit.Printable(s.APIURL)))
		if s.ToolVersion != "" {
			row("tool", 10, "nhi "+audit.Printable(s.ToolVersion))
		}
		if s.Digest != "" {
			row("sha-256", 10, audit.Printable(s.Digest))
		}
		if prev := previousSnapshot(st.snapshots, s); prev != nil {
			row("previous", 10, "#"+strconv.FormatInt(prev.ID, 10)+", "+prev.LastAt().UTC().Format("2006-01-02")+" ("+audit.Printable(prev.Status)+")")
		}
		if s.Status == audit.SnapshotFailed && s.Error != "" {
			row("error", 10, theme.Error.Render(audit.Printable(s.Error)))
		}
		if f, ok := failed[s.ID]; ok {
			row("newer run", 10, failedSinceText(&f, s, now, "2006-01-02 15:04 UTC"))
		}
		if len(s.Gaps) > 0 {
			blank()
			plain(theme.Section.Render("Coverage gaps (" + commas(len(s.Gaps)) + "): not read, so not reviewed"))
			for _, g := range s.Gaps {
				what := audit.Printable(g.Endpoint)
				if g.Status != 0 {
					what += " [" + strconv.Itoa(g.Status) + "]"
				}
				wrap("  ", what+" — "+orDash(audit.Printable(g.Reason)), 4)
			}
		}
	}

	// The population keeps the counts as its rows come and change
	// (tally.go): nothing here passes over the rows.
	t, tl := &st.pop.t, st.pop.tally
	kinds := map[audit.Kind]int{}
	for k, n := range tl.kinds {
		if n > 0 {
			kinds[audit.Kind(t.strs.at(k))] += n
		}
	}
	type ruleCount struct {
		n        int
		severity string
		owasp    string
	}
	rules := map[string]*ruleCount{}
	for _, fk := range slices.Sorted(maps.Keys(tl.findings)) {
		n := tl.findings[fk]
		if n <= 0 {
			continue
		}
		f := &t.fkinds[fk]
		rc := rules[f.rule]
		if rc == nil {
			rc = &ruleCount{}
			rules[f.rule] = rc
		}
		rc.n += n
		if audit.SeverityRank(f.severity) > audit.SeverityRank(rc.severity) {
			rc.severity = f.severity
		}
		if rc.owasp == "" {
			rc.owasp = f.owasp
		}
	}
	active, notChecked, removed := st.pop.active, st.pop.notChecked, tl.removed
	unowned, fresh, changed := tl.unowned, tl.fresh, tl.changed
	num := func(n int) string {
		if noCounts {
			return padLeft("—", 8)
		}
		return padLeft(commas(n), 8)
	}

	blank()
	head := "Identities: " + strings.TrimSpace(num(active)) + " active"
	if notChecked > 0 {
		head += ", " + commas(notChecked) + " not checked"
	}
	if removed > 0 {
		head += ", " + commas(removed) + " removed"
	}
	plain(theme.Section.Render(head))
	var kindList []audit.Kind
	for k := range kinds {
		kindList = append(kindList, k)
	}
	slices.SortFunc(kindList, func(a, b audit.Kind) int {
		ia, ib := slices.Index(audit.Kinds, a), slices.Index(audit.Kinds, b)
		if ia < 0 || ib < 0 {
			return strings.Compare(string(a), string(b))
		}
		return ia - ib
	})
	for _, k := range kindList {
		out = append(out, overviewLine{
			text:   " " + num(kinds[k]) + "  " + audit.Printable(k.Label()),
			filter: "kind:" + string(k) + " status:active",
		})
	}
	if notChecked > 0 {
		out = append(out, overviewLine{text: " " + num(notChecked) + "  " + theme.Warning.Render("not checked") + ": a later snapshot could not read where they live", filter: "status:not-checked"})
	}
	if removed > 0 {
		out = append(out, overviewLine{text: " " + num(removed) + "  removed since an earlier snapshot", filter: "status:removed"})
	}
	for _, s := range unread {
		plain(" " + padLeft("—", 8) + "  " + theme.Danger.Render(audit.Printable(s.Source+"/"+s.Account)) + ": not read, no snapshot of it finished")
	}

	blank()
	plain(theme.Section.Render("Owners"))
	out = append(out, overviewLine{text: " " + num(unowned) + "  without owner", filter: "owner:none status:active"})
	out = append(out, overviewLine{text: " " + num(active-unowned) + "  with an owner", filter: "owner:any status:active"})
	switch {
	case v.leaversErr != nil:
		blank()
		plain(theme.Error.Render("Leavers: the directory of people could not be read: " + audit.Printable(v.leaversErr.Error())))
	case len(v.leavers) > 0:
		// The leavers :offboard lists, counted and named as it does: what
		// they own, hold or created, active or not checked.
		blank()
		head := leaversHead(len(v.leavers), v.leaverTotals)
		out = append(out, overviewLine{text: theme.Section.Render("Offboarding: " + head), offboard: true})
		for i := range v.leavers {
			l := &v.leavers[i]
			text := " " + num(l.Count) + "  " + theme.Danger.Render(audit.Printable(l.Person.Display()))
			if l.NotChecked > 0 {
				text += " (" + commas(l.NotChecked) + " not checked)"
			}
			// It leads to the person's view, as enter on them in
			// :offboard does.
			out = append(out, overviewLine{text: text, leaver: &l.Person})
		}
	}

	if st.reviewer != nil {
		blank()
		out = append(out, v.campaignLines(now)...)
	}

	blank()
	plain(theme.Section.Render("Findings by rule (identities)"))
	var ruleList []string
	for r := range rules {
		ruleList = append(ruleList, r)
	}
	slices.SortFunc(ruleList, func(a, b string) int {
		ra, rb := rules[a], rules[b]
		if d := audit.SeverityRank(rb.severity) - audit.SeverityRank(ra.severity); d != 0 {
			return d
		}
		if ra.n != rb.n {
			return rb.n - ra.n
		}
		return strings.Compare(a, b)
	})
	if len(ruleList) == 0 {
		plain(theme.Muted.Render("  no findings"))
	}
	// The severities and OWASP IDs line up under the longest rule name
	// (a Kubernetes rule's is 27 characters), where a name over 17 pushed
	// its own line's out of the column.
	ruleW := 17
	for _, r := range ruleList {
		ruleW = max(ruleW, textWidth(audit.Printable(r)))
	}
	for _, r := range ruleList {
		rc := rules[r]
		text := " " + num(rc.n) + "  " + padRight(audit.Printable(r), ruleW) + " " + padRight(severity(audit.Printable(rc.severity)), 8) + " " + audit.Printable(rc.owasp)
		out = append(out, overviewLine{text: strings.TrimRight(text, " "), filter: "finding:" + r + " status:active"})
	}

	blank()
	plain(theme.Section.Render("Since the previous snapshot"))
	if noCounts {
		plain(theme.Muted.Render("  none: no snapshot has finished"))
		return out
	}
	if s := st.snap; s != nil && st.snapsState == loaded && len(cur) <= 1 && len(unread) == 0 && previousSnapshot(st.snapshots, s) == nil {
		plain(theme.Muted.Render("  none: this is the first snapshot of " + audit.Printable(s.Source) + "/" + audit.Printable(s.Account)))
		return out
	}
	plain(" " + num(fresh) + "  new")
	plain(" " + num(changed) + "  changed (permissions, name, rotation, expiry, settings)")
	if removed > 0 {
		plain(theme.Muted.Render("           removed: see the count above"))
	}
	return out
}

// sourceLines are the Sources section, where the file knows more than one
// source or account: each one's current snapshot, its status and what it
// could not read. A line leads to that source's identities. An account
// with no finished snapshot (unread) follows, with its newest run's state
// and "—" for its identities: it was tried and not read, which is not
// none.
func (v *overviewView) sourceLines(cur, unread []audit.Snapshot, failed map[int64]audit.Snapshot, now time.Time) []overviewLine {
	head := "Sources (" + commas(len(cur)+len(unread)) + "): the current snapshot of each"
	if len(unread) > 0 {
		head += ", or why there is none"
	}
	out := []overviewLine{{text: theme.Section.Render(head)}}
	all := audit.Accounts(cur, unread)
	nameW := 0
	for _, s := range all {
		nameW = max(nameW, textWidth(audit.Printable(s.Source+"/"+s.Account)))
	}
	nameW = min(nameW, 28)
	for _, s := range all {
		when := s.LastAt()
		name := "  " + padRight(truncate(audit.Printable(s.Source+"/"+s.Account), nameW), nameW) + " #" + strconv.FormatInt(s.ID, 10) + " "
		if s.Status != audit.SnapshotComplete && s.Status != audit.SnapshotPartial {
			// No population: its newest run's state, and no count.
			for _, l := range appendWrapped(nil, name, theme.Danger.Render(s.UnreadState())+", "+when.UTC().Format("2006-01-02 15:04")+
				" ("+audit.Ago(when, now)+"), — identities", v.width-1, 8) {
				out = append(out, overviewLine{text: l})
			}
			continue
		}
		status := audit.Printable(s.Status)
		if s.Status == audit.SnapshotPartial {
			status = theme.Warning.Render(status)
		}
		text := name + status + ", " + when.UTC().Format("2006-01-02 15:04") + " (" + audit.Ago(when, now) + "), " + plural(s.Total(), "identity", "identities")
		if len(s.Gaps) > 0 {
			text += ", " + theme.Warning.Render(plural(len(s.Gaps), "endpoint", "endpoints")+" not read")
		}
		out = append(out, overviewLine{text: text, filter: "source:" + s.Source + " account:" + s.Account + " status:active"})
		if f, ok := failed[s.ID]; ok {
			// A later run failed: what is shown is this one's read.
			for _, l := range appendWrapped(nil, "      ", theme.Danger.Render("newer run ")+failedSinceText(&f, &s, now, "2006-01-02 15:04"), v.width-1, 8) {
				out = append(out, overviewLine{text: l})
			}
		}
		for _, g := range s.Gaps {
			what := audit.Printable(g.Endpoint)
			if g.Status != 0 {
				what += " [" + strconv.Itoa(g.Status) + "]"
			}
			for _, l := range appendWrapped(nil, "      ", what+" — "+orDash(audit.Printable(g.Reason)), v.width-1, 8) {
				out = append(out, overviewLine{text: l})
			}
		}
	}
	return out
}

// campaignLines are the Campaigns section: each campaign with a progress
// bar and its due date, and for open ones each reviewer's share.
func (v *overviewView) campaignLines(now time.Time) []overviewLine {
	st := v.st
	out := []overviewLine{{text: theme.Section.Render("Campaigns")}}
	switch {
	case st.campsState != loaded:
		return append(out, overviewLine{text: theme.Muted.Render("  reading campaigns…")})
	case len(st.campaigns) == 0:
		return append(out, overviewLine{text: theme.Muted.Render("  none yet: nhi campaign create NAME --scope EXPR --due YYYY-MM-DD")})
	}
	nameW, numW := 0, 0
	fraction := func(n, total int) string { return commas(n) + "/" + commas(total) }
	for _, c := range st.campaigns {
		nameW = max(nameW, textWidth(audit.Printable(c.Name)))
		if c.NoResponse() == 0 {
			numW = max(numW, len(fraction(c.Decided(), c.Total)))
		}
		for _, r := range c.Reviewers {
			nameW = max(nameW, textWidth(reviewerLabel(r.Reviewer))+2)
			numW = max(numW, len(fraction(r.Decided, r.Assigned)))
		}
	}
	nameW = min(nameW, 24)
	line := func(c *Campaign, barW int) string {
		due := "closed"
		if c.Status != "closed" {
			due = dueText(c.Due, now)
		}
		text := "  " + padRight(truncate(audit.Printable(c.Name), nameW), nameW) + " " +
			progressBar(c.Decided(), c.NoResponse(), c.Total, barW) + " "
		if c.NoResponse() > 0 {
			return text + c.progressText() + "  " + due
		}
		return text + padLeft(fraction(c.Decided(), c.Total), numW) +
			" " + padLeft(strconv.Itoa(percent(c.Decided(), c.Total))+"%", 4) + "  " + due
	}
	// The bars give way, down to 8 cells, before the due date is cut: at
	// 80 columns a long name's line ended "due 2027-01-15 (in 41 …".
	barW := 20
	if v.width > 0 {
		widest := 0
		for i := range st.campaigns {
			widest = max(widest, textWidth(line(&st.campaigns[i], barW)))
		}
		if over := widest - (v.width - 1); over > 0 {
			barW = max(8, barW-over)
		}
	}
	for i := range st.campaigns {
		c := &st.campaigns[i]
		out = append(out, overviewLine{text: line(c, barW), campaign: c.Name})
		if c.Status == "closed" {
			continue
		}
		for _, r := range c.Reviewers {
			out = append(out, overviewLine{text: "    " + padRight(truncate(reviewerLabel(r.Reviewer), nameW-2), nameW-2) + " " +
				theme.Muted.Render(progressBar(r.Decided, 0, r.Assigned, barW)) + " " + padLeft(fraction(r.Decided, r.Assigned), numW) +
				" " + padLeft(strconv.Itoa(percent(r.Decided, r.Assigned))+"%", 4)})
		}
	}
	return out
}

// reviewerLabel names a reviewer, or the items nobody could review.
func reviewerLabel(r string) string {
	if r == "" {
		return "(unassigned)"
	}
	return audit.Printable(r)
}

// dueText is an open campaign's due date and how far off it is.
func dueText(due, now time.Time) string {
	if due.IsZero() {
		return "no due date"
	}
	d := due.UTC().Format("2006-01-02")
	days := int(due.Sub(now.UTC().Truncate(24*time.Hour)).Hours() / 24)
	switch {
	case days < 0:
		return theme.Error.Render("due " + d + ", OVERDUE by " + plural(-days, "day", "days"))
	case days == 0:
		return "due " + d + " (today)"
	}
	return "due " + d + " (in " + plural(days, "day", "days") + ")"
}

// progressBar draws done of total in width cells.
// progressBar is width cells: █ for what was decided, ╳ for what closed
// without an answer (no-response), ░ for what is still to decide.
func progressBar(done, noResponse, total, width int) string {
	filled, missed := 0, 0
	if total > 0 {
		filled = min(done*width/total, width)
		missed = min((done+noResponse)*width/total, width) - filled
		if noResponse > 0 && missed == 0 && filled < width {
			missed = 1 // a no-response never disappears in the rounding
		}
	}
	return strings.Repeat("█", filled) + strings.Repeat("╳", missed) + strings.Repeat("░", width-filled-missed)
}

func percent(n, total int) int {
	if total == 0 {
		return 0
	}
	return n * 100 / total
}

// previousSnapshot is the newest finished snapshot of the same account
// before s, among snaps (newest first).
func previousSnapshot(snaps []audit.Snapshot, s *audit.Snapshot) *audit.Snapshot {
	for i := range snaps {
		p := &snaps[i]
		if p.ID < s.ID && p.Source == s.Source && p.Account == s.Account &&
			(p.Status == audit.SnapshotComplete || p.Status == audit.SnapshotPartial) {
			return p
		}
	}
	return nil
}

func padLeft(s string, w int) string {
	if n := w - textWidth(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}

// failedSinceText says that run f failed after snapshot shown, the
// current one of its account, and when (in layout): "#3 failed: why,
// DATE (ago): what is shown is #2's read".
func failedSinceText(f, shown *audit.Snapshot, now time.Time, layout string) string {
	when := f.LastAt()
	return theme.Danger.Render("#"+strconv.FormatInt(f.ID, 10)+" "+f.UnreadState()) + ", " + when.UTC().Format(layout) +
		" (" + audit.Ago(when, now) + "): what is shown is #" + strconv.FormatInt(shown.ID, 10) + "'s read"
}
