package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/filter"
)

// snapshotOf records one finished snapshot of source/account holding o.
func snapshotOf(t *testing.T, s *Store, source, account string, gaps []Gap, o ...Observation) *Snapshot {
	t.Helper()
	return recordSnapshot(t, s, snapshotSpec{source: source, account: account, apiURL: "file:test", gaps: gaps}, o...)
}

// Several sources and accounts share one file: each has its own current
// snapshot, an identity is removed only by a later complete snapshot of its
// own source and account, and the rules run on every source's kinds.
func TestSourcesAndAccountsCoexist(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		past := time.Now().AddDate(0, 0, -3)
		gh := obs("acme/api/1", KindGitHubDeployKey)
		bot := Observation{ID: IdentityID("slack", "workspace-a", "import_bot_token", "B1"), Kind: "import_bot_token", Name: "deploy-bot", ExpiresAt: &past}
		botB := Observation{ID: IdentityID("slack", "workspace-b", "import_bot_token", "B1"), Kind: "import_bot_token", Name: "deploy-bot"}
		cert := Observation{ID: IdentityID("x509", "hosts", "x509_certificate", "ab12"), Kind: "x509_certificate", Name: "api.acme.test", Scope: "api.acme.test:443"}

		snapshotOf(t, s, "github", "acme", nil, gh)
		slackA := snapshotOf(t, s, "slack", "workspace-a", nil, bot)
		snapshotOf(t, s, "slack", "workspace-b", nil, botB)
		x1 := snapshotOf(t, s, "x509", "hosts", nil, cert)

		// Another complete snapshot of slack/workspace-b without its bot removes
		// that bot only: not workspace-a's with the same key, not github's.
		snapshotOf(t, s, "slack", "workspace-b", nil)
		// A partial x509 snapshot that could not reach the certificate's
		// endpoint does not remove it: it is not checked.
		x2 := snapshotOf(t, s, "x509", "hosts", []Gap{{Endpoint: "tls://api.acme.test:443", Kind: "x509_certificate", Scope: "api.acme.test:443", Reason: "connection refused"}})

		ids, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Identity{}
		for _, id := range ids {
			got[id.ID] = id
		}
		want := map[string][3]string{ // status, source, account
			gh.ID:   {StatusActive, "github", "acme"},
			bot.ID:  {StatusActive, "slack", "workspace-a"},
			botB.ID: {StatusRemoved, "slack", "workspace-b"},
			cert.ID: {StatusNotChecked, "x509", "hosts"},
		}
		if len(got) != len(want) {
			t.Fatalf("%d identities; want %d", len(got), len(want))
		}
		for id, w := range want {
			g := got[id]
			if [3]string{g.Status, g.Source, g.Account} != w {
				t.Errorf("%s: status %s, source %s, account %s; want %v", id, g.Status, g.Source, g.Account, w)
			}
		}
		// The expiry rule runs on an imported kind like on any other.
		if RuleNames(got[bot.ID].Findings) != "expired,orphaned" {
			t.Errorf("imported bot's findings: %v; want expired and orphaned", got[bot.ID].Findings)
		}
		if got[bot.ID].SnapshotID != slackA.ID || got[cert.ID].SnapshotID != x1.ID {
			t.Errorf("identities point at snapshots %d, %d; want %d, %d", got[bot.ID].SnapshotID, got[cert.ID].SnapshotID, slackA.ID, x1.ID)
		}

		cur, err := s.CurrentSnapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cur {
			names = append(names, c.Source+"/"+c.Account+"#"+c.Status)
		}
		wantCur := []string{"github/acme#complete", "slack/workspace-a#complete", "slack/workspace-b#complete", "x509/hosts#partial"}
		if len(names) != len(wantCur) {
			t.Fatalf("current snapshots %v; want %v", names, wantCur)
		}
		for i := range names {
			if names[i] != wantCur[i] {
				t.Errorf("current snapshots %v; want %v", names, wantCur)
				break
			}
		}
		if cur[3].ID != x2.ID {
			t.Errorf("x509's current snapshot is %d; want the partial %d, the newest finished", cur[3].ID, x2.ID)
		}
	})
}

