package report

import "github.com/nhi-audit/nhi/sshsig"

// Bundles are signed over manifest.json with SSH signatures (package
// sshsig, the format ssh-keygen -Y sign writes), in their own namespace.

// Namespace is the SSHSIG namespace of a bundle signature: a signature
// made for another purpose (git commits, files, decisions) never verifies
// as one.
const Namespace = "nhi-evidence"

// The signing types and functions bundles use, from package sshsig.
type (
	PublicKey  = sshsig.PublicKey
	SigningKey = sshsig.SigningKey
)

// ErrEncryptedKey is returned for a passphrase-protected key without its
// passphrase.
var ErrEncryptedKey = sshsig.ErrEncryptedKey

// LoadSigningKey reads an OpenSSH (or PEM) private key file.
func LoadSigningKey(path string, passphrase []byte) (*SigningKey, error) {
	return sshsig.LoadSigningKey(path, passphrase)
}

// VerifySignature checks an armored SSH signature of message in namespace
// and returns the key that made it.
func VerifySignature(armored, message []byte, namespace string) (*PublicKey, error) {
	return sshsig.VerifySignature(armored, message, namespace)
}

// ValidSigner reports whether name can be the principal of a signature.
func ValidSigner(name string) bool { return sshsig.ValidSigner(name) }

// AllowedSignersLine is the allowed_signers line that accepts key for
// principal in the nhi-evidence namespace.
func AllowedSignersLine(principal, authorized string) string {
	return sshsig.AllowedSignersLine(principal, Namespace, authorized)
}

// CheckAllowedSigners reports whether an allowed_signers file lets
// principal sign bundles with key.
func CheckAllowedSigners(data []byte, principal string, key *PublicKey) error {
	return sshsig.CheckAllowedSigners(data, principal, Namespace, key)
}
