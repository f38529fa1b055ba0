package tui

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// Writes go to the evidence file through the Store (owners, notes) or the
// Reviewer (decisions), off the event loop; each is one or more events in
// the hash-chained log. This session's writes can be undone, newest
// first, with compensating events. When an answer is back the root
// updates the shared state and tells the views what changed
// (populationChangedMsg, decisionsChangedMsg, historyChangedMsg); each
// view follows by itself.

// actionView is a view whose identities the action keys act on.
type actionView interface {
	// targets are the identities to act on: the marked ones, else the
	// one under the cursor.
	targets() []int32
	// hiddenTargets is how many targets the screen does not show.
	hiddenTargets() int
	// actionDone is called after an action succeeded on the targets.
	actionDone()
}

// actionBindings are the action keys the help shows on the current
// screen: none in a read-only session.
func (m *Model) actionBindings() []key.Binding {
	av, ok := m.top().(actionView)
	if !ok || !m.st.writable() {
		return nil
	}
	targets := av.targets()
	if len(targets) == 0 {
		// Nothing shown, nothing marked: nothing to act on but the
		// session's last change.
		return []key.Binding{m.actions.Undo}
	}
	keys := []key.Binding{m.actions.Owner, m.actions.Note, m.actions.Undo}
	if m.st.ownersRefused != "" {
		keys = keys[1:] // o says why not (actionKey)
	}
	// The decision keys show only where a decision can succeed: a
	// campaign chosen, open, and an item of the user's (or :others).
	if m.st.reviewer != nil && m.st.campaign != "" {
		if ok, _ := m.decidable(targets); len(ok) > 0 {
			keys = append(keys, m.actions.Decommission, m.actions.Keep, m.actions.Rotate)
			if t, _ := m.st.transferrer(); t != nil {
				// It records the new owner too, which a reviewer's role
				// may do only as its transfer (docs/team.md).
				keys = append(keys, m.actions.Transfer)
			}
		}
		keys = append(keys, m.actions.Approve)
	}
	return keys
}

// actionKey handles an action key; ok is false when msg is none.
func (m *Model) actionKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	decision, note, approve, transfer := "", false, false, false
	switch {
	case key.Matches(msg, m.actions.Undo):
		if !m.refuseWrite() {
			m.startUndo()
		}
		return nil, true
	case key.Matches(msg, m.actions.Note):
		note = true
	case key.Matches(msg, m.actions.Owner):
	case m.st.reviewer != nil && key.Matches(msg, m.actions.Decommission):
		decision = DecisionDecommission
	case m.st.reviewer != nil && key.Matches(msg, m.actions.Keep):
		decision = DecisionKeep
	case m.st.reviewer != nil && key.Matches(msg, m.actions.Rotate):
		decision = DecisionRotate
	case m.st.reviewer != nil && key.Matches(msg, m.actions.Approve):
		approve = true
	case m.st.reviewer != nil && key.Matches(msg, m.actions.Transfer):
		transfer = true
	default:
		return nil, false
	}
	av, ok := m.top().(actionView)
	if !ok {
		return nil, false
	}
	if m.refuseWrite() {
		return nil, true
	}
	targets := av.targets()
	if len(targets) == 0 {
		m.setFlash("Nothing to act on.", true)
		return nil, true
	}
	if decision != "" {
		return m.startDecision(targets, av.hiddenTargets(), decision), true
	}
	if transfer {
		return m.startTransfer(targets, av.hiddenTargets()), true
	}
	if approve {
		m.startApprove(targets)
		return nil, true
	}
	if note {
		m.startNote(targets, av.hiddenTargets())
		return nil, true
	}
	if m.st.ownersRefused != "" {
		m.setFlash("Owners cannot be set in this session: "+m.st.ownersRefused, true)
		return nil, true
	}
	m.openPrompt(newOwnerPrompt(m, targets, av.hiddenTargets()))
	return m.loadOwners(), true
}

// refuseWrite says why this session may not write, and reports whether
// it may not.
func (m *Model) refuseWrite() bool {
	switch {
	case m.st.readOnly:
		m.setFlash("Read-only session (--readonly): nothing can be changed.", true)
	case m.st.store == nil:
		m.setFlash("No evidence file is open: nothing can be changed.", true)
	case m.st.actor == "" && m.opts.NoActor != "":
		m.setFlash("Nothing can be changed in this session: "+m.opts.NoActor, true)
	case m.st.actor == "":
		m.setFlash("Cannot tell who you are: restart with --as EMAIL or set NHI_REVIEWER.", true)
	default:
		return false
	}
	return true
}

