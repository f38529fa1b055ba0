package x509

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	stdx509 "crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// issued is a generated certificate with its key.
type issued struct {
	cert *stdx509.Certificate
	key  crypto.Signer
}

func (i issued) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.cert.Raw})
}

func (i issued) fingerprint() string {
	s := sha256.Sum256(i.cert.Raw)
	return hex.EncodeToString(s[:])
}

// spec says what to generate, relative to now so that no fixture expires.
type spec struct {
	cn       string
	dns      []string
	from, to time.Duration // validity, relative to now
	ca       bool
	rsaBits  int // 0: ECDSA P-256
	sha1     bool
}

var serials int64 = 100

// gen makes a certificate issued by parent (self-signed when parent is nil).
func gen(t *testing.T, s spec, parent *issued) issued {
	t.Helper()
	var key crypto.Signer
	var err error
	if s.rsaBits > 0 {
		key, err = rsa.GenerateKey(rand.Reader, s.rsaBits)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	serials++
	now := time.Now()
	tmpl := &stdx509.Certificate{
		SerialNumber: big.NewInt(serials), Subject: pkix.Name{CommonName: s.cn, Organization: []string{"Acme Test"}},
		DNSNames: s.dns, NotBefore: now.Add(s.from), NotAfter: now.Add(s.to),
		BasicConstraintsValid: true, IsCA: s.ca,
		KeyUsage:    stdx509.KeyUsageDigitalSignature,
		ExtKeyUsage: []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth},
	}
	if s.ca {
		tmpl.KeyUsage |= stdx509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	if s.sha1 {
		tmpl.SignatureAlgorithm = stdx509.SHA1WithRSA
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := stdx509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := stdx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issued{cert: cert, key: key}
}

func keyPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := stdx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func write(t *testing.T, path string, parts ...[]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

const day = 24 * time.Hour
