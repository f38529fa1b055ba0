package tui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// scroller is anything the navigation keys move: a table cursor, a text
// scroll position.
type scroller interface {
	Move(n int)
	GotoTop()
	GotoBottom()
	PageSize() int
}

// navigate applies a navigation key to s and reports whether msg was one.
func navigate(k navKeys, msg tea.KeyMsg, s scroller) bool {
	switch {
	case key.Matches(msg, k.Up):
		s.Move(-1)
	case key.Matches(msg, k.Down):
		s.Move(1)
	case key.Matches(msg, k.Top):
		s.GotoTop()
	case key.Matches(msg, k.Bottom):
		s.GotoBottom()
	case key.Matches(msg, k.HalfPageUp):
		s.Move(-max(s.PageSize()/2, 1))
	case key.Matches(msg, k.HalfPageDown):
		s.Move(max(s.PageSize()/2, 1))
	case key.Matches(msg, k.PageUp):
		s.Move(-s.PageSize())
	case key.Matches(msg, k.PageDown):
		s.Move(s.PageSize())
	default:
		return false
	}
	return true
}

// Identity table columns, in order.
const (
	colSource = iota
	colKind
	colName
	colScope
	colOwner
	colLastUsed
	colAge
	colFindings
	colStatus
	colRelations // shown only while the filter has person: terms
)

// identityColumns fit 80 cells at their minimum widths (after the
// two-cell gutter of cursor and mark); wider terminals give the spare
// width first to the columns short of a usual value (Fit: a NAME, an AWS
// account's SCOPE, an owner such as "(george-nguyen)", two findings),
// then to the text columns; narrower ones hide AGE, SOURCE, STATUS,
// OWNER, LAST USED and SCOPE, in that order: at 40 columns KIND, NAME
// and a finding still show. At 120 columns, with SOURCE, every column
// shows and OWNER has 15 cells (it had 8, NAME and SCOPE taking the
// spare by their shares). With a campaign picked, STATUS holds the
// decision the reviewer is there to make, so it is hidden last
// (statusDropDeciding). SOURCE (source/account) shows only where the
// population holds more than one source or account, and is as wide as
// the widest of them (fitSource), so it shows whole or gives way, never
// cut: from 87 cells for "github/acme", from 92 for "aws/123456789012".
// KIND, likewise, is as wide as the widest kind of the rows the table
// holds (fitKind), no wider, as k9s sizes a column to its cells: a
// Kubernetes "service account" (15) and a "dependabot secret" (17) show
// whole, where a Min of 14 cut them, and rows of shorter kinds (a filter
// for deploy keys) leave the rest to NAME and the others. The 14 here is
// the width the columns are laid out with before the rows come.
// FINDINGS takes the largest share of what is left (Grow), up to the
// widest list of findings of the rows the table holds (fitFindings): at 200 columns a
// list of four shows whole, where fixed shares cut it at 28 cells and
// gave NAME 45 for names of 20.
var identityColumns = []column{
	colSource:    {Title: "SOURCE", Min: 8, Fit: 16, Max: 22, Grow: 1, Drop: 20}, // aws/123456789012
	colKind:      {Title: "KIND", Min: 14, Max: 24},
	colName:      {Title: "NAME", Min: 11, Fit: 16, FitRank: 2, Grow: 4, Middle: true},            // AKIAPROD…000001, AKIAPROD…000002
	colScope:     {Title: "SCOPE", Min: 11, Fit: 12, FitRank: 4, Grow: 3, Drop: 2, KeepEnd: true}, // an AWS account; …ut-service
	colOwner:     {Title: "OWNER", Min: 7, Fit: 15, FitRank: 3, Max: 24, Grow: 1, Drop: 8},        // "(george-nguyen)", "alice@acme.com"
	colLastUsed:  {Title: "LAST USED", Min: 9, Drop: 4},
	colAge:       {Title: "AGE", Min: 4, Drop: 24},
	colFindings:  {Title: "FINDINGS", Min: 8, Fit: 14, FitRank: 1, Max: findingsMax, Grow: 6}, // "stale,unused"; no wider than the rows need (fitFindings)
	colStatus:    {Title: "STATUS", Min: statusWidth, Drop: statusDrop},                       // every statusCell whole
	colRelations: {Title: "RELATIONS", Min: 18, Max: 30, Grow: 1},
}