// briefRefusal is a refused write that can say why in the words of a
// screen that shows whose session it is and the identity by its name
// (campaigns.RefusedError.Brief): its Error names both again, with the
// identity's ID, and at 80 columns the reason and what to do fell off
// the message's lines.
type briefRefusal interface {
	Brief(name func(id string) string) string
}

// refusal is what a failed write says on screen: a refusal briefly, an
// identity by its name; any other error as it is.
func (m *Model) refusal(err error) string {
	var b briefRefusal
	if !errors.As(err, &b) {
		if advice := audit.ServerAdvice(err); advice != "" {
			return err.Error() + ". " + advice
		}
		// No room (a full disk, ulimit -f): where the room went and what
		// to do, as the commands say, where SQLite's "disk I/O error
		// (778)" named no cause.
		if f, ok := m.st.store.(interface{ Path() string }); ok && audit.NoRoom(err) && storeNoun(m.st.store) != "the database" {
			return audit.NoRoomAdvice(f.Path(), "make the change again")
		}
		return err.Error()
	}
	return b.Brief(func(id string) string {
		if i, ok := m.st.pop.find(id); ok {
			return orDash(m.st.identity(i).Name)
		}
		return id
	})
}

// subject names the targets of an action: the identity, or how many.
func (m *Model) subject(targets []int32) string {
	if len(targets) == 1 {
		return orDash(audit.Printable(m.st.identity(targets[0]).Name))
	}
	return commas(len(targets)) + " identities"
}

// hiddenNote warns that some targets are not on screen.
func hiddenNote(hidden int) string {
	if hidden == 0 {
		return ""
	}
	return " (" + commas(hidden) + " not shown by the filter)"
}

// submitOwner is enter in the owner prompt: one identity is set at once;
// several, or clearing an owner, ask first.
func (m *Model) submitOwner(targets []int32, hidden int, owner string) tea.Cmd {
	owner = strings.TrimSpace(owner)
	subject := m.subject(targets)
	switch {
	case owner == "":
		m.confirm("Clear the owner of "+subject+hiddenNote(hidden)+"?", func() tea.Cmd { return m.setOwners(targets, "") })
		return nil
	case len(targets) > 1:
		m.confirm("Set owner of "+subject+hiddenNote(hidden)+" to "+audit.Printable(owner)+"?", func() tea.Cmd { return m.setOwners(targets, owner) })
		return nil
	}
	m.prompt = nil
	return m.setOwners(targets, owner)
}

// ownersSetMsg is the answer of Store.SetOwners.
type ownersSetMsg struct {
	sets   []audit.OwnerSet
	events []audit.Event
	label  string
	err    error
}

func (m *Model) setOwners(targets []int32, owner string) tea.Cmd {
	sets := make([]audit.OwnerSet, len(targets))
	for k, i := range targets {
		sets[k] = audit.OwnerSet{Identity: m.st.identity(i).ID, Owner: owner}
	}
	label := "owner of " + m.subject(targets)
	store, actor := m.st.store, m.st.actor
	return m.write(label+" set to "+ownerWord(sets), func(ctx context.Context) tea.Msg {
		evs, err := store.SetOwners(ctx, actor, sets)
		return ownersSetMsg{sets: sets, events: evs, label: label, err: err}
	})
}

// startNote asks for the text of a note, then (on several identities)
// confirms, then records one note.add event per identity.
func (m *Model) startNote(targets []int32, hidden int) {
	subject := m.subject(targets)
	enter := "add the note"
	if len(targets) > 1 {
		enter = "review, then confirm"
	}
	m.openPrompt(&reasonPrompt{m: m, question: "Note on " + subject + ":", required: true, enter: enter,
		hint: "goes into the event log in your name; never edited or removed",
		done: func(text string) tea.Cmd {
			record := func() tea.Cmd { return m.addNotes(targets, text) }
			if len(targets) > 1 {
				m.confirm("Add this note to "+subject+hiddenNote(hidden)+"?", record)
				return nil
			}
			return record()
		}})
}

