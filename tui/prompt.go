package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// prompt is a question at the bottom of the screen, above the hint bar.
// While one is open every key but ctrl+c goes to it. It closes itself
// (or opens the next) through its Model.
type prompt interface {
	Update(msg tea.KeyMsg) tea.Cmd
	View(width int) string
	Lines() int
	Keys() help.KeyMap
}

var (
	keyYes      = key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes"))
	keyNo       = key.NewBinding(key.WithKeys("n", "N", "enter", "esc"), key.WithHelp("n/enter/esc", "no"))
	keyCancel   = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	keyComplete = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete"))
)

// confirmPrompt asks a yes/no question; No is the default: only y says yes.
type confirmPrompt struct {
	m        *Model
	question string
	yes      func() tea.Cmd
}

func (m *Model) confirm(question string, yes func() tea.Cmd) {
	m.openPrompt(&confirmPrompt{m: m, question: question, yes: yes})
}

func (p *confirmPrompt) Update(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keyYes):
		p.m.prompt = nil
		return p.yes()
	case key.Matches(msg, keyNo):
		p.m.prompt = nil
		p.m.setFlash("Cancelled: nothing was changed.", false)
	}
	return nil // any other key: the question stays
}

func (p *confirmPrompt) View(int) string {
	return theme.Prompt.Render(p.question + " [y/N]")
}

func (p *confirmPrompt) Lines() int        { return 1 }
func (p *confirmPrompt) Keys() help.KeyMap { return promptKeys{keyYes, keyNo} }

// command is one of the : commands.
type command struct {
	name    string
	aliases []string
	help    string
	run     func(m *Model, arg string) tea.Cmd // arg: the rest of the line
}

// commands are the : commands of this session, in the order completion
// offers them.
func (m *Model) commands() []command {
	cmds := []command{
		{"identities", []string{"id", "ids", "i"}, "every identity: the table, out of the campaign picked", func(m *Model, _ string) tea.Cmd {
			m.popToBase()
			return m.leaveCampaign()
		}},
		{"overview", []string{"ov", "o"}, "snapshot, coverage, findings, owners", func(m *Model, _ string) tea.Cmd {
			m.popToBase()
			return m.openOverview()
		}},
	}
	if m.st.store != nil { // the directory of people is in the file
		cmds = append(cmds, command{"offboard", []string{"off", "leavers"}, "leavers who still own, hold or created identities", func(m *Model, _ string) tea.Cmd {
			m.popToBase()
			return m.st.pushView(newOffboardView(m.st), m.loadPeople())
		}})
	}
	if m.st.reviewer != nil {
		cmds = append(cmds,
			command{"campaigns", []string{"camp", "c"}, "review campaigns and their progress", func(m *Model, _ string) tea.Cmd {
				m.popToBase()
				return m.st.pushView(newCampaignsView(m.st), m.loadCampaigns())
			}},
			command{"export", []string{"x"}, "write the campaign's evidence report: :export [DIR] [--force]", (*Model).export},
			command{"others", nil, "decide for other reviewers too (flagged), or stop", func(m *Model, _ string) tea.Cmd {
				m.st.forOthers = !m.st.forOthers
				if m.st.forOthers {
					m.setFlash("Deciding for other reviewers too: your decisions on their items are flagged in the report. :others again stops.", false)
				} else {
					m.setFlash("Deciding only your own items.", false)
				}
				return nil
			}})
	}
	return append(cmds,
		// :help as vim has it, for whoever tries it before ?.
		command{"help", []string{"h"}, "every key of this screen, as ? shows it", func(m *Model, _ string) tea.Cmd {
			m.showHelp()
			return nil
		}},
		command{"quit", []string{"q", "q!", "exit"}, "leave nhi", func(*Model, string) tea.Cmd { return tea.Quit }})
}

// commandPrompt is the : command line (k9s): tab completes a command name.
type commandPrompt struct {
	m     *Model
	input lineInput
}

func newCommandPrompt(m *Model) *commandPrompt { return &commandPrompt{m: m} }

func (p *commandPrompt) matches() []command {
	word, _ := splitCommand(p.input.Value())
	var out []command
	for _, c := range p.m.commands() {
		if strings.HasPrefix(c.name, word) || slices.Contains(c.aliases, word) {
			out = append(out, c)
		}
	}
	return out
}

func (p *commandPrompt) Update(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		p.m.prompt = nil
	case tea.KeyTab:
		if ms := p.matches(); len(ms) > 0 {
			p.input.SetValue(ms[0].name)
		}
	case tea.KeyEnter:
		p.m.prompt = nil
		return p.m.runCommand(p.input.Value())
	default:
		p.input.Update(msg)
	}
	return nil
}

func (p *commandPrompt) View(width int) string {
	var names []string
	ms := p.matches()
	for _, c := range ms {
		names = append(names, ":"+c.name)
	}
	hint := "no such command"
	switch {
	case len(ms) == 1:
		// One command: what it does, and for :export the folder it writes.
		_, arg := splitCommand(p.input.Value())
		hint = ":" + ms[0].name + ": " + ms[0].help
		if ms[0].name == "export" {
			hint = ":export " + p.m.exportHint(arg)
		}
	case len(names) > 0:
		hint = strings.Join(names, "  ")
	}
	return truncate(p.input.View(theme.Prompt.Render(":")), width) + "\n" + theme.Muted.Render(truncate("  "+hint, width))
}

