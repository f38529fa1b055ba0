package tui

import (
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// TestASCIILocale: under a locale that is not UTF-8 (LANG=C) every frame
// is ASCII, each line as wide as in UTF-8, where the ellipsis, dashes,
// dots and bullets went out as UTF-8 bytes a C-locale terminal shows as
// rubbish, shifting the rest of the line.
func TestASCIILocale(t *testing.T) {
	for env, want := range map[[3]string]bool{
		{"", "", ""}: true, {"", "", "C.UTF-8"}: true, {"", "", "en_GB.utf8"}: true,
		{"", "", "C"}: false, {"POSIX", "", "en_GB.UTF-8"}: false, {"", "en_US.ISO-8859-1", "C.UTF-8"}: false,
	} {
		getenv := func(k string) string {
			return map[string]string{"LC_ALL": env[0], "LC_CTYPE": env[1], "LANG": env[2]}[k]
		}
		if got := utf8Locale(getenv); got != want {
			t.Errorf("LC_ALL=%q LC_CTYPE=%q LANG=%q: UTF-8 %v, want %v", env[0], env[1], env[2], got, want)
		}
	}
	for _, size := range [][2]int{{80, 24}, {40, 12}} {
		utf := newTestModel(t, testSnapshot(), testIdentities(), size[0], size[1])
		m := New(testSnapshot(), testIdentities(), Options{Now: clock, ASCII: true})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		var all strings.Builder
		for _, keys := range [][]string{nil, {"enter"}, {"esc", ":overview", "enter"}, {"?"}} {
			press(t, utf, keys...)
			press(t, m, keys...)
			v, u := m.View(), utf.View()
			all.WriteString(v)
			checkFrame(t, v, size[0], size[1])
			for i := range len(v) {
				if v[i] >= utf8.RuneSelf {
					t.Fatalf("%dx%d after %q: a byte outside ASCII in\n%s", size[0], size[1], keys, v)
				}
			}
			vl, ul := strings.Split(v, "\n"), strings.Split(u, "\n")
			for i := range min(len(vl), len(ul)) {
				if len(vl[i]) != utf8.RuneCountInString(ul[i]) {
					t.Errorf("%dx%d after %q, line %d: %q is not as wide as %q", size[0], size[1], keys, i+1, vl[i], ul[i])
				}
			}
		}
		if v := all.String(); !strings.Contains(v, "~") || !strings.Contains(v, " * ") {
			t.Errorf("%dx%d: want the ellipsis as ~ and the bullets as *:\n%s", size[0], size[1], v)
		}
	}
}
