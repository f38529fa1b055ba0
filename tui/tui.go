// Package tui is the interactive terminal UI in which an auditor walks,
// inspects and acts on identities.
//
// The root Model owns the terminal size, the help, the prompts at the
// bottom of the screen (command, owner, confirmation), a one-line message
// and a stack of views: the identities table at the bottom, whatever the
// auditor opened from it (the detail of one identity, the overview, the
// campaigns) on top. Views are small Bubble Tea models of their own
// (Update, View, SetSize) with their own keymap; they ask the root to
// open or close views with messages (pushView, popView), so a view never
// knows what is above or below it. The root draws the header line, the
// view on top, the prompt or message, and the key-hint bar, and
// guarantees the frame is exactly the terminal's size.
//
// Everything slow runs off the event loop as a tea.Cmd: filtering and
// sorting (queries, whose stale results are dropped by sequence number),
// writes to the evidence file, and loading history. Writes go through
// the audit Store API, exactly as the CLI's do.
//
// Every string that came from an API goes through audit.Printable before
// it reaches the screen.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// Options configure the TUI.
type Options struct {
	// ReadOnly shows the data without offering to change it: the action
	// keys are hidden from the help and refused with a message.
	ReadOnly bool
	// Now is the clock for ages ("14d ago"); nil means time.Now.
	Now func() time.Time
	// Store is the evidence file the identities came from: writes and
	// history go through it. nil shows the identities read-only.
	Store Store
	// Actor is who the event log says acted (audit.ResolveActor).
	Actor string
	// NoActor, when Actor is "", is why nobody could be named (a name the
	// directory of people does not know, a role --as may not narrow to):
	// what a refused write says, with what to do, rather than a guess.
	NoActor string
	// Reviewer gives access to review campaigns and decisions; nil shows
	// no campaign feature.
	Reviewer Reviewer
	// Poll is how often the TUI looks for events other processes wrote
	// (watch.go); 0 only on ctrl+r. On PostgreSQL it listens for them
	// instead, and polls only while it cannot.
	Poll time.Duration
	// ASCII writes every frame in ASCII, for a terminal whose locale is
	// not UTF-8 (ascii.go); Run sets it from LC_ALL, LC_CTYPE and LANG.
	ASCII bool
	// Campaign is the campaign to review from the start (nhi --campaign):
	// the table lists the Actor's items in it, as if chosen in :campaigns.
	Campaign string
	// TableCache is the directory where the table read from the Store is
	// cached, keyed by the head of the event log (tablecache.go); ""
	// keeps no cache. It is never evidence: only the TUI reads it.
	TableCache string
	// Writes, when not nil, is the context the user's changes run under
	// rather than Run's: nhi's outlives a hang-up (SIGHUP: the terminal
	// closed, ssh dropped), which ends Run's, so a change the user made
	// is recorded though nobody is left to be told (inflight.go).
	Writes context.Context
}

// view is one screen below the header and above the hint bar.
type view interface {
	help.KeyMap // the view's own keys, for the hint bar and the full help
	// Update handles a message; keys reach it after the global ones.
	Update(msg tea.Msg) tea.Cmd
	// View draws the view in the size last given to SetSize.
	View() string
	// SetSize gives the view its size in cells; View must fit in it.
	SetSize(width, height int)
}

// inputView is a view that may be taking typed text (a filter): while it
// is, only ctrl+c is global, so that typing ?, q or : works.
type inputView interface {
	capturingInput() bool
}

// pushViewMsg asks the root to open a view on top of the current one.
type pushViewMsg struct {
	view view
	cmd  tea.Cmd // run once the view is open, to load what it shows
}

// popViewMsg asks the root to close the view on top.
type popViewMsg struct{}

// pushView opens v on top of the current view, load run once it is open.
// The root opens it as soon as the message that asked for it is handled
// (Model.Update), before the next key: a key typed right behind the one
// that opened a view is the new view's. (Opened by a command of its own,
// the view came after the keys queued behind it: ":campaigns", enter,
// enter opened the detail of the table's row under the campaigns.)
func (s *state) pushView(v view, load tea.Cmd) tea.Cmd {
	s.pushes = append(s.pushes, pushViewMsg{v, load})
	return nil
}

