package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// rowOf is the table line of the identity named name.
func rowOf(t testing.TB, view, name string) string {
	t.Helper()
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, " "+name+" ") {
			return l
		}
	}
	t.Fatalf("no row for %s in:\n%s", name, view)
	return ""
}

// bottom is the line above the hint bar: the prompt or the message.
func bottom(view string) string {
	lines := strings.Split(view, "\n")
	return lines[len(lines)-2]
}

func TestOwnerSetSingle(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, "j", "j", "o")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[21], "Owner of deploy-prod: █") {
		t.Errorf("no owner prompt:\n%s", v)
	}
	if !strings.Contains(lines[22], "tab: alice (added the key) · @acme/platform (admin team of acme/api)") {
		t.Errorf("suggestions with their source not offered first:\n%s", v)
	}
	if !strings.Contains(lines[23], "enter set owner") || !strings.Contains(lines[23], "tab complete") || !strings.Contains(lines[23], "esc cancel") {
		t.Errorf("hint bar of the owner prompt: %q", lines[23])
	}
	// Known owners complete too; tab cycles through what matches.
	press(t, m, "b", "tab")
	if got := m.prompt.(*ownerPrompt).input.Value(); got != "bob" {
		t.Errorf("tab after b completed to %q, want bob", got)
	}
	press(t, m, "backspace", "backspace", "backspace", "al", "tab")
	if got := m.prompt.(*ownerPrompt).input.Value(); got != "alice" {
		t.Errorf("tab after al completed to %q, want alice", got)
	}
	press(t, m, "enter")
	if m.prompt != nil {
		t.Fatalf("a single owner set asked for confirmation:\n%s", m.View())
	}
	if got := e.owner(t, "deploy-prod"); got != "alice" {
		t.Fatalf("the file says the owner is %q, want alice", got)
	}
	v = m.View()
	checkFrame(t, v, 80, 24)
	if b := bottom(v); b != "Owner of deploy-prod set to alice (event #2) · u undoes" {
		t.Errorf("message: %q", b)
	}
	if row := rowOf(t, v, "deploy-prod"); !strings.Contains(row, "alice") {
		t.Errorf("row after the owner set: %q", row)
	}
	if r := rules(m, "deploy-prod"); !slices.Equal(r, []string{"stale", "unrotated"}) {
		t.Errorf("findings after the owner set: %v", r)
	}
	// The message goes with the next key.
	press(t, m, "j")
	if strings.Contains(m.View(), "u undoes") {
		t.Errorf("message still shown after a key:\n%s", m.View())
	}
	// The detail shows the trail from the event log.
	press(t, m, "k", "enter")
	all := detailText(t, m)
	for _, want := range []string{"now: alice", "alice — added the key", "#2 2025-06-01 12:00 UTC auditor@example.com set owner alice"} {
		if !strings.Contains(all, want) {
			t.Errorf("detail lacks %q:\n%s", want, all)
		}
	}
}

func TestOwnerSetRefreshesFindings(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	if !slices.Contains(rules(m, "NPM_TOKEN"), "orphaned") {
		t.Fatalf("want NPM_TOKEN orphaned before it has an owner: %v", rules(m, "NPM_TOKEN"))
	}
	press(t, m, "j", "j", "j", "o", "alice", "enter")
	if r := rules(m, "NPM_TOKEN"); slices.Contains(r, "orphaned") {
		t.Errorf("findings not recomputed from the file after the owner set: %v", r)
	}
	if len(m.st.dirty) != 0 {
		t.Errorf("identities still waiting for a reload: %v", m.st.dirty)
	}
}

func TestOwnerSetFromDetail(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, "enter", "o", "team-x", "enter")
	if got := e.owner(t, "renovate"); got != "team-x" {
		t.Fatalf("owner %q, want team-x", got)
	}
	all := detailText(t, m)
	if !strings.Contains(all, "now: team-x") || !strings.Contains(all, "set owner team-x") {
		t.Errorf("detail did not follow the owner change:\n%s", all)
	}
}