// findingsMax is the widest FINDINGS grows: a list of four or five
// findings; a longer one is cut.
const findingsMax = 64

// identitiesView is the table of every identity: filtered, sorted and
// marked for bulk actions. Rows are positions in the population, so an
// identity changed by an action shows its new values at once.
type identitiesView struct {
	keys   identitiesKeys
	st     *state
	table  *table[int32]
	at     time.Time // the clock reading of the frame being drawn
	width  int
	height int

	// The filter in force, and the prompt that edits it.
	filterText string
	filter     *filter.Filter
	// query is what the rows are: filter, within the campaign's items
	// (the user's own unless everyone), and only active identities
	// unless filter has a status: term (queryFilter).
	query     *filter.Filter
	everyone  bool
	editing   bool
	input     lineInput
	filterErr *filter.Error
	// awaitFilter is a filter with person: terms set while the owner
	// suggestions load, applied once they are in (setFilter).
	awaitFilter string

	sort     sortSpec
	selected map[string]struct{} // identity IDs marked for a bulk action

	// Queries run in the background; only the latest one's rows are shown.
	seq     uint64
	latest  atomic.Uint64
	pending bool
	// queriedItems is the read whole of the active campaign's items the
	// last query matched against (campaignItems.wholeRead; 0: none).
	queriedItems uint64
	resortSeq    uint64  // the query s or S started last: the same rows in another order (apply)
	order        []int32 // the natural order of orderCol on orderVersion
	orderCol     int
	orderVersion uint64
	lastQuery    time.Duration

	findings []audit.Finding // the findings of the row being drawn (cells)

	// sourcesOf is the population whose sources fitSource measured last.
	sourcesOf *population
	// kinds measures the KIND cells of the rows (fitKind): the query
	// that took them measured them (queryResult.kindWidth); the first
	// screen and grew measure the rows they take.
	kinds kindWidths
	finds findingsWidths // likewise, FINDINGS (fitFindings)

	// grown is the rows grew set last, whose room past them is grew's
	// alone to append into.
	grown []int32
	// matched is how many of the population's rows, from the first, the
	// rows shown were matched over: a population grown past it needs
	// only the rows from there matched (grew).
	matched int

	// related answers the filter's person: terms (nil without any), and
	// tags says how a match relates to them (the RELATIONS column).
	related func(filter.Subject, string) bool
	tags    func(*audit.Identity) string
}

func newIdentitiesView(st *state) *identitiesView {
	v := &identitiesView{
		keys:     newIdentitiesKeys(st.reviewer != nil),
		st:       st,
		sort:     sortSpec{col: noSort},
		selected: map[string]struct{}{},
	}
	v.table = newTable(identityColumns, v.key, v.cells)
	v.table.SetCellStyle(v.cellStyle)
	v.table.SetMarked(v.marked)
	v.table.SetHidden(colSource, !st.pop.manySources())
	v.table.SetHidden(colRelations, true)
	v.query = v.queryFilter()
	v.queriedItems = st.items.wholeRead()
	env := st.filterEnv(v.query)
	rows := make([]int32, 0, st.pop.len())
	sub := st.pop.subject()
	for i := range int32(st.pop.len()) {
		// The first screen at once: what is active is one comparison
		// each (a campaign's items are not read yet).
		if v.query.Match(sub.at(i), &env) {
			rows = append(rows, i)
			r := st.pop.row(i)
			v.kinds.add(&st.pop.t, r.kind)
			v.finds.add(&st.pop.t, r)
		}
	}
	v.table.SetRows(rows)
	v.matched = st.pop.len()
	return v
}

// queryFilter is what the table lists: the user's filter, within the
// active campaign's population (the user's own items unless everyone),
// active identities only unless a status: term says otherwise. A
// campaign's items are listed whatever their status: its population is
// frozen, and an item whose identity a later snapshot found removed, or
// could not check, is still to be decided (nhi campaign show lists it).
func (v *identitiesView) queryFilter() *filter.Filter {
	if c := v.st.campaign; c != "" {
		if q, err := campaignQueue(c, v.everyone, v.filter); err == nil {
			return q
		}
	}
	return filter.Active(v.filter, audit.Vocabulary)
}

