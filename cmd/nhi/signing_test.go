package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// sshKey makes an Ed25519 key pair with ssh-keygen and returns the
// private key's path and the public key line.
func sshKey(t *testing.T, name string) (string, string) {
	t.Helper()
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	path := filepath.Join(t.TempDir(), name)
	if b, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, b)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(pub))
}

type signers struct {
	db                  string
	alice, dan, mallory string // private key paths
	danPub              string
}

// signedCampaign is separationDB with signing keys for alice and dan in
// the directory and a campaign q that requires signed decisions.
func signedCampaign(t *testing.T) signers {
	t.Helper()
	db := separationDB(t)
	var s signers
	s.db = db
	var alicePub string
	s.alice, alicePub = sshKey(t, "alice")
	s.dan, s.danPub = sshKey(t, "dan")
	s.mallory, _ = sshKey(t, "mallory")
	keys := "email,name,github,signing_key\n" +
		"alice@northwind.example,Alice Smith,user0," + alicePub + "\n" +
		"dan@northwind.example,Dan Wu,user3," + s.danPub + "\n"
	ok(t, "people", "import", writeFile(t, "keys.csv", keys), "--db", db, "--as", "carol@northwind.example")
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "alice-smith", "--reviewer", "user3",
		"--require-signed", "--db", db, "--as", "carol@northwind.example")
	return s
}

func TestSignedDecisions(t *testing.T) {
	t.Parallel()
	s := signedCampaign(t)
	db := s.db
	dan := []string{"--db", db, "--as", "dan@northwind.example"}

	// Unsigned, or signed with someone else's key: refused, and recorded.
	refused(t, 1, "signature refused: dan@northwind.example (rule unsigned: campaign q requires signed decisions",
		append([]string{"decide", "q", keyID(1), "keep", "--reason", "checked"}, dan...)...)
	refused(t, 1, "(rule signing-key: key SHA256:",
		append([]string{"decide", "q", keyID(1), "keep", "--reason", "checked", "--sign-with", s.alice}, dan...)...)
	refused(t, 1, "is not dan@northwind.example's signing key",
		append([]string{"decide", "q", keyID(1), "keep", "--reason", "checked", "--sign-with", s.mallory}, dan...)...)

	// Signed with their own keys: by flag, and by NHI_SIGNING_KEY.
	ok(t, append([]string{"decide", "q", keyID(1), "keep", "--reason", "checked", "--sign-with", s.dan}, dan...)...)
	r := nhi(t, []string{"NHI_SIGNING_KEY=" + s.alice}, "decide", "q", keyID(3), "decommission", "--db", db, "--as", "alice-smith")
	if r.code != 0 {
		t.Fatalf("alice by NHI_SIGNING_KEY: %d\n%s", r.code, r.stderr)
	}
	// A key listed in an allowed signers file counts as the person's.
	allowed := writeFile(t, "allowed_signers", `dan@northwind.example namespaces="nhi-decision" `+mustRead(t, s.mallory+".pub")+"\n")
	ok(t, append([]string{"decide", "q", keyID(4), "rotate", "--reason", "checked", "--sign-with", s.mallory, "--allowed-signers", allowed}, dan...)...)

	if r := ok(t, "verify", "--db", db, "--allowed-signers", allowed); !strings.Contains(r.stdout, "; 3 signatures verify") {
		t.Errorf("verify:\n%s", r.stdout)
	}
	// Without the allowed signers file, the third key is nobody's.
	refused(t, 1, "is signed by key SHA256:", "verify", "--db", db)
	c := show(t, db, "q")
	var rules []string
	for _, r := range c.raw["refused"].([]any) {
		rules = append(rules, r.(map[string]any)["rule"].(string))
	}
	if strings.Join(rules, " ") != "unsigned signing-key signing-key" {
		t.Errorf("refused: %v", rules)
	}
	if c.raw["require_signed"] != true {
		t.Errorf("require_signed: %v", c.raw["require_signed"])
	}

	// The report says who signed what, with which key.
	out := filepath.Join(t.TempDir(), "bundle")
	ok(t, "export", "q", "--out", out, "--format", "md,csv", "--db", db, "--as", "carol@northwind.example")
	// The bundle checked against the evidence file takes the same
	// allowed signers for the file's decisions as nhi verify does: it
	// failed the third, saying to pass the file it was passed.
	signed := filepath.Join(t.TempDir(), "signed")
	ok(t, "export", "q", "--out", signed, "--sign", s.dan, "--signer", "dan@northwind.example", "--db", db, "--as", "carol@northwind.example")
	both := writeFile(t, "allowed_both", `dan@northwind.example namespaces="nhi-decision" `+mustRead(t, s.mallory+".pub")+"\n"+`dan@northwind.example namespaces="nhi-evidence" `+s.danPub+"\n")
	if r := ok(t, "verify", "--report", signed, "--db", db, "--allowed-signers", both); !strings.Contains(r.stdout, "identical") {
		t.Errorf("verify --report --db --allowed-signers:\n%s", r.stdout)
	}
	rmd := mustRead(t, filepath.Join(out, "report.md"))
	danFP := fingerprint(t, s.danPub)
	for _, want := range []string{"| keep | alice@northwind.example | dan@northwind.example | ", "| checked | " + danFP + " | not-assignee short-reason |",
		"| 1 of 2 (50.0%) | 2 | 2 (100.0%) |", "### Refused attempts", "| unsigned | campaign q requires signed decisions",
		"| Signed decisions | The campaign was created with --require-signed"} {
		if !strings.Contains(rmd, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// ssh-keygen accepts nhi's signature over the event's canonical bytes,
	// as nhi signature writes them for an auditor.
	ev, _ := signedEvent(t, db, keyID(1))
	dir := t.TempDir()
	r = ok(t, "signature", fmt.Sprint(ev.Seq), "--out", dir, "--db", db)
	base := filepath.Join(dir, fmt.Sprintf("event-%d", ev.Seq))
	if !strings.Contains(r.stdout, "ssh-keygen -Y verify -f "+base+".allowed_signers -I dan@northwind.example -n nhi-decision -s "+base+".sig < "+base+".json") {
		t.Errorf("nhi signature:\n%s", r.stdout)
	}
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", base+".allowed_signers", "-I", "dan@northwind.example", "-n", "nhi-decision", "-s", base+".sig")
	canon, err := ev.CanonicalBytes()
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, base+".json"); got != strings.TrimSpace(string(canon)) {
		t.Errorf("event-%d.json is not the canonical bytes:\n%s", ev.Seq, got)
	}
	in, err := os.Open(base + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd.Stdin = in
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "Good \"nhi-decision\" signature for dan@northwind.example") {
		t.Errorf("ssh-keygen -Y verify: %v\n%s", err, b)
	}
	// The same bytes, one decision changed, do not verify.
	forged := writeFile(t, "forged.json", strings.Replace(string(canon), `"keep"`, `"decommission"`, 1))
	in2, _ := os.Open(forged)
	defer in2.Close()
	cmd = exec.Command("ssh-keygen", "-Y", "verify", "-f", base+".allowed_signers", "-I", "dan@northwind.example", "-n", "nhi-decision", "-s", base+".sig")
	cmd.Stdin = in2
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ssh-keygen accepted a changed decision:\n%s", b)
	}
	refused(t, 1, "is not signed", "signature", "1", "--out", dir, "--db", db)
}

