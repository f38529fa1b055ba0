package tui

import (
	"context"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// personView (enter on a leaver in :offboard) lists one person's active
// identities, and those their account's newest snapshot could not check
// (counted as nhi offboard --pending counts them: a gap is not a
// removal), grouped by relationship (docs/offboarding.md): under owns,
// created, holds, could read and suggested owner, each identity once, in
// the group of its strongest relationship, tagged with all of them. The
// action keys work on the identity under the cursor as in the table (o, c,
// and with an offboarding campaign chosen D, K, R, T); t shows the same
// identities in the table.

// accessReader is the part of the store that says where a person had
// access (could-read); *audit.Store has it.
type accessReader interface {
	AccessOf(ctx context.Context, p *audit.Person) ([]audit.Access, error)
}

var _ accessReader = (*audit.Store)(nil)

// personKeys are the keys of the person view.
type personKeys struct {
	navKeys
	Open  key.Binding
	Table key.Binding
	Back  key.Binding
}

func newPersonKeys() personKeys {
	return personKeys{
		navKeys: newNavKeys(""),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Table:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "table")),
		Back:    key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

func (k personKeys) ShortHelp() []key.Binding { return []key.Binding{k.Back, k.Open, k.Table} }

func (k personKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Back, k.Open, k.Table}, k.column()}
}

// personRow is a line of the person view: a group's heading (idx < 0) or
// one identity with its relationship tags.
type personRow struct {
	group string // for a heading: the relationship kind
	count int    // for a heading: identities under it
	idx   int32  // the identity's position in the population; -1 for a heading
	tags  string // "created,could-read"
}

// personRelatedMsg answers loadPersonRelated.
type personRelatedMsg struct {
	email  string
	rows   []personRow
	counts map[string]int // identities per group
	total  int
	unread int // of total, those not checked (audit.StatusNotChecked)
	err    error
	// waiting: the owner suggestions are not all derived (suggest.go),
	// and who a top suggestion relates is not known yet.
	waiting bool
}

type personView struct {
	keys   personKeys
	st     *state
	person audit.Person
	width  int
	height int
	rows   []personRow
	counts map[string]int
	total  int
	unread int
	loaded bool
	err    error
	// waiting: the relationships wait for the owner suggestions
	// (suggest.go), computed once they are in.
	waiting bool
	cursor  int // index into rows; always an identity's row when there is one
	offset  int
	kindW   int // KIND's width: its widest cell among rows (kindWidths)
}

func newPersonView(st *state, p audit.Person) *personView {
	return &personView{keys: newPersonKeys(), st: st, person: p, cursor: -1}
}

// openPerson opens the person view of p and computes their relationships.
func openPerson(st *state, p audit.Person) tea.Cmd {
	v := newPersonView(st, p)
	return st.pushView(v, v.load())
}

// load computes, off the event loop, how every active or not-checked
// identity of the population relates to the person: the population is
// immutable (copy on write), so reading it there is safe.
func (v *personView) load() tea.Cmd {
	store, ctx, pop, p := v.st.store, v.st.ctx, v.st.pop, v.person
	if pop.unsuggested > 0 {
		// A top owner suggestion relates an identity to them: counted
		// without the suggestions, the groups would be short.
		return func() tea.Msg { return personRelatedMsg{email: p.Email, waiting: true} }
	}
	return func() tea.Msg {
		var access []audit.Access
		if ar, ok := store.(accessReader); ok && store != nil {
			var err error
			if access, err = ar.AccessOf(ctx, &p); err != nil {
				return personRelatedMsg{email: p.Email, err: err}
			}
		}
		m := audit.NewPersonMatcher(&p, access)
		byGroup := map[string][]personRow{}
		total, unread := 0, 0
		rows := pop.subject()
		for i := range pop.len() {
			id := rows.at(int32(i)).lightIdentity()
			if id.Status != audit.StatusActive && id.Status != audit.StatusNotChecked {
				continue
			}
			rels := m.Relations(id)
			if rels == nil {
				continue
			}
			g := audit.Strongest(rels)
			byGroup[g] = append(byGroup[g], personRow{idx: int32(i), tags: strings.Join(audit.RelationTags(rels), ",")})
			total++
			if id.Status == audit.StatusNotChecked {
				unread++
			}
		}
		msg := personRelatedMsg{email: p.Email, counts: map[string]int{}, total: total, unread: unread}
		for _, g := range audit.RelationGroups {
			if len(byGroup[g]) == 0 {
				continue
			}
			msg.counts[g] = len(byGroup[g])
			msg.rows = append(msg.rows, personRow{group: g, count: len(byGroup[g]), idx: -1})
			msg.rows = append(msg.rows, byGroup[g]...)
		}
		return msg
	}
}

