package tui

import (
	"context"
	"maps"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// Loads read what a view shows from the Store or the Reviewer, off the
// event loop, into the shared state: each reads only what it shows, and
// the ones that read a lot (the snapshot diff) run once a session.

// updateLoads keeps what a load read in the shared state, and tells the
// views that show it; ok is false for other messages.
func (m *Model) updateLoads(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case ownersLoadedMsg:
		m.st.ownersState = loaded
		if msg.err == nil {
			m.st.owners = msg.owners
		}
		if p, ok := m.prompt.(*ownerPrompt); ok {
			p.refresh()
		}
		return nil, true
	case ownerRightsMsg:
		m.st.ownersRefused = msg.why
		if _, ok := m.prompt.(*ownerPrompt); ok && msg.why != "" {
			// Opened before the store answered: it would be refused.
			m.prompt = nil
			m.setFlash("Owners cannot be set in this session: "+msg.why, true)
		}
		m.layout() // o leaves the hint bar and the help
		return nil, true
	case diffLoadedMsg:
		m.st.diffs[msg.account] = &accountDiff{state: loaded, diff: msg.diff, err: msg.err}
		m.layout()
		return nil, true
	case snapshotsLoadedMsg:
		m.st.snapsState = loaded
		if msg.err == nil {
			m.st.snapshots = msg.snaps
		}
		m.layout()
		return nil, true
	case campaignsLoadedMsg:
		m.st.campsState, m.st.campsErr = loaded, msg.err
		if msg.err == nil {
			m.st.campaigns = msg.campaigns
		} else if _, ok := m.top().(*campaignsView); !ok {
			// The campaigns view says so itself; the overview has no room.
			m.setFlash(readError("Campaigns", msg.err), true)
		}
		m.layout()
		cmd := m.broadcast(msg)
		// A campaign now closed offers no decision (campaignsView.keysNow).
		m.refreshFooter()
		if m.st.campsAgain {
			m.st.campsAgain = false
			cmd = tea.Batch(cmd, m.loadCampaigns())
		}
		return cmd, true
	case needCampaignsMsg:
		return m.loadCampaigns(), true
	case othersMsg:
		return m.updateOthers(msg), true
	case decisionsMsg:
		if msg.err != nil {
			m.setFlash(readError("Decisions of "+msg.campaign, msg.err), true)
			return nil, true
		}
		if msg.campaign != m.st.campaign {
			return nil, true // another campaign was chosen since
		}
		if msg.asOf != 0 && msg.asOf < m.st.itemsAsOf {
			return nil, true // read before the items shown: older
		}
		first := m.st.items == nil // the campaign was just picked, not read again
		m.st.setItems(msg.items)
		m.st.itemsAsOf = msg.asOf
		if first && msg.items.mine == 0 {
			// An empty table that says nothing leaves the user guessing
			// (a creator, an administrator, someone under another name).
			you := "you"
			if m.st.actor != "" {
				you += " (" + audit.Printable(m.st.actor) + ")"
			}
			others := "; :others decides for other reviewers (flagged)"
			if c := m.st.activeCampaign(); c != nil && c.Status == campaignClosed {
				others = "; it is closed: nothing in it can be decided"
			}
			m.setFlash("No item of "+audit.Printable(msg.campaign)+" is assigned to "+you+": a lists everyone's items"+others, false)
		}
		m.layout()
		return m.broadcast(decisionsChangedMsg{}), true
	}
	return nil, false
}

// ownerRights is a Store that can say, before a write is tried, whether
// the session may set owners (audit.Store.MaySetOwners: on PostgreSQL a
// role without nhi_admin may not).
type ownerRights interface {
	MaySetOwners(ctx context.Context) (why string, err error)
}

// ownerRightsMsg is why the session may not set owners; "" where it may
// or the question failed (the write then says what it meets).
type ownerRightsMsg struct{ why string }