func (p *commandPrompt) Lines() int { return 2 }

func (p *commandPrompt) Keys() help.KeyMap {
	return promptKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		keyComplete, keyCancel,
	}
}

// runCommand carries out a : command.
func (m *Model) runCommand(line string) tea.Cmd {
	word, arg := splitCommand(line)
	if word == "" {
		return nil
	}
	var found *command
	for _, c := range m.commands() {
		if c.name == word || slices.Contains(c.aliases, word) {
			found = &c
			break
		}
	}
	if found == nil {
		var names []string
		for _, c := range m.commands() {
			names = append(names, ":"+c.name)
		}
		m.setFlash("Unknown command :"+word+" — try "+strings.Join(names, ", "), true)
		return nil
	}
	return found.run(m, arg)
}

// splitCommand splits a : command line into its command word (lower
// case) and the rest, as typed.
func splitCommand(line string) (word, arg string) {
	line = strings.TrimSpace(line)
	word, arg, _ = strings.Cut(line, " ")
	return strings.ToLower(word), strings.TrimSpace(arg)
}

// popToBase closes every view above the first. A : command starts a new
// path: there is no way back from it (jumpToBase keeps one).
func (m *Model) popToBase() {
	m.back = nil
	clear(m.stack[1:])
	m.stack = m.stack[:1]
	m.layout()
}

// candidate is an owner the owner prompt offers, and why.
type candidate struct {
	owner string
	why   string // where the suggestion comes from; "" for a known owner
}

// ownerPrompt asks for the owner of the target identities, completing
// from their suggestions and every owner the file knows.
type ownerPrompt struct {
	m       *Model
	targets []int32
	hidden  int // targets the filter does not show
	subject string
	input   lineInput
	cands   []candidate
	cycle   completionCycle
	// waiting: a target's owner suggestions are not derived yet
	// (suggest.go); the prompt offers the known owners and says so.
	waiting bool
}

func newOwnerPrompt(m *Model, targets []int32, hidden int) *ownerPrompt {
	p := &ownerPrompt{m: m, targets: targets, hidden: hidden, subject: m.subject(targets)}
	if len(targets) == 1 {
		if o := m.st.identity(targets[0]).Owner; o != "" {
			p.subject += " (now " + audit.Printable(o) + ")"
		}
	}
	p.refresh()
	return p
}

// refresh builds the candidates: the suggestions for the targets (for
// several, the most common first), then the known owners.
func (p *ownerPrompt) refresh() {
	p.cands = p.cands[:0]
	seen := map[string]bool{}
	p.waiting = false
	for _, i := range p.targets {
		if p.m.st.pop.row(i).nSugg == suggPending {
			// None offered rather than some: a count "suggested for 3
			// of 5" would leave out the targets still waiting.
			p.waiting = true
			break
		}
	}
	switch {
	case p.waiting:
	case len(p.targets) == 1:
		for _, s := range p.m.st.identity(p.targets[0]).Suggestions {
			if s.Owner != "" && !seen[s.Owner] {
				seen[s.Owner] = true
				p.cands = append(p.cands, candidate{s.Owner, s.Source})
			}
		}
	default:
		count := map[string]int{}
		for _, i := range p.targets {
			for _, s := range p.m.st.identity(i).Suggestions {
				if s.Owner != "" {
					count[s.Owner]++
				}
			}
		}
		var names []string
		for n := range count {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int {
			if count[a] != count[b] {
				return count[b] - count[a]
			}
			return strings.Compare(a, b)
		})
		for _, n := range names {
			seen[n] = true
			p.cands = append(p.cands, candidate{n, "suggested for " + strconv.Itoa(count[n]) + " of " + commas(len(p.targets))})
		}
	}
	for _, o := range p.m.st.owners {
		if !seen[o] {
			seen[o] = true
			p.cands = append(p.cands, candidate{owner: o})
		}
	}
}

// matching are the candidates that start with what was typed (ignoring
// case, and the @ of a team).
func (p *ownerPrompt) matching(typed string) []candidate {
	t := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(typed), "@"))
	var out []candidate
	for _, c := range p.cands {
		if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(c.owner, "@")), t) {
			out = append(out, c)
		}
	}
	return out
}

func (p *ownerPrompt) Update(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		p.m.prompt = nil
		return nil
	case tea.KeyTab, tea.KeyShiftTab:
		ms := p.matching(p.cycle.begin(p.input.Value()))
		if k, ok := p.cycle.step(len(ms), msg.Type == tea.KeyShiftTab); ok {
			p.input.SetValue(ms[k].owner)
		}
		return nil
	case tea.KeyEnter:
		return p.m.submitOwner(p.targets, p.hidden, p.input.Value())
	}
	if p.input.Update(msg) {
		p.cycle.stop()
	}
	return nil
}

