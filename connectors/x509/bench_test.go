package x509

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	stdx509 "crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// discard is a recorder that keeps nothing: the benchmarks measure the
// read, not the evidence file.
type discard struct{}

func (discard) Record(audit.Observation) error { return nil }
func (discard) Gap(audit.Gap) error            { return nil }
func (discard) Principal(audit.Principal) error {
	return nil
}
func (discard) Scope(audit.ScopeRead) error { return nil }
func (discard) Checkpoint(string) error     { return nil }
func (discard) Checkpointed(string) bool    { return false }

// certTree writes n certificates under a new folder, perDir to a folder
// (a folder each, as /etc/letsencrypt/live/NAME/ holds them, when 1);
// with broken, each file ends in a CERTIFICATE block that does not
// parse, so no folder is read in full.
func certTree(b *testing.B, n, perDir int, broken bool) string {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	now := time.Now()
	for i := range n {
		tmpl := &stdx509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("host%d.test", i)},
			DNSNames: []string{fmt.Sprintf("host%d.test", i)}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		}
		der, err := stdx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			b.Fatal(err)
		}
		dir := filepath.Join(root, fmt.Sprintf("d%d", i/perDir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if broken {
			data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})...)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.pem", i)), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkRead10k reads 10,000 certificates from files: all in one
// folder, each in a folder of its own, and each in a folder of its own
// beside a block that does not parse. The walk keeps the folders it read
// (a link back up the tree ends) and those not read in full (they are
// not recorded as read): 10,000 folders are as many lookups of each.
func BenchmarkRead10k(b *testing.B) {
	for _, bc := range []struct {
		name   string
		perDir int
		broken bool
	}{{"one-folder", 10000, false}, {"a-folder-each", 1, false}, {"a-folder-each-unparsed", 1, true}} {
		b.Run(bc.name, func(b *testing.B) {
			root := certTree(b, 10000, bc.perDir, bc.broken)
			var cpu time.Duration
			for b.Loop() {
				cpu0 := benchmem.CPUTime()
				c, err := NewConnector(Options{Paths: []string{root}, Roots: stdx509.NewCertPool()})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Run(context.Background(), discard{}); err != nil {
					b.Fatal(err)
				}
				cpu += benchmem.CPUTime() - cpu0
				if c.Summary().CertFiles != 10000 {
					b.Fatalf("%d certificate files read", c.Summary().CertFiles)
				}
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