// loadOwnerRights asks the store, once a session, whether owners are
// this session's to set, so that o is offered only where they are.
func (m *Model) loadOwnerRights() tea.Cmd {
	r, ok := m.st.store.(ownerRights)
	if !ok || !m.st.writable() {
		return nil
	}
	ctx := m.st.ctx
	return func() tea.Msg {
		why, err := r.MaySetOwners(ctx)
		if err != nil {
			return nil
		}
		return ownerRightsMsg{why}
	}
}

type ownersLoadedMsg struct {
	owners []string
	err    error
}

// loadOwners reads the known owners for completion, once a session.
func (m *Model) loadOwners() tea.Cmd {
	if m.st.store == nil || m.st.ownersState != notLoaded {
		return nil
	}
	m.st.ownersState = loading
	ctx, store := m.st.ctx, m.st.store
	return func() tea.Msg {
		o, err := store.KnownOwners(ctx)
		return ownersLoadedMsg{o, err}
	}
}

func (s *state) addKnownOwner(o string) {
	for _, x := range s.owners {
		if x == o {
			return
		}
	}
	s.owners = append(s.owners[:len(s.owners):len(s.owners)], o)
}

// accountDiff is what changed in one source/account between its newest
// two snapshots.
type accountDiff struct {
	state loadState
	diff  *audit.Diff
	err   error
}

type diffLoadedMsg struct {
	account string // "source/account"
	diff    *audit.Diff
	err     error
}

// diffKey names id's source/account, the key of state.diffs.
func diffKey(id *audit.Identity) string { return id.Source + "/" + id.Account }

// loadDiff compares the newest two snapshots of id's own source/account,
// once a session: it reads both in full, which takes seconds at 100,000
// identities. Another account's snapshots say nothing of id.
func loadDiff(st *state, id *audit.Identity) tea.Cmd {
	key := diffKey(id)
	if st.store == nil || st.diffs[key] != nil {
		return nil
	}
	if st.diffs == nil {
		st.diffs = map[string]*accountDiff{}
	}
	st.diffs[key] = &accountDiff{state: loading}
	ctx, store, source, account := st.ctx, st.store, id.Source, id.Account
	return func() tea.Msg {
		d, err := store.DiffAccount(ctx, source, account)
		return diffLoadedMsg{key, d, err}
	}
}

type snapshotsLoadedMsg struct {
	snaps []audit.Snapshot
	err   error
}

func (m *Model) loadSnapshots() tea.Cmd {
	if m.st.store == nil || m.st.snapsState != notLoaded {
		return nil
	}
	m.st.snapsState = loading
	ctx, store := m.st.ctx, m.st.store
	return func() tea.Msg {
		s, err := store.Snapshots(ctx)
		return snapshotsLoadedMsg{s, err}
	}
}

// loadCampaigns reads the campaigns and their progress for the overview
// and the campaigns view, afresh each time one opens (decisions move the
// progress) and each time the watch sees the log grow. While a read is on
// its way it starts none: that read's answer goes to every view, and
// another read follows it (campsAgain), since it may have begun before
// what the caller wants to see was written.
func (m *Model) loadCampaigns() tea.Cmd {
	r := m.st.reviewer
	if r == nil {
		return nil
	}
	if m.st.campsState == loading {
		m.st.campsAgain = true
		return nil
	}
	m.st.campsState, m.st.campsStale = loading, false
	ctx := m.st.ctx
	return func() tea.Msg {
		cs, err := r.Campaigns(ctx)
		return campaignsLoadedMsg{cs, err}
	}
}

type campaignsLoadedMsg struct {
	campaigns []Campaign
	err       error
}

// campaignsAsRead is the last answer of loadCampaigns, for a view that
// opens after it came (tui.go, pushViewMsg); ok is false before any.
func (s *state) campaignsAsRead() (msg campaignsLoadedMsg, ok bool) {
	if s.campsState != loaded {
		return msg, false
	}
	return campaignsLoadedMsg{s.campaigns, s.campsErr}, true
}

type decisionsMsg struct {
	campaign string
	items    *campaignItems
	asOf     int64 // the log's head read before them (DecisionsSincer); 0: not known
	err      error
}