func (m *Model) addNotes(targets []int32, text string) tea.Cmd {
	ids := make([]string, len(targets))
	for k, i := range targets {
		ids[k] = m.st.identity(i).ID
	}
	label := m.subject(targets)
	store, actor := m.st.store, m.st.actor
	return m.write("note on "+label, func(ctx context.Context) tea.Msg {
		evs, err := store.AddNotes(ctx, actor, ids, text)
		return notesAddedMsg{label: label, events: evs, err: err}
	})
}

type notesAddedMsg struct {
	label  string
	events []audit.Event
	err    error
}

// undoEntry is one change of this session that u can take back.
type undoEntry struct {
	decision bool          // a decision (through the Reviewer), else an owner change
	campaign string        // for a decision
	events   []audit.Event // what the change appended to the log
	label    string        // "owner of renovate set to alice"
	// For a decision: the identity each event decided, in order, and the
	// decision each had before, shown again at once when undone.
	ids  []string
	prev map[string]string
}

// undoneMsg is the answer of an undo: Store.UndoOwnerSet or
// Reviewer.UndoDecision for each event of an entry, newest first.
type undoneMsg struct {
	entry  undoEntry
	events []audit.Event // the compensating events
	done   int           // how many of entry's events were undone
	err    error
}

func (m *Model) startUndo() {
	if len(m.undo) == 0 {
		m.setFlash("Nothing to undo: no change was made in this session.", false)
		return
	}
	e := m.undo[len(m.undo)-1]
	m.confirm("Undo: "+e.label+"?", func() tea.Cmd { return m.undoCmd(e) })
}

func (m *Model) undoCmd(e undoEntry) tea.Cmd {
	store, reviewer, actor := m.st.store, m.st.reviewer, m.st.actor
	return m.write("undo of "+e.label, func(ctx context.Context) tea.Msg {
		msg := undoneMsg{entry: e}
		for k := len(e.events) - 1; k >= 0; k-- {
			var ev audit.Event
			var err error
			if e.decision {
				ev, err = reviewer.UndoDecision(ctx, actor, e.events[k].Seq)
			} else {
				ev, err = store.UndoOwnerSet(ctx, actor, e.events[k].Seq)
			}
			if err != nil {
				msg.err = err
				break
			}
			msg.events = append(msg.events, ev)
			msg.done++
		}
		return msg
	})
}

// reloadedMsg carries the identities whose owner this session changed,
// refreshed from the store with the findings that depend on the owner,
// as rows by position.
type reloadedMsg struct {
	rows map[int32]idRow
	gen  map[string]int // st.dirty when the reload started
	err  error
	// b encoded rows: a table read again by ctrl+r since (reread.go) has
	// a builder of its own, whose tables these rows do not index.
	b *rowBuilder
}

// reloadChunk is how many identities a reload rebuilds, refreshes and
// encodes at a time: ctrl+r refreshes every identity, and a million
// rebuilt at once would hold gigabytes.
const reloadChunk = 4096

// refresherStore is a Store that refreshes chunk after chunk with one
// read of what findings depend on (audit.Store.Refresher): a reload of
// more than a chunk (ctrl+r, a patched table, tablepatch.go) reads the
// standing exceptions once rather than once a chunk.
type refresherStore interface {
	Refresher(ctx context.Context) (*audit.Refresher, error)
}

var _ refresherStore = (*audit.Store)(nil)

