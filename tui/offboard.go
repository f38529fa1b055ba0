package tui

import (
	"context"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Offboarding in the UI (docs/offboarding.md): the person: filter term
// and the :offboard view of leavers.

// personRelater is the part of the store that answers person: terms;
// *audit.Store has it.
type personRelater interface {
	PersonRelated(ctx context.Context, names []string) (func(filter.Subject, string) bool, error)
	PersonTags(ctx context.Context, names []string) (func(*audit.Identity) string, error)
}

var _ personRelater = (*audit.Store)(nil)

// personRelated resolves f's person: terms against the directory and the
// evidence (who had admin access where): nil when f has none. It reads
// the directory and the principals of the people named, two small
// queries, when the filter is set.
func (s *state) personRelated(f *filter.Filter) (func(filter.Subject, string) bool, error) {
	people := f.People()
	if len(people) == 0 {
		return nil, nil
	}
	pr, ok := s.store.(personRelater)
	if !ok || s.store == nil {
		return nil, errors.New("person:" + strings.Join(people, ", person:") + " needs the evidence file's directory of people, which this session cannot read")
	}
	return pr.PersonRelated(s.ctx, people)
}

// personTags is what tags each match of f's person: terms with its
// relationships (the table's RELATIONS column); nil when f has none.
func (s *state) personTags(f *filter.Filter) (func(*audit.Identity) string, error) {
	people := f.People()
	if len(people) == 0 {
		return nil, nil
	}
	pr, ok := s.store.(personRelater)
	if !ok || s.store == nil {
		return nil, errors.New("person: needs the evidence file's directory of people, which this session cannot read")
	}
	return pr.PersonTags(s.ctx, people)
}

// offboardView (:offboard) lists the leavers of the directory who still
// own, hold or created active identities, most first; enter shows one's
// identities grouped by relationship (person.go), every relationship
// included.
type offboardView struct {
	keys    listKeys
	st      *state
	width   int
	height  int
	leavers []audit.Leaver
	totals  audit.LeaverTotals
	people  int
	err     error
	loaded  bool
	cursor  int
	offset  int
}

// peopleLoadedMsg is the directory, read for the offboard view, and the
// leavers who still have identities, found with it off the event loop:
// finding them visits every identity (a million: issue 21), and a key
// pressed meanwhile is answered at once.
type peopleLoadedMsg struct {
	dir     *audit.Directory
	leavers []audit.Leaver
	totals  audit.LeaverTotals
	err     error
}

func newOffboardView(st *state) *offboardView {
	return &offboardView{keys: newListKeys("their identities, by relationship"), st: st}
}

// loadPeople reads the directory for the offboard view.
func (m *Model) loadPeople() tea.Cmd { return m.st.loadPeople() }

func (s *state) loadPeople() tea.Cmd {
	store, ctx := s.store, s.ctx
	if store == nil {
		return func() tea.Msg {
			return peopleLoadedMsg{err: errors.New("no evidence file to read the directory of people from")}
		}
	}
	pop := s.pop // immutable: the population as it is now
	return func() tea.Msg {
		dir, err := store.People(ctx)
		if err != nil {
			return peopleLoadedMsg{err: err}
		}
		leavers, totals := audit.LeaversTotalOf(dir, pop.lightIdentities())
		return peopleLoadedMsg{dir: dir, leavers: leavers, totals: totals}
	}
}

func (v *offboardView) ShortHelp() []key.Binding  { return v.keysNow().ShortHelp() }
func (v *offboardView) FullHelp() [][]key.Binding { return v.keysNow().FullHelp() }

// keysNow offers enter only on a leaver: with none there is nothing to
// open.
func (v *offboardView) keysNow() listKeys {
	if len(v.leavers) == 0 {
		return v.keys.withoutOpen()
	}
	return v.keys
}

func (v *offboardView) SetSize(width, height int) {
	v.width, v.height = width, max(height-2, 1)
	v.Move(0)
}

func (v *offboardView) Move(n int) {
	v.cursor = max(min(v.cursor+n, len(v.leavers)-1), 0)
	if v.cursor < v.offset {
		v.offset = v.cursor
	}
	if v.cursor >= v.offset+v.height {
		v.offset = v.cursor - v.height + 1
	}
}

func (v *offboardView) GotoTop()      { v.Move(-len(v.leavers)) }
func (v *offboardView) GotoBottom()   { v.Move(len(v.leavers)) }
func (v *offboardView) PageSize() int { return max(v.height/2, 1) }

func (v *offboardView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case peopleLoadedMsg:
		v.loaded, v.err = true, msg.err
		if msg.err == nil {
			v.people = msg.dir.Len()
			v.leavers, v.totals = msg.leavers, msg.totals
		}
		v.Move(0)
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, v.keys.Back):
			return popView
		case key.Matches(msg, v.keys.Open):
			if v.cursor < len(v.leavers) {
				return openPerson(v.st, v.leavers[v.cursor].Person)
			}
		default:
			navigate(v.keys.navKeys, msg, v)
		}
	}
	return nil
}

