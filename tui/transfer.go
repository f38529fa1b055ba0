package tui

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// Transfer in an offboarding campaign (docs/offboarding.md, "Deciding"):
// T asks for the new owner, completing from the active people of the
// directory, refuses the leaver and anyone who left as nhi decide …
// transfer --to does, then asks why, and records the same decision.

// Transferrer is the part of a Reviewer that hands identities of an
// offboarding campaign to a new owner: a transfer decision and the owner
// it records, one of each per identity, all or none. cmd/nhi's reviewer
// has it; without it T is not offered.
type Transferrer interface {
	Transfer(ctx context.Context, actor, campaign string, ids []string, to, reason string) ([]audit.Event, error)
}

// transferrer is the session's Transferrer when the active campaign is an
// offboarding one, and the leaver's e-mail ("" for a system); nil when T
// does not apply.
func (s *state) transferrer() (Transferrer, string) {
	t, ok := s.reviewer.(Transferrer)
	c := s.activeCampaign()
	if !ok || c == nil || c.Offboards == "" || c.Status == "closed" {
		return nil, ""
	}
	if c.Offboards == "system" {
		return t, ""
	}
	return t, c.Offboards
}

// transferPeopleMsg is the directory, read for the transfer prompt.
type transferPeopleMsg struct {
	dir *audit.Directory
	err error
}

// transferPrompt asks who takes the targets over.
type transferPrompt struct {
	m        *Model
	targets  []int32
	hidden   int
	subject  string
	campaign string
	leaver   string // e-mail; "" for a system
	input    lineInput
	dir      *audit.Directory
	err      error  // the directory could not be read
	refusal  string // why enter did not go on
	cycle    completionCycle
}

// startTransfer opens the transfer prompt for the targets that can be
// decided, and reads the directory behind it.
func (m *Model) startTransfer(targets []int32, hidden int) tea.Cmd {
	ok, why := m.decidable(targets)
	if len(ok) == 0 {
		m.setFlash(why, true)
		return nil
	}
	if t, _ := m.st.transferrer(); t == nil {
		m.setFlash("Transfer belongs to offboarding campaigns (nhi offboard PERSON); here, o sets the owner.", true)
		return nil
	}
	_, leaver := m.st.transferrer()
	p := &transferPrompt{m: m, targets: ok, hidden: hidden, subject: m.subject(ok), campaign: m.st.campaign, leaver: leaver}
	if len(ok) < len(targets) {
		p.subject += " (" + commas(len(ok)) + " of the " + commas(len(targets)) + " selected: " + why + ")"
	}
	m.openPrompt(p)
	store, ctx := m.st.store, m.st.ctx
	return func() tea.Msg {
		dir, err := store.People(ctx)
		return transferPeopleMsg{dir: dir, err: err}
	}
}

// candidates are the active people other than the leaver whose e-mail,
// login or name starts with typed (ignoring case and a login's @).
func (p *transferPrompt) candidates(typed string) []audit.Person {
	if p.dir == nil {
		return nil
	}
	t := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(typed), "@"))
	var out []audit.Person
	for _, person := range p.dir.People() {
		if person.Status != audit.PersonActive || person.Email == p.leaver {
			continue
		}
		if slices.ContainsFunc([]string{person.Email, person.GitHub, person.Name}, func(s string) bool {
			return s != "" && strings.HasPrefix(strings.ToLower(s), t)
		}) {
			out = append(out, person)
		}
	}
	return out
}

// refuse says why to cannot take the targets over, as nhi decide does;
// "" when they can.
func (p *transferPrompt) refuse(to string) string {
	to = strings.TrimSpace(to)
	if to == "" {
		return "name the new owner: an active person of the directory (tab completes)"
	}
	if p.dir == nil {
		return "still reading the directory of people; try again in a moment"
	}
	person := p.dir.Lookup(to)
	switch {
	case person == nil:
		return p.dir.Unknown("new owner", to).Error()
	case p.leaver != "" && person.Email == p.leaver:
		return audit.Printable(person.Display()) + " is the person being offboarded; transfer to someone who stays"
	case person.Status != audit.PersonActive:
		return audit.Printable(person.Display()) + " " + person.LeftNote() + "; transfer to someone still here"
	}
	return ""
}

func (p *transferPrompt) Update(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		p.m.prompt = nil
		return nil
	case tea.KeyTab, tea.KeyShiftTab:
		cs := p.candidates(p.cycle.begin(p.input.Value()))
		if k, ok := p.cycle.step(len(cs), msg.Type == tea.KeyShiftTab); ok {
			p.input.SetValue(cs[k].Email)
			p.refusal = ""
		}
		return nil
	case tea.KeyEnter:
		if p.refusal = p.refuse(p.input.Value()); p.refusal != "" {
			return nil
		}
		to := p.dir.Lookup(strings.TrimSpace(p.input.Value())).Email
		p.m.askTransferReason(p.targets, p.hidden, p.campaign, to)
		return nil
	}
	if p.input.Update(msg) {
		p.cycle.stop()
		p.refusal = ""
	}
	return nil
}