func (m *Model) reload() tea.Cmd {
	if m.st.store == nil || len(m.st.dirty) == 0 {
		return nil
	}
	if m.st.reloading {
		m.st.reloadAgain = true
		return nil
	}
	m.st.reloading = true
	gen := make(map[string]int, len(m.st.dirty))
	positions := make([]int32, 0, len(m.st.dirty))
	for id, n := range m.st.dirty {
		gen[id] = n
		if i, ok := m.st.pop.find(id); ok {
			positions = append(positions, i)
		}
	}
	ctx, store, pop := m.st.ctx, m.st.store, m.st.pop
	// The changed identities are rebuilt from the population as it is now
	// (immutable) and refreshed off the event loop: the store re-reads
	// their owners and re-evaluates their findings without reading the
	// rest of the population.
	return func() tea.Msg {
		msg := reloadedMsg{gen: gen, rows: make(map[int32]idRow, len(positions)), b: pop.b}
		refresh := store.Refresh
		if r, ok := store.(refresherStore); ok && len(positions) > reloadChunk {
			// What findings depend on is read once, not once a chunk.
			rf, err := r.Refresher(ctx)
			if err != nil {
				msg.err = err
				return msg
			}
			refresh = rf.Refresh
		}
		for start := 0; start < len(positions); start += reloadChunk {
			part := positions[start:min(start+reloadChunk, len(positions))]
			ids := make([]*audit.Identity, len(part))
			for k, i := range part {
				ids[k] = pop.identity(i)
			}
			if msg.err = refresh(ctx, ids); msg.err != nil {
				return msg
			}
			pop.b.mu.Lock()
			for k, i := range part {
				// A refresh changes the owner and the findings, not the
				// attributes or permissions: the row keeps its runs of
				// pairs rather than append copies (which, in a table read
				// from its cache, would copy every pair out of the file);
				// its suggestions keep theirs while they are the same.
				old := pop.row(i)
				pop.b.lastAttr, pop.b.lastPerm = pairRun{old.attr, old.nAttr}, pairRun{old.perm, old.nPerm}
				if pop.b.lastSugg, pop.b.lastList = (pairRun{old.sugg, old.nSugg}), nil; old.nSugg == suggPending {
					pop.b.lastSugg = pairRun{} // it stays pending (encode)
				}
				msg.rows[i] = pop.b.encode(ids[k])
			}
			pop.b.mu.Unlock()
		}
		return msg
	}
}

// setOwnersLocally shows owners the store recorded, at once: the
// findings that depend on the owner follow when the reload is back.
func (m *Model) setOwnersLocally(sets []audit.OwnerSet) tea.Cmd {
	updates := map[int32]*audit.Identity{}
	for _, s := range sets {
		i, ok := m.st.pop.find(s.Identity)
		if !ok {
			continue
		}
		c := *m.st.identity(i)
		c.Owner = s.Owner
		updates[i] = &c
		m.st.markDirty(s.Identity)
		if s.Owner != "" {
			m.st.addKnownOwner(s.Owner)
		}
	}
	return m.replace(updates)
}

// replace swaps in new versions of identities and has every view follow.
func (m *Model) replace(updates map[int32]*audit.Identity) tea.Cmd {
	if len(updates) == 0 {
		return nil
	}
	m.st.pop = m.st.pop.with(updates)
	m.layout()
	return m.broadcast(populationChangedMsg{rows: replacedRows(updates)})
}

// replacedRows are the positions of updates, in order; nil when they are
// more than a view patches its rows for (patchMaxRows).
func replacedRows[V any](updates map[int32]V) []int32 {
	if len(updates) > patchMaxRows {
		return nil
	}
	return slices.Sorted(maps.Keys(updates))
}

// updateWrites handles the answers of writes; ok is false for others.
func (m *Model) updateWrites(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case ownersSetMsg:
		if msg.err != nil {
			m.setFlash("Owner not set: "+m.refusal(msg.err), true)
			return nil, true
		}
		label := msg.label + " set to " + ownerWord(msg.sets)
		m.undo = append(m.undo, undoEntry{events: msg.events, label: label})
		m.actionDone()
		cmd := m.setOwnersLocally(msg.sets)
		m.setFlash(upperFirst(label)+" ("+eventRange(msg.events)+") · u undoes", false)
		return tea.Batch(cmd, m.reload(), m.broadcast(historyChangedMsg{})), true
	case undoneMsg:
		return m.undone(msg), true
	case reloadedMsg:
		return m.reloaded(msg), true
	case notesAddedMsg:
		if msg.err != nil {
			m.setFlash("Note not added: "+m.refusal(msg.err), true)
			return nil, true
		}
		m.actionDone()
		m.setFlash("Noted on "+msg.label+" ("+eventRange(msg.events)+")", false)
		return m.broadcast(historyChangedMsg{}), true
	case decidedMsg:
		return m.decided(msg), true
	case transferPeopleMsg:
		if p, ok := m.prompt.(*transferPrompt); ok {
			p.dir, p.err = msg.dir, msg.err
		}
		return nil, true
	case approvedMsg:
		if msg.err != nil {
			m.setFlash("Not approved: "+m.refusal(msg.err), true)
			return nil, true
		}
		m.setFlash("Approved the exception on "+msg.label+" ("+eventRange([]audit.Event{msg.event})+")", false)
		return m.broadcast(decisionsChangedMsg{recorded: true}), true
	case exportedMsg:
		m.exported(msg)
		return nil, true
	}
	return nil, false
}