func (v *personView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *personView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

// The action keys act on the identity under the cursor.
func (v *personView) targets() []int32 {
	if v.cursor < 0 || v.cursor >= len(v.rows) || v.rows[v.cursor].idx < 0 {
		return nil
	}
	return []int32{v.rows[v.cursor].idx}
}
func (v *personView) hiddenTargets() int { return 0 }
func (v *personView) actionDone()        {}

func (v *personView) SetSize(width, height int) {
	v.width, v.height = width, max(height-2, 1)
	v.Move(0)
}

// Move moves the cursor n identities down (up when negative), over the
// headings, keeping it on screen with its heading when it can.
func (v *personView) Move(n int) {
	if len(v.rows) == 0 {
		v.cursor = -1
		return
	}
	c := max(v.cursor, 0)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for ; n > 0; n-- {
		next := c + step
		for next >= 0 && next < len(v.rows) && v.rows[next].idx < 0 {
			next += step
		}
		if next < 0 || next >= len(v.rows) {
			break
		}
		c = next
	}
	for c < len(v.rows)-1 && v.rows[c].idx < 0 { // the first identity
		c++
	}
	v.cursor = c
	top := c
	if top > 0 && v.rows[top-1].idx < 0 {
		top-- // its heading too
	}
	if top < v.offset {
		v.offset = top
	}
	if h := v.listHeight(); c >= v.offset+h {
		v.offset = c - h + 1
	}
}

func (v *personView) GotoTop()      { v.cursor = 0; v.offset = 0; v.Move(0) }
func (v *personView) GotoBottom()   { v.Move(len(v.rows)) }
func (v *personView) PageSize() int { return v.listHeight() }

func (v *personView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case personRelatedMsg:
		if msg.email != v.person.Email {
			return nil
		}
		var at int32 = -1
		if t := v.targets(); len(t) == 1 {
			at = t[0]
		}
		if v.waiting = msg.waiting; msg.waiting {
			v.loaded, v.rows, v.cursor = false, nil, -1
			return nil
		}
		v.loaded, v.err, v.rows, v.counts, v.total, v.unread = true, msg.err, msg.rows, msg.counts, msg.total, msg.unread
		var kinds kindWidths
		for _, r := range v.rows {
			if r.idx >= 0 {
				kinds.add(&v.st.pop.t, v.st.pop.row(r.idx).kind)
			}
		}
		v.kindW = min(max(kinds.widest, len("KIND")), identityColumns[colKind].Max)
		v.cursor = 0
		for i, r := range v.rows { // stay on the same identity after a reload
			if at >= 0 && r.idx == at {
				v.cursor = i
			}
		}
		v.Move(0)
	case populationChangedMsg:
		// An owner changed: owns may have come or gone.
		return v.load()
	case suggestionsReadyMsg:
		if v.waiting && v.st.suggErr == nil {
			return v.load()
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, v.keys.Back):
			return popView
		case key.Matches(msg, v.keys.Open):
			if t := v.targets(); len(t) == 1 {
				return openDetail(v.st, t[0])
			}
		case key.Matches(msg, v.keys.Table):
			expr := "person:" + quoteTerm(v.person.Email) + personStatuses
			return func() tea.Msg { return applyFilterMsg{expr} }
		default:
			navigate(v.keys.navKeys, msg, v)
		}
	}
	return nil
}

// personStatuses is the status term of t in the person view and of the
// overview's leaver lines: what is active, and what the newest snapshot
// could not check (it may still work).
const personStatuses = " (status:active or status:not-checked)"