func popView() tea.Msg { return popViewMsg{} }

// Model is the root Bubble Tea model.
type Model struct {
	st   *state
	opts Options

	width, height int
	keys          globalKeys
	actions       actionKeys
	help          help.Model
	helpPage      helpPage        // the full help, over the view, while help.ShowAll
	stack         []view          // stack[0] is the identities table or the empty state
	ids           *identitiesView // stack[0], when there are identities
	loading       bool            // the identities are being read
	readShort     bool            // reading them in batches failed part way (stream.go)
	watch         watchState      // how other processes' writes are noticed (watch.go)

	prompt prompt // the prompt at the bottom, or nil
	// promptArmed says the prompt takes keys: at once when a key of the
	// user opened it, else once the keys already queued have gone by
	// (Update).
	promptArmed bool
	byViewKey   bool   // the message in hand is a key for the view, not a prompt
	flash       string // a message shown until the next key
	flashErr    bool
	undo        []undoEntry  // this session's changes, newest last
	back        *returnPoint // where esc on the table goes back to, or nil

	// stderr is where Run says what the writes still on their way when
	// the program ended did (inflight.go).
	stderr io.Writer

	header string // cached: changes with the width
	footer string // cached: changes with the width, the top view, the prompt and the help

	// cache is the table cache's part of the load (tablecache.go).
	cache tableCacheState
	// sugg is the derive of the owner suggestions after the table
	// (suggest.go).
	sugg suggestState
}

// New returns the TUI for the identities of a snapshot. snap may be nil
// when there is no snapshot yet, or the newest, failed or unfinished,
// when none finished: the header and the empty screen then say so. The
// identities are shown in the order
// given; the TUI keeps ids and never changes its elements (a change
// makes a new copy of the identity). With ids nil and a Store in opts,
// the TUI reads them from the store itself, after its first frame.
func New(snap *audit.Snapshot, ids []audit.Identity, opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	st := &state{
		ctx:      context.Background(),
		writeCtx: context.Background(),
		snap:     snap,
		pop:      newPopulation(ids),
		now:      now,
		store:    opts.Store,
		reviewer: opts.Reviewer,
		actor:    strings.TrimSpace(opts.Actor),
		readOnly: opts.ReadOnly,
		dirty:    map[string]int{},
	}
	if opts.Reviewer != nil {
		st.campaign = opts.Campaign
	}
	m := &Model{
		st:       st,
		opts:     opts,
		keys:     newGlobalKeys(opts.Store),
		actions:  newActionKeys(),
		help:     newHelp(),
		helpPage: newHelpPage(),
		cache:    tableCacheState{writeCtx: context.Background()},
		stderr:   io.Discard,
	}
	switch {
	case ids == nil && opts.Store != nil:
		// Read them in the background (Init): the first frame does not
		// wait for the seconds 100,000 identities take to load.
		m.loading = true
		m.stack = []view{newLoadingView(snap, storeNoun(opts.Store))}
	case len(ids) == 0:
		m.stack = []view{newEmptyView(snap)}
	default:
		m.ids = newIdentitiesView(st)
		m.stack = []view{m.ids}
	}
	return m
}

// identitiesLoadedMsg is the population read in the background.
type identitiesLoadedMsg struct {
	ids []audit.Identity
	err error
}

func (m *Model) loadIdentities() tea.Cmd {
	ctx, store := m.st.ctx, m.st.store
	return func() tea.Msg {
		ids, err := store.Identities(ctx)
		return identitiesLoadedMsg{ids, err}
	}
}