// campaignQueue is filter f within campaign's items, the user's own
// unless everyone.
func campaignQueue(campaign string, everyone bool, f *filter.Filter) (*filter.Filter, error) {
	expr := "campaign:" + strconv.Quote(campaign)
	if !everyone {
		expr += " reviewer:me"
	}
	scope, err := filter.Parse(expr, audit.Vocabulary)
	if err != nil {
		return nil, err
	}
	// The user's terms first: a row they leave out needs no look-up
	// among the campaign's items (a million, issue 21).
	return filter.And(f, scope), nil
}

func (v *identitiesView) key(i int32) string { return v.st.pop.id(i) }

func (v *identitiesView) marked(i int32) bool {
	if len(v.selected) == 0 {
		return false
	}
	_, ok := v.selected[v.st.pop.id(i)]
	return ok
}

func (v *identitiesView) ShortHelp() []key.Binding {
	if v.editing {
		return v.keys.editing()
	}
	if v.table.Len() == 0 {
		// Nothing to open or select: only what shows rows again.
		out := []key.Binding{v.keys.Filter}
		if v.filterText != "" {
			c := v.keys.Clear
			c.SetHelp("esc", "clear filter")
			out = append(out, c)
		}
		if v.st.campaign != "" && !v.everyone {
			out = append(out, v.keys.Everyone)
		}
		return out
	}
	return v.keys.ShortHelp()
}

func (v *identitiesView) FullHelp() [][]key.Binding {
	if v.editing {
		return [][]key.Binding{v.keys.editing()}
	}
	k := v.keys
	k.inCampaign = v.st.campaign != ""
	return k.FullHelp()
}

// commandHelp is :identities while a campaign is picked: the way back to
// the whole population, named under ":" in the full help.
func (v *identitiesView) commandHelp() []key.Binding {
	if v.st.campaign == "" || v.editing {
		return nil
	}
	return []key.Binding{v.keys.Leave}
}

func (v *identitiesView) capturingInput() bool { return v.editing }

func (v *identitiesView) SetSize(width, height int) {
	v.width, v.height = width, height
	above := 1 // the title
	if v.editing {
		above += 2 // the filter prompt and its error or hint
	}
	drop := statusDrop
	if v.st.campaign != "" {
		drop = statusDropDeciding
	}
	v.table.SetDrop(colStatus, drop)
	// The column the rows are sorted by stays on screen, another giving
	// way: "sort age" above a table without AGE (80 columns hid it) named
	// an order the reader could not see.
	for _, c := range sortable {
		d := identityColumns[c].Drop
		if c == colStatus {
			d = drop
		}
		if c == v.sort.col {
			d = 0
		}
		v.table.SetDrop(c, d)
	}
	v.table.SetSize(width, height-above)
}

// fitLastUsed makes LAST USED as wide as the oldest last use needs: past
// two years a span has years and days (audit.Ago: "3y329d ago"), wider
// than the column's Min, which fits every shorter one ("729d ago").
func (v *identitiesView) fitLastUsed() {
	w := identityColumns[colLastUsed].Min
	if at := v.st.pop.oldestUse; at != noTime {
		if years := int(v.at.Sub(timeOf(at)) / (365 * 24 * time.Hour)); years >= 2 {
			w = max(w, len(strconv.Itoa(years))+len("y364d ago"))
		}
	}
	v.table.SetMinFit(colLastUsed, w, 0)
}

// fitAge makes AGE as wide as the oldest creation needs: past two years
// a span has years and days ("3y329d"), wider than the column's Min,
// which fits every shorter one ("729d").
func (v *identitiesView) fitAge() {
	w := identityColumns[colAge].Min
	if at := v.st.pop.oldestCreated; at != noTime {
		if years := int(v.at.Sub(timeOf(at)) / (365 * 24 * time.Hour)); years >= 2 {
			w = max(w, len(strconv.Itoa(years))+len("y364d"))
		}
	}
	v.table.SetMinFit(colAge, w, 0)
}

