package tui

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	code := pgtest.Main(m) // the PostgreSQL server of the live tests stops with them
	for _, dir := range []string{big.dir, longLog.dir, builtNHI.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// testNow is the clock of every test.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

func daysAgo(n int) *time.Time {
	t := testNow.Add(-time.Duration(n) * 24 * time.Hour)
	return &t
}

func testSnapshot() *audit.Snapshot {
	finished := testNow.Add(-2 * time.Hour)
	return &audit.Snapshot{
		ID:         7,
		Source:     "github",
		Account:    "acme",
		APIURL:     "https://api.github.com",
		StartedAt:  finished.Add(-time.Minute),
		FinishedAt: &finished,
		Status:     audit.SnapshotPartial,
		Gaps: []audit.Gap{
			{Endpoint: "GET /orgs/acme/personal-access-tokens", Reason: "needs a GitHub App token"},
			{Endpoint: "GET /orgs/acme/credential-authorizations", Reason: "not a SAML SSO org"},
		},
	}
}

func identity(kind audit.Kind, name, scope string) audit.Identity {
	return audit.Identity{
		Observation: audit.Observation{
			ID:        audit.IdentityID("github", "acme", kind, scope+"/"+name),
			Kind:      kind,
			Name:      name,
			Scope:     scope,
			CreatedAt: daysAgo(400),
		},
		Source:     "github",
		Status:     audit.StatusActive,
		FirstSeen:  testNow.Add(-30 * 24 * time.Hour),
		LastSeen:   testNow.Add(-2 * time.Hour),
		SnapshotID: 7,
	}
}

// testIdentities is a small organisation: the first rows are hand-made,
// the rest numbered so the table overflows 24 lines.
func testIdentities() []audit.Identity {
	app := identity(audit.KindGitHubAppInstallation, "renovate", "acme")
	app.Permissions = map[string]string{"contents": "write", "pull_requests": "write", "metadata": "read"}
	app.Attributes = map[string]string{"repository_selection": "all", "app_owner": "mend"}
	app.Findings = []audit.Finding{
		{Rule: "third-party", Severity: "medium", OWASP: "NHI3", Message: "installation of App mend/renovate, which acme does not own"},
		{Rule: "broad-scope", Severity: "high", OWASP: "NHI5", Message: "granted access to all repositories"},
	}

	pat := identity(audit.KindGitHubFineGrainedPAT, "release-bot", "acme")
	pat.Owner = "octocat"
	pat.LastUsedAt = daysAgo(14)
	pat.ExpiresAt = daysAgo(-30)

	key := identity(audit.KindGitHubDeployKey, "deploy-prod", "acme/api")
	key.Owner = "platform-team"
	key.CreatedAt = daysAgo(800)
	key.Attributes = map[string]string{"read_only": "false", "added_by": "alice"}
	key.Findings = []audit.Finding{{Rule: "stale", Severity: "high", OWASP: "NHI1", Message: "never used, created 800 days ago (threshold 30)"}}

	secret := identity(audit.KindGitHubDependabotSecret, "NPM_TOKEN", "acme/web")
	secret.RotatedAt = daysAgo(200)

	hook := identity(audit.KindGitHubWebhook, "https://hooks.example.com/ci", "acme/api")
	hook.Status = audit.StatusRemoved

	ids := []audit.Identity{app, pat, key, secret, hook}
	for i := len(ids); i < 40; i++ {
		s := identity(audit.KindGitHubActionsSecret, fmt.Sprintf("SECRET_%02d", i), "acme/repo-"+fmt.Sprint(i%7))
		s.CreatedAt = daysAgo(i * 9)
		ids = append(ids, s)
	}
	return ids
}

// newTestModel is a model sized like a terminal of w×h.
func newTestModel(t testing.TB, snap *audit.Snapshot, ids []audit.Identity, w, h int) *Model {
	t.Helper()
	m := New(snap, ids, Options{Now: clock})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// keyMsg turns a key name as bubbletea prints it into a key message.
func keyMsg(k string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"up": tea.KeyUp, "down": tea.KeyDown, "enter": tea.KeyEnter, "esc": tea.KeyEsc,
		"ctrl+c": tea.KeyCtrlC, "ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "backspace": tea.KeyBackspace,
		"ctrl+a": tea.KeyCtrlA, "ctrl+w": tea.KeyCtrlW, "left": tea.KeyLeft, "right": tea.KeyRight,
		" ": tea.KeySpace, "space": tea.KeySpace,
	}
	if t, ok := special[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends keys to m, running the commands they return the way the
// Bubble Tea runtime would (batches and sequences included, in order),
// and reports whether one of them quit.
func press(t testing.TB, m *Model, keys ...string) (quit bool) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		if run(t, m, cmd, 0) {
			quit = true
		}
	}
	return quit
}

// send delivers msg to m and runs what follows, like press.
func send(t testing.TB, m *Model, msg tea.Msg) (quit bool) {
	t.Helper()
	_, cmd := m.Update(msg)
	return run(t, m, cmd, 0)
}

// run runs cmd and every command that follows from it.
func run(t testing.TB, m *Model, cmd tea.Cmd, depth int) (quit bool) {
	t.Helper()
	if cmd == nil {
		return false
	}
	if depth > 20 {
		t.Fatalf("commands do not settle")
	}
	msg := cmd()
	if _, ok := msg.(tea.QuitMsg); ok {
		return true
	}
	// tea.BatchMsg and Bubble Tea's unexported sequence message are both
	// a []tea.Cmd.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			if run(t, m, c, depth+1) {
				quit = true
			}
		}
		return quit
	}
	_, next := m.Update(msg)
	return run(t, m, next, depth+1)
}

// selectedLine is the table row that carries the cursor marker.
func selectedLine(t testing.TB, view string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(view, "\n") {
		if strings.HasPrefix(l, ">") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one selected row, got %d in:\n%s", len(found), view)
	}
	return found[0]
}

// checkFrame asserts the view is exactly w×h at most: h lines, none wider
// than w cells, and no escape byte in the Ascii profile.
func checkFrame(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i+1, lw, w, l)
		}
	}
	if strings.ContainsRune(view, 0x1b) {
		t.Errorf("view contains an ESC byte:\n%q", view)
	}
}