func (p *transferPrompt) View(width int) string {
	line := p.input.View(theme.Prompt.Render("Transfer " + p.subject + " to: "))
	var hint string
	cs := p.candidates(p.cycle.matched(p.input.Value()))
	switch {
	case p.err != nil:
		hint = theme.Error.Render("  the directory of people could not be read: " + audit.Printable(p.err.Error()))
	case p.refusal != "":
		hint = theme.Error.Render("  " + audit.Printable(p.refusal))
	case p.dir == nil:
		hint = theme.Muted.Render("  reading the directory of people…")
	case len(cs) == 0:
		hint = theme.Muted.Render("  no active person starts with that (the leaver and those who left are not offered)")
	default:
		labels := make([]string, len(cs))
		for k, c := range cs {
			labels[k] = completionLabel(c.Email, c.Name)
		}
		var b strings.Builder
		b.WriteString("  ")
		writeCompletions(&b, width-7, labels)
		hint = theme.Muted.Render(truncate(b.String(), width))
	}
	return truncate(line, width) + "\n" + truncate(hint, width)
}

func (p *transferPrompt) Lines() int { return 2 }

func (p *transferPrompt) Keys() help.KeyMap {
	return promptKeys{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next: the reason")),
		keyComplete, keyCancel,
	}
}

// askTransferReason is the second step: why (optional, as for nhi decide),
// then, for several identities, [y/N].
func (m *Model) askTransferReason(targets []int32, hidden int, campaign, to string) {
	subject := m.subject(targets)
	enter := "record the transfer"
	if len(targets) > 1 {
		enter = "review, then confirm"
	}
	m.openPrompt(&reasonPrompt{m: m, question: "Why transfer " + subject + " to " + audit.Printable(to) + "?", enter: enter,
		done: func(reason string) tea.Cmd {
			record := func() tea.Cmd { return m.transfer(campaign, targets, to, reason) }
			if len(targets) == 1 {
				return record()
			}
			m.confirm("Transfer "+subject+hiddenNote(hidden)+" to "+audit.Printable(to)+" in "+audit.Printable(campaign)+"?", record)
			return nil
		}})
}

// transfer records the transfer decisions off the event loop; the answer
// is a decidedMsg that also names the new owner.
func (m *Model) transfer(campaign string, targets []int32, to, reason string) tea.Cmd {
	t, _ := m.st.transferrer()
	ids := make([]string, len(targets))
	for k, i := range targets {
		ids[k] = m.st.identity(i).ID
	}
	label := "transfer of " + m.subject(targets) + " to " + audit.Printable(to) + " in " + campaign
	actor := m.st.actor
	return m.write("decision "+label, func(ctx context.Context) tea.Msg {
		if t == nil {
			return decidedMsg{campaign: campaign, ids: ids, decision: DecisionTransfer, label: label, err: errNoTransfer}
		}
		evs, err := t.Transfer(ctx, actor, campaign, ids, to, reason)
		return decidedMsg{campaign: campaign, ids: ids, decision: DecisionTransfer, events: evs, label: label, owner: to, err: err}
	})
}

var errNoTransfer = errors.New("the campaign no longer takes transfers")

// Replacer is the part of a Reviewer that records a rotate decision on a
// deploy key naming its replacement (docs/offboarding.md, "Proof"): the
// key, by its ID or fingerprint, that campaign verify then looks for.
// cmd/nhi's reviewer has it; without it R asks no replacement.
type Replacer interface {
	RotateReplacing(ctx context.Context, actor, campaign, id, reason, replacement string) (audit.Event, error)
}

// askReplacement asks, after the reason of a rotate of one deploy key,
// which key replaces it (enter alone: none named), and records the
// decision; false when it does not apply, and the caller records as usual.
func (m *Model) askReplacement(campaign string, target int32, reason string) bool {
	r, ok := m.st.reviewer.(Replacer)
	id := m.st.identity(target)
	if !ok || id.Kind != audit.KindGitHubDeployKey {
		return false
	}
	subject := m.subject([]int32{target})
	m.openPrompt(&reasonPrompt{m: m, question: "Replacement key of " + subject + " (its ID or SHA256 fingerprint)?", enter: "record the decision",
		hint: "optional: enter alone names none (verify then looks for a key with the same title)",
		done: func(replacement string) tea.Cmd {
			if replacement == "" {
				return m.decide(campaign, []int32{target}, DecisionRotate, reason)
			}
			ids, label := []string{id.ID}, "rotate for "+subject+", replacement "+audit.Printable(replacement)+", in "+campaign
			actor := m.st.actor
			return m.write("decision "+label, func(ctx context.Context) tea.Msg {
				ev, err := r.RotateReplacing(ctx, actor, campaign, ids[0], reason, replacement)
				return decidedMsg{campaign: campaign, ids: ids, decision: DecisionRotate, events: []audit.Event{ev}, label: label, err: err}
			})
		}})
	return true
}