// Rules that read dates run on any source that reports them: a kind nhi
// does not know is stale when its source says it was last used long ago,
// and unrotated when its source says the secret changed long ago; where
// the source says nothing, nothing fires.
func TestDateRulesOnOtherSources(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	ev := NewEvaluator(DefaultPolicy(), now)
	ago := func(d int) *time.Time { t := now.AddDate(0, 0, -d); return &t }
	for _, c := range []struct {
		o    Observation
		want string
	}{
		{Observation{ID: "a", Kind: "import_bot_token", LastUsedAt: ago(400)}, "stale"},
		{Observation{ID: "b", Kind: "import_bot_token", LastUsedAt: ago(10), RotatedAt: ago(91)}, "unrotated"},
		{Observation{ID: "c", Kind: "import_bot_token", CreatedAt: ago(900)}, ""}, // no last use reported: unknown, not never
		{Observation{ID: "d", Kind: "x509_certificate", CreatedAt: ago(900)}, ""},
	} {
		if got := RuleNames(ev.EvaluateObservation(&c.o)); got != c.want {
			t.Errorf("%s: findings %q; want %q", c.o.ID, got, c.want)
		}
	}
}

// A policy recorded by an earlier nhi lacks the rules added since: they
// run with their defaults, and the policy is still found by its digest
// (a campaign created under an earlier built-in default keeps its report).
func TestPolicyRecordedBeforeNewRules(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		old := DefaultPolicy()
		delete(old.Rules, RuleWeakKey)
		body, digest := old.canonical()
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := storePolicy(ctx, tx, body, digest, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		got, ev, err := s.PolicyByDigest(ctx, digest, 0)
		if err != nil || ev.Seq != 0 {
			t.Fatalf("PolicyByDigest: %v, %+v", err, ev)
		}
		if _, ok := got.Rules[RuleWeakKey]; ok || got.Digest() != digest {
			t.Errorf("the recorded policy was changed on the way: %+v", got.Rules)
		}
		weak := Observation{ID: "c", Kind: KindX509Certificate, Attributes: map[string]string{CertKeyType: "RSA", CertKeyBits: "1024", CertSignature: "SHA256-RSA"}}
		fs := NewEvaluator(old, time.Now()).EvaluateObservation(&weak)
		if len(fs) != 1 || fs[0].Rule != RuleWeakKey || fs[0].Severity != "high" || fs[0].OWASP != "NHI4" {
			t.Errorf("findings under the older policy: %+v; want weak-key at its default severity", fs)
		}
		if y := old.YAML(); !strings.Contains(y, "  weak-key:\n    severity: high\n") {
			t.Errorf("policy show of the older policy:\n%s", y)
		}
	})
}

// source: and account: select across sources; kind: takes an imported
// kind nobody could list in advance, and a glob that may match one.
func TestFilterAcrossSources(t *testing.T) {
	ids := []*Identity{
		{Observation: Observation{ID: "github:acme:github_deploy_key:1", Kind: KindGitHubDeployKey}, Source: "github", Account: "acme"},
		{Observation: Observation{ID: "slack:ws-a:import_bot_token:B1", Kind: "import_bot_token"}, Source: "slack", Account: "ws-a"},
		{Observation: Observation{ID: "slack:ws-b:import_bot_token:B1", Kind: "import_bot_token"}, Source: "slack", Account: "ws-b"},
		{Observation: Observation{ID: "x509:edge:x509_certificate:ab", Kind: KindX509Certificate}, Source: "x509", Account: "edge"},
	}
	for expr, want := range map[string]string{
		"source:slack account:ws-b":   "slack:ws-b:import_bot_token:B1",
		"account:ws-* -source:github": "slack:ws-a:import_bot_token:B1 slack:ws-b:import_bot_token:B1",
		"kind:import_bot_token":       "slack:ws-a:import_bot_token:B1 slack:ws-b:import_bot_token:B1",
		"kind:*bot_token":             "slack:ws-a:import_bot_token:B1 slack:ws-b:import_bot_token:B1",
		"kind:certificate":            "x509:edge:x509_certificate:ab",
		"source:x509 or account:acme": "github:acme:github_deploy_key:1 x509:edge:x509_certificate:ab",
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		var got []string
		for _, id := range ids {
			if f.Match(id, &filter.Env{Now: time.Now()}) {
				got = append(got, id.ID)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %v; want %s", expr, got, want)
		}
	}
	if _, err := filter.Parse("kind:bot_tokn", Vocabulary); err == nil {
		t.Error("kind:bot_tokn accepted: a kind outside the import prefix is still checked")
	}
}
