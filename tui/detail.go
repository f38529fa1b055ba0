package tui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// labelWidth is the width of the field-name column of the detail view.
const labelWidth = 12

// detailView shows every field of one identity, scrollable: its findings
// with their explanation, its owner with the suggestions and the trail of
// who set it, and its history across snapshots. Long values wrap instead
// of being cut: an auditor must be able to read all of it.
type detailView struct {
	keys   detailKeys
	st     *state
	idx    int32 // the identity's position in the population
	id     string
	width  int
	height int      // lines of content on screen, below the title
	lines  []string // the content, laid out for width
	offset int      // first content line on screen

	trail      []audit.OwnerChange
	notes      []audit.Note
	people     *audit.Directory
	trailErr   error
	trailState loadState

	decisions     []DecisionEvent // the decision trail, through the Reviewer
	decisionsErr  error
	decisionState loadState
}

func newDetailView(st *state, idx int32) *detailView {
	return &detailView{keys: newDetailKeys(), st: st, idx: idx, id: st.identity(idx).ID}
}

// openDetail opens the detail of the identity at position i, and loads
// its history.
func openDetail(st *state, i int32) tea.Cmd {
	v := newDetailView(st, i)
	return st.pushView(v, tea.Batch(v.loadTrail(), v.loadDecisions(), loadDiff(st, st.identity(i))))
}

func (v *detailView) ShortHelp() []key.Binding {
	return v.keys.shortAt(v.offset, len(v.lines)-v.height)
}
func (v *detailView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *detailView) targets() []int32   { return []int32{v.idx} }
func (v *detailView) hiddenTargets() int { return 0 }
func (v *detailView) actionDone()        {}

func (v *detailView) SetSize(width, height int) {
	v.width, v.height = width, max(height-1, 0)
	v.lines = v.content(v.st.now())
	v.Move(0)
}

// Move scrolls by n lines, stopping at the ends.
func (v *detailView) Move(n int) {
	v.offset = max(min(v.offset+n, len(v.lines)-v.height), 0)
}

func (v *detailView) GotoTop()      { v.offset = 0 }
func (v *detailView) GotoBottom()   { v.Move(len(v.lines)) }
func (v *detailView) PageSize() int { return max(v.height, 1) }

// trailMsg is the owner trail and the notes of one identity, read from
// the event log.
type trailMsg struct {
	id     string
	trail  []audit.OwnerChange
	notes  []audit.Note
	people *audit.Directory
	err    error
}

// decisionTrailMsg is the decision trail of one identity.
type decisionTrailMsg struct {
	id     string
	events []DecisionEvent
	err    error
}

// loadDecisions reads the identity's decisions in every campaign.
func (v *detailView) loadDecisions() tea.Cmd {
	r := v.st.reviewer
	if r == nil {
		return nil
	}
	v.decisionState = loading
	ctx, id := v.st.ctx, v.id
	return func() tea.Msg {
		evs, err := r.Trail(ctx, id)
		return decisionTrailMsg{id: id, events: evs, err: err}
	}
}

// loadTrail reads the identity's owner changes and notes from the log.
func (v *detailView) loadTrail() tea.Cmd {
	if v.st.store == nil {
		return nil
	}
	v.trailState = loading
	ctx, store, id := v.st.ctx, v.st.store, v.id
	return func() tea.Msg {
		trail, err := store.OwnerHistory(ctx, id)
		if err != nil {
			return trailMsg{id: id, err: err}
		}
		notes, err := store.Notes(ctx, id)
		if err != nil {
			return trailMsg{id: id, err: err}
		}
		people, err := store.People(ctx)
		return trailMsg{id: id, trail: trail, notes: notes, people: people, err: err}
	}
}

func (v *detailView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case trailMsg:
		if msg.id == v.id {
			v.trail, v.notes, v.people, v.trailErr, v.trailState = msg.trail, msg.notes, msg.people, msg.err, loaded
			v.SetSize(v.width, v.height+1)
		}
	case decisionTrailMsg:
		if msg.id == v.id {
			v.decisions, v.decisionsErr, v.decisionState = msg.events, msg.err, loaded
			v.SetSize(v.width, v.height+1)
		}
	case historyChangedMsg:
		return v.loadTrail()
	case suggestionsReadyMsg:
		v.SetSize(v.width, v.height+1)
	case decisionsChangedMsg:
		if msg.recorded {
			return v.loadDecisions()
		}
	case tea.KeyMsg:
		if key.Matches(msg, v.keys.Back) {
			return popView
		}
		navigate(v.keys.navKeys, msg, v)
	}
	return nil
}