// fitSource makes SOURCE as wide as the widest source/account the rows
// came from (up to its Max), so each shows whole or, where the row has no
// room for it, the column gives way (AGE first, then SOURCE itself) rather
// than cut: "aws/1111111111…" at 100 columns read as any account whose
// number starts so. It measures again only when the population changed.
func (v *identitiesView) fitSource() {
	p := v.st.pop
	if p == v.sourcesOf {
		return
	}
	v.sourcesOf = p
	c := identityColumns[colSource]
	w := c.Min
	for k := range p.srcs {
		w = max(w, textWidth(audit.Printable(p.t.strs.at(k[0])+"/"+p.t.strs.at(k[1]))))
	}
	w = min(w, c.Max)
	v.table.SetMinFit(colSource, w, w)
}

// fitKind makes KIND as wide as the widest kind of the rows the table
// holds (not only those on screen, so the column keeps its width as the
// reader scrolls), up to its Max (an imported kind is named by its file),
// and no wider: the column does not grow, so each kind shows whole and
// the spare width goes to the columns that can use it. A kind wider than
// Max is cut.
func (v *identitiesView) fitKind() {
	w := min(max(v.kinds.widest, textWidth(identityColumns[colKind].Title)), identityColumns[colKind].Max)
	v.table.SetMinFit(colKind, w, 0)
}

// fitFindings makes FINDINGS grow no wider than the widest list of
// findings of the rows the table holds (findingsWidths), up to its Max, and grow sooner than NAME and SCOPE (its Grow): at 200 columns it
// was cut at 28 cells ("orphaned,overprivileged,unr…") while NAME had 45
// for names of 20, the spare shared by fixed weights.
func (v *identitiesView) fitFindings() {
	c := identityColumns[colFindings]
	w := min(max(v.finds.widest, c.Min), c.Max)
	v.table.SetMax(colFindings, w)
}

// relayout is SetSize again, after the lines above the table changed.
func (v *identitiesView) relayout() { v.SetSize(v.width, v.height) }

func (v *identitiesView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case queryResult:
		v.apply(msg)
		return nil
	case populationChangedMsg:
		v.table.SetHidden(colSource, !v.st.pop.manySources())
		return v.dataChanged(msg.rows)
	case populationGrewMsg:
		return v.grew(msg.from)
	case decisionsChangedMsg:
		v.query = v.queryFilter() // the campaign may be another one
		if !v.query.ReadsDecisions() && v.queriedItems == v.st.items.wholeRead() {
			// The same items, only their decisions changed, and no term
			// reads one: the rows stay, and show the decisions as they
			// are drawn (a query over a million rows was most of what a
			// decision cost).
			return nil
		}
		return v.requery()
	case applyFilterMsg:
		v.filterText = ""
		return v.setFilter(msg.expr)
	case suggestionsReadyMsg:
		if text := v.awaitFilter; text != "" && v.st.suggErr == nil {
			return v.setFilter(text)
		}
	case campaignsLoadedMsg:
		if text := v.awaitFilter; text != "" {
			return v.setFilter(text)
		}
	case othersMsg:
		if msg.err != nil {
			return v.othersFailed(msg)
		}
		if text := v.awaitFilter; text != "" {
			return v.setFilter(text)
		}
		named := slices.ContainsFunc(v.query.Campaigns(), func(name string) bool { return strings.EqualFold(name, msg.campaign) })
		if named && (!msg.sameItems || v.query.ReadsDecisions()) {
			return v.requery() // read again: what the rows match changed
		}
	case tea.KeyMsg:
		if v.editing {
			return v.updateFilter(msg)
		}
		return v.updateKeys(msg)
	}
	return nil
}