func (p *ownerPrompt) View(width int) string {
	line := p.input.View(theme.Prompt.Render("Owner of " + p.subject + ": "))
	ms := p.matching(p.cycle.matched(p.input.Value()))
	var b strings.Builder
	b.WriteString("  ")
	room := width - 7 // for the completions
	if p.waiting {
		b.WriteString(p.m.st.suggestionsLoading() + "; ")
		room -= textWidth(p.m.st.suggestionsLoading()) + 2
	}
	switch {
	case len(ms) == 0 && len(p.cands) == 0 && p.waiting:
		b.WriteString("type an owner (a login, @team or email)")
	case len(ms) == 0 && len(p.cands) == 0:
		b.WriteString("no suggestions; type an owner (a login, @team or email)")
	case len(ms) == 0:
		b.WriteString("no known owner starts with that; enter sets it as typed")
	default:
		labels := make([]string, len(ms))
		for k, c := range ms {
			labels[k] = completionLabel(c.owner, c.why)
		}
		writeCompletions(&b, room, labels)
	}
	return truncate(line, width) + "\n" + theme.Muted.Render(truncate(b.String(), width))
}

func (p *ownerPrompt) Lines() int { return 2 }

func (p *ownerPrompt) Keys() help.KeyMap {
	return promptKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "set owner")),
		keyComplete, keyCancel,
	}
}

// reasonPrompt asks why, for a decision.
type reasonPrompt struct {
	m        *Model
	question string
	hint     string // what becomes of the text; the default speaks of the report
	enter    string // what enter does, for the hint bar: "record the decision"
	required bool
	input    lineInput
	done     func(reason string) tea.Cmd
	missing  bool
}

func (p *reasonPrompt) Update(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		p.m.prompt = nil
		return nil
	case tea.KeyEnter:
		r := strings.TrimSpace(p.input.Value())
		if r == "" && p.required {
			p.missing = true
			return nil
		}
		p.m.prompt = nil
		return p.done(r)
	}
	if p.input.Update(msg) {
		p.missing = false
	}
	return nil
}

func (p *reasonPrompt) View(width int) string {
	hint := theme.Muted.Render("  the reason goes into the evidence report")
	if p.hint != "" {
		hint = theme.Muted.Render("  " + p.hint)
	}
	if !p.required && p.hint == "" {
		hint = theme.Muted.Render("  optional: enter alone records no reason")
	}
	if p.missing {
		hint = theme.Error.Render("  some text is required")
		if p.hint == "" {
			hint = theme.Error.Render("  a reason is required")
		}
	}
	return truncate(p.input.View(theme.Prompt.Render(p.question+" ")), width) + "\n" + hint
}

func (p *reasonPrompt) Lines() int { return 2 }

func (p *reasonPrompt) Keys() help.KeyMap {
	return promptKeys{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", cmp.Or(p.enter, "next"))), keyCancel}
}

// completionLabel is how a completion is offered: its text, and why in
// brackets when there is a why.
func completionLabel(text, why string) string {
	if why == "" {
		return audit.Printable(text)
	}
	return audit.Printable(text) + " (" + audit.Printable(why) + ")"
}

// completionCycle is tab and shift-tab in a prompt that completes (the
// owner and transfer prompts): they step forward and back through the
// candidates matching what was typed before the first tab, the base,
// until typing ends the cycle.
type completionCycle struct {
	on   bool
	base string
	next int // the candidate tab puts in next
}

// begin starts a cycle from what is typed, unless one is on, and returns
// its base: what the candidates to step through match.
func (c *completionCycle) begin(typed string) string {
	if !c.on {
		c.on, c.base, c.next = true, typed, 0
	}
	return c.base
}

// step is the candidate, of n matching the base, that tab (back: shift-
// tab) puts in the input; ok is false when there is none.
func (c *completionCycle) step(n int, back bool) (k int, ok bool) {
	if n == 0 {
		return 0, false
	}
	if back {
		c.next = (c.next - 2 + 2*n) % n
	}
	k = c.next % n
	c.next = (k + 1) % n
	return k, true
}

// matched is what the candidates on screen match: the base while
// cycling, what is typed otherwise.
func (c *completionCycle) matched(typed string) string {
	if c.on {
		return c.base
	}
	return typed
}

// stop ends the cycle: the user typed.
func (c *completionCycle) stop() { c.on = false }

// writeCompletions writes "tab: a · b · +N more" into b: as many labels
// as fit in room columns, then how many were left out. The owner and the
// transfer prompts share it, so both offer completions the same way.
func writeCompletions(b *strings.Builder, room int, labels []string) {
	b.WriteString("tab: ")
	for k, item := range labels {
		if k > 0 {
			item = " · " + item
		}
		more := ""
		if k+1 < len(labels) {
			more = " · +" + strconv.Itoa(len(labels)-k-1) + " more"
		}
		if k > 0 && textWidth(item)+textWidth(more) > room {
			b.WriteString(" · +" + strconv.Itoa(len(labels)-k) + " more")
			break
		}
		b.WriteString(item)
		room -= textWidth(item)
	}
}