func (m *Model) loaded(msg identitiesLoadedMsg) {
	m.loading = false
	m.st.pop = newPopulation(msg.ids)
	switch {
	case msg.err != nil:
		e := newEmptyView(m.st.snap)
		e.message = "The identities could not be read: " + audit.Printable(msg.err.Error())
		m.stack[0] = e
	case len(msg.ids) == 0:
		m.stack[0] = newEmptyView(m.st.snap)
	default:
		m.ids = newIdentitiesView(m.st)
		m.stack[0] = m.ids
	}
	m.layout()
}

// Run shows the TUI full screen until the auditor quits or ctx is done.
// Every read and write the TUI starts runs under ctx, and is cancelled
// when Run returns: quitting (ctrl+c too) in the middle of a long read
// stops it instead of waiting for it.
func Run(ctx context.Context, snap *audit.Snapshot, ids []audit.Identity, opts Options) error {
	// Ask the terminal for its background colour (for the adaptive colours)
	// now, before Bubble Tea starts reading the input (styles.go).
	askBackground()
	defer limitMemory()()
	opts.ASCII = opts.ASCII || asciiLocale()
	m := New(snap, ids, opts)
	// The table cache is written after the table loads, off the event
	// loop: a quit meanwhile waits for it (a second or so at a million
	// identities) rather than leave half a file; ctx cancelled stops it.
	m.cache.writeCtx = ctx
	m.stderr = os.Stderr
	defer m.cache.writes.Wait()
	return runProgram(ctx, m, tea.WithAltScreen())
}

// memoryLimit is the soft limit of the Go heap while the TUI runs, unless
// GOMEMLIMIT says otherwise. A million identities are about 450 MB of
// rows (rows.go); while they load, the read leaves as much garbage again
// behind each batch, and the collector's default pace (GOGC=100) lets the
// heap grow to twice what is live: 950 MB resident. With the limit it
// collects sooner, and the process stays within 800 MB (issue 21).
//
// The limit is as high as that allows: the process holds some 60 MB the
// limit does not count (SQLite's memory, the program's code), and what
// is live at the end of a million-identity load, the rows and the read's
// pages and maps in flight, is some 550 MB of the Go heap. At 600 MB the
// goal left the collector 15 to 30 MB of room over that: through the
// second half of the load it ran back to back, ten cycles of a 500 MB
// heap, its assists slowing the read; at 680 MiB the room is some 100 MB
// and the process peaks near 760 MB resident.
const memoryLimit = 680 << 20

// limitMemory sets memoryLimit where the user set none, and returns what
// restores the limit before it.
func limitMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(memoryLimit)
	return func() { debug.SetMemoryLimit(before) }
}

// runProgram runs m until it quits or ctx is done, then cancels what m
// started.
//
// Signals are the caller's: nhi's main ends ctx on SIGINT and SIGTERM,
// as for every command, and the program ends with it. Bubble Tea's own
// handler is off: it took SIGTERM too and quit as q does, so that a
// killed nhi exited 0 when it won the race, and when ctx won, its send
// of the quit blocked the program's shutdown for good
// (TestTerminateEndsRunWithItsContext).
func runProgram(parent context.Context, m *Model, popts ...tea.ProgramOption) error {
	return runModel(parent, m, m, popts...)
}

// runModel is runProgram of tm, which is m or wraps it (a test's).
func runModel(parent context.Context, m *Model, tm tea.Model, popts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	m.st.ctx, m.st.writeCtx = ctx, parent
	if m.opts.Writes != nil {
		m.st.writeCtx = m.opts.Writes
	}
	_, err := tea.NewProgram(tm, append(popts, tea.WithContext(ctx), tea.WithoutSignalHandler())...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = ctx.Err()
	}
	// The changes still on their way are waited for, and said (inflight.go).
	return m.st.writes.settle(parent, m.stderr, err)
}

func newHelp() help.Model {
	h := help.New()
	h.Styles.ShortKey = theme.Title.Bold(false)
	h.Styles.ShortDesc = theme.Muted
	h.Styles.ShortSeparator = theme.Muted
	h.Styles.FullKey = theme.Title.Bold(false)
	h.Styles.FullDesc = theme.Muted
	h.Styles.FullSeparator = theme.Muted
	h.Styles.Ellipsis = theme.Muted
	return h
}