// titleLines is the view's title: the person, and once loaded what is
// related to them, on one line where it fits, else the person on the
// first and the counts wrapped under it between their " · ", so no count
// is cut (at 80 columns the title ended "(5 no…", and at 120 "could r…").
func (v *personView) titleLines() []string {
	title := audit.Printable(v.person.Display())
	if note := v.person.LeftNote(); note != "" {
		title += ", " + note
	}
	if !v.loaded || v.err != nil {
		return []string{title}
	}
	// Every relationship's count, could read and suggested owner
	// too, said so: :offboard counts only what they own, created or
	// hold, and "3 identities" there read as a mistake beside "192
	// identities" here; the groups after it add up to both.
	head := plural(v.total, "related identity", "related identities")
	if v.unread > 0 {
		head += " (" + commas(v.unread) + " not checked)"
	}
	var parts []string
	for _, g := range audit.RelationGroups {
		if n := v.counts[g]; n > 0 {
			parts = append(parts, audit.RelationTitle(g)+" "+commas(n))
		}
	}
	if len(parts) > 0 {
		head += ":"
	}
	whole := title + " — " + head
	if len(parts) > 0 {
		whole += " " + strings.Join(parts, " · ")
	}
	if textWidth(whole) <= v.width {
		return []string{whole}
	}
	lines := []string{title}
	line := head
	for i, p := range parts {
		if i < len(parts)-1 {
			p += " ·"
		}
		if textWidth(line)+1+textWidth(p) > v.width {
			lines = append(lines, line)
			line = "  " + p
			continue
		}
		line += " " + p
	}
	return append(lines, line)
}

// listHeight is the number of table lines under the title and the
// column heads.
func (v *personView) listHeight() int {
	return max(v.height-(len(v.titleLines())-1), 1)
}

// scopeCuts are the SCOPE cells of the rows from v.offset to end, cut to
// w cells together as the table's SCOPE is (distinctCuts, keepEnd): a leaver's webhooks
// in repositories named alike read apart by their ends; a heading's is
// empty.
func (v *personView) scopeCuts(end, w int) []string {
	n := max(end-v.offset, 0)
	vals, cuts := make([]string, n), make([]string, n)
	for k := range n {
		if r := v.rows[v.offset+k]; r.idx >= 0 {
			vals[k] = orDash(audit.Printable(v.st.identity(r.idx).Scope))
		}
	}
	distinctCuts(vals, cuts, make([]cutNeed, n), w, true)
	return cuts
}

func (v *personView) View() string {
	var b strings.Builder
	for _, l := range v.titleLines() {
		b.WriteString(truncate(theme.Title.Render(l), v.width))
		b.WriteByte('\n')
	}
	switch {
	case v.waiting:
		// Never a count without the identities a suggestion relates.
		b.WriteString(theme.Muted.Render("  " + v.st.suggestionsLoading() + ": their identities show once they are in, as a top suggestion relates one to them"))
		return b.String()
	case !v.loaded:
		b.WriteString(theme.Muted.Render("  reading how their identities relate to them…"))
		return b.String()
	case v.err != nil:
		b.WriteString(theme.Error.Render("  " + audit.Printable(v.err.Error())))
		return b.String()
	case len(v.rows) == 0:
		b.WriteString(theme.Muted.Render("  no active or not-checked identity is related to them: nothing is left to offboard"))
		return b.String()
	}
	tagW, kindW := 20, v.kindW // KIND as wide as its widest kind, as in the table
	rest := max(v.width-2-tagW-kindW-3-10, 20)
	nameW := rest * 5 / 9
	scopeW := rest - nameW
	b.WriteString(truncate(theme.Muted.Render("  "+padRight("RELATIONS", tagW)+" "+padRight("KIND", kindW)+" "+padRight("NAME", nameW)+" "+
		padRight("SCOPE", scopeW)+" STATUS"), v.width))
	end := min(v.offset+v.listHeight(), len(v.rows))
	scopes := v.scopeCuts(end, scopeW)
	for i := v.offset; i < end; i++ {
		r := v.rows[i]
		b.WriteByte('\n')
		if r.idx < 0 {
			b.WriteString(truncate(theme.Title.Render(audit.RelationTitle(r.group)+" ("+strconv.Itoa(r.count)+")"), v.width))
			continue
		}
		id := v.st.identity(r.idx)
		line := " " + padRight(truncate(r.tags, tagW), tagW) + " " + padRight(truncate(audit.Printable(id.Kind.Label()), kindW), kindW) + " " +
			padRight(truncate(orDash(audit.Printable(id.Name)), nameW), nameW) + " " + padRight(truncate(scopes[i-v.offset], scopeW), scopeW) + " " +
			statusCell(id.Status, id.Change, v.st.decision(id.ID))
		if i == v.cursor {
			line = ">" + line
			b.WriteString(theme.Selected.Render(truncate(line, v.width) + strings.Repeat(" ", max(v.width-textWidth(line), 0))))
			continue
		}
		b.WriteString(truncate(" "+line, v.width))
	}
	return b.String()
}