func (v *identitiesView) updateKeys(k tea.KeyMsg) tea.Cmd {
	if navigate(v.keys.navKeys, k, v.table) {
		return nil
	}
	switch {
	case key.Matches(k, v.keys.Open):
		if i, ok := v.table.Selected(); ok {
			return openDetail(v.st, i)
		}
	case key.Matches(k, v.keys.Filter):
		v.startFilter()
	case key.Matches(k, v.keys.Select):
		if i, ok := v.table.Selected(); ok {
			id := v.st.pop.id(i)
			if _, on := v.selected[id]; on {
				delete(v.selected, id)
			} else {
				v.selected[id] = struct{}{}
			}
			v.table.Move(1)
		}
	case key.Matches(k, v.keys.SelectAll):
		v.selectAllShown()
	case key.Matches(k, v.keys.Everyone):
		if v.st.campaign == "" {
			return flash("Choose a campaign first: :campaigns, then enter.", true)
		}
		v.everyone = !v.everyone
		v.query = v.queryFilter()
		return v.requery()
	case key.Matches(k, v.keys.Next):
		return v.nextUndecided(1)
	case key.Matches(k, v.keys.Previous):
		return v.nextUndecided(-1)
	case key.Matches(k, v.keys.Sort):
		v.nextSort()
		v.relayout()
		return v.resort()
	case key.Matches(k, v.keys.Reverse):
		if v.sort.col == noSort {
			v.nextSort()
			v.relayout()
		} else {
			v.sort.reversed = !v.sort.reversed
		}
		return v.resort()
	case key.Matches(k, v.keys.Clear):
		switch {
		case v.filterText != "":
			return v.setFilter("")
		case len(v.selected) > 0:
			clear(v.selected)
		}
	}
	return nil
}

// nextUndecided moves the cursor to the next (dir 1) or previous (dir -1)
// row the active campaign still needs a decision on, in the order shown,
// wrapping around once; it says so when there is none.
// The keys are disabled where there is no Reviewer.
func (v *identitiesView) nextUndecided(dir int) tea.Cmd {
	if v.st.campaign == "" {
		return flash("Choose a campaign first: :campaigns, then enter.", true)
	}
	where := audit.Printable(v.st.campaign)
	if v.filterText != "" {
		where += " among the identities shown"
	}
	rows, cur := v.table.Rows(), v.table.Cursor()
	n := len(rows)
	for step := 1; step <= n; step++ {
		at := ((cur+dir*step)%n + n) % n
		if v.st.decision(v.st.pop.id(rows[at])) != DecisionPending {
			continue
		}
		v.table.Move(at - cur)
		switch {
		case at == cur:
			return flash("This is the only undecided identity left in "+where+".", false)
		case dir > 0 && at < cur:
			return flash("Wrapped to the first undecided identity in "+where+".", false)
		case dir < 0 && at > cur:
			return flash("Wrapped to the last undecided identity in "+where+".", false)
		}
		return nil
	}
	return flash("Nothing left to decide in "+where+".", false)
}

func (v *identitiesView) nextSort() {
	i := slices.Index(sortable, v.sort.col)
	if i+1 >= len(sortable) {
		v.sort = sortSpec{col: noSort}
		return
	}
	v.sort = sortSpec{col: sortable[i+1]}
}

// selectAllShown marks every row the filter shows, or unmarks them all
// when they already are.
func (v *identitiesView) selectAllShown() {
	rows := v.table.Rows()
	all := true
	for _, i := range rows {
		if _, ok := v.selected[v.st.pop.id(i)]; !ok {
			all = false
			break
		}
	}
	for _, i := range rows {
		if all {
			delete(v.selected, v.st.pop.id(i))
		} else {
			v.selected[v.st.pop.id(i)] = struct{}{}
		}
	}
}

// startFilter opens the filter prompt on the filter in force followed by
// a space, so what is typed adds a term (k9s and lazygit open an empty
// one; this one keeps the filter to edit), where it ran on into the last
// term: "owner:none" and a typed "kind:webhook" read "owner:nonekind:webhook".
func (v *identitiesView) startFilter() {
	v.editing = true
	text := v.filterText
	if text != "" {
		text += " "
	}
	v.input = newLineInput(text)
	v.filterErr = nil
	v.relayout()
}

// updateFilter is a key while the filter prompt is open: the rows follow
// the text as it is typed; enter keeps the filter, esc clears it. A
// malformed expression keeps the last rows and shows where it is wrong.
func (v *identitiesView) updateFilter(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEnter:
		if v.awaitFilter != "" {
			// Waiting, not wrong: the prompt closes and the filter
			// applies once what it waits for is in, as the flash says.
			why := v.filterErr.Msg
			v.editing, v.filterErr = false, nil
			v.relayout()
			return flash(why, false)
		}
		if v.filterErr != nil {
			return nil // stay: the error and the text are on screen
		}
		v.editing = false
		v.relayout()
		return nil
	case tea.KeyEsc:
		v.editing = false
		v.filterErr = nil
		v.relayout()
		return v.setFilter("")
	}
	if !v.input.Update(k) {
		return nil
	}
	return v.setFilter(v.input.Value())
}