// Init implements tea.Model: it starts reading the identities when New
// was not given them.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.opts.Poll > 0 {
		cmds = append(cmds, m.startWatch()) // watch.go
	}
	cmds = append(cmds, m.loadOwnerRights())
	var itemsRead chan struct{}
	if m.st.campaign != "" {
		// The campaign's items and its status (open or closed), for the
		// queue and the decision keys. The items are read first: the
		// queue shows no row until they are in, and read beside the
		// table and the campaigns' progress (a read of every item too)
		// they came when the table was nearly whole (issue 21: at a
		// million items the first rows 3.8 s in; read first, on both
		// cores, 1.5 s, the table whole as soon). A table derived from
		// the store waits for them, and so does the progress.
		itemsRead = make(chan struct{})
		ctx, items, camps := m.st.ctx, m.loadDecisions(m.st.campaign), m.loadCampaigns()
		cmds = append(cmds, func() tea.Msg {
			defer close(itemsRead)
			if items == nil {
				return nil
			}
			return items()
		}, func() tea.Msg {
			if camps == nil {
				return nil
			}
			select { // the campaigns' progress, a read of the items too
			case <-itemsRead:
			case <-ctx.Done():
				return nil
			}
			return camps()
		})
	}
	if m.loading {
		if s, ok := m.st.store.(identityStreamer); ok {
			l := m.tableLoad()
			l.itemsRead = itemsRead
			cmds = append(cmds, m.streamIdentities(s, l), m.countIdentities(s, l))
		} else {
			cmds = append(cmds, m.loadIdentities())
		}
	}
	return tea.Batch(cmds...)
}

func (m *Model) top() view { return m.stack[len(m.stack)-1] }

// capturing reports whether typed text goes to a prompt or a view.
func (m *Model) capturing() bool {
	if m.prompt != nil {
		return true
	}
	iv, ok := m.top().(inputView)
	return ok && iv.capturingInput()
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	open := m.prompt
	m.byViewKey = false
	cmd := m.update(msg)
	for len(m.st.pushes) > 0 { // views it opened (pushView), in order
		p := m.st.pushes[0]
		m.st.pushes = m.st.pushes[1:]
		cmd = tea.Batch(cmd, m.update(p))
	}
	if m.st.pop.unsuggested > 0 && !m.sugg.running {
		// Rows wait for their owner suggestions (an open, a cached
		// table, ctrl+r's): derived once the table has loaded.
		cmd = tea.Batch(cmd, m.suggestNext(0))
	}
	if m.prompt != nil && m.prompt != open && !m.promptArmed {
		// A prompt the user did not open with the key just typed (the
		// confirmation after an owner, a reason): keys already on their
		// way were typed for what was on screen before, so the prompt
		// takes keys only once this message has come through the queue
		// behind them (key-bounce guard).
		p := m.prompt
		cmd = tea.Batch(cmd, func() tea.Msg { return promptArmedMsg{p} })
	}
	return m, cmd
}

