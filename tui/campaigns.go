package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// campaignsView lists the review campaigns with their progress, as the
// root's loadCampaigns read them through the Reviewer; enter makes one the
// campaign the decision keys record in.
type campaignsView struct {
	keys   listKeys
	st     *state
	table  *table[Campaign]
	width  int
	height int
	err    error
	loaded bool
}

// The campaigns table's columns. NAME is as wide as the longest name
// when it can be: DECISIONS gives way first (the reviewers line below
// still counts each one's decisions), then NAME is cut in the middle, so
// "2026-q4-acc…-engineering" and "offboard-ali…-2026-10-31" stay told
// apart by their ends. PROGRESS is as wide as its widest cell.
const (
	campName = iota
	campStatus
	campDue
	campProgress
	campDecisions
)

var campaignColumns = []column{
	campName:      {Title: "NAME", Min: 12, Middle: true}, // Fit: the longest name
	campStatus:    {Title: "STATUS", Min: 7},
	campDue:       {Title: "DUE", Min: 10},
	campProgress:  {Title: "PROGRESS", Min: 27, Right: true}, // "5 decided · 70 no-response"
	campDecisions: {Title: "DECISIONS", Min: 12, Grow: 1, Drop: 1},
}

func newCampaignsView(st *state) *campaignsView {
	v := &campaignsView{keys: newListKeys("decide in this campaign"), st: st}
	v.table = newTable(campaignColumns, func(c Campaign) string { return c.Name }, campaignCells)
	return v
}

func campaignCells(c Campaign, dst []string) {
	dst[0] = orDash(audit.Printable(c.Name))
	dst[1] = orDash(audit.Printable(c.Status))
	dst[2] = dash
	if !c.Due.IsZero() {
		dst[2] = c.Due.UTC().Format("2006-01-02")
	}
	dst[3] = c.progressText()
	var parts []string
	for _, d := range []string{DecisionDecommission, DecisionKeep, DecisionRotate} {
		if n := c.Counts[d]; n > 0 {
			parts = append(parts, d+" "+commas(n))
		}
	}
	dst[4] = orDash(strings.Join(parts, " · "))
}

func (v *campaignsView) ShortHelp() []key.Binding  { return v.keysNow().ShortHelp() }
func (v *campaignsView) FullHelp() [][]key.Binding { return v.keysNow().FullHelp() }

// keysNow are the view's keys as the selected campaign allows: enter on
// a closed one shows its items, and offers no decision it would refuse.
func (v *campaignsView) keysNow() listKeys {
	k := v.keys
	if v.table.Len() == 0 {
		return k.withoutOpen() // no campaign to decide in
	}
	if c, ok := v.table.Selected(); ok && c.Status == campaignClosed {
		k.Open = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "show its items (closed: no more decisions)"))
	}
	return k
}

// campaignClosed is a closed campaign's Status: its decisions can no
// longer change.
const campaignClosed = "closed"

func (v *campaignsView) SetSize(width, height int) {
	v.width, v.height = width, height
	nameW, progW := 0, textWidth("PROGRESS")
	for _, c := range v.table.Rows() {
		nameW = max(nameW, textWidth(audit.Printable(c.Name)))
		progW = max(progW, textWidth(c.progressText()))
	}
	progW = min(progW, campaignColumns[campProgress].Min)
	v.table.SetMinFit(campProgress, progW, 0)
	v.table.SetMinFit(campName, campaignColumns[campName].Min, nameW)
	// DECISIONS gives way before a name is cut: the gutter, the names
	// whole, the columns between and DECISIONS at its least.
	need := 1 + nameW + 1 + campaignColumns[campStatus].Min + 1 + campaignColumns[campDue].Min + 1 + progW +
		1 + campaignColumns[campDecisions].Min
	v.table.SetHidden(campDecisions, need > width)
	v.table.SetSize(width, height-2) // the title, and the reviewers line below
}

func (v *campaignsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case campaignsLoadedMsg:
		v.loaded, v.err = true, msg.err
		v.table.SetRows(msg.campaigns)
		v.SetSize(v.width, v.height) // the columns fit the names
		if v.st.campaign != "" {
			v.table.SelectKey(v.st.campaign)
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, v.keys.Back):
			return popView
		case key.Matches(msg, v.keys.Open):
			if c, ok := v.table.Selected(); ok {
				return func() tea.Msg { return campaignChosenMsg{c.Name} }
			}
		default:
			navigate(v.keys.navKeys, msg, v.table)
		}
	}
	return nil
}

func (v *campaignsView) View() string {
	title := theme.Title.Render("Campaigns " + commas(v.table.Len()))
	if v.st.campaign != "" {
		if c := v.st.activeCampaign(); c != nil && c.Status == campaignClosed {
			title += theme.Muted.Render(" · showing ") + audit.Printable(v.st.campaign) + theme.Muted.Render(" (closed)")
		} else {
			title += theme.Muted.Render(" · deciding in ") + audit.Printable(v.st.campaign)
		}
	}
	body := v.table.View()
	switch {
	case v.err != nil:
		// Wrapped, not cut: what to do comes after what went wrong.
		body = theme.Error.Render(wrapLines(audit.Printable(readError("Campaigns", v.err)), v.width))
	case !v.loaded:
		body = theme.Muted.Render("reading campaigns…")
	case v.table.Len() == 0:
		body = theme.Muted.Render(truncate("No campaign yet: nhi campaign create NAME --scope EXPR --due YYYY-MM-DD", v.width))
	}
	return truncate(title, v.width) + "\n" + body + v.reviewersLine()
}

// reviewersLine is the selected campaign's progress per reviewer, under
// the table.
func (v *campaignsView) reviewersLine() string {
	c, ok := v.table.Selected()
	if !ok || v.err != nil || len(c.Reviewers) == 0 {
		return ""
	}
	parts := make([]string, len(c.Reviewers))
	for i, r := range c.Reviewers {
		parts[i] = reviewerLabel(r.Reviewer) + " " + commas(r.Decided) + "/" + commas(r.Assigned)
	}
	line := theme.Muted.Render("Reviewers: ") + strings.Join(parts, " · ")
	if name := audit.Printable(c.Name); textWidth(name) > v.table.ColumnWidth(campName) {
		line = name + theme.Muted.Render(" · ") + line // its NAME cell is cut
	}
	return "\n" + truncate(line, v.width)
}