// setFilter compiles text and starts the query for it; on a syntax error
// the filter in force stays and the error is kept for the prompt.
func (v *identitiesView) setFilter(text string) tea.Cmd {
	f, err := filter.Parse(text, audit.Vocabulary)
	if err != nil {
		var fe *filter.Error
		if !errors.As(err, &fe) {
			fe = &filter.Error{Expr: text, Msg: err.Error()}
		}
		v.filterErr = fe
		return nil
	}
	waited := v.awaitFilter != ""
	v.awaitFilter = ""
	if why := v.campaignTermsError(f); why != "" {
		v.filterErr = &filter.Error{Expr: text, Msg: why}
		if !v.editing {
			return flash("Filter "+audit.Printable(text)+": "+why, true)
		}
		return nil
	}
	if len(f.People()) > 0 && v.st.pop.unsuggested > 0 {
		// A top owner suggestion relates an identity to a person: the
		// filter waits for them, rather than match short, and applies
		// once they are in (suggestionsReadyMsg).
		v.awaitFilter = text
		why := "person: waits for the " + v.st.suggestionsLoading() + "; it applies once they are in"
		v.filterErr = &filter.Error{Expr: text, Msg: why}
		if !v.editing {
			return flash(why, false)
		}
		return nil
	}
	if cmd, wait := v.campaignsToRead(f); wait {
		// The items of a campaign it names are not read yet: it waits,
		// rather than match nothing, and applies once they are in
		// (othersMsg, campaignsLoadedMsg).
		v.awaitFilter = text
		why := "campaign: waits for the campaign's items to be read; it applies once they are in"
		v.filterErr = &filter.Error{Expr: text, Msg: why}
		if !v.editing {
			return tea.Batch(cmd, flash(why, false))
		}
		return cmd
	}
	related, err := v.st.personRelated(f)
	if err != nil {
		v.filterErr = &filter.Error{Expr: text, Msg: err.Error()}
		return nil
	}
	tags, err := v.st.personTags(f)
	if err != nil {
		v.filterErr = &filter.Error{Expr: text, Msg: err.Error()}
		return nil
	}
	v.related, v.tags = related, tags
	v.table.SetHidden(colRelations, tags == nil)
	v.filterErr = nil
	v.filterText = strings.TrimSpace(text)
	if v.filterText == "" {
		v.filterText, f = "", nil
	}
	v.filter = f
	v.query = v.queryFilter()
	v.st.keepOthers(v.query)
	if waited && !v.editing {
		// The flash said it waits: it says it no longer does.
		return tea.Batch(v.requery(), flash("The filter "+audit.Printable(v.filterText)+" applies now: what it waited for is in.", false))
	}
	return v.requery()
}

// requery starts a query for the filter and order in force.
func (v *identitiesView) requery() tea.Cmd { return v.newQuery().cmd() }

// newQuery is the query requery starts.
func (v *identitiesView) newQuery() query {
	v.seq++
	v.queriedItems = v.st.items.wholeRead()
	v.latest.Store(v.seq)
	v.pending = true
	env := v.st.filterEnv(v.query)
	env.Related = relatedRows(v.related)
	q := query{seq: v.seq, latest: &v.latest, pop: v.st.pop, filter: v.query, env: env, sort: v.sort}
	if v.sort.col != noSort && v.orderCol == v.sort.col && v.orderVersion == v.st.pop.version {
		q.order = v.order
	}
	return q
}

// resort is requery for a new order of the same rows.
func (v *identitiesView) resort() tea.Cmd {
	cmd := v.requery()
	v.resortSeq = v.seq
	return cmd
}

// dataChanged is called when identities changed (rows: the positions
// replaced, nil: any): rows that depend on what changed are recomputed.
func (v *identitiesView) dataChanged(rows []int32) tea.Cmd {
	if v.filter == nil && v.st.campaign == "" && v.sort.col == noSort {
		// Rows are positions: the table shows the new values as is (an
		// owner changes no status).
		return nil
	}
	if v.patch(rows) {
		return nil
	}
	return v.requery()
}

// patchMaxRows is the most identities replaced at once for which the
// table matches them alone, not every row: a decision, an owner set on a
// selection. Each costs a look-up in the rows shown and, when it comes or
// goes, a copy of them.
const patchMaxRows = 256