func TestOwnerSetBulkConfirm(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, " ", " ", " ") // renovate, release-bot, deploy-prod
	v := m.View()
	if !strings.Contains(v, "Identities 40 · 3 selected") {
		t.Errorf("selection count not in the title:\n%s", v)
	}
	press(t, m, "o")
	if !strings.Contains(m.View(), "Owner of 3 identities: █") {
		t.Fatalf("bulk owner prompt:\n%s", m.View())
	}
	press(t, m, "@platform", "enter")
	v = m.View()
	checkFrame(t, v, 80, 24)
	if b := bottom(v); b != "Set owner of 3 identities to @platform? [y/N]" {
		t.Fatalf("confirmation: %q", b)
	}
	// No is the default: enter declines, and nothing is written.
	press(t, m, "enter")
	if n := e.ownerEvents(t); n != 0 {
		t.Fatalf("%d events after declining", n)
	}
	if b := bottom(m.View()); b != "Cancelled: nothing was changed." {
		t.Errorf("after declining: %q", b)
	}
	// Other keys leave the question up; only y says yes.
	press(t, m, "o", "@platform", "enter", "x", "j")
	if !strings.Contains(bottom(m.View()), "[y/N]") {
		t.Fatalf("the question went away on a key other than y/n:\n%s", m.View())
	}
	press(t, m, "y")
	if n := e.ownerEvents(t); n != 3 {
		t.Fatalf("%d events after confirming, want 3", n)
	}
	for _, name := range []string{"renovate", "release-bot", "deploy-prod"} {
		if got := e.owner(t, name); got != "@platform" {
			t.Errorf("%s: owner %q", name, got)
		}
	}
	v = m.View()
	if b := bottom(v); b != "Owner of 3 identities set to @platform (events #2–#4) · u undoes" {
		t.Errorf("message: %q", b)
	}
	if strings.Contains(v, "selected") {
		t.Errorf("selection kept after the bulk action:\n%s", v)
	}
}

func TestBulkWarnsAboutHiddenTargets(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, " ", " ", "/", "kind:deploy_key", "enter", " ", "o", "x", "enter")
	if b := bottom(m.View()); b != "Set owner of 3 identities (2 not shown by the filter) to x? [y/N]" {
		t.Errorf("confirmation: %q", b)
	}
}

func TestClearOwnerConfirms(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, "o", "bob", "enter", "o", "enter")
	if b := bottom(m.View()); b != "Clear the owner of renovate (now bob)? [y/N]" && b != "Clear the owner of renovate? [y/N]" {
		t.Fatalf("clearing an owner is not confirmed: %q", b)
	}
	press(t, m, "y")
	if got := e.owner(t, "renovate"); got != "" {
		t.Errorf("owner %q after clearing", got)
	}
}