func fingerprint(t *testing.T, pub string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-f", writeFile(t, "k.pub", pub+"\n")).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[1]
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// signedEvent finds the signed campaign.decide event on id.
func signedEvent(t *testing.T, db, id string) (audit.Event, audit.Signature) {
	t.Helper()
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := st.Signatures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if sg, ok := sigs[e.Seq]; ok && e.Type == "campaign.decide" && strings.Contains(string(e.Payload), id) {
			return e, sg
		}
	}
	t.Fatalf("no signed decision on %s", id)
	return audit.Event{}, audit.Signature{}
}

// The attack signatures exist for: someone with write access to the file
// rewrites a signed decision and recomputes the whole hash chain, and the
// tables, so every other check passes. The signature no longer verifies.
func TestForgedDecisionWithRecomputedChain(t *testing.T) {
	t.Parallel()
	s := signedCampaign(t)
	db := s.db
	ok(t, "decide", "q", keyID(1), "keep", "--reason", "still deploys prod", "--sign-with", s.dan, "--db", db, "--as", "user3")
	ok(t, "note", "add", keyID(1), "after the decision", "--db", db, "--as", "carol@northwind.example")
	forged, _ := signedEvent(t, db, keyID(1))

	// The forger turns keep into decommission, in the event and the tables...
	tamper(t, db, `DROP TRIGGER events_no_update`)
	payload := strings.Replace(string(forged.Payload), `"decision":"keep"`, `"decision":"decommission"`, 1)
	tamper(t, db, `UPDATE events SET payload = ? WHERE seq = ?`, payload, forged.Seq)
	tamper(t, db, `UPDATE campaign_items SET decision = 'decommission' WHERE identity_id = ?`, keyID(1))
	tamper(t, db, `UPDATE campaign_decisions SET decision = 'decommission' WHERE identity_id = ? AND seq = ?`, keyID(1), forged.Seq)
	// ... and recomputes every hash from there on, and the recorded head.
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.Events(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.GenesisHash
	for _, e := range evs {
		e.PrevHash = prev
		canon, err := e.CanonicalBytes()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append([]byte(prev), canon...))
		e.Hash = hex.EncodeToString(sum[:])
		tamper(t, db, `UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`, e.PrevHash, e.Hash, e.Seq)
		prev = e.Hash
	}
	tamper(t, db, `UPDATE meta SET value = ? WHERE key = 'log_head'`, prev)

	r := nhi(t, nil, "verify", "--db", db)
	if r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("FAIL signatures: event %d (campaign.decide by dan@northwind.example", forged.Seq)) ||
		!strings.Contains(r.stdout, "does not verify") {
		t.Fatalf("verify after the forgery: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Nothing else noticed: the chain and the tables were forged well.
	if n := strings.Count(r.stdout, "FAIL "); n != 1 {
		t.Errorf("want the signature as the only failure, got %d:\n%s", n, r.stdout)
	}
}

// Two reviewers sign decisions at the same moment from two processes:
// every decision lands, signed, and the file verifies.
func TestConcurrentSignedReviewers(t *testing.T) {
	t.Parallel()
	s := signedCampaign(t)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i, who := range []struct{ as, key, items string }{
		{"user3", s.dan, keyID(0) + ",keep,ok\n" + keyID(1) + ",keep,ok\n" + keyID(4) + ",keep,ok\n"},
		{"alice-smith", s.alice, keyID(2) + ",keep,ok\n" + keyID(3) + ",keep,ok\n" + keyID(5) + ",keep,ok\n"},
	} {
		batch := writeFile(t, fmt.Sprintf("batch%d.csv", i), who.items)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = nhi(t, nil, "decide", "q", "--batch", batch, "--sign-with", who.key, "--db", s.db, "--as", who.as)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || strings.Count(r.stdout, "ok ") != 3 {
			t.Errorf("reviewer %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	if r := ok(t, "verify", "--db", s.db); !strings.Contains(r.stdout, "6 signatures verify") {
		t.Errorf("verify:\n%s", r.stdout)
	}
}

// The review UI's decisions go through campaignReviewer: with a key
// configured they are signed like nhi decide's, and the detail's trail
// shows them signed, and shows the refused attempts.
func TestReviewUISignsAndShowsRefusals(t *testing.T) {
	s := signedCampaign(t)
	ctx := context.Background()
	st, err := audit.Open(ctx, s.db, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unsigned := &campaignReviewer{st: st}
	if _, err := unsigned.Decide(ctx, "dan@northwind.example", "q", []string{keyID(1)}, "keep", "checked"); err == nil || !strings.Contains(err.Error(), "rule unsigned") {
		t.Fatalf("unsigned decision from the UI: %v", err)
	}
	a := &app{stderr: os.Stderr}
	sign, err := (&signing{keyPath: s.dan}).load(a)
	if err != nil {
		t.Fatal(err)
	}
	r := &campaignReviewer{st: st, sign: sign}
	evs, err := r.Decide(ctx, "dan@northwind.example", "q", []string{keyID(1)}, "keep", "checked")
	if err != nil {
		t.Fatal(err)
	}
	if sigs, _ := st.Signatures(ctx); sigs[evs[0].Seq].Fingerprint == "" {
		t.Errorf("the UI's decision %d is not signed", evs[0].Seq)
	}
	trail, err := r.Trail(ctx, keyID(1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range trail {
		got = append(got, e.What)
	}
	if strings.Join(got, " | ") != "refused: keep (rule unsigned) | keep, signed" {
		t.Errorf("trail of key 1: %q", got)
	}
}

// TestSignatureThatCannotWriteSaysSo: nhi signature --out DIR that
// cannot write one of its files (here a folder of that name is in the
// way) names the file and what to do, and leaves no temporary file, where
// it wrote each file in place (a full disk left half of one) and said
// Go's "open …: is a directory".
func TestSignatureThatCannotWriteSaysSo(t *testing.T) {
	t.Parallel()
	s := signedCampaign(t)
	ok(t, "decide", "q", keyID(1), "keep", "--reason", "checked", "--sign-with", s.dan, "--db", s.db, "--as", "dan@northwind.example")
	ev, _ := signedEvent(t, s.db, keyID(1))
	dir := t.TempDir()
	sig := filepath.Join(dir, fmt.Sprintf("event-%d.sig", ev.Seq))
	if err := os.Mkdir(sig, 0o755); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, nil, "signature", fmt.Sprint(ev.Seq), "--out", dir, "--db", s.db)
	want := "nhi: cannot write " + sig + ": file exists; a file of that name already there is as it was: make room, or choose another folder with --out, and run the command again\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("nhi signature into a folder in the way: exit %d, said\n%s\nwant exit 1, saying\n%s", r.code, r.stderr, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("nhi signature left %s in %s", e.Name(), dir)
		}
	}
}
