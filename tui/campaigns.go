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
	err    error
	loaded bool
}

var campaignColumns = []column{
	{Title: "NAME", Min: 12, Grow: 1},
	{Title: "STATUS", Min: 7},
	{Title: "DUE", Min: 10},
	{Title: "PROGRESS", Min: 27, Right: true}, // "5 decided · 70 no-response"
	{Title: "DECISIONS", Min: 12, Grow: 3, Drop: 1},
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

func (v *campaignsView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *campaignsView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *campaignsView) SetSize(width, height int) {
	v.width = width
	v.table.SetSize(width, height-2) // the title, and the reviewers line below
}

func (v *campaignsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case campaignsLoadedMsg:
		v.loaded, v.err = true, msg.err
		v.table.SetRows(msg.campaigns)
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
		title += theme.Muted.Render(" · deciding in ") + audit.Printable(v.st.campaign)
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
	return "\n" + truncate(theme.Muted.Render("Reviewers: ")+strings.Join(parts, " · "), v.width)
}