// promptArmedMsg says prompt p may take keys now.
type promptArmedMsg struct{ p prompt }

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case writtenMsg:
		m.st.writes.taken(msg.k)
		return m.update(msg.msg)
	case promptArmedMsg:
		if msg.p == m.prompt {
			m.promptArmed = true
		}
		return nil
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return nil
	case pushViewMsg:
		m.stack = append(m.stack, msg.view)
		// A read the view waits for may have answered between the command
		// that made the view and now: loadCampaigns starts none while one
		// is on its way, and that answer went to the views then open. The
		// view takes it from the shared state.
		if read, ok := m.st.campaignsAsRead(); ok {
			msg.view.Update(read)
		}
		m.layout()
		return msg.cmd
	case popViewMsg:
		if len(m.stack) > 1 {
			m.stack[len(m.stack)-1] = nil
			m.stack = m.stack[:len(m.stack)-1]
			m.layout()
			if m.st.campsStale && m.campaignsOnScreen() {
				return m.loadCampaigns() // what esc uncovers is as of now
			}
		}
		return nil
	case tea.KeyMsg:
		return m.updateKey(msg)
	case identitiesLoadedMsg:
		m.loaded(msg)
		if m.st.pop.manySources() {
			// Each source has its own snapshot: read them, so the header
			// can sum what each could not read.
			return m.loadSnapshots()
		}
		return nil
	case identitiesBatchMsg:
		return m.batchLoaded(msg)
	case identitiesCountedMsg:
		m.counted(msg)
		return nil
	}
	if cmd, ok := m.route(msg); ok {
		return cmd
	}
	// Anything else is the answer to something a view asked for; it may
	// change what the keys offer (a filter's rows came: none to open).
	cmd := m.broadcast(msg)
	m.refreshFooter()
	return cmd
}

func (m *Model) updateKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		return tea.Quit
	}
	if m.flash != "" {
		m.setFlash("", false)
	}
	if m.prompt != nil {
		if !m.promptArmed {
			return nil // typed before the prompt showed: not its answer
		}
		cmd := m.prompt.Update(msg)
		m.layout()
		return cmd
	}
	if m.help.ShowAll {
		// The help covers the view: its keys scroll it (helpview.go).
		// q does what the help says it does: it quits on the first view;
		// above it, it closes (the help first).
		if m.quitWithQ() && key.Matches(msg, m.keys.Quit) {
			return tea.Quit
		}
		if m.helpPage.update(msg) {
			m.help.ShowAll = false
			m.layout()
		}
		return nil
	}
	// A prompt this key opens is the user's answer to it: it takes keys
	// at once (":" then "q").
	m.byViewKey = true
	if keys := splitRunes(msg); keys != nil && !m.capturing() {
		// Bubble Tea reads keys typed faster than a frame ("jjj", from
		// key repeat or tmux send-keys) as one message; a keymap must see
		// each one. The first key may open a prompt that takes the rest
		// as typed text (":q", "/owner:none").
		var cmds []tea.Cmd
		for _, k := range keys {
			if cmd := m.updateKey(k); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
		switch len(cmds) {
		case 0:
			return nil
		case 1:
			return cmds[0]
		}
		return tea.Sequence(cmds...)
	}
	if !m.capturing() {
		switch {
		case key.Matches(msg, m.keys.Refresh):
			return func() tea.Msg { return refreshMsg{} }
		case key.Matches(msg, m.keys.Help):
			m.showHelp()
			return nil
		case m.quitWithQ() && key.Matches(msg, m.keys.Quit):
			return tea.Quit
		case key.Matches(msg, m.keys.Command):
			m.openPrompt(newCommandPrompt(m))
			return nil
		case key.Matches(msg, m.keys.Back) && m.canGoBack():
			return m.goBack()
		}
		if cmd, ok := m.actionKey(msg); ok {
			return cmd
		}
	}
	cmd := m.top().Update(msg)
	// The view may have changed its keys (the filter prompt opened).
	m.refreshFooter()
	return cmd
}

// refreshFooter redraws the hint bar after a view changed what its keys
// offer (a filter prompt opened, a campaign found closed).
func (m *Model) refreshFooter() {
	if f := m.footerView(); f != m.footer {
		if lipgloss.Height(f) != lipgloss.Height(m.footer) {
			m.layout()
		} else {
			m.footer = f
		}
	}
}

// quitWithQ reports whether q quits: on the first view only; above it,
// q closes the view (less and k9s habits).
func (m *Model) quitWithQ() bool { return len(m.stack) == 1 }

// showHelp opens the full help of the screen in view, from its top (? and
// :help).
func (m *Model) showHelp() {
	m.help.ShowAll = true
	m.helpPage.vp.GotoTop()
	m.layout()
}