func TestUndo(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, "u")
	if b := bottom(m.View()); b != "Nothing to undo: no change was made in this session." {
		t.Errorf("undo with nothing done: %q", b)
	}
	press(t, m, "o", "bob", "enter", "j", " ", " ", "o", "carol", "enter", "y")
	if e.owner(t, "renovate") != "bob" || e.owner(t, "release-bot") != "carol" || e.owner(t, "deploy-prod") != "carol" {
		t.Fatal("setup: owners not set")
	}
	press(t, m, "u")
	if b := bottom(m.View()); b != "Undo: owner of 2 identities set to carol? [y/N]" {
		t.Fatalf("undo question: %q", b)
	}
	press(t, m, "n")
	if e.owner(t, "release-bot") != "carol" {
		t.Fatal("n undid")
	}
	press(t, m, "u", "y")
	if got := e.owner(t, "release-bot"); got != "" {
		t.Errorf("release-bot owner %q after undo, want none", got)
	}
	if got := e.owner(t, "renovate"); got != "bob" {
		t.Errorf("renovate owner %q: undo went too far", got)
	}
	if b := bottom(m.View()); b != "Undone: owner of 2 identities set to carol (events #5–#6)" {
		t.Errorf("undo message: %q", b)
	}
	// No owner now: the row names who holds it (octocat), not carol.
	if row := rowOf(t, m.View(), "release-bot"); strings.Contains(row, "carol") || !strings.Contains(row, "(octoc") {
		t.Errorf("row after undo: %q", rowOf(t, m.View(), "release-bot"))
	}
	// The undo is compensating events: the log keeps all of it.
	if n := e.ownerEvents(t); n != 5 {
		t.Errorf("%d owner events, want 5 (1 + 2 + 2 compensating)", n)
	}
	press(t, m, "u", "y")
	if got := e.owner(t, "renovate"); got != "" {
		t.Errorf("renovate owner %q after the second undo", got)
	}
	press(t, m, "u")
	if !strings.HasPrefix(bottom(m.View()), "Nothing to undo") {
		t.Errorf("third undo: %q", bottom(m.View()))
	}
	evs, _ := e.store.Events(context.Background())
	var p audit.OwnerSet
	if err := jsonUnmarshal(evs[len(evs)-1].Payload, &p); err != nil || p.Undoes != 2 {
		t.Errorf("last event %s does not undo #2", evs[len(evs)-1].Payload)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	e := newEvidence(t)
	for _, opts := range []Options{{ReadOnly: true, Actor: testActor}, {Actor: ""}} {
		m := e.model(t, 80, 24, opts)
		press(t, m, "?")
		v := m.View()
		if opts.ReadOnly && (strings.Contains(v, "set owner") || strings.Contains(v, "undo")) {
			t.Errorf("read-only help offers writes:\n%s", v)
		}
		press(t, m, "?", "o")
		if m.prompt != nil {
			t.Fatalf("o opened a prompt (%+v)", opts)
		}
		want := "Read-only session (--readonly): nothing can be changed."
		if !opts.ReadOnly {
			want = "Cannot tell who you are: restart with --as EMAIL or set NHI_REVIEWER."
		}
		if b := bottom(m.View()); b != want {
			t.Errorf("refusal: %q, want %q", b, want)
		}
		press(t, m, "u")
		if b := bottom(m.View()); b != want {
			t.Errorf("undo refusal: %q", b)
		}
		press(t, m, "enter", "o")
		if b := bottom(m.View()); b != want {
			t.Errorf("refusal in the detail: %q", b)
		}
	}
	if n := e.ownerEvents(t); n != 0 {
		t.Errorf("%d events written", n)
	}
	m := e.model(t, 80, 24, Options{ReadOnly: true})
	if h := strings.Split(m.View(), "\n")[0]; !strings.HasSuffix(h, "· read-only") {
		t.Errorf("header does not say read-only: %q", h)
	}
}

func TestWriteErrorIsShown(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	e.store.Close()
	press(t, m, "o", "bob", "enter")
	if b := bottom(m.View()); !strings.HasPrefix(b, "Owner not set: ") {
		t.Errorf("error not shown: %q", b)
	}
	if strings.Contains(rowOf(t, m.View(), "renovate"), "bob") {
		t.Error("the table shows an owner the file did not record")
	}
}

// rules are the finding rules the TUI shows for the identity named name.
func rules(m *Model, name string) []string {
	var out []string
	for i := range int32(m.st.pop.len()) {
		if id := m.st.identity(i); id.Name == name {
			for _, f := range id.Findings {
				out = append(out, f.Rule)
			}
		}
	}
	return out
}

// TestNotes: c asks for a note, records one note.add event per identity
// (several after a confirmation), and the detail shows the notes with who
// wrote them and when; a read-only session refuses.
func TestNotes(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, "j", "j", "c")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[21], "Note on deploy-prod: █") || !strings.Contains(lines[22], "never edited or removed") {
		t.Fatalf("no note prompt:\n%s", v)
	}
	// The hint bar says what enter does (it said "enter next").
	if last := lastLine(v); !strings.HasPrefix(last, "enter add the note") {
		t.Errorf("note prompt hint bar: %q", last)
	}
	press(t, m, "enter")
	if !strings.Contains(m.View(), "some text is required") {
		t.Errorf("an empty note was not refused:\n%s", m.View())
	}
	press(t, m, "asked alice in SEC-42", "enter")
	if b := bottom(m.View()); b != "Noted on deploy-prod (event #2)" {
		t.Errorf("message: %q", b)
	}
	notes, err := e.store.Notes(context.Background(), e.byName(t, "deploy-prod").ID)
	if err != nil || len(notes) != 1 || notes[0].Text != "asked alice in SEC-42" || notes[0].Actor != testActor {
		t.Fatalf("notes in the file: %+v %v", notes, err)
	}
	// The detail shows it.
	press(t, m, "enter", "G")
	if v := m.View(); !strings.Contains(v, "Notes (1)") || !strings.Contains(v, "asked alice in SEC-42") || !strings.Contains(v, "#2 2025-06-01") {
		t.Errorf("detail lacks the note:\n%s", v)
	}
	// Several identities: one event each, after a confirmation.
	press(t, m, "esc", "g", " ", " ", "c", "rotation owner asked", "enter")
	if b := bottom(m.View()); b != "Add this note to 2 identities? [y/N]" {
		t.Fatalf("bulk note confirmation: %q", b)
	}
	press(t, m, "y")
	if b := bottom(m.View()); b != "Noted on 2 identities (events #3–#4)" {
		t.Errorf("bulk message: %q", b)
	}
	if r, _ := e.store.Verify(context.Background()); !r.OK() || r.Events != 4 {
		t.Errorf("verify after notes: %+v", r)
	}

	ro := e.model(t, 80, 24, Options{ReadOnly: true, Actor: testActor})
	press(t, ro, "c")
	if ro.prompt != nil || bottom(ro.View()) != "Read-only session (--readonly): nothing can be changed." {
		t.Errorf("read-only note: %q", bottom(ro.View()))
	}
}

