package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// serveAgent runs an ssh-agent holding the private key at keyPath on a
// unix socket, speaking the agent protocol, and returns SSH_AUTH_SOCK=….
func serveAgent(t *testing.T, keyPath string) string {
	t.Helper()
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	// A short directory: a socket's path has a limit of ~100 bytes.
	dir, err := os.MkdirTemp("", "nhi-agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); agent.ServeAgent(keyring, c) }()
		}
	}()
	return "SSH_AUTH_SOCK=" + sock
}

// TestExportSignWith: export signs as decide does, with --sign-with: a key
// file, or a public key whose private half ssh-agent holds (the private
// key file may be gone); ssh-keygen and nhi verify accept the signature.
// --sign, the older name, still signs, saying it is deprecated; --sign
// and --sign-with naming different keys are refused.
func TestExportSignWith(t *testing.T) {
	t.Parallel()
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	db := reportDB(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "lead_key")
	if b, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "lead", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, b)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowed := allowedSigners(t, dir, pub)
	sock := serveAgent(t, key)
	// The agent holds the key now: the file can go, as it does when the
	// key lives on a token or in a password manager.
	agentOnly := filepath.Join(dir, "agent_key.pub")
	if err := os.WriteFile(agentOnly, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "agent")
	r := nhi(t, []string{sock}, "export", "q", "--out", out, "--sign-with", agentOnly, "--signer", "lead@acme.test", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "Signed manifest.json with ssh-ed25519 key SHA256:") {
		t.Fatalf("export --sign-with a key in ssh-agent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	keygenVerifies(t, keygen, allowed, out)
	if r := ok(t, "verify", "--report", out, "--db", db, "--allowed-signers", allowed); !strings.Contains(r.stdout, "in the allowed signers") {
		t.Errorf("verify --allowed-signers says:\n%s", r.stdout)
	}

	// Without the agent, the public key is refused, saying what to do.
	refused(t, 1, "no ssh-agent is running", "export", "q", "--out", filepath.Join(dir, "noagent"), "--sign-with", agentOnly, "--signer", "lead@acme.test", "--db", db)

	// --sign, the older name, still signs, and says on stderr (not on the
	// stdout scripts read) to use --sign-with.
	r = nhi(t, []string{sock}, "export", "q", "--out", filepath.Join(dir, "old"), "--sign", agentOnly, "--signer", "lead@acme.test", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "Signed manifest.json") || !strings.Contains(r.stderr, "--sign is now --sign-with") || strings.Contains(r.stdout, "--sign-with") {
		t.Errorf("export --sign: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	refused(t, 2, "--sign and --sign-with name different keys", "export", "q", "--out", filepath.Join(dir, "both"), "--sign", agentOnly, "--sign-with", allowed, "--signer", "lead@acme.test", "--db", db)
}
