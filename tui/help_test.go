package tui

import (
	"fmt"
	"strings"
	"testing"
)

// TestGoldenHelpSmall: a reviewer's help (table keys, campaign keys,
// decision keys, global keys) is longer than a small terminal. It scrolls
// with the keys its bar names, says where it is, and every key of the
// screen can be read on some page: nothing is cut off without a way to
// reach it. The screens at 80x24 and 40x12, top and bottom, are golden.
func TestGoldenHelpSmall(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "scope:acme/api")
	for _, size := range [][2]int{{80, 24}, {40, 12}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := e.model(t, w, h, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}, Campaign: "2025-Q2"})
			run(t, m, m.Init(), 0)
			table := m.View()

			press(t, m, "?")
			want := m.screenKeys().FullHelp()
			top := m.View()
			checkFrame(t, top, w, h)
			if !strings.Contains(lastLine(top), "↑↓/jk scroll") || !strings.Contains(lastLine(top), "?/esc close help") {
				t.Errorf("the bar does not say how to scroll and close: %q", lastLine(top))
			}
			checkGolden(t, fmt.Sprintf("help_reviewer_%dx%d.txt", w, h), top)
			if strings.Contains(top, "all ") && strings.Contains(top, " lines\n") {
				// It fits: nothing to scroll to.
				press(t, m, "G")
				if m.View() != top {
					t.Errorf("a help that fits scrolled:\n%s", m.View())
				}
			} else if !strings.Contains(top, "lines 1–") || !strings.Contains(top, " ↓\n") {
				t.Errorf("the help neither fits nor says there is more:\n%s", top)
			}

			// Page down to the end, reading every page.
			seen := top
			atEnd := func() bool { v := m.View(); return strings.Contains(v, " ↑\n") || strings.Contains(v, " lines\n") }
			for i := 0; i < 20 && !atEnd(); i++ {
				press(t, m, "pgdown")
				checkFrame(t, m.View(), w, h)
				seen += m.View()
			}
			end := m.View()
			if !atEnd() {
				t.Fatalf("pgdn never reached the end of the help:\n%s", end)
			}
			press(t, m, "g", "G")
			if m.View() != end {
				t.Errorf("G is not the end pgdn reached:\n%s\nwant:\n%s", m.View(), end)
			}
			if end != top {
				checkGolden(t, fmt.Sprintf("help_reviewer_%dx%d_end.txt", w, h), end)
			}
			flat := strings.Join(strings.Fields(seen), " ")
			for _, g := range want {
				for _, b := range g {
					if k := b.Help().Key + " " + strings.Join(strings.Fields(b.Help().Desc), " "); !strings.Contains(flat, k) {
						t.Errorf("%q is on no page of the help", k)
					}
				}
			}
			for _, k := range []string{"D decide: decommission", "K decide: keep (reason)", "n next undecided", "ctrl+r read the file again"} {
				if !strings.Contains(flat, k) {
					t.Errorf("%q is on no page of the help", k)
				}
			}
			// The list behind it did not move.
			press(t, m, "esc")
			if v := m.View(); v != table {
				t.Errorf("after the help the table is not as it was:\n%s\nwas:\n%s", v, table)
			}
		})
	}
}

// TestHelpCommand: :help (vim's habit) opens the same help as ?, where it
// was an unknown command.
func TestHelpCommand(t *testing.T) {
	m := newTestModel(t, testSnapshot(), nil, 80, 24)
	press(t, m, "?")
	want := m.View()
	press(t, m, "esc")
	if m.View() == want {
		t.Fatal("esc did not close the help")
	}
	press(t, m, ":help", "enter")
	if got := m.View(); got != want {
		t.Errorf(":help shows\n%s\nwhere ? shows\n%s", got, want)
	}
}

// TestHelpOffersCampaignKeysInACampaign: the help lists n, N and a (the
// campaign's keys) only while a campaign is picked, as the hint bar offers
// a only then; out of one they only say "Choose a campaign first".
func TestHelpOffersCampaignKeysInACampaign(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	r.members = []string{e.ids[0].ID, e.ids[1].ID}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	campaignKeys := []string{"n next undecided", "N previous undecided", "a everyone's items / mine"}
	helpSays := func() string {
		t.Helper()
		press(t, m, "?")
		defer press(t, m, "esc")
		return strings.Join(strings.Fields(m.View()), " ")
	}
	if h := helpSays(); !strings.Contains(h, "s sort by next column") {
		t.Fatalf("not the table's help:\n%s", h)
	}
	for _, k := range campaignKeys {
		if h := helpSays(); strings.Contains(h, k) {
			t.Errorf("with no campaign picked the help offers %q:\n%s", k, h)
		}
	}
	press(t, m, ":campaigns", "enter", "enter")
	in := helpSays()
	for _, k := range campaignKeys {
		if !strings.Contains(in, k) {
			t.Errorf("in campaign 2025-Q2 the help does not offer %q:\n%s", k, in)
		}
	}
	press(t, m, ":identities", "enter")
	for _, k := range campaignKeys {
		if h := helpSays(); strings.Contains(h, k) {
			t.Errorf("out of the campaign again the help offers %q:\n%s", k, h)
		}
	}
}