// patch matches the identities at positions changed again, alone, and
// adds or takes them from the rows shown: what a query over every row
// would answer when only they changed, where that query, over a million
// rows, was most of what a decision in a campaign cost (issue 21). Only
// rows in the population's order (no sort) are patched, and only when no
// query is on its way (its rows would replace these); ok is false where
// the query must run.
func (v *identitiesView) patch(changed []int32) (ok bool) {
	if len(changed) == 0 || v.sort.col != noSort || v.pending {
		return false
	}
	env := v.st.filterEnv(v.query)
	env.Related = relatedRows(v.related)
	sub := v.st.pop.subject()
	rows := v.table.Rows()
	copied := false
	for _, i := range changed {
		k, shown := slices.BinarySearch(rows, i)
		match := v.query.Match(sub.at(i), &env)
		if match == shown {
			continue
		}
		if !copied {
			// The slice shown may be grown into (grew) or held by a
			// frame: the patched rows are new.
			rows, copied = slices.Clone(rows), true
		}
		if match {
			rows = slices.Insert(rows, k, i)
			r := v.st.pop.row(i)
			v.kinds.add(&v.st.pop.t, r.kind)
			v.finds.add(&v.st.pop.t, r)
		} else {
			rows = slices.Delete(rows, k, k+1)
		}
	}
	if copied {
		v.grown = nil
		v.table.SetRows(rows)
	}
	return true
}

// grew shows identities appended to the population while it loads.
func (v *identitiesView) grew(from int) tea.Cmd {
	if v.sort.col != noSort || v.pending || v.matched > v.st.pop.len() {
		return v.requery()
	}
	if v.filter != nil || v.st.campaign != "" {
		// The rows shown stay, and only the rows past those they were
		// matched over are matched, off the event loop: a query over
		// every row at each batch matched a million-row population five
		// times over as it loaded, and with a campaign each match is a
		// look-up among its items (issue 21).
		q := v.newQuery()
		q.from, q.prefix, q.prefixWidths = v.matched, v.table.Rows(), [2]int{v.kinds.widest, v.finds.widest}
		return q.cmd()
	}
	old := v.table.Rows()
	if len(old) > 0 && int(old[len(old)-1]) >= from {
		return v.requery()
	}
	// The new rows go after the old in the room grew left, which nothing
	// else appends into (what reads the old rows reads them up to their
	// length); else into a new slice sized for the population the load
	// expects, once counted: a slice sized for each batch's rows alone
	// was copied whole at every batch of a million-row load, and one
	// grown by appending was copied again and again (issue 21).
	rows, need := old, len(old)+v.st.pop.len()-from
	if v.grown == nil || cap(old) < need || len(old) != len(v.grown) || unsafe.SliceData(old) != unsafe.SliceData(v.grown) {
		rows = make([]int32, len(old), max(need, v.st.loadTotal))
		copy(rows, old)
	}
	env := v.st.filterEnv(v.query)
	sub := v.st.pop.subject()
	for i := int32(from); i < int32(v.st.pop.len()); i++ {
		if v.query.Match(sub.at(i), &env) {
			rows = append(rows, i)
			r := v.st.pop.row(i)
			v.kinds.add(&v.st.pop.t, r.kind)
			v.finds.add(&v.st.pop.t, r)
		}
	}
	v.table.SetRows(rows)
	v.grown = rows
	v.matched = v.st.pop.len()
	return nil
}

func (v *identitiesView) apply(r queryResult) {
	if r.stale || r.seq != v.seq {
		return // a newer query is on its way
	}
	v.pending = false
	v.lastQuery = r.duration
	v.grown = nil
	v.matched = r.upTo
	if r.order != nil {
		v.order, v.orderCol, v.orderVersion = r.order, r.sort.col, r.version
	}
	before, had := v.table.SelectedKey()
	if r.seq == v.resortSeq {
		v.table.Reorder(r.rows)
	} else {
		v.table.SetRows(r.rows)
	}
	v.kinds = kindWidths{widest: r.kindWidth}
	v.finds = findingsWidths{widest: r.findingsWidth}
	if after, ok := v.table.SelectedKey(); had && ok && after != before {
		v.table.GotoTop() // the row under the cursor is filtered out
	}
}

