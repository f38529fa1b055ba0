package tui

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// failContoso runs the real GitHub connector into st against a loopback
// organisation contoso that answers 401 on its webhooks: the snapshot
// fails after reading part of it, as a token revoked mid-run does.
func failContoso(t *testing.T, st *audit.Store) {
	t.Helper()
	readContoso(t, st, true)
}

// readContoso runs the real GitHub connector into st against a loopback
// organisation contoso, which answers 401 on its webhooks when fail says.
func readContoso(t *testing.T, st *audit.Store, fail bool) {
	t.Helper()
	org := githubtest.SampleOrg(3)
	org.Login = "contoso"
	srv := githubtest.NewServer(org)
	defer srv.Close()
	if fail {
		srv.Fail("/orgs/contoso/hooks", http.StatusUnauthorized)
	}
	conn, err := ghconn.NewFromToken(srv.URL(), srv.Token(), "contoso", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := connectors.Snapshot(context.Background(), st, conn, "test")
	switch {
	case fail && (err == nil || snap == nil || snap.Status != audit.SnapshotFailed || snap.Total() == 0):
		t.Fatalf("the 401 did not fail a snapshot that read something: %+v, %v", snap, err)
	case !fail && (err != nil || snap == nil || snap.Status == audit.SnapshotFailed):
		t.Fatalf("contoso was not read: %+v, %v", snap, err)
	}
}

// overviewText opens the overview and gives its lines as the screen
// shows them without styles, and without the cursor's column.
func overviewText(t *testing.T, m *Model) string {
	t.Helper()
	press(t, m, ":overview", "enter")
	o, ok := m.top().(*overviewView)
	if !ok {
		t.Fatalf("no overview:\n%s", m.View())
	}
	var all []string
	for _, l := range o.lines {
		all = append(all, ansi.Strip(l.text))
	}
	return strings.Join(all, "\n")
}

// says checks that text, what the test names what, holds each of wants.
func says(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// TestOverviewListsAnAccountNotRead: an account whose only snapshot
// failed has no population, and the overview lists it all the same,
// beside the accounts that were read: its state (failed, and why), when,
// and "—" where a count would be; the header counts it as an account
// not read. A file holding only that account names its snapshot, failed,
// and shows every count as "—": nothing was read, which is not zero.
func TestOverviewListsAnAccountNotRead(t *testing.T) {
	e := newEvidence(t)
	failContoso(t, e.store)
	m := New(e.snap, nil, Options{Now: clock, Store: e.store})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	run(t, m, m.Init(), 0)
	text := overviewText(t, m)
	checkFrame(t, m.View(), 120, 40)
	says(t, "overview", text,
		"Sources (2): the current snapshot of each, or why there is none",
		"  github/acme    #1 partial, ",
		"  github/contoso #2 failed: github: GET /orgs/contoso/hooks: the token was rejected (GitHub answered 401 Bad",
		"credentials): it may be mistyped, expired or revoked, 2025-06-01 12:00 (just now), — identities",
		"        —  github/contoso: not read, no snapshot of it finished",
		"Identities: 40 active")
	if h := strings.Split(m.View(), "\n")[0]; !strings.Contains(h, "2 sources and accounts") || !strings.Contains(h, "1 account not read") {
		t.Errorf("header %q", h)
	}

	// Only the account not read.
	st, err := audit.Open(context.Background(), filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	failContoso(t, st)
	m = New(nil, nil, Options{Now: clock, Store: st})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	run(t, m, m.Init(), 0)
	text = overviewText(t, m)
	says(t, "overview of the account alone", text,
		"Snapshot #1 of github/contoso",
		"  status     failed",
		"  error      github: GET /orgs/contoso/hooks: the token was rejected (GitHub answered 401 Bad credentials)",
		"Identities: — active",
		"        —  github/contoso: not read, no snapshot of it finished",
		"        —  without owner",
		"none: no snapshot has finished")
	for _, never := range []string{"No snapshot yet", " 0  ", "0 active"} {
		if strings.Contains(text, never) {
			t.Errorf("overview of the account alone says %q:\n%s", never, text)
		}
	}
}

// TestOverviewSaysANewerRunFailed: an account read once, whose next run
// failed, is shown as its last read says, and the overview says that a
// newer run failed and when, beside the account (several accounts) or in
// the snapshot's rows (one): otherwise the older read passes for the
// state of things now.
func TestOverviewSaysANewerRunFailed(t *testing.T) {
	e := newEvidence(t)
	readContoso(t, e.store, false)
	failContoso(t, e.store)
	m := New(e.snap, nil, Options{Now: clock, Store: e.store})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	run(t, m, m.Init(), 0)
	says(t, "overview", overviewText(t, m),
		"  github/contoso #2 partial, ",
		"      newer run #3 failed: github: GET /orgs/contoso/hooks: the token was rejected (GitHub answered 401 Bad",
		"2025-06-01 12:00 (just now): what is shown is #2's read")

	st, err := audit.Open(context.Background(), filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	readContoso(t, st, false)
	failContoso(t, st)
	cur, err := st.LatestSnapshot(context.Background())
	if err != nil || cur == nil {
		t.Fatal(cur, err)
	}
	m = New(cur, nil, Options{Now: clock, Store: st})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	run(t, m, m.Init(), 0)
	says(t, "overview of the account alone", overviewText(t, m),
		"Snapshot #1 of github/contoso",
		"  status     partial (2 endpoints not read)",
		"  newer run  #2 failed: github: GET /orgs/contoso/hooks: the token was rejected",
		"(just now): what is shown is #1's read")
}