// openPrompt shows p at the bottom of the screen; nil closes it.
func (m *Model) openPrompt(p prompt) {
	m.prompt = p
	m.promptArmed = m.byViewKey
	m.layout()
}

// maxFlashLines is the most lines a message takes above the hint bar: 3,
// and up to 6 on a screen tall enough (a quarter of it), since a refusal
// ends in what to do and names the evidence file before it, whose path
// may be long.
func (m *Model) maxFlashLines() int { return min(max(m.height/4, 3), 6) }

// flashLines is the message wrapped at words to the width, so that no
// line cuts a word (a refusal names an event, a person and a time); past
// maxFlashLines the last line is cut with "…".
func (m *Model) flashLines() []string {
	if m.width <= 0 {
		return []string{m.flash}
	}
	lines := strings.Split(ansi.Wrap(m.flash, m.width, ""), "\n")
	if n := m.maxFlashLines(); len(lines) > n {
		lines = lines[:n]
		lines[n-1] = truncate(lines[n-1]+" …", m.width)
	}
	for i, l := range lines {
		lines[i] = truncate(strings.TrimRight(l, " "), m.width)
	}
	return lines
}

// setFlash shows a message until the next key.
func (m *Model) setFlash(msg string, isErr bool) {
	m.flash, m.flashErr = audit.Printable(msg), isErr
	m.layout()
}

// layout sizes the header, the footer and every view for the terminal.
func (m *Model) layout() {
	m.help.Width = m.width
	m.header = m.headerView()
	m.footer = m.footerView()
	body := m.bodyHeight()
	for _, v := range m.stack {
		v.SetSize(m.width, body)
	}
	// What the keys offer may depend on the size just given (a detail
	// longer than the screen scrolls): the bar again, if no taller.
	if f := m.footerView(); f != m.footer && lipgloss.Height(f) == lipgloss.Height(m.footer) {
		m.footer = f
	}
	if m.help.ShowAll {
		m.helpPage.set(m.fullHelpView(m.screenKeys().FullHelp()), m.width, body)
	}
}

func (m *Model) bodyHeight() int {
	return max(m.height-1-lipgloss.Height(m.footer)-m.bottomLines(), 0)
}

// bottomLines is the height of the prompt or message above the hint bar.
func (m *Model) bottomLines() int {
	switch {
	case m.prompt != nil:
		return m.prompt.Lines()
	case m.flash != "":
		return len(m.flashLines())
	}
	return 0
}

// View implements tea.Model: exactly the terminal's height in lines, none
// wider than the terminal.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return "" // before the first WindowSizeMsg
	}
	var b strings.Builder
	b.WriteString(m.header)
	b.WriteByte('\n')
	if body := m.bodyHeight(); body > 0 {
		if m.help.ShowAll {
			b.WriteString(fit(m.helpPage.View(), m.width, body))
		} else {
			b.WriteString(fit(m.top().View(), m.width, body))
		}
		b.WriteByte('\n')
	}
	switch {
	case m.prompt != nil:
		b.WriteString(fit(m.prompt.View(m.width), m.width, m.prompt.Lines()))
		b.WriteByte('\n')
	case m.flash != "":
		style := theme.Muted
		if m.flashErr {
			style = theme.Error
		}
		for _, l := range m.flashLines() {
			b.WriteString(style.Render(l))
			b.WriteByte('\n')
		}
	}
	b.WriteString(m.footer)
	if m.opts.ASCII {
		return asciiFrame(fit(b.String(), m.width, m.height))
	}
	return fit(b.String(), m.width, m.height)
}

// headerView is "nhi · github/acme · snapshot complete 2025-06-01 12:00 UTC
// · 1,234 identities · 2 endpoints not read". When that is too wide it says
// the same in fewer words before anything is cut, so that the count of
// endpoints not read (coverage gaps), and read-only, the last word, stay
// on screen as long as possible.
func (m *Model) headerView() string {
	var line string
	for compact := 0; compact <= 4; compact++ {
		line = m.headerParts(compact)
		if ansi.StringWidth(line) <= m.width {
			return line
		}
	}
	return truncate(line, m.width)
}