// targets are the identities an action applies to: the marked ones, else
// the one under the cursor.
func (v *identitiesView) targets() []int32 {
	if len(v.selected) > 0 {
		out := make([]int32, 0, len(v.selected))
		for id := range v.selected {
			if i, ok := v.st.pop.find(id); ok {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return out
	}
	if i, ok := v.table.Selected(); ok {
		return []int32{i}
	}
	return nil
}

// hiddenTargets is how many marked identities the filter does not show.
func (v *identitiesView) hiddenTargets() int {
	if len(v.selected) == 0 || v.filter == nil {
		return 0
	}
	shown := 0
	for _, i := range v.table.Rows() {
		if _, ok := v.selected[v.st.pop.id(i)]; ok {
			shown++
		}
	}
	return len(v.selected) - shown
}

// actionDone clears the marks after a bulk action used them.
func (v *identitiesView) actionDone() { clear(v.selected) }

func (v *identitiesView) View() string {
	v.at = v.st.now()
	v.fitLastUsed()
	v.fitAge()
	v.fitSource()
	v.fitKind()
	v.fitFindings()
	var b strings.Builder
	b.WriteString(joinEnds(v.title(), v.position(), v.width))
	if v.editing {
		b.WriteByte('\n')
		b.WriteString(truncate(v.input.View(theme.Prompt.Render("/")), v.width))
		b.WriteByte('\n')
		b.WriteString(truncate(v.filterHint(), v.width))
	}
	b.WriteByte('\n')
	b.WriteString(v.table.View())
	return b.String()
}

// title is "Identities 1,234 of 100,000 · 3 selected · sort name · filter owner:none".
func (v *identitiesView) title() string {
	total := v.st.pop.active
	if v.query.HasStatus() && v.filter.HasStatus() {
		total = v.st.pop.len()
	}
	count := commas(v.table.Len())
	switch {
	case v.filter == nil:
	case v.st.campaign == "":
		count += " of " + commas(total)
	case v.st.items != nil:
		// Of the campaign's items, as "Identities 3 of 295" says it of
		// the population: "My items 0" under a filter read as nothing to
		// decide.
		of := v.st.items.mine
		if v.everyone {
			of = v.st.items.len()
		}
		count += " of " + commas(of)
	}
	sep := theme.Muted.Render(" · ")
	what := "Identities "
	switch {
	case v.st.campaign != "" && v.everyone:
		what = "Everyone's items "
	case v.st.campaign != "":
		what = "My items "
	}
	t := theme.Title.Render(what + count)
	if n := len(v.selected); n > 0 {
		t += sep + theme.Mark.Render(commas(n)+" selected")
	}
	if v.st.campaign != "" {
		t += sep + "campaign " + audit.Printable(v.st.campaign)
		if v.st.items == nil {
			t += sep + theme.Muted.Render("reading its items…")
		}
		if v.st.forOthers {
			t += sep + theme.Warning.Render("deciding for others")
		}
	}
	if v.sort.col != noSort {
		s := "sort " + sortNames[v.sort.col]
		if v.sort.reversed {
			s += ", reversed"
		}
		t += sep + s
	}
	if v.pending {
		t += sep + theme.Muted.Render("filtering…")
	}
	if v.filterText != "" && !v.editing {
		t += sep + "filter " + audit.Printable(v.filterText)
	}
	return t
}

func (v *identitiesView) position() string {
	if n := v.table.Len(); n > 0 {
		return theme.Position.Render(commas(v.table.Cursor()+1) + "/" + commas(n))
	}
	if v.filter != nil {
		return theme.Position.Render("no match")
	}
	return ""
}

// filterHint is the line under the filter prompt: the error with a caret
// under where it is, or how to write a filter.
func (v *identitiesView) filterHint() string {
	if e := v.filterErr; e != nil {
		caret := e.Caret()
		caret = caret[strings.LastIndexByte(caret, '\n')+1:]
		msg := e.Msg
		if e.Hint != "" {
			msg += " (" + e.Hint + ")"
		}
		return " " + theme.Error.Render(caret+" "+audit.Printable(msg))
	}
	return theme.Muted.Render("  e.g. owner:none  finding:stale  -kind:webhook  unused>90d  name:deploy*")
}
