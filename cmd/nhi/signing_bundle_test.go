package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/report"
)

// nhi verify --report re-checks every decision signature without the
// evidence file: the bundle carries the signed bytes, the signatures and
// the signers' keys as the directory recorded them. A justification edited
// in report.json, carried consistently into the manifest's hashes, no
// longer matches what was signed; a signed record edited in
// signatures.jsonl no longer verifies.
func TestBundleChecksDecisionSignaturesOffline(t *testing.T) {
	t.Parallel()
	s := signedCampaign(t)
	db := s.db
	ok(t, "decide", "q", keyID(1), "keep", "--reason", "checked with the owner", "--sign-with", s.dan, "--db", db, "--as", "dan@northwind.example")
	ok(t, "decide", "q", keyID(3), "decommission", "--sign-with", s.alice, "--db", db, "--as", "alice-smith")
	out := filepath.Join(t.TempDir(), "bundle")
	ok(t, "export", "q", "--out", out, "--sign", s.dan, "--signer", "dan@northwind.example", "--db", db, "--as", "lead")
	if _, err := os.Stat(filepath.Join(out, "signatures.jsonl")); err != nil {
		t.Fatalf("no signatures.jsonl: %v", err)
	}
	r := ok(t, "verify", "--report", out)
	if !strings.Contains(r.stdout, "2 signed decision events verify offline (namespace nhi-decision)") ||
		!strings.Contains(r.stdout, "report.json's 2 signed decisions match them") {
		t.Errorf("offline verify:\n%s", r.stdout)
	}
	// ssh-keygen checks a line by hand, as docs/report.md says.
	lines := strings.Split(strings.TrimSpace(mustRead(t, filepath.Join(out, "signatures.jsonl"))), "\n")
	var rec struct {
		Actor, Record, Signature string
		PublicKey                string `json:"public_key"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	check := t.TempDir()
	for name, body := range map[string]string{"record": rec.Record, "sig": rec.Signature,
		"allowed": rec.Actor + ` namespaces="nhi-decision" ` + rec.PublicKey + "\n"} {
		if err := os.WriteFile(filepath.Join(check, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", "allowed", "-I", rec.Actor, "-n", "nhi-decision", "-s", "sig")
	cmd.Dir, cmd.Stdin = check, strings.NewReader(rec.Record)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "Good \"nhi-decision\" signature") {
		t.Errorf("ssh-keygen -Y verify: %v\n%s", err, b)
	}
	// Pinned with keys the auditor trusts (dan signed the bundle too).
	allowed := writeFile(t, "allowed", "dan@northwind.example namespaces=\"nhi-decision,nhi-evidence\" "+s.danPub+"\n")
	if r := ok(t, "verify", "--report", out, "--allowed-signers", allowed); !strings.Contains(r.stdout, "1 of them listed for their signer") {
		t.Errorf("pinned:\n%s", r.stdout)
	}
	// The rebuild from the evidence file reproduces the file too.
	if r := ok(t, "verify", "--report", out, "--db", db); !strings.Contains(r.stdout, "identical") {
		t.Errorf("with the evidence file:\n%s", r.stdout)
	}

	// An unsigned bundle, so only the decisions' signatures stand between
	// a forger and the auditor. The justification rewritten in
	// report.json, the hashes redone.
	out = filepath.Join(t.TempDir(), "unsigned")
	ok(t, "export", "q", "--out", out, "--db", db, "--as", "lead")
	forged := copyDir(t, out)
	edit(t, forged, "report.json", "checked with the owner", "approved by the CISO")
	r = nhi(t, nil, "verify", "--report", forged)
	if r.code != 1 || !strings.Contains(r.stdout, `the signed justification is "checked with the owner", the row says "approved by the CISO": the report was changed`) {
		t.Errorf("forged report.json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The signed record itself rewritten: its signature fails.
	forged = copyDir(t, out)
	edit(t, forged, "signatures.jsonl", "checked with the owner", "approved by the CISO")
	r = nhi(t, nil, "verify", "--report", forged)
	if r.code != 1 || !strings.Contains(r.stdout, "the signature does not verify over the recorded event") {
		t.Errorf("forged signatures.jsonl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The file removed, and with it from the manifest: report.json's signed
	// rows are left without proof.
	forged = copyDir(t, out)
	os.Remove(filepath.Join(forged, "signatures.jsonl"))
	rehash(t, forged, "signatures.jsonl")
	r = nhi(t, nil, "verify", "--report", forged)
	if r.code != 1 || !strings.Contains(r.stdout, "missing, yet report.json has 2 signed decisions: the bundle cannot prove them") {
		t.Errorf("without signatures.jsonl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func copyDir(t *testing.T, dir string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(to, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return to
}

// edit replaces old by new in a bundle's file and redoes its hash in
// manifest.json and SHA256SUMS, as a forger with a text editor would.
func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not hold %q", name, old)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), old, new)), 0o600); err != nil {
		t.Fatal(err)
	}
	rehash(t, dir, name)
}

// rehash rewrites name's entry in SHA256SUMS and manifest.json (dropping
// it when the file is gone), and SHA256SUMS's in the manifest, keeping
// the manifest's form: what a forger with nhi's source would write.
func rehash(t *testing.T, dir, name string) {
	t.Helper()
	var m report.Manifest
	mp := filepath.Join(dir, "manifest.json")
	raw, err := os.ReadFile(mp)
	if err != nil || json.Unmarshal(raw, &m) != nil {
		t.Fatal(err)
	}
	b, gone := os.ReadFile(filepath.Join(dir, name))
	sum := sha256.Sum256(b)
	sp := filepath.Join(dir, "SHA256SUMS")
	sums, _ := os.ReadFile(sp)
	line := regexp.MustCompile(`(?m)^[0-9a-f]{64}  ` + regexp.QuoteMeta(name) + `\n`)
	repl := ""
	if gone == nil {
		repl = hex.EncodeToString(sum[:]) + "  " + name + "\n"
	}
	sums = line.ReplaceAll(sums, []byte(repl))
	if err := os.WriteFile(sp, sums, 0o600); err != nil {
		t.Fatal(err)
	}
	sumsSum := sha256.Sum256(sums)
	var files []report.FileHash
	for _, f := range m.Files {
		switch f.Path {
		case name:
			if gone != nil {
				continue
			}
			f.SHA256, f.Bytes = hex.EncodeToString(sum[:]), int64(len(b))
		case "SHA256SUMS":
			f.SHA256, f.Bytes = hex.EncodeToString(sumsSum[:]), int64(len(sums))
		}
		files = append(files, f)
	}
	m.Files = files
	raw, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(mp, append(raw, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}
