package tui

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// The table's filter and the campaigns it names. campaign:NAME is the
// population of any campaign of the file, decision: and reviewer: read
// the campaign in view: the active one, else the one campaign the filter
// names (docs/filter.md), as nhi identities answers them. A name that is
// no campaign, or decision: with no campaign in view, is the filter's
// error, said in the prompt; a campaign not read yet makes the filter
// wait for its items, as person: waits for the owner suggestions. Either
// way the table never says "no match" for what it did not read.

// campaignTermsError is why f's campaign terms cannot be answered in
// this session, as the prompt says it; "" where they can.
func (v *identitiesView) campaignTermsError(f *filter.Filter) string {
	named := f.Campaigns()
	if len(named) == 0 && !f.NeedsCampaign() {
		return ""
	}
	if v.st.reviewer == nil {
		return "campaign:, decision: and reviewer: read the file's campaigns, which this session does not"
	}
	if len(named) > 0 && v.st.campsState == loaded && v.st.campsErr != nil {
		return readError("Campaigns", v.st.campsErr)
	}
	if f.NeedsCampaign() && v.st.campaign == "" && len(named) != 1 {
		return "no campaign in view: decision: and reviewer: terms read one campaign: pick one (:campaigns, then enter) or add campaign:NAME to the filter" + v.campaignList()
	}
	if v.st.campsState != loaded || v.st.campsStale {
		return "" // the names are checked once the campaigns are read
	}
	for _, name := range named {
		if _, ok := v.st.campaignNamed(name); !ok {
			return "no such campaign " + strconv.Quote(audit.Printable(name)) + v.campaignList()
		}
	}
	return ""
}

// campaignList is " (campaigns: a, b)", as nhi's commands list them,
// or "" before the campaigns are read.
func (v *identitiesView) campaignList() string {
	if v.st.campsState != loaded || v.st.campsErr != nil {
		return ""
	}
	if len(v.st.campaigns) == 0 {
		return " (the file has no campaign yet)"
	}
	names := make([]string, len(v.st.campaigns))
	for i, c := range v.st.campaigns {
		names[i] = audit.Printable(c.Name)
	}
	slices.Sort(names)
	return " (campaigns: " + strings.Join(names, ", ") + ")"
}

// campaignNamed is the name of the listed campaign name names,
// case-insensitively.
func (s *state) campaignNamed(name string) (string, bool) {
	for _, c := range s.campaigns {
		if strings.EqualFold(c.Name, name) {
			return c.Name, true
		}
	}
	return "", false
}

// campaignsToRead says what f waits for before it can be answered: the
// campaigns' list (to know the names f gives), or the items of the
// campaigns it names besides the active one. It starts the reads not on
// their way yet; wait is false when everything is in.
func (v *identitiesView) campaignsToRead(f *filter.Filter) (cmd tea.Cmd, wait bool) {
	named := f.Campaigns()
	if len(named) == 0 {
		return nil, false
	}
	if v.st.campsState != loaded || v.st.campsStale {
		return func() tea.Msg { return needCampaignsMsg{} }, true
	}
	var cmds []tea.Cmd
	for _, name := range named {
		key := strings.ToLower(name)
		if key == strings.ToLower(v.st.campaign) {
			continue // the active campaign's items: loadDecisions reads them
		}
		if _, ok := v.st.others[key]; ok {
			continue
		}
		wait = true
		if !v.st.othersReading[key] {
			canonical, _ := v.st.campaignNamed(name)
			cmds = append(cmds, v.st.readOthers(canonical, heldItems{}, nil))
		}
	}
	return tea.Batch(cmds...), wait
}

// keepOthers lets go of the items of every campaign f does not name:
// only the filter in force's are held (some 60 MB for a campaign of a
// million, BenchmarkCampaignItems1M).
func (s *state) keepOthers(f *filter.Filter) {
	keep := map[string]bool{}
	for _, name := range f.Campaigns() {
		keep[strings.ToLower(name)] = true
	}
	for key := range s.others {
		if !keep[key] {
			s.others = maps.Clone(s.others)
			maps.DeleteFunc(s.others, func(k string, _ heldItems) bool { return !keep[k] })
			return
		}
	}
}

// needCampaignsMsg asks the model for the campaigns' list, which a
// filter's campaign: terms wait for.
type needCampaignsMsg struct{}

// othersMsg carries the items of campaign, which a filter names besides
// the active campaign.
type othersMsg struct {
	campaign string // as listed
	held     heldItems
	err      error
	// unchanged says the items held were as new as the log's head;
	// sameItems (set as the model keeps them) that only decisions
	// changed since the items held.
	unchanged, sameItems bool
}

// readOthers reads campaign's items for others, off the event loop, up
// to date from known where it can be (itemsReader).
func (s *state) readOthers(campaign string, known heldItems, look *sinceMsg) tea.Cmd {
	if s.othersReading == nil {
		s.othersReading = map[string]bool{}
	}
	s.othersReading[strings.ToLower(campaign)] = true
	read := s.itemsReader(campaign, known, look)
	return func() tea.Msg {
		held, unchanged, err := read()
		return othersMsg{campaign: campaign, held: held, err: err, unchanged: unchanged}
	}
}

// rereadOthers brings the items held for others up to the watch's look
// at the log (rereadTo): other reviewers decide in them too.
func (s *state) rereadOthers(look *sinceMsg) tea.Cmd {
	var cmds []tea.Cmd
	for key, held := range s.others {
		if s.othersReading[key] {
			continue
		}
		if name, ok := s.campaignNamed(key); ok {
			cmds = append(cmds, s.readOthers(name, held, look))
		}
	}
	return tea.Batch(cmds...)
}

// updateOthers keeps the items read for others and tells the views.
func (m *Model) updateOthers(msg othersMsg) tea.Cmd {
	key := strings.ToLower(msg.campaign)
	delete(m.st.othersReading, key)
	if msg.err != nil {
		return m.broadcast(msg) // the table says it (othersFailed)
	}
	if msg.unchanged {
		return nil
	}
	held, ok := m.st.others[key]
	if ok && held.asOf > msg.held.asOf && msg.held.asOf != 0 {
		return nil // read before the items held: older
	}
	msg.sameItems = ok && held.items.wholeRead() == msg.held.items.wholeRead()
	others := maps.Clone(m.st.others)
	if others == nil {
		others = map[string]heldItems{}
	}
	others[key] = msg.held
	m.st.others = others
	return m.broadcast(msg)
}

// othersFailed says that the items of a campaign the filter names could
// not be read: the filter that waited for them is not applied (the one
// in force stays), and the prompt or the flash says why.
func (v *identitiesView) othersFailed(msg othersMsg) tea.Cmd {
	why := readError("Items of "+audit.Printable(msg.campaign), msg.err)
	text := v.awaitFilter
	if text == "" {
		return flash(why, true)
	}
	v.awaitFilter = ""
	v.filterErr = &filter.Error{Expr: text, Msg: why}
	if !v.editing {
		return flash("Filter "+audit.Printable(text)+" not applied: "+why, true)
	}
	return nil
}
