package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// An evidence file with identities from three sources: the header counts
// them and sums what their snapshots could not read, the table has a
// SOURCE column, and the overview lists each source's current snapshot,
// leading to its identities.
func TestSeveralSources(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recordNames(t, st, "github", "acme", audit.KindGitHubDeployKey, []string{"deploy-prod", "deploy-docs"})
	recordNames(t, st, "slack", "ws-a", "import_bot_token", []string{"deploy-bot"})
	last := recordNames(t, st, "x509", "edge", audit.KindX509Certificate, []string{"api.acme.test"},
		audit.Gap{Endpoint: "tls://10.0.0.9:443", Reason: "cannot reach it for a TLS handshake (connection refused)"})

	m := New(last, nil, Options{Now: clock, Store: st})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	run(t, m, m.Init(), 0)
	v := m.View()
	checkFrame(t, v, 100, 24)
	if h := strings.Split(v, "\n")[0]; h != "nhi · 3 sources and accounts · 4 identities · 1 endpoint not read" {
		t.Errorf("header %q", h)
	}
	if !strings.Contains(v, "SOURCE") || !strings.Contains(v, "slack/ws-a") || !strings.Contains(v, "x509/edge") || !strings.Contains(v, "certificate") {
		t.Errorf("no SOURCE column:\n%s", v)
	}

	says(t, "overview", overviewText(t, m),
		"Sources (3): the current snapshot of each",
		"  github/acme #1 complete, 2025-06-01 12:00 (just now), 2 identities",
		"  x509/edge   #3 partial, 2025-06-01 12:00 (just now), 1 identity, 1 endpoint not read",
		"      tls://10.0.0.9:443 — cannot reach it for a TLS handshake (connection refused)")
	for range 5 {
		if strings.Contains(selectedLine(t, m.View()), "slack/ws-a") {
			break
		}
		press(t, m, "j")
	}
	press(t, m, "enter")
	if v := m.View(); !strings.HasPrefix(title(v), "Identities 1 of 4 · filter source:slack account:ws-a status:active") || !strings.Contains(v, "deploy-bot") {
		t.Errorf("enter on a source:\n%s", v)
	}

	// One source: no SOURCE column, the header names its snapshot.
	one := New(last, []audit.Identity{{Observation: audit.Observation{ID: "x509:edge:x509_certificate:1", Kind: audit.KindX509Certificate, Name: "a"}, Source: "x509", Account: "edge", Status: audit.StatusActive}}, Options{Now: clock})
	one.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	if v := one.View(); strings.Contains(v, "SOURCE") || !strings.HasPrefix(v, "nhi · x509/edge · snapshot partial") {
		t.Errorf("one source:\n%s", v)
	}
}

// TestGoldenWideColumns: on wide terminals the spare width goes first to
// what a usual value needs whole: SOURCE shows a twelve-digit AWS account
// at 140 columns, FINDINGS two findings at 200, before NAME takes the rest.
func TestGoldenWideColumns(t *testing.T) {
	e := newEvidence(t)
	recordNames(t, e.store, "aws", "111111111111", audit.KindAWSIAMUser, []string{"ci-deployer", "backup-writer"})
	for _, size := range [][2]int{{140, 16}, {200, 16}} {
		m := New(nil, nil, Options{Now: clock, Store: e.store})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		run(t, m, m.Init(), 0)
		v := m.View()
		checkFrame(t, v, size[0], size[1])
		if !strings.Contains(v, "aws/111111111111 ") {
			t.Errorf("%dx%d: the AWS account is cut:\n%s", size[0], size[1], v)
		}
		if strings.Contains(v, "orphane…") || strings.Contains(v, "stale,u…") {
			t.Errorf("%dx%d: findings cut:\n%s", size[0], size[1], v)
		}
		checkGolden(t, fmt.Sprintf("identities_sources_%dx%d.txt", size[0], size[1]), v)
	}
}