func (v *offboardView) View() string {
	var b strings.Builder
	title := "Offboarding"
	switch {
	case v.loaded && v.err == nil && len(v.leavers) == 0:
		title += " — 0 leavers"
	case v.loaded && v.err == nil:
		// What IDS counts, said: enter shows every relationship, could
		// read and suggested owner too, a larger count (person.go).
		title += " — " + leaversHead(len(v.leavers), v.totals)
	}
	b.WriteString(truncate(theme.Title.Render(title), v.width))
	b.WriteByte('\n')
	switch {
	case !v.loaded:
		b.WriteString(theme.Muted.Render("  reading the directory of people…"))
		return b.String()
	case v.err != nil:
		b.WriteString(theme.Error.Render("  " + audit.Printable(v.err.Error())))
		return b.String()
	case v.people == 0:
		b.WriteString(theme.Muted.Render("  the directory of people is empty: nhi people import FILE"))
		return b.String()
	case len(v.leavers) == 0:
		b.WriteString(theme.Muted.Render("  no leaver still owns, holds or created an active identity"))
		return b.String()
	}
	// PERSON gives way on a narrow terminal, so the counts and the
	// oldest identity stay on screen (at 80 columns they were cut).
	personW := min(40, max(16, v.width-offboardFixedWidth))
	b.WriteString(truncate(theme.Muted.Render("  "+padRight("PERSON", personW)+" "+padRight("LEFT", 10)+" "+padLeft("IDS", 5)+"  OWNS CREATED HOLDS  OLDEST"), v.width))
	for i := v.offset; i < min(v.offset+v.height, len(v.leavers)); i++ {
		l := v.leavers[i]
		left := l.Person.LeftAt
		if left == "" {
			left = "-"
		}
		line := " " + padRight(truncate(audit.Printable(l.Person.Display()), personW), personW) + " " + padRight(left, 10) + " " + padLeft(commas(l.Count), 5) +
			"  " + padLeft(commas(l.ByKind[audit.RelOwns]), 4) + " " + padLeft(commas(l.ByKind[audit.RelCreated]), 7) + " " + padLeft(commas(l.ByKind[audit.RelHolds]), 5) +
			"  " + l.OldestAt.UTC().Format("2006-01-02") + " " + audit.Printable(l.OldestName)
		b.WriteByte('\n')
		if i == v.cursor {
			line = ">" + line
			b.WriteString(theme.Selected.Render(truncate(line, v.width) + strings.Repeat(" ", max(v.width-textWidth(line), 0))))
			continue
		}
		b.WriteString(truncate(" "+line, v.width))
	}
	return b.String()
}

// leaversHead says what the leavers' identities count: those they own,
// created or hold (IDS), each once however many leavers it has, where
// "1 leaver with 3 identities" left a reader to guess whether 3 was the
// leaver's own or the file's, and a sum of IDS counted twice an identity
// one leaver owns and another holds. The overview and :offboard head
// their leavers with it.
func leaversHead(leavers int, t audit.LeaverTotals) string {
	ids := plural(t.Identities, "identity", "identities")
	s := "1 leaver owns, created or holds " + ids
	if leavers != 1 {
		s = commas(leavers) + " leavers own, created or hold " + ids + " in all"
	}
	if t.NotChecked > 0 {
		s += ", " + commas(t.NotChecked) + " not checked"
	}
	return s
}

// offboardFixedWidth is the leavers table's width but PERSON's: the
// columns after it and the oldest identity's date and a name's start.
const offboardFixedWidth = 2 + 1 + 10 + 1 + 5 + 2 + 4 + 1 + 7 + 1 + 5 + 2 + 10 + 1 + 12

// quoteTerm quotes a value for a filter term when it holds anything but
// the characters of an e-mail address or login.
func quoteTerm(s string) string {
	for _, r := range s {
		if !(r == '@' || r == '.' || r == '-' || r == '_' || r == '+' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
		}
	}
	return s
}