// headerParts builds the header; compact 0 is the full form, 1 drops the
// word "snapshot" and says "coverage gaps" for "endpoints not read", 2
// says "gaps", 3 also drops the time of day and "UTC",
// 4 also the snapshot's date and says "39 of 40 active" for "39 active of
// 40 identities" (the demo's header at 80 columns, read-only, cut that
// word to "r…").
func (m *Model) headerParts(compact int) string {
	sep := theme.Muted.Render(" · ")
	parts := []string{theme.AppName.Render("nhi")}
	gaps := 0
	if s := m.st.snap; s != nil {
		gaps = len(s.Gaps)
	}
	// An account tried and not read (UnreadOf) counts as one of the
	// sources and accounts: the header says it was not read.
	unread := len(audit.UnreadOf(m.st.snapshots))
	if n := m.st.pop.sources() + unread; n > 1 {
		// Several sources: each has its own snapshot (the overview lists
		// them); the header counts them and sums what they could not read.
		text := commas(n) + " sources"
		if compact == 0 {
			text = commas(n) + " sources and accounts"
		}
		parts = append(parts, text)
		gaps = 0
		for _, s := range audit.CurrentOf(m.st.snapshots) {
			gaps += len(s.Gaps)
		}
	} else if s := m.st.snap; s == nil {
		parts = append(parts, theme.Muted.Render("no snapshot yet"))
	} else {
		parts = append(parts, audit.Printable(s.Source)+"/"+audit.Printable(s.Account))
		status := audit.Printable(s.Status)
		switch s.Status {
		case audit.SnapshotPartial, audit.SnapshotRunning:
			status = theme.Warning.Render(status)
		case audit.SnapshotFailed:
			status = theme.Danger.Render(status)
		}
		layout := "2006-01-02 15:04 UTC"
		if compact >= 3 {
			layout = "2006-01-02"
		}
		when := " started " + s.StartedAt.UTC().Format(layout)
		if s.FinishedAt != nil {
			when = " " + s.FinishedAt.UTC().Format(layout)
		}
		if compact >= 4 {
			when = "" // the overview and nhi snapshots say when
		}
		if compact == 0 {
			status = "snapshot " + status
		}
		parts = append(parts, status+when)
	}
	switch {
	case m.loading && m.st.pop.len() > 0 && m.st.loadTotal == 0:
		parts = append(parts, theme.Muted.Render("loading "+commas(m.st.pop.len())+"…"))
	case m.loading && m.st.pop.len() > 0:
		parts = append(parts, theme.Muted.Render("loading "+commas(m.st.pop.len())+" of "+commas(m.st.loadTotal)))
	case m.loading:
		parts = append(parts, theme.Muted.Render("reading identities…"))
	case m.readShort && m.st.loadTotal == 0:
		parts = append(parts, theme.Warning.Render("only "+plural(m.st.pop.len(), "identity", "identities")+" read"))
	case m.readShort:
		parts = append(parts, theme.Warning.Render(commas(m.st.pop.len())+" of "+plural(m.st.loadTotal, "identity", "identities")+" read"))
	default:
		// Active is what the newest snapshots hold, what the lists show;
		// the rest shows with status:not-checked, status:removed,
		// status:any. Not checked is neither active nor removed: a later
		// snapshot could not read where those live (docs/filter.md).
		active, all := m.st.pop.active, m.st.pop.len()
		text := plural(all, "identity", "identities")
		if s := m.st.snap; all == 0 && s != nil && s.Status != audit.SnapshotComplete && s.Status != audit.SnapshotPartial {
			text = "no identities read" // not 0: nothing finished
		}
		if all > active {
			text = commas(active) + " active of " + text
			if compact >= 4 {
				text = commas(active) + " of " + commas(all) + " active"
			}
		}
		parts = append(parts, text)
		if n := m.st.pop.notChecked; n > 0 {
			parts = append(parts, theme.Warning.Render(commas(n)+" not checked"))
		}
	}
	if unread > 0 && m.st.pop.sources()+unread > 1 {
		// The overview says why; one alone is the snapshot the header
		// names already.
		parts = append(parts, theme.Danger.Render(plural(unread, "account", "accounts")+" not read"))
	}
	if gaps > 0 {
		// Shorter, they are the overview's and the report's coverage
		// gaps: "1 not read" beside "5 not checked" read as an identity
		// not read, the word LAST USED and FINDINGS use.
		text := plural(gaps, "endpoint", "endpoints") + " not read"
		switch {
		case compact == 1:
			text = plural(gaps, "coverage gap", "coverage gaps")
		case compact > 1:
			text = plural(gaps, "gap", "gaps")
		}
		parts = append(parts, theme.Warning.Render(text))
	}
	if m.opts.ReadOnly {
		parts = append(parts, theme.Muted.Render("read-only"))
	}
	return strings.Join(parts, sep)
}

