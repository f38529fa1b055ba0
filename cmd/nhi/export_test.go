package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// reportDB is an evidence file with a closed campaign "q" over ten deploy
// keys and an Actions secret whose name is a spreadsheet formula.
func reportDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := campaignDB(t, 10)
	st, err := audit.Open(ctx, db, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: due(30), Reviewers: []string{"alice", "bob"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.DecideMatching(ctx, st, "alice", "q", "scope:acme/r1", campaigns.Decommission, "=HYPERLINK(\"http://evil\") gone", false); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "bob", "q", keyID(2), campaigns.Keep, "<script>alert(1)</script> deploys"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	return db
}

// flipByte changes one byte in the middle of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyBundle(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "bundle")
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

func TestExportAndVerifyReport(t *testing.T) {
	t.Parallel()
	db := reportDB(t)
	out := filepath.Join(t.TempDir(), "evidence")
	at := "2027-01-15T09:00:00Z"

	refused(t, 2, "--out DIR is required", "export", "q", "--db", db, "--as", "lead")
	refused(t, 2, "unknown report format", "export", "q", "--out", out, "--format", "html,pdf", "--db", db, "--as", "lead")
	refused(t, 2, "use RFC 3339", "export", "q", "--out", out, "--generated-at", "yesterday", "--db", db, "--as", "lead")
	refused(t, 1, "no such campaign", "export", "nope", "--out", out, "--db", db, "--as", "lead")
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a refused export created its folder")
	}

	r := ok(t, "export", "q", "--out", out, "--generated-at", at, "--db", db, "--as", "lead")
	if !strings.Contains(r.stdout, "Exported campaign q (closed, 10 items)") || !strings.Contains(r.stdout, "signer lead") {
		t.Errorf("export says:\n%s", r.stdout)
	}
	for _, name := range []string{"report.html", "report.md", "report.json", "decisions.csv", "population.csv", "exceptions.csv", "remediation.csv", "reviewers.csv", "SHA256SUMS", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("the bundle has no %s", name)
		}
	}
	dec, _ := os.ReadFile(filepath.Join(out, "decisions.csv"))
	if !bytes.Contains(dec, []byte(`"'=HYPERLINK(""http://evil"") gone"`)) {
		t.Errorf("decisions.csv does not neutralise a formula:\n%s", dec)
	}
	if html, _ := os.ReadFile(filepath.Join(out, "report.html")); bytes.Contains(html, []byte("<script>alert")) {
		t.Error("report.html holds a live <script>")
	}

	refused(t, 1, "not empty", "export", "q", "--out", out, "--db", db, "--as", "lead")
	ok(t, "export", "q", "--out", out, "--force", "--generated-at", at, "--db", db, "--as", "lead")

	// The same file and inputs, the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	ok(t, "export", "q", "--out", again, "--generated-at", at, "--db", db, "--as", "lead")
	for _, name := range []string{"report.html", "report.md", "report.json", "decisions.csv", "manifest.json"} {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two exports with the same inputs", name)
		}
	}

	r = ok(t, "verify", "--report", out, "--db", db)
	if !strings.Contains(r.stdout, "OK bundle") || !strings.Contains(r.stdout, "identical") {
		t.Errorf("verify --report says:\n%s", r.stdout)
	}
	// Without an evidence file: the files alone and against each other,
	// and it says what that proves.
	r = ok(t, "verify", "--report", out)
	if !strings.Contains(r.stdout, "not signed; every file agrees with report.json\n") ||
		!strings.Contains(r.stdout, "NOT CHECKED against an evidence file") ||
		!strings.Contains(r.stdout, "which proves them consistent, not true (whoever holds an unsigned bundle can rewrite every file alike)") {
		t.Errorf("verify --report without --db says:\n%s", r.stdout)
	}
	// A cell of a CSV table edited, the hashes redone: every hash
	// matches, but the table no longer says what report.json says.
	forged := copyDir(t, out)
	edit(t, forged, "decisions.csv", "<script>alert(1)</script> deploys", "checked with the owner")
	r = nhi(t, nil, "verify", "--report", forged)
	if r.code != 1 || !strings.Contains(r.stdout, `: justification is "checked with the owner", report.json says "<script>alert(1)</script> deploys": the file and report.json disagree`) ||
		!strings.Contains(r.stdout, "FAIL decisions.csv: row 5 (github:acme:github_deploy_key:r2/2)") {
		t.Errorf("verify --report of a forged decisions.csv: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	refused(t, 1, "no evidence file", "verify", "--report", out, "--db", filepath.Join(t.TempDir(), "missing.db"))
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, b)
		}
	}

	// One edited byte in a file of each kind fails, naming the file.
	for _, name := range []string{"report.html", "report.md", "report.json", "decisions.csv", "population.csv", "SHA256SUMS", "manifest.json"} {
		d := copyBundle(t, out)
		flipByte(t, filepath.Join(d, name))
		r := nhi(t, nil, "verify", "--report", d, "--db", db)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL "+name) {
			t.Errorf("verify of a bundle with %s edited: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
	}

	// Another evidence file.
	other := campaignDB(t, 3)
	r = nhi(t, nil, "verify", "--report", out, "--db", other)
	if r.code != 1 || !strings.Contains(r.stdout, "not the evidence file this bundle came from") {
		t.Errorf("verify against another evidence file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestExportSigned(t *testing.T) {
	t.Parallel()
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	db := reportDB(t)
	dir := t.TempDir()
	gen := func(name, pass string) string {
		path := filepath.Join(dir, name)
		if b, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", pass, "-C", name, "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, b)
		}
		return path
	}
	key := gen("lead_key", "")
	out := filepath.Join(dir, "signed")

	refused(t, 2, "cannot sign", "export", "q", "--out", out, "--sign", key, "--signer", "Lead Auditor", "--db", db)
	r := ok(t, "export", "q", "--out", out, "--sign", key, "--signer", "lead@acme.test", "--db", db)
	if !strings.Contains(r.stdout, "Signed manifest.json with ssh-ed25519 key SHA256:") {
		t.Errorf("export --sign says:\n%s", r.stdout)
	}

	// ssh-keygen accepts the signature for the signer's key.
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowed := allowedSigners(t, dir, pub)
	keygenVerifies(t, keygen, allowed, out)
	// The report prints the same command line.
	if md, _ := os.ReadFile(filepath.Join(out, "report.md")); !bytes.Contains(md, []byte("ssh-keygen -Y verify -f allowed_signers -I lead@acme.test -n nhi-evidence -s manifest.json.sig < manifest.json")) {
		t.Error("report.md does not say how to check the signature with ssh-keygen")
	}

	r = ok(t, "verify", "--report", out, "--db", db, "--allowed-signers", allowed)
	if !strings.Contains(r.stdout, "in the allowed signers") {
		t.Errorf("verify --allowed-signers says:\n%s", r.stdout)
	}

	// A signature by another key is refused.
	d := copyBundle(t, out)
	if err := os.Remove(filepath.Join(d, "manifest.json.sig")); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(keygen, "-Y", "sign", "-f", gen("mallory_key", ""), "-n", "nhi-evidence", filepath.Join(d, "manifest.json")).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, b)
	}
	r = nhi(t, nil, "verify", "--report", d, "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "manifest.json.sig") {
		t.Errorf("verify of a signature by another key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// An encrypted key needs its passphrase, from the environment.
	enc := gen("enc_key", "s3cret pass")
	refused(t, 1, "NHI_SIGN_PASSPHRASE", "export", "q", "--out", filepath.Join(dir, "enc"), "--sign", enc, "--signer", "lead@acme.test", "--db", db)
	r = nhi(t, []string{"NHI_SIGN_PASSPHRASE=s3cret pass"}, "export", "q", "--out", filepath.Join(dir, "enc"), "--sign", enc, "--signer", "lead@acme.test", "--db", db)
	if r.code != 0 {
		t.Errorf("export with NHI_SIGN_PASSPHRASE: exit %d\n%s", r.code, r.stderr)
	}
}

// allowedSigners writes an allowed_signers file in dir for ssh-keygen -Y
// verify: lead@acme.test, whose public key is pub, signs evidence
// (namespace nhi-evidence). It returns the file's path.
func allowedSigners(t *testing.T, dir string, pub []byte) string {
	t.Helper()
	fields := strings.Fields(string(pub))
	allowed := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(allowed, []byte("lead@acme.test namespaces=\"nhi-evidence\" "+fields[0]+" "+fields[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return allowed
}

// keygenVerifies checks that ssh-keygen -Y verify accepts the bundle
// out's signed manifest as lead@acme.test's by the signers allowed lists.
func keygenVerifies(t *testing.T, keygen, allowed, out string) {
	t.Helper()
	cmd := exec.Command(keygen, "-Y", "verify", "-f", allowed, "-I", "lead@acme.test", "-n", "nhi-evidence", "-s", filepath.Join(out, "manifest.json.sig"))
	manifest, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	cmd.Stdin = bytes.NewReader(manifest)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "Good") {
		t.Fatalf("ssh-keygen -Y verify: %v\n%s", err, b)
	}
}

// TestExportWhereItCannotCreateNamesTheOut: an export into a folder it
// cannot create names the path the user gave and what to do, never the
// temporary folder it writes the bundle into first (nhi's, and gone by
// then), nor the path made absolute. sys is a link to /sys, where nobody
// creates a folder, root neither.
func TestExportWhereItCannotCreateNamesTheOut(t *testing.T) {
	t.Parallel()
	if err := os.Mkdir("/sys/nhi-test", 0o755); err == nil || !errors.Is(err, fs.ErrPermission) {
		os.Remove("/sys/nhi-test")
		t.Skipf("no /sys that refuses a new folder here: %v", err)
	}
	db := demoCopy(t)
	dir := t.TempDir()
	if err := os.Symlink("/sys", filepath.Join(dir, "sys")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, says string }{
		{"sys/bundle", "cannot write sys/bundle: cannot create a folder in sys (operation not permitted); choose a folder you can write"},
		{"sys/q4/bundle", "cannot write sys/q4/bundle: cannot create the folder sys/q4 (operation not permitted); create it, or choose a folder you can write"},
	} {
		stderr, code := runIn(t, dir, nil, "export", "demo-deploy-keys", "--out", c.out, "--db", db)
		if code != 1 || stderr != "nhi: "+c.says+"\n" {
			t.Errorf("nhi export --out %s: exit %d, said\n%s\nwant exit 1, saying\n%s", c.out, code, stderr, c.says)
		}
	}
}