// loadDecisions reads the items of campaign, the active one: who reviews
// each and what was decided.
func (m *Model) loadDecisions(campaign string) tea.Cmd {
	return m.loadDecisionsTo(campaign, nil)
}

// loadDecisionsTo is loadDecisions after the watch's look at the log
// (readAgain; nil: none): the items are brought up to the head it read
// to, with the kinds of event it read when the items were read as of
// the head it looked from; what came after that head is the next read's.
func (m *Model) loadDecisionsTo(campaign string, look *sinceMsg) tea.Cmd {
	if m.st.reviewer == nil || campaign == "" {
		return nil
	}
	var known heldItems
	if campaign == m.st.campaign && m.st.items != nil {
		known = heldItems{m.st.items, m.st.itemsAsOf}
	}
	read := m.st.itemsReader(campaign, known, look)
	return func() tea.Msg {
		held, unchanged, err := read()
		if unchanged {
			return nil // the items shown are as new as the head
		}
		return decisionsMsg{campaign: campaign, items: held.items, asOf: held.asOf, err: err}
	}
}

// heldItems are a campaign's items as read, and the log's head read
// before them (DecisionsSincer): every event up to it is in them. asOf
// 0: not known, read them whole next time.
type heldItems struct {
	items *campaignItems
	asOf  int64
}

// itemsReader is the read, off the event loop, of campaign's items for
// s.actor, brought up to date from known where it can be (the head the
// watch's look read to, with the kinds of event it read when known is
// as of the head it looked from), else read whole. unchanged says known
// is as new as the head.
func (s *state) itemsReader(campaign string, known heldItems, look *sinceMsg) func() (held heldItems, unchanged bool, err error) {
	ctx, actor, store, r := s.ctx, s.actor, s.store, s.reviewer
	ds, _ := r.(DecisionsSincer)
	if ds == nil || store == nil {
		return func() (heldItems, bool, error) {
			items, err := readItems(ctx, r, campaign, actor)
			return heldItems{items: items}, false, err
		}
	}
	return func() (heldItems, bool, error) {
		// The head first: every event up to it is in what is read next.
		var head int64
		var types []string
		if look != nil && look.to > 0 {
			head = look.to // read and flushed by the look
			if known.asOf == look.from {
				types = look.types
			}
		} else {
			h, err := store.LogHead(ctx)
			if err != nil {
				return heldItems{}, false, err
			}
			head = h.Seq
		}
		if known.items != nil && known.asOf > 0 {
			if known.asOf >= head {
				return known, true, nil
			}
			changed, ok, err := ds.DecisionsSince(ctx, campaign, known.asOf, head, types)
			if err != nil {
				return heldItems{}, false, err
			}
			if ok {
				if items, ok := known.items.withChanged(changed); ok {
					return heldItems{items, head}, false, nil
				}
			}
		}
		items, err := readItems(ctx, r, campaign, actor)
		if err != nil {
			return heldItems{}, false, err
		}
		return heldItems{items, head}, false, nil
	}
}

// readError is what a read that failed says: what was not read and why,
// or, when the evidence file is damaged (audit.Damaged), what to do
// (audit.DamagedAdvice, as nhi's commands say it), since SQLite's words
// ("malformed") do not say it.
func readError(what string, err error) string {
	if audit.Damaged(err) {
		return "The evidence file is damaged (" + what + " not read): " + audit.DamagedAdvice + "."
	}
	if advice := audit.ServerAdvice(err); advice != "" {
		return what + " not read: " + err.Error() + ". " + advice
	}
	return what + " not read: " + err.Error()
}

// readItems reads campaign's items whole for actor: one at a time where
// r can (ItemsEacher).
func readItems(ctx context.Context, r Reviewer, campaign, actor string) (*campaignItems, error) {
	e, ok := r.(ItemsEacher)
	if !ok {
		items, err := r.Items(ctx, campaign, actor)
		if err != nil {
			return nil, err
		}
		return newCampaignItems(maps.All(items)), nil
	}
	var b itemsBuilder
	if err := e.EachItem(ctx, campaign, actor, b.expect, b.add); err != nil {
		return nil, err
	}
	return b.items(), nil
}
