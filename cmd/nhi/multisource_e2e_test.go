package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// One campaign and one evidence report over every source, through the
// binary: the demo's GitHub organisation and three AWS accounts (the fake
// AWS and GitHub on loopback, read by the real connectors), an import and a
// certificate scan in the same file. The campaign freezes each source's
// current snapshot; a later import verifies the removal of its own
// identity only; the report lists each source with what its connector
// read and cannot see, and nhi verify --report rebuilds it byte for byte.
func TestOneCampaignOverEverySource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := demoCopy(t, "--history=false", "--repos", "2")

	csv := filepath.Join(dir, "bots.csv")
	if err := os.WriteFile(csv, []byte("key,kind,name,owner,last_used_at\nB1,bot_token,deploy-bot,alice@acme.test,2026-11-28\nB2,bot_token,legacy-alerts,,2023-01-10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", csv, "--source", "slack", "--account", "ws-a", "--db", db)
	certs := filepath.Join(dir, "certs")
	writeCert(t, certs, "site.pem")
	ok(t, "snapshot", "x509", "--path", certs, "--account", "edge", "--db", db)

	r := ok(t, "campaign", "create", "q4", "--scope", "id:*", "--due", "2026-12-31", "--reviewer", "rita@acme.test", "--db", db, "--as", "lead")
	for _, want := range []string{"from 7 snapshots", "k8s/demo-cluster", "aws/111111111111", "aws/222222222222", "aws/333333333333", "github/northwind", "slack/ws-a", "x509/edge"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("create does not name %q:\n%s", want, r.stdout)
		}
	}
	var c struct {
		Count     int `json:"count"`
		Snapshots []struct {
			ID      int64  `json:"id"`
			Source  string `json:"source"`
			Account string `json:"account"`
			Count   int    `json:"count"`
		} `json:"snapshots"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "q4", "--json", "--db", db).stdout), &c); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range c.Snapshots {
		total += s.Count
	}
	if len(c.Snapshots) != 7 || total != c.Count || c.Snapshots[4].Source != "k8s" || c.Snapshots[4].Count != 8 ||
		c.Snapshots[5].Source != "slack" || c.Snapshots[5].Count != 2 || c.Snapshots[6].Count != 1 {
		t.Fatalf("campaign snapshots %+v (count %d)", c.Snapshots, c.Count)
	}

	// --source narrows to some sources; --snapshot with --source is a usage error.
	r = ok(t, "campaign", "create", "slack-only", "--scope", "id:*", "--due", "2026-12-31", "--reviewer", "rita@acme.test", "--source", "slack", "--db", db, "--as", "lead")
	if !strings.Contains(r.stdout, "2 identities from snapshot") {
		t.Errorf("--source slack:\n%s", r.stdout)
	}
	refused(t, 2, "leave out --source", "campaign", "create", "x", "--scope", "id:*", "--due", "2026-12-31", "--reviewer", "r", "--snapshot", "1", "--source", "aws", "--db", db, "--as", "lead")

	bot, key := "slack:ws-a:import_bot_token:B2", "aws:333333333333:aws_access_key:AKIASANDBOXEXP000001"
	ok(t, "decide", "q4", bot, "decommission", "--db", db, "--as", "rita@acme.test")
	ok(t, "decide", "q4", key, "decommission", "--db", db, "--as", "rita@acme.test")
	ok(t, "decide", "q4", "--filter", "source:aws", "keep", "--reason", "reviewed with the platform team", "--db", db, "--as", "rita@acme.test")
	ok(t, "campaign", "close", "q4", "--yes", "--db", db, "--as", "lead")

	// The next export of the workspace no longer lists B2: the import
	// checks q4's Slack decommission, and nothing else.
	if err := os.WriteFile(csv, []byte("key,kind,name,owner,last_used_at\nB1,bot_token,deploy-bot,alice@acme.test,2026-11-28\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = ok(t, "import", csv, "--source", "slack", "--account", "ws-a", "--db", db)
	if !strings.Contains(r.stdout, "Campaign q4: of its identities of slack/ws-a approved for decommissioning, 1 removed") {
		t.Errorf("import after the campaign:\n%s", r.stdout)
	}
	r = ok(t, "campaign", "verify", "q4", "--db", db, "--as", "lead")
	if !strings.Contains(r.stdout, "1 decommission decision of slack/ws-a checked against snapshot ") ||
		!strings.Contains(r.stdout, "Not verified: 1 decommission decision of aws/333333333333: no snapshot of aws/333333333333 taken since snapshot") ||
		strings.Contains(r.stdout, "github/northwind") {
		t.Errorf("campaign verify:\n%s", r.stdout)
	}
	for _, it := range show(t, db, "q4").Items {
		switch {
		case it.ID == bot:
			if it.Verification == nil || *it.Verification != "removed" {
				t.Errorf("%s: verification %v, want removed", it.ID, it.Verification)
			}
		case it.Verification != nil:
			t.Errorf("%s: verification %s, but no later snapshot of its source was taken", it.ID, *it.Verification)
		}
	}

	out := filepath.Join(dir, "bundle")
	ok(t, "export", "q4", "--out", out, "--db", db, "--as", "lead")
	if r := ok(t, "verify", "--report", out, "--db", db); !strings.Contains(r.stdout, "identical") {
		t.Errorf("verify --report:\n%s", r.stdout)
	}
	// Alone, the bundle of several sources agrees with itself.
	if r := ok(t, "verify", "--report", out); !strings.Contains(r.stdout, "every file agrees with report.json") {
		t.Errorf("verify --report without the evidence file:\n%s", r.stdout)
	}
	var rep struct {
		Attestation struct {
			Controls []struct{ ID, How string }
		}
		Population struct {
			Source  string `json:"source"`
			Sources []struct {
				Snapshot struct {
					ID      int64  `json:"id"`
					Source  string `json:"source"`
					Account string `json:"account"`
				} `json:"snapshot"`
				InScope      int `json:"in_scope"`
				Completeness struct {
					Recorded   bool     `json:"recorded"`
					Unit       string   `json:"unit"`
					Read       int      `json:"read"`
					Requests   int      `json:"requests"`
					PlacesRead *int     `json:"places_read"`
					CannotSee  []string `json:"cannot_see"`
				} `json:"completeness"`
			} `json:"sources"`
		} `json:"population"`
		Remediation struct {
			Removed     int `json:"removed"`
			NotVerified int `json:"not_verified"`
		} `json:"remediation"`
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	p := rep.Population
	if p.Source != "" || len(p.Sources) != 7 {
		t.Fatalf("population: source %q, %d sources", p.Source, len(p.Sources))
	}
	units := map[string]string{}
	for _, s := range p.Sources {
		comp := s.Completeness
		units[s.Snapshot.Source] = comp.Unit
		if !comp.Recorded || len(comp.CannotSee) == 0 || s.InScope == 0 {
			t.Errorf("%s/%s: in scope %d, completeness %+v", s.Snapshot.Source, s.Snapshot.Account, s.InScope, comp)
		}
		if remote := s.Snapshot.Source == "github" || s.Snapshot.Source == "aws" || s.Snapshot.Source == "k8s"; remote && (comp.Requests == 0 || comp.PlacesRead == nil || *comp.PlacesRead == 0) {
			t.Errorf("%s/%s: %d requests, places read %v", s.Snapshot.Source, s.Snapshot.Account, comp.Requests, comp.PlacesRead)
		}
	}
	if units["github"] != "repositories" || units["aws"] != "accounts" || units["slack"] != "rows" || units["x509"] != "files and TLS endpoints" || units["k8s"] != "namespaces" {
		t.Errorf("units %v", units)
	}
	if i := slices.IndexFunc(rep.Attestation.Controls, func(c struct{ ID, How string }) bool { return c.ID == "CC6.2" }); i < 0 ||
		!strings.Contains(rep.Attestation.Controls[i].How, "OAuth apps and personal access tokens authorized outside SAML") ||
		!strings.Contains(rep.Attestation.Controls[i].How, "aws: temporary credentials STS already issued") {
		t.Errorf("CC6.2 does not name its limits: %+v", rep.Attestation.Controls)
	}
	if rep.Remediation.Removed != 1 || rep.Remediation.NotVerified != 1 {
		t.Errorf("remediation %+v", rep.Remediation)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, want := range []string{"The population comes from 7 snapshots", fmt.Sprintf("| slack / ws-a | %d (complete)", c.Snapshots[5].ID), "### Completeness", "| x509 / edge | files and TLS endpoints: 1 | none | 0 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// writeCert writes a self-signed certificate, valid from now, to dir/name.
func writeCert(t *testing.T, dir, name string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "api.acme.test"}, DNSNames: []string{"api.acme.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