func (m *Model) actionDone() {
	if av, ok := m.top().(actionView); ok {
		av.actionDone()
	}
	if m.ids != nil {
		m.ids.actionDone()
	}
}

func (m *Model) undone(msg undoneMsg) tea.Cmd {
	e := msg.entry
	var cmds []tea.Cmd
	if !e.decision {
		sets := make([]audit.OwnerSet, 0, len(msg.events))
		for _, ev := range msg.events {
			var s audit.OwnerSet
			if json.Unmarshal(ev.Payload, &s) == nil {
				sets = append(sets, s)
			}
		}
		cmds = append(cmds, m.setOwnersLocally(sets), m.reload(), m.broadcast(historyChangedMsg{}))
	} else if msg.done > 0 {
		// Undo works from the newest event back: the last done ones.
		if e.campaign == m.st.campaign && len(e.ids) == len(e.events) {
			m.st.withDecisions(e.ids[len(e.ids)-msg.done:], func(id string) string { return e.prev[id] })
		}
		cmds = append(cmds, m.loadDecisions(e.campaign), m.broadcast(decisionsChangedMsg{recorded: true}))
	}
	// Whatever was undone leaves the entry; what was not stays to retry,
	// unless the log refused it for good (a later change by someone else):
	// then u goes on to the change before it.
	if n := len(m.undo); n > 0 {
		keep := len(e.events) - msg.done
		if keep == 0 || errors.Is(msg.err, audit.ErrOwnerUndo) {
			m.undo = m.undo[:n-1]
		} else {
			m.undo[n-1].events = e.events[:keep]
			if len(e.ids) == len(e.events) {
				m.undo[n-1].ids = e.ids[:keep]
			}
		}
	}
	switch {
	case msg.err != nil && msg.done == 0:
		m.setFlash(upperFirst(msg.err.Error()), true)
	case msg.err != nil:
		m.setFlash("Undo stopped after "+strconv.Itoa(msg.done)+" of "+strconv.Itoa(len(e.events))+": "+msg.err.Error(), true)
	default:
		m.setFlash("Undone: "+e.label+" ("+eventRange(msg.events)+")", false)
	}
	return tea.Batch(cmds...)
}

func (m *Model) reloaded(msg reloadedMsg) tea.Cmd {
	m.st.reloading = false
	if msg.err != nil {
		m.setFlash("Findings not refreshed: "+msg.err.Error(), true)
		m.cache.pending = nil // the table is not the head's: not cached
		return nil
	}
	if msg.b != m.st.pop.b {
		// ctrl+r swapped the table in meanwhile: the rows still dirty
		// are derived again into it.
		return m.reload()
	}
	updates := map[int32]idRow{}
	for i, r := range msg.rows {
		id := m.st.pop.id(i)
		gen, ok := msg.gen[id]
		if !ok || m.st.dirty[id] != gen {
			continue // not changed here, or changed again since the reload began
		}
		updates[i] = r
		delete(m.st.dirty, id)
	}
	var cmd tea.Cmd
	if len(updates) > 0 {
		m.st.pop = m.st.pop.withRows(updates)
		m.layout()
		cmd = m.broadcast(populationChangedMsg{rows: replacedRows(updates)})
	}
	if m.st.reloadAgain || len(m.st.dirty) > 0 {
		m.st.reloadAgain = false
		if next := m.reload(); next != nil {
			return tea.Batch(cmd, next)
		}
	}
	m.patchDone() // a patched open's table, now whole (tablepatch.go)
	return cmd
}

// ownerWord is the owner a set of assignments gave, for messages.
func ownerWord(sets []audit.OwnerSet) string {
	if len(sets) == 0 || sets[0].Owner == "" {
		return "none"
	}
	return audit.Printable(sets[0].Owner)
}