func (v *detailView) View() string {
	id := v.st.identity(v.idx)
	title := theme.Title.Render("Identity " + orDash(audit.Printable(id.Name)))
	pos := ""
	if len(v.lines) > v.height {
		last := min(v.offset+v.height, len(v.lines))
		pos = theme.Position.Render("lines " + strconv.Itoa(v.offset+1) + "–" + strconv.Itoa(last) + " of " + strconv.Itoa(len(v.lines)))
	}
	var b strings.Builder
	b.WriteString(joinEnds(title, pos, v.width))
	end := min(v.offset+v.height, len(v.lines))
	for _, l := range v.lines[v.offset:end] {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	return b.String()
}

// content lays every field of the identity out for the view's width. All
// text from the API is sanitized here.
func (v *detailView) content(now time.Time) []string {
	id := v.st.identity(v.idx)
	var lines []string
	field := func(label, value string) {
		lines = appendWrapped(lines, theme.Label.Render(padRight(label, labelWidth)), orDash(value), v.width, labelWidth)
	}
	section := func(title string) {
		lines = append(lines, "", theme.Section.Render(title))
	}
	item := func(text string) {
		lines = appendWrapped(lines, "  ", text, v.width, 4)
	}
	sub := func(text string) {
		lines = appendWrapped(lines, "    ", text, v.width, 4)
	}

	field("ID", audit.Printable(id.ID))
	field("Kind", audit.Printable(id.Kind.Label())+" ("+audit.Printable(string(id.Kind))+")")
	field("Name", audit.Printable(id.Name))
	field("Scope", audit.Printable(id.Scope))
	field("Source", audit.Printable(id.Source))
	field("Owner", audit.Printable(id.Owner))
	status := audit.Printable(id.Status)
	if id.Status == audit.StatusActive && id.Change != "" {
		status += ", " + audit.Printable(id.Change) + " since the previous snapshot"
	}
	field("Status", status)
	if d := v.st.decision(id.ID); d != "" {
		field("Decision", audit.Printable(d)+" in "+audit.Printable(v.st.campaign))
	}
	field("Created", stamp(id.CreatedAt, now))
	since, sinceErr := time.Parse(time.RFC3339, id.Attributes[audit.AttrUseTrackedSince])
	switch {
	case id.LastUsedAt != nil:
		field("Last used", stamp(id.LastUsedAt, now))
	case sinceErr == nil && id.CreatedAt != nil && id.CreatedAt.Before(since):
		// Older than its source's record of use: not "never".
		field("Last used", dash+" (none recorded since "+since.UTC().Format(time.DateOnly)+"; older use is not recorded)")
	case audit.ReportsLastUse(id.Kind, id.Attributes[audit.AttrLastUseUnknown]):
		field("Last used", "never")
	case id.Kind.TracksLastUse():
		field("Last used", dash+" (not read: see the snapshot's gaps)")
	case id.Attributes[audit.AttrLastUseUnknown] == "true":
		// An imported kind whose file left last_used_at empty.
		field("Last used", dash+" (not reported by the source: "+audit.AttrLastUseUnknown+")")
	default:
		field("Last used", dash+" (not reported by the source)")
	}
	// A rotation or an expiry the source left unsaid (an import's empty
	// cell) is not "never": the dash says why it is empty.
	unsaid := func(t *time.Time, mark string) string {
		if t == nil && id.Attributes[mark] == "true" {
			return dash + " (not reported by the source: " + mark + ")"
		}
		return stamp(t, now)
	}
	field("Rotated", unsaid(id.RotatedAt, audit.AttrRotationUnknown))
	field("Expires", unsaid(id.ExpiresAt, audit.AttrExpiryUnknown))

	// What the source did not tell nhi, each with why: the empty values
	// below (no permission, no finding, no tag) are not none.
	unread := audit.NotReadOf(&id.Observation)
	if len(unread) > 0 {
		section("Not read (" + strconv.Itoa(len(unread)) + ")")
		for _, n := range unread {
			item(theme.Warning.Render(notReadLabel[n.What]+" not read") + " (" + n.Marker + "): " + audit.Printable(n.Why))
		}
		item(theme.Muted.Render("to read them: " + audit.NotReadAdvice))
	}

	section("Findings (" + strconv.Itoa(len(id.Findings)) + ")")
	findingsUnread := audit.Unread(id.Attributes, filter.Findings, "")
	switch {
	case v.st.dirty[id.ID] > 0:
		item(theme.Muted.Render("being recomputed after the owner change…"))
	case len(id.Findings) == 0 && findingsUnread:
		item(theme.Warning.Render("none found, which is not none: what a rule reads was not read (see Not read), so a rule may find something there"))
	case len(id.Findings) == 0:
		item(theme.Muted.Render("no findings"))
	case findingsUnread:
		item(theme.Muted.Render("what a rule reads was not all read (see Not read): a rule may find more"))
	}
	for _, f := range id.Findings {
		head := orDash(audit.Printable(f.Rule)) + " · " + severity(audit.Printable(f.Severity))
		if f.OWASP != "" {
			head += " · OWASP " + audit.Printable(f.OWASP)
		}
		item(head)
		if f.Message != "" {
			sub(audit.Printable(f.Text()))
		}
	}

	section("Owner")
	ownerNow := orDash(audit.Printable(id.Owner))
	if id.Owner == "" {
		ownerNow += " (none recorded)"
	}
	item("now: " + ownerNow)
	if p := v.people.Lookup(id.Owner); p != nil {
		sub(personLine(p))
	}
	// The holder shows whether or not the directory knows them: the table's
	// OWNER cell says "— held by" them, and nhi campaign show names them.
	if h := audit.NaturalOwner(&id.Observation); h != "" && h != id.Owner {
		item("holder, per the source: " + audit.Printable(h))
		if p := v.people.Lookup(h); p != nil {
			sub(personLine(p))
		}
	}
	if suggestionsPending(id.Suggestions) {
		// Derived once the table is ready (suggest.go): not "none".
		item(theme.Muted.Render(v.st.suggestionsLoading()))
	} else if len(id.Suggestions) > 0 {
		item("suggested:")
		for _, s := range id.Suggestions {
			sub(audit.Printable(s.Owner) + " — " + audit.Printable(s.Source))
		}
	} else if id.Attributes[audit.AttrTagsUnknown] == "true" {
		// Its tags, which would suggest an owner, were not read: not "none".
		item(theme.Muted.Render("no suggestion: its tags were not read (" + audit.AttrTagsUnknown + ", a gap of its snapshot)"))
	} else {
		item(theme.Muted.Render("no suggestion from the source or its repository"))
	}
	item("trail (from the event log):")
	switch {
	case v.st.store == nil:
		sub(theme.Muted.Render("not available"))
	case v.trailState != loaded:
		sub(theme.Muted.Render("reading the event log…"))
	case v.trailErr != nil:
		sub(theme.Error.Render("not read: " + audit.Printable(v.trailErr.Error())))
	case len(v.trail) == 0:
		sub(theme.Muted.Render("no owner was ever recorded"))
	}
	for _, e := range v.trail {
		what := "set owner " + audit.Printable(e.Owner)
		if e.Owner == "" {
			what = "cleared the owner"
		}
		if e.Undoes != 0 {
			what = "undid #" + strconv.FormatInt(e.Undoes, 10) + ": owner back to " + orDash(audit.Printable(e.Owner))
		}
		sub("#" + strconv.FormatInt(e.Seq, 10) + " " + e.At.UTC().Format("2006-01-02 15:04 UTC") + " " + audit.Printable(e.Actor) + " " + what)
	}

	if v.st.reviewer != nil {
		section("Decisions (from the event log)")
		switch {
		case v.decisionState != loaded:
			item(theme.Muted.Render("reading the event log…"))
		case v.decisionsErr != nil:
			item(theme.Error.Render("not read: " + audit.Printable(v.decisionsErr.Error())))
		case len(v.decisions) == 0:
			item(theme.Muted.Render("never decided in a campaign"))
		}
		for _, d := range v.decisions {
			text := "#" + strconv.FormatInt(d.Seq, 10) + " " + d.At.UTC().Format("2006-01-02 15:04 UTC") + " " +
				audit.Printable(d.Actor) + " · " + audit.Printable(d.Campaign) + ": " + audit.Printable(d.What)
			if d.Reason != "" {
				text += " — " + audit.Printable(d.Reason)
			}
			item(text)
		}
	}

	if v.st.store != nil {
		section("Notes (" + strconv.Itoa(len(v.notes)) + ")")
		switch {
		case v.trailState != loaded:
			item(theme.Muted.Render("reading the event log…"))
		case v.trailErr != nil:
			item(theme.Error.Render("not read: " + audit.Printable(v.trailErr.Error())))
		case len(v.notes) == 0:
			item(theme.Muted.Render("none yet (c adds one)"))
		}
		for _, n := range v.notes {
			item("#" + strconv.FormatInt(n.Seq, 10) + " " + n.At.UTC().Format("2006-01-02 15:04 UTC") + " " + audit.Printable(n.Actor))
			sub(audit.Printable(n.Text))
		}
	}

	section("History")
	field("First seen", stamp(&id.FirstSeen, now))
	field("Last seen", stamp(&id.LastSeen, now))
	if id.SnapshotID != 0 {
		field("Snapshot", "#"+strconv.FormatInt(id.SnapshotID, 10)+" (its latest observation)")
	}
	lines = v.diffLines(lines, id)

	section("Permissions (" + strconv.Itoa(len(id.Permissions)) + ")")
	switch {
	case id.Attributes[audit.AttrPoliciesUnknown] == "true" && len(id.Permissions) == 0:
		item(theme.Warning.Render("not read (" + audit.AttrPoliciesUnknown + "): none recorded is not none; see Not read"))
	case id.Attributes[audit.AttrPoliciesUnknown] == "true":
		item(theme.Warning.Render("not read whole (" + audit.AttrPoliciesUnknown + "): it may be granted more; see Not read"))
	case len(id.Permissions) == 0:
		item(theme.Muted.Render("none recorded"))
	}
	for _, k := range slices.Sorted(maps.Keys(id.Permissions)) {
		item(audit.Printable(k) + ": " + orDash(audit.Printable(id.Permissions[k])))
	}

	section("Attributes (" + strconv.Itoa(len(id.Attributes)) + ")")
	if len(id.Attributes) == 0 {
		item(theme.Muted.Render("none recorded"))
	}
	for _, k := range slices.Sorted(maps.Keys(id.Attributes)) {
		item(audit.Printable(k) + ": " + orDash(audit.Printable(id.Attributes[k])))
	}
	return lines
}

// notReadLabel names each audit.NotRead.What as the detail says it.
var notReadLabel = map[string]string{
	audit.NotReadPermissions: "Permissions",
	audit.NotReadTrust:       "Trust",
	audit.NotReadLastUse:     "Last use",
	audit.NotReadTags:        "Tags",
	audit.NotReadExpiry:      "Expiry",
	audit.NotReadRotation:    "Rotation",
}

// diffLines says what the newest two snapshots of id's own source/account
// say of it (Store.DiffAccount).
func (v *detailView) diffLines(lines []string, id *audit.Identity) []string {
	label := theme.Label.Render(padRight("Changes", labelWidth))
	add := func(s string) {
		lines = appendWrapped(lines, label, s, v.width, labelWidth)
		label = strings.Repeat(" ", labelWidth)
	}
	st := v.st
	if st.store == nil {
		return lines
	}
	ad := st.diffs[diffKey(id)]
	switch {
	case ad == nil || ad.state != loaded:
		add(theme.Muted.Render("comparing the newest two snapshots of " + audit.Printable(diffKey(id)) + "…"))
		return lines
	case ad.err != nil:
		add(theme.Muted.Render("not compared: " + audit.Printable(ad.err.Error())))
		return lines
	}
	d := ad.diff
	pair := "#" + strconv.FormatInt(d.FromID, 10) + " → #" + strconv.FormatInt(d.ToID, 10)
	k := slices.IndexFunc(d.Changes, func(c audit.IdentityChange) bool { return c.ID == id.ID })
	if k < 0 {
		add("unchanged " + pair)
		return lines
	}
	c := d.Changes[k]
	add(audit.Printable(c.Change) + " " + pair)
	for _, det := range c.Details {
		add("· " + audit.Printable(det))
	}
	return lines
}

// severity colours a finding's severity; the word itself carries the meaning.
func severity(s string) string {
	switch strings.ToLower(s) {
	case "critical", "high":
		return theme.Danger.Render(s)
	case "medium":
		return theme.Warning.Render(s)
	case "":
		return dash
	}
	return s
}

// appendWrapped appends prefix+text to lines, word-wrapped to width; the
// lines after the first are indented by indent cells.
func appendWrapped(lines []string, prefix, text string, width, indent int) []string {
	avail := width - max(ansi.StringWidth(prefix), indent)
	if avail < 10 { // too narrow to indent: wrap at the full width
		return append(lines, strings.Split(ansi.Wrap(prefix+text, max(width, 1), ""), "\n")...)
	}
	pad := strings.Repeat(" ", indent)
	for i, l := range strings.Split(ansi.Wrap(text, avail, ""), "\n") {
		if i == 0 {
			lines = append(lines, prefix+l)
		} else {
			lines = append(lines, pad+l)
		}
	}
	return lines
}

func padRight(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// personLine is the person of the directory behind a name: who they are,
// whether they left, and every name they go by.
func personLine(p *audit.Person) string {
	status := p.Status
	if p.Status == audit.PersonLeft {
		status = theme.Danger.Render(p.LeftNote())
	}
	return audit.Printable(p.Display()) + ", " + status + "; aliases: " + audit.Printable(strings.Join(p.Names(), " "))
}