// The detail shows the person behind the owner: name, status, aliases;
// a leaver in the danger style, and the identity orphaned.
func TestDetailShowsThePerson(t *testing.T) {
	e := newEvidence(t)
	if _, err := e.store.SetPeople(context.Background(), "root", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", Name: "Alice Smith", GitHub: "alice-smith", Status: "left", LeftAt: "2026-10-31", Aliases: []string{"asmith@old.example"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 100, 40, Options{Actor: testActor})
	press(t, m, "enter", "o", "alice-smith", "enter")
	all := detailText(t, m)
	for _, want := range []string{"now: alice-smith", "Alice Smith <alice@acme.test>, left on 2026-10-31; aliases: alice@acme.test alice-smith", "asmith@old.example",
		"owner alice-smith left on 2026-10-31"} {
		if !strings.Contains(all, want) {
			t.Errorf("detail lacks %q:\n%s", want, all)
		}
	}
}

// The overview lists leavers who still own identities; enter shows them.
func TestOverviewShowsLeavers(t *testing.T) {
	e := newEvidence(t)
	if _, err := e.store.SetPeople(context.Background(), "root", audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice-smith", Status: "left", LeftAt: "2026-10-31"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 100, 60, Options{Actor: testActor})
	press(t, m, "o", "alice-smith", "enter", ":", "overview", "enter")
	v := m.View()
	if !strings.Contains(v, "Offboarding: 1 leaver owns, created or holds 1 identity") || !strings.Contains(v, "1  alice@acme.test") {
		t.Fatalf("overview:\n%s", v)
	}
	// :offboard lists her; enter shows everything related to her.
	press(t, m, ":", "offboard", "enter")
	v = m.View()
	if !strings.Contains(v, "Offboarding — 1 leaver owns, created or holds 1 identity") || !strings.Contains(v, "alice@acme.test") || !strings.Contains(v, "2026-10-31") {
		t.Fatalf("offboard view:\n%s", v)
	}
	press(t, m, "enter")
	if v := m.View(); !strings.Contains(title(v), "1 related identity: owns 1") || !strings.Contains(v, "owns (1)") || !strings.Contains(selectedLine(t, v), "renovate") {
		t.Errorf("her identities:\n%s", v)
	}
	press(t, m, "t")
	if v := m.View(); !strings.Contains(title(v), "Identities 1 of 40") || !strings.Contains(v, "renovate") {
		t.Errorf("her identities in the table:\n%s", v)
	}
}

// TestUndoRefusedAfterAnotherProcess: this session set an owner, another
// process set a different one since; u refuses, saying who changed it and
// when, and writes nothing: the later change is not erased.
func TestUndoRefusedAfterAnotherProcess(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 200, 24, Options{Actor: testActor})
	press(t, m, "o", "bob", "enter")
	if e.owner(t, "renovate") != "bob" {
		t.Fatal("setup: owner not set")
	}
	ctx := context.Background()
	st2, err := audit.Open(ctx, e.path, audit.OpenOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	later, err := st2.SetOwner(ctx, "cli@example.com", e.byName(t, "renovate").ID, "carol")
	if err != nil {
		t.Fatal(err)
	}
	before := e.ownerEvents(t)
	press(t, m, "u", "y")
	if got := e.owner(t, "renovate"); got != "carol" {
		t.Errorf("owner %q after a refused undo; the other process's carol was erased", got)
	}
	if n := e.ownerEvents(t); n != before {
		t.Errorf("%d owner events after a refused undo, want %d", n, before)
	}
	want := fmt.Sprintf("Cannot undo event 2: the owner of %s was changed since, to carol by cli@example.com at %s (event %d); set the owner again instead",
		e.byName(t, "renovate").ID, testNow.UTC().Format("2006-01-02 15:04 UTC"), later.Seq)
	if b := strings.TrimSpace(bottom(m.View())); b != want {
		t.Errorf("refusal:\n got %q\nwant %q", b, want)
	}
	// Refused for good: the entry is gone, u has nothing left to undo.
	press(t, m, "u")
	if !strings.HasPrefix(bottom(m.View()), "Nothing to undo") {
		t.Errorf("u after the refusal: %q", bottom(m.View()))
	}
}

// TestKeyBounceNeverAnswersTheNextPrompt: enter in the owner prompt opens
// the [y/N] of a selection; a y already on its way (typed with the enter,
// before the question showed) does not answer it. Once the keys queued
// behind the enter have gone by, y does.
func TestKeyBounceNeverAnswersTheNextPrompt(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 100, 24, Options{Actor: testActor})
	press(t, m, " ", " ", "o", "carol")
	_, armed := m.Update(keyMsg("enter"))
	if b := bottom(m.View()); !strings.HasSuffix(b, "to carol? [y/N]") {
		t.Fatalf("no question after enter: %q", b)
	}
	// y and enter arrive before the question's own message came through.
	for _, k := range []string{"y", "enter", "yy"} {
		press(t, m, k)
	}
	if got := e.owner(t, "renovate"); got != "" {
		t.Fatalf("a key typed before the question showed answered it: owner %q", got)
	}
	if b := bottom(m.View()); !strings.HasSuffix(b, "to carol? [y/N]") {
		t.Fatalf("the question went away: %q", b)
	}
	run(t, m, armed, 0)
	press(t, m, "y")
	if e.owner(t, "renovate") != "carol" || e.owner(t, "release-bot") != "carol" {
		t.Errorf("y after the question showed did not answer it: %q, %q", e.owner(t, "renovate"), e.owner(t, "release-bot"))
	}
	// A prompt the user opens with a key takes the rest of the keys typed
	// with it at once: ":" then the command.
	press(t, m, ":ov")
	if p, ok := m.prompt.(*commandPrompt); !ok || p.input.Value() != "ov" {
		t.Errorf("the command line after \":ov\": %#v", m.prompt)
	}
}

// TestMessageNeverCutMidWord: a message longer than the terminal is
// wide wraps at words above the hint bar, in the detail as in the table;
// the frame keeps its height.
func TestMessageNeverCutMidWord(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 60, 20, Options{Actor: testActor})
	press(t, m, "enter")
	msg := "Cannot undo event 2: the owner of github:acme:app was changed since, to carol by cli@example.com at 2025-06-01 12:00 UTC (event 3); set the owner again instead"
	m.setFlash(msg, true)
	v := m.View()
	checkFrame(t, v, 60, 20)
	lines := strings.Split(v, "\n")
	shown := strings.Join(lines[len(lines)-4:len(lines)-1], " ")
	for _, w := range strings.Fields(msg) {
		if !strings.Contains(shown, w) {
			t.Errorf("the word %q is cut or missing:\n%s", w, v)
		}
	}
}

// A session whose actor could not be named (nhi said why on stderr,
// which the UI then covers) says why again when a write is refused,
// rather than guessing that --as was missing.
func TestNoActorSaysWhy(t *testing.T) {
	e := newEvidence(t)
	why := `you are acting as "ext_auditor" (from the database session), who is not in the directory of people (3 people): pass --as with one of your aliases, or ask for your row in the people file (nhi people import)`
	m := e.model(t, 300, 24, Options{NoActor: why})
	press(t, m, "o")
	if m.prompt != nil {
		t.Fatal("o opened a prompt with nobody to act as")
	}
	if b, want := bottom(m.View()), "Nothing can be changed in this session: "+why; b != want {
		t.Errorf("refusal: %q\nwant %q", b, want)
	}
}