// eventRange is "event #12" or "events #12–#23".
func eventRange(evs []audit.Event) string {
	switch len(evs) {
	case 0:
		return "no event"
	case 1:
		return "event #" + strconv.FormatInt(evs[0].Seq, 10)
	}
	lo, hi := evs[0].Seq, evs[0].Seq
	for _, e := range evs {
		lo, hi = min(lo, e.Seq), max(hi, e.Seq)
	}
	return "events #" + strconv.FormatInt(lo, 10) + "–#" + strconv.FormatInt(hi, 10)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// startDecision refuses up front what cannot succeed (decidable), then
// asks for the reason, then, for a selection, for confirmation, saying
// how many of it will be decided; one identity is decided at once.
func (m *Model) startDecision(targets []int32, hidden int, decision string) tea.Cmd {
	ok, why := m.decidable(targets)
	if len(ok) == 0 {
		m.setFlash(why, true)
		return nil
	}
	subject := m.subject(ok)
	campaign := m.st.campaign
	ask := "Why " + decision + " " + subject + "?"
	enter := "record the decision"
	if len(targets) > 1 {
		enter = "review, then confirm"
	}
	// A keep always asks why; a rotate must when an item had findings
	// when the campaign froze it, as the campaign refuses one without.
	required := decision == DecisionKeep || decision == DecisionRotate && m.anyFindings(ok)
	m.openPrompt(&reasonPrompt{m: m, question: ask, required: required, enter: enter, done: func(reason string) tea.Cmd {
		record := func() tea.Cmd { return m.decide(campaign, ok, decision, reason) }
		if len(targets) == 1 && decision == DecisionRotate && m.askReplacement(campaign, ok[0], reason) {
			return nil
		}
		if len(targets) == 1 {
			return record()
		}
		q := "Decide " + decision + " for " + subject + hiddenNote(hidden) + " in " + audit.Printable(campaign) + "?"
		if len(ok) < len(targets) {
			q = "Decide " + decision + " for " + commas(len(ok)) + " of the " + commas(len(targets)) + " selected in " +
				audit.Printable(campaign) + " (" + why + ")?"
		}
		m.confirm(q, record)
		return nil
	}})
	return nil
}

// anyFindings reports whether any of targets had findings when the
// active campaign froze it.
func (m *Model) anyFindings(targets []int32) bool {
	for _, i := range targets {
		if it, _ := m.st.items.item(m.st.identity(i).ID); it.Findings {
			return true
		}
	}
	return false
}

// decidable are the targets a decision can be recorded for now, and why
// the others cannot (or, when none can, why not, to show instead): the
// campaign must be chosen, read and open, and each identity in its
// population and assigned to the user, unless the session decides for
// other reviewers (:others, flagged on screen).
func (m *Model) decidable(targets []int32) ([]int32, string) {
	st := m.st
	name := audit.Printable(st.campaign)
	switch c := st.activeCampaign(); {
	case st.campaign == "":
		return nil, "Choose a campaign first: :campaigns, then enter."
	case st.items == nil:
		return nil, "Still reading the items of " + name + "; try again in a moment."
	case c != nil && c.Status == campaignClosed:
		return nil, "Campaign " + name + " is closed: its decisions can no longer change (nhi campaign show " + name + ")."
	}
	var ok []int32
	outside, others := 0, 0
	var other string
	for _, i := range targets {
		it, in := st.items.item(st.identity(i).ID)
		switch {
		case !in:
			outside++
		case !it.Mine && !st.forOthers:
			others++
			other = it.Reviewer
		default:
			ok = append(ok, i)
		}
	}
	if len(targets) == 1 && len(ok) == 0 {
		if outside > 0 {
			return nil, m.subject(targets) + " is not in campaign " + name + ": nothing to decide."
		}
		who := "assigned to " + orDash(audit.Printable(other))
		if other == "" {
			who = "assigned to no reviewer"
		}
		return nil, m.subject(targets) + " is " + who + ", not to you; :others decides for other reviewers (flagged)."
	}
	var parts []string
	if outside > 0 {
		parts = append(parts, commas(outside)+" not in the campaign")
	}
	if others > 0 {
		parts = append(parts, commas(others)+" assigned to other reviewers (:others decides for them)")
	}
	why := strings.Join(parts, ", ")
	if len(ok) == 0 {
		why = "None of the " + commas(len(targets)) + " selected can be decided in " + name + ": " + why + "."
	}
	return ok, why
}

func (m *Model) decide(campaign string, targets []int32, decision, reason string) tea.Cmd {
	ids := make([]string, len(targets))
	for k, i := range targets {
		ids[k] = m.st.identity(i).ID
	}
	label := decision + " for " + m.subject(targets) + " in " + campaign
	r, actor := m.st.reviewer, m.st.actor
	return m.write("decision "+label, func(ctx context.Context) tea.Msg {
		evs, err := r.Decide(ctx, actor, campaign, ids, decision, reason)
		return decidedMsg{campaign: campaign, ids: ids, decision: decision, events: evs, label: label, err: err}
	})
}

func (m *Model) decided(msg decidedMsg) tea.Cmd {
	if msg.err != nil {
		m.setFlash("Not decided: "+m.refusal(msg.err), true)
		return nil
	}
	prev := make(map[string]string, len(msg.ids))
	if msg.campaign == m.st.campaign {
		for _, id := range msg.ids {
			prev[id] = m.st.decision(id)
		}
	}
	m.undo = append(m.undo, undoEntry{decision: true, campaign: msg.campaign, events: msg.events, ids: msg.ids, prev: prev, label: "decision " + msg.label})
	m.actionDone()
	if msg.campaign == m.st.campaign {
		m.st.withDecisions(msg.ids, func(string) string { return msg.decision })
	}
	if msg.owner != "" {
		// A transfer recorded the new owner too: show it at once. Undo
		// takes back the decision; the owner stays until o changes it.
		m.undo[len(m.undo)-1].label += " (the owner it recorded stays; o changes it)"
		sets := make([]audit.OwnerSet, len(msg.ids))
		for k, id := range msg.ids {
			sets[k] = audit.OwnerSet{Identity: id, Owner: msg.owner}
		}
		m.setFlash("Decided "+msg.label+", owner recorded ("+eventRange(msg.events)+") · u undoes the decision", false)
		return tea.Batch(m.setOwnersLocally(sets), m.reload(), m.broadcast(decisionsChangedMsg{recorded: true}), m.broadcast(historyChangedMsg{}))
	}
	m.setFlash("Decided "+msg.label+" ("+eventRange(msg.events)+")"+exceptionNote(msg.events, len(msg.ids))+" · u undoes", false)
	return m.broadcast(decisionsChangedMsg{recorded: true})
}

// exceptionNote says, as nhi decide does, what a keep made of identities
// with findings: exceptions until a day, and whether a second person must
// approve them (campaigns.DecidePayload; docs/campaigns.md, "Exceptions").
func exceptionNote(evs []audit.Event, n int) string {
	var p struct {
		Expires  string `json:"exception_expires"`
		Approval bool   `json:"exception_approval"`
	}
	for _, ev := range evs {
		if json.Unmarshal(ev.Payload, &p) != nil || p.Expires == "" {
			continue
		}
		s := "; it has findings, so this keep is an exception until " + audit.Printable(p.Expires)
		if n > 1 {
			s = "; those with findings are exceptions until " + audit.Printable(p.Expires)
		}
		if p.Approval {
			s += ", once a second person approves (A)"
		}
		return s
	}
	return ""
}

type decidedMsg struct {
	campaign string
	ids      []string
	decision string
	events   []audit.Event
	label    string
	owner    string // the new owner a transfer recorded
	err      error
}

// startApprove asks [y/N], then records the actor's approval of the
// exception on the identity: one at a time, since each is a second
// person's judgement of one kept risk.
func (m *Model) startApprove(targets []int32) {
	campaign := m.st.campaign
	switch {
	case campaign == "":
		m.setFlash("Choose a campaign first: :campaigns, then enter.", true)
		return
	case len(targets) != 1:
		m.setFlash("Approve one exception at a time: clear the selection (esc) and put the cursor on it.", true)
		return
	}
	id := m.st.identity(targets[0]).ID
	if m.st.decision(id) != DecisionKeep {
		m.setFlash("Nothing to approve: an exception is a keep on an identity with findings, and "+m.subject(targets)+" is not kept in "+audit.Printable(campaign)+".", true)
		return
	}
	label := m.subject(targets) + " in " + campaign
	r, actor := m.st.reviewer, m.st.actor
	m.confirm("Approve the exception on "+label+" as the second person?", func() tea.Cmd {
		return m.write("approval of the exception on "+label, func(ctx context.Context) tea.Msg {
			ev, err := r.ApproveException(ctx, actor, campaign, id)
			return approvedMsg{label: label, event: ev, err: err}
		})
	})
}

type approvedMsg struct {
	label string
	event audit.Event
	err   error
}