// footerView is the key-hint bar: the prompt's keys, the open help's, or
// those of the screen.
func (m *Model) footerView() string {
	var keys help.KeyMap
	switch {
	case m.prompt != nil:
		keys = m.prompt.Keys()
	case m.help.ShowAll:
		keys = m.helpPage.keys
	default:
		keys = m.screenKeys()
	}
	return m.shortHelpView(keys.ShortHelp())
}

// screenKeys are the keys of the screen behind any prompt or help: the
// view on top's, the action keys, the global ones.
func (m *Model) screenKeys() screenKeys {
	iv, ok := m.top().(inputView)
	keys := screenKeys{
		view:     m.top(),
		actions:  m.actionBindings(),
		global:   m.keys,
		showAll:  m.help.ShowAll,
		quitWith: m.quitWithQ(),
		input:    ok && iv.capturingInput(),
	}
	if m.canGoBack() {
		keys.back = m.back.label()
	}
	if c, ok := m.top().(commandHelper); ok {
		keys.commands = c.commandHelp()
	}
	return keys
}

// shortHelpView is the hint bar. When it is too wide it leaves out the
// keys just before the last two (help and quit) one by one, so that those
// two always show: the command key first, then the action key, then the
// view's keys from the least used.
func (m *Model) shortHelpView(items []key.Binding) string {
	h := m.help
	h.Width = 0
	bar := h.ShortHelpView(items)
	for lipgloss.Width(bar) > m.width && len(items) > 2 {
		items = append(items[:len(items)-3:len(items)-3], items[len(items)-2:]...)
		bar = h.ShortHelpView(items)
	}
	return truncate(bar, m.width)
}

// fullHelpView lays the help columns out in as many rows of columns as the
// width needs, so that no key is ever left out for lack of width (help.Model
// alone drops the columns that do not fit).
func (m *Model) fullHelpView(groups [][]key.Binding) string {
	h := m.help
	h.Width = 0
	const gap = 4 // help.Model's FullSeparator
	var rows []string
	var row [][]key.Binding
	w := 0
	for _, g := range groups {
		gw := lipgloss.Width(h.FullHelpView([][]key.Binding{g}))
		if len(row) > 0 && w+gap+gw > m.width {
			rows = append(rows, h.FullHelpView(row))
			row, w = nil, 0
		}
		if len(row) > 0 {
			w += gap
		}
		row = append(row, g)
		w += gw
	}
	if len(row) > 0 {
		rows = append(rows, h.FullHelpView(row))
	}
	return strings.Join(rows, "\n\n")
}

// splitRunes returns one key message per rune of a multi-rune key message
// that is not a paste, or nil.
func splitRunes(msg tea.KeyMsg) []tea.KeyMsg {
	if msg.Type != tea.KeyRunes || msg.Paste || len(msg.Runes) < 2 {
		return nil
	}
	keys := make([]tea.KeyMsg, len(msg.Runes))
	for i, r := range msg.Runes {
		keys[i] = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
	}
	return keys
}
