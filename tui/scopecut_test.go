package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// hookRepos are repositories named by a shared prefix, as many
// organisations name theirs: at SCOPE's 11 cells each read "acme/servi…"
// when the column cut at the end.
var hookRepos = []string{"acme/service-auth", "acme/service-checkout", "acme/service-orders",
	"acme/service-payments", "acme/service-payments-worker", "acme/service-search", "acme/service-shipping"}

// hookURL is the one Jenkins every repository's webhook calls: NAME reads
// the same on every row, and only SCOPE tells them apart.
const hookURL = "https://jenkins.acme.internal:8080/github-webhook/"

// webhookEvidence is the fixture organisation read again with a webhook
// of hookURL in each of hookRepos, added by alice.
func webhookEvidence(t *testing.T) *evidence {
	t.Helper()
	ctx := context.Background()
	e := newEvidence(t)
	w, err := e.store.BeginSnapshot(ctx, audit.SnapshotInfo{
		Source: "github", Account: "acme", APIURL: "https://api.github.com", Credential: "token of octocat (read:org)",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := fixtureObservations()
	for _, repo := range hookRepos {
		obs = append(obs, audit.Observation{
			ID: audit.IdentityID("github", "acme", audit.KindGitHubWebhook, repo+"/"+hookURL), Kind: audit.KindGitHubWebhook,
			Name: hookURL, Scope: repo, CreatedAt: daysAgo(300),
			Attributes: map[string]string{"has_secret": "true", "active": "true", "added_by": "alice"},
		})
	}
	for _, o := range obs {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	return e.finish(t, w)
}

// scopeCells are the SCOPE cells of the screen's webhooks (hookURL's and
// the fixture's own, in acme/api), read under the SCOPE heading up to the
// next one.
func scopeCells(t *testing.T, v string) []string {
	t.Helper()
	lines := strings.Split(v, "\n")
	var head []rune
	var cells []string
	for _, l := range lines {
		r := []rune(l)
		if head == nil {
			if strings.Contains(l, "SCOPE") {
				head = r
			}
			continue
		}
		if !strings.Contains(l, " webhook ") {
			continue
		}
		at := strings.Index(string(head), "SCOPE")
		from := len([]rune(string(head)[:at]))
		to := from
		for to < len(head) && head[to] != ' ' {
			to++
		}
		for to < len(head) && head[to] == ' ' {
			to++
		}
		cells = append(cells, strings.TrimSpace(string(r[from:min(to, len(r))])))
	}
	return cells
}

// checkScopesApart fails when two of the screen's webhooks, each in its
// own repository, read the same SCOPE, or when fewer than want show.
func checkScopesApart(t *testing.T, where, v string, want int) {
	t.Helper()
	cells := scopeCells(t, v)
	if len(cells) < want {
		t.Fatalf("%s: %d webhooks on screen, want %d:\n%s", where, len(cells), want, v)
	}
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c] {
			t.Errorf("%s: two webhooks in different repositories read SCOPE %q:\n%s", where, c, v)
		}
		seen[c] = true
	}
}

// TestScopesReadApartAt80Columns: a campaign of one Jenkins webhook in
// every repository, at 80 columns, shows rows that read apart, in its
// items, in the identities table and in the person view of the leaver
// who added them, where SCOPE cut at its end read "acme/servi…" on every
// row (the demo's "northwind/…"), NAME being the same URL.
func TestScopesReadApartAt80Columns(t *testing.T) {
	e, _ := offboardEvidenceIn(t, webhookEvidence(t), nil)
	e.campaign(t, "kind:webhook")
	r := campaignsReviewer{e.store}

	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: r, Campaign: "2025-Q2"})
	run(t, m, m.Init(), 0)
	v := m.View()
	checkFrame(t, v, 80, 24)
	checkScopesApart(t, "the campaign's items", v, len(hookRepos))
	for _, c := range scopeCells(t, v) {
		if c != "acme/api" && !strings.HasPrefix(c, "…") {
			t.Errorf("SCOPE %q: the repository's end is not what shows:\n%s", c, v)
		}
	}

	m = e.model(t, 80, 24, Options{Actor: testActor, Reviewer: r})
	run(t, m, m.Init(), 0)
	send(t, m, m.ids.setFilter("kind:webhook")())
	checkScopesApart(t, "the identities table", m.View(), len(hookRepos))

	// alice added them: her person view lists them under "created".
	m = e.model(t, 80, 24, Options{Actor: testActor, Reviewer: r})
	run(t, m, m.Init(), 0)
	press(t, m, ":", "offboard", "enter", "enter")
	v = m.View()
	checkFrame(t, v, 80, 24)
	checkScopesApart(t, "alice's person view", v, len(hookRepos))
}

// TestEndCutsScopes: at SCOPE's 11 cells, the demo's scopes keep their
// ends (the repository, the namespace, the account's last digits), and
// two environments of one name in different repositories read apart by
// the repositories; a scope that fits is whole.
func TestEndCutsScopes(t *testing.T) {
	vals := []string{"northwind", "northwind/checkout-service", "northwind/auth-service", "northwind/auth-service/production",
		"northwind/payments-api/production", "northwind/mobile-ios", "northwind/mobile-ios/app-store", "demo-cluster/payments",
		"111111111111", "211111111111"}
	got := cutsAt(vals, 11, true)
	want := "northwind …ut-service …th-service …h-service… …ments-api… …mobile-ios …/app-store …r/payments 1…111111111 2…111111111"
	if got != want {
		t.Errorf("cuts at 11 cells:\n got %s\nwant %s", got, want)
	}
}