// TestGoldenSourceWhole: SOURCE is as wide as the widest source/account
// or gives way, never cut. At 100 columns, with a last use three years
// ago and a key made eleven years ago (LAST USED and AGE wider, as in the
// demo), "aws/123456789012" was cut to "aws/123456789…" for one cell;
// now AGE gives way and the account shows whole. At 80 columns there is
// no room for it: SOURCE gives way too, never shown cut.
func TestGoldenSourceWhole(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recordNames(t, st, "github", "acme", audit.KindGitHubDeployKey, []string{"deploy-prod", "deploy-docs"})
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "aws", Account: "123456789012", APIURL: "test", ToolVersion: "test", StartedAt: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	created, used := testNow.AddDate(-11, 0, 0), testNow.AddDate(-3, 0, 0)
	for _, n := range []string{"AKIAEXAMPLE0000001", "AKIAEXAMPLE0000002"} {
		o := audit.Observation{ID: audit.IdentityID("aws", "123456789012", audit.KindAWSAccessKey, n), Kind: audit.KindAWSAccessKey, Name: n, Scope: "123456789012", CreatedAt: &created, LastUsedAt: &used}
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	last, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{100, 12}, {80, 12}} {
		m := New(last, nil, Options{Now: clock, Store: st})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		run(t, m, m.Init(), 0)
		v := m.View()
		checkFrame(t, v, size[0], size[1])
		header := strings.Split(v, "\n")[2]
		if want := size[0] >= 100; strings.Contains(header, "SOURCE") != want {
			t.Errorf("%dx%d: SOURCE shown %v, want %v:\n%s", size[0], size[1], !want, want, v)
		}
		if strings.Contains(v, "aws/") && !strings.Contains(v, "aws/123456789012 ") {
			t.Errorf("%dx%d: the AWS account is cut:\n%s", size[0], size[1], v)
		}
		if strings.Contains(header, "SOURCE") && !strings.Contains(v, "github/acme ") {
			t.Errorf("%dx%d: github/acme is cut:\n%s", size[0], size[1], v)
		}
		checkGolden(t, fmt.Sprintf("identities_sources_%dx%d.txt", size[0], size[1]), v)
	}
}

// The detail's Changes line compares the identity's own source/account:
// a cluster read once after an organisation was read twice says it has
// nothing to compare yet, naming itself, and the organisation's
// identities show what changed between its own two snapshots.
func TestDetailChangesOfTheIdentitysOwnAccount(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recordNames(t, st, "github", "acme", audit.KindGitHubDeployKey, []string{"deploy-prod"})
	recordNames(t, st, "github", "acme", audit.KindGitHubDeployKey, []string{"deploy-prod", "deploy-new"})
	last := recordNames(t, st, "k8s", "prod", audit.KindK8sServiceAccount, []string{"ci/deployer"})

	m := New(last, nil, Options{Now: clock, Store: st})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 40})
	run(t, m, m.Init(), 0)
	for _, tc := range []struct{ filter, want, not string }{
		{"kind:k8s_service_account", "Changes     not compared: no snapshot to compare: k8s/prod has only one finished snapshot", "#1 → #2"},
		{"name:deploy-new", "Changes     new #1 → #2", "not compared"},
		{"name:deploy-prod", "Changes     unchanged #1 → #2", "not compared"},
	} {
		press(t, m, "/", tc.filter, "enter", "enter")
		text := detailText(t, m)
		if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not) {
			t.Errorf("%s: the detail does not say %q:\n%s", tc.filter, tc.want, text)
		}
		press(t, m, "esc", "esc")
	}
}

// recordNames records a finished snapshot of source/account, started an
// hour before testNow, holding an identity of kind under each of names,
// and gaps.
func recordNames(t *testing.T, st *audit.Store, source, account string, kind audit.Kind, names []string, gaps ...audit.Gap) *audit.Snapshot {
	t.Helper()
	ctx := context.Background()
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: source, Account: account, APIURL: "test", ToolVersion: "test", StartedAt: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := w.Record(audit.Observation{ID: audit.IdentityID(source, account, kind, n), Kind: kind, Name: n, Scope: account}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gaps {
		if err := w.Gap(g); err != nil {
			t.Fatal(err)
		}
	}
	last, err := w.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return last
}
