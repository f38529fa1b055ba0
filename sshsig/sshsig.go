// Package sshsig makes and checks SSH signatures in OpenSSH's SSHSIG
// format (PROTOCOL.sshsig): what `ssh-keygen -Y sign` writes and
// `ssh-keygen -Y verify` checks. nhi signs evidence bundles with it
// (namespace nhi-evidence, docs/report.md) and reviewers' decisions
// (namespace nhi-decision, docs/people.md). It imports nothing of nhi's.
package sshsig

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrEncryptedKey is returned for a passphrase-protected key without its
// passphrase.
var ErrEncryptedKey = errors.New("the signing key is encrypted")

// PublicKey is the public half of a signing key.
type PublicKey struct {
	Type        string // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...
	Fingerprint string // SHA256:... as ssh-keygen -l prints it
	Authorized  string // "TYPE BASE64", the authorized_keys form without comment
	key         ssh.PublicKey
}

func newPublicKey(k ssh.PublicKey) *PublicKey {
	return &PublicKey{Type: k.Type(), Fingerprint: ssh.FingerprintSHA256(k),
		Authorized: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), key: k}
}

// ParsePublicKey reads a public key line ("ssh-ed25519 AAAA... comment").
func ParsePublicKey(line string) (*PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("not an SSH public key line (ssh-ed25519 AAAA...): %w", err)
	}
	return newPublicKey(k), nil
}

// SigningKey signs messages.
type SigningKey struct {
	Public *PublicKey
	signer ssh.Signer
}

// LoadKey reads a signing key as git's user.signingKey names one: a
// private key file, or a public key file whose private half ssh-agent
// holds (SSH_AUTH_SOCK); the private key then never leaves the agent.
func LoadKey(path string, passphrase []byte) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if pub, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
		return agentKey(path, pub)
	}
	return LoadSigningKey(path, passphrase)
}

func agentKey(path string, pub ssh.PublicKey) (*SigningKey, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, fmt.Errorf("signing key %s is a public key, and no ssh-agent is running (SSH_AUTH_SOCK is unset): start one and ssh-add the private key, or give the private key file", path)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("signing key %s is a public key, and ssh-agent cannot be reached: %w", path, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("asking ssh-agent for its keys: %w", err)
	}
	for _, s := range signers {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			// The connection lives as long as the key: the agent signs.
			return &SigningKey{Public: newPublicKey(pub), signer: s}, nil
		}
	}
	conn.Close()
	return nil, fmt.Errorf("ssh-agent does not hold the private half of %s (%s): ssh-add it", path, ssh.FingerprintSHA256(pub))
}

// LoadSigningKey reads an OpenSSH (or PEM) private key file: Ed25519,
// ECDSA or RSA. An encrypted key needs its passphrase; without one it is
// refused with ErrEncryptedKey.
func LoadSigningKey(path string, passphrase []byte) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	var raw any
	if len(passphrase) > 0 {
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(data, passphrase)
	} else {
		raw, err = ssh.ParseRawPrivateKey(data)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%w: %s; give its passphrase in the environment variable NHI_SIGN_PASSPHRASE, or sign with an unencrypted key", ErrEncryptedKey, path)
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("signing key %s: the passphrase is wrong", path)
	case err != nil:
		return nil, fmt.Errorf("signing key %s: not an SSH private key nhi can use (Ed25519, ECDSA or RSA in OpenSSH or PEM form): %w", path, err)
	}
	s, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	switch s.PublicKey().Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoRSA, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
	default:
		return nil, fmt.Errorf("signing key %s: %s keys are not supported; use Ed25519, ECDSA or RSA", path, s.PublicKey().Type())
	}
	return &SigningKey{Public: newPublicKey(s.PublicKey()), signer: s}, nil
}

const sigMagic = "SSHSIG"

// signedData is what an SSHSIG signature covers: the magic, namespace,
// reserved field, hash algorithm and the hash of the message.
func signedData(namespace, hashAlg string, message []byte) ([]byte, error) {
	var h hash.Hash
	switch hashAlg {
	case "sha512":
		h = sha512.New()
	case "sha256":
		h = sha256.New()
	default:
		return nil, fmt.Errorf("unsupported hash algorithm %q", hashAlg)
	}
	h.Write(message)
	var b bytes.Buffer
	b.WriteString(sigMagic)
	putString(&b, []byte(namespace))
	putString(&b, nil) // reserved
	putString(&b, []byte(hashAlg))
	putString(&b, h.Sum(nil))
	return b.Bytes(), nil
}

func putString(b *bytes.Buffer, s []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	b.Write(n[:])
	b.Write(s)
}

// Sign returns an armored SSH signature of message in namespace, as
// `ssh-keygen -Y sign -n NAMESPACE` would write it.
func (k *SigningKey) Sign(message []byte, namespace string) ([]byte, error) {
	data, err := signedData(namespace, "sha512", message)
	if err != nil {
		return nil, err
	}
	var sig *ssh.Signature
	if as, ok := k.signer.(ssh.AlgorithmSigner); ok && k.Public.Type == ssh.KeyAlgoRSA {
		sig, err = as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = k.signer.Sign(rand.Reader, data)
	}
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	var blob bytes.Buffer
	blob.WriteString(sigMagic)
	blob.Write([]byte{0, 0, 0, 1}) // version
	putString(&blob, k.Public.key.Marshal())
	putString(&blob, []byte(namespace))
	putString(&blob, nil)
	putString(&blob, []byte("sha512"))
	putString(&blob, ssh.Marshal(sig))
	return armor(blob.Bytes()), nil
}

const (
	armorBegin = "-----BEGIN SSH SIGNATURE-----"
	armorEnd   = "-----END SSH SIGNATURE-----"
)

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(armorBegin + "\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return b.Bytes()
}

func dearmor(data []byte) ([]byte, error) {
	s := strings.TrimSpace(string(data))
	if !strings.HasPrefix(s, armorBegin) || !strings.HasSuffix(s, armorEnd) {
		return nil, errors.New("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
	}
	body := strings.Join(strings.Fields(s[len(armorBegin):len(s)-len(armorEnd)]), "")
	blob, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("not an SSH signature: %w", err)
	}
	return blob, nil
}

// VerifySignature checks an armored SSH signature of message in namespace
// and returns the key that made it. It proves the message was signed by
// that key; whether the key is the one expected is the caller's question
// (CheckAllowedSigners).
func VerifySignature(armored, message []byte, namespace string) (*PublicKey, error) {
	blob, err := dearmor(armored)
	if err != nil {
		return nil, err
	}
	r := &wire{b: blob}
	if string(r.bytes(len(sigMagic))) != sigMagic || r.uint32() != 1 {
		return nil, errors.New("not an SSHSIG version 1 signature")
	}
	pubBytes, ns, _, hashAlg, sigBytes := r.str(), r.str(), r.str(), r.str(), r.str()
	if r.err != nil {
		return nil, errors.New("the signature is truncated or malformed")
	}
	pub, err := ssh.ParsePublicKey(pubBytes)
	if err != nil {
		return nil, fmt.Errorf("the signature's public key: %w", err)
	}
	if string(ns) != namespace {
		return nil, fmt.Errorf("the signature is for namespace %q, not %q", ns, namespace)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal(sigBytes, &sig); err != nil {
		return nil, fmt.Errorf("the signature blob: %w", err)
	}
	if pub.Type() == ssh.KeyAlgoRSA && sig.Format == ssh.KeyAlgoRSA {
		return nil, errors.New("RSA signatures with SHA-1 (ssh-rsa) are not accepted")
	}
	data, err := signedData(namespace, string(hashAlg), message)
	if err != nil {
		return nil, err
	}
	if err := pub.Verify(data, &sig); err != nil {
		return nil, fmt.Errorf("the signature does not match: %w", err)
	}
	return newPublicKey(pub), nil
}

// wire reads SSH wire-format fields.
type wire struct {
	b   []byte
	err error
}

func (w *wire) bytes(n int) []byte {
	if w.err != nil || n < 0 || n > len(w.b) {
		w.err = errors.New("short")
		return nil
	}
	out := w.b[:n]
	w.b = w.b[n:]
	return out
}

func (w *wire) uint32() uint32 {
	b := w.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (w *wire) str() []byte {
	n := w.uint32()
	if w.err != nil || uint64(n) > uint64(len(w.b)) {
		w.err = errors.New("short")
		return nil
	}
	return w.bytes(int(n))
}

// ValidSigner reports whether name can be the principal of a signature:
// letters, digits and "@._+-" only (an email address, a login), so the
// allowed_signers line and the ssh-keygen command line the report prints
// need no quoting.
func ValidSigner(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._+-", r)) {
			return false
		}
	}
	return true
}

// AllowedSignersLine is the allowed_signers line (see ssh-keygen(1))
// that accepts key for principal in namespace.
func AllowedSignersLine(principal, namespace, authorized string) string {
	return fmt.Sprintf(`%s namespaces="%s" %s`, principal, namespace, authorized)
}

// ListsAnySigner reports whether data, an allowed_signers file, has a
// line CheckAllowedSigners can read: principals, then a public key
// (options may come between). A file with none (empty, only comments,
// another format) lists nobody, and no key would ever match it.
func ListsAnySigner(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, rest, ok := strings.Cut(line, " "); ok {
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest))); err == nil {
				return true
			}
		}
	}
	return false
}

// CheckAllowedSigners reports whether an allowed_signers file (the format
// of ssh-keygen -Y verify -f) lets principal sign in namespace with key.
// Patterns (*, ?) and the namespaces option are honoured; cert-authority
// lines are not supported and never match.
func CheckAllowedSigners(data []byte, principal, namespace string, key *PublicKey) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	keyListed := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		principals, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		pub, _, options, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest)))
		if err != nil || !bytes.Equal(pub.Marshal(), key.key.Marshal()) {
			continue
		}
		keyListed = true
		if !matchList(principals, principal) || !namespaceAllowed(options, namespace) {
			continue
		}
		return nil
	}
	if keyListed {
		return fmt.Errorf("key %s is in the allowed signers file, but not for principal %s in namespace %s", key.Fingerprint, principal, namespace)
	}
	return fmt.Errorf("key %s is not in the allowed signers file", key.Fingerprint)
}

func namespaceAllowed(options []string, namespace string) bool {
	for _, o := range options {
		if strings.EqualFold(o, "cert-authority") {
			return false
		}
		if name, v, ok := strings.Cut(o, "="); ok && strings.EqualFold(name, "namespaces") {
			return matchList(strings.Trim(v, `"`), namespace)
		}
	}
	return true
}

// matchList matches s against a comma-separated pattern list (* and ?,
// a leading ! negates), as OpenSSH's match_pattern_list does.
func matchList(list, s string) bool {
	matched := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if glob(strings.TrimPrefix(p, "!"), s) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

func glob(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if glob(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			s = s[1:]
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	}
	return s == ""
}
