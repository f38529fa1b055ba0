package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nhi snapshot x509 with the real binary: a certificate file, a real TLS
// server on loopback, an unreachable endpoint (a gap, so partial), and a
// file that is not a certificate (skipped, counted, named).
func TestSnapshotX509EndToEnd(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "*.files.test"}, DNSNames: []string{"*.files.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(-time.Minute)} // expired a minute ago
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "certs")
	os.MkdirAll(certs, 0o700)
	os.WriteFile(filepath.Join(certs, "site.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(certs, "notes.txt"), []byte("renew in March\n"), 0o600)

	srv := httptest.NewTLSServer(nil) // a real TLS server; its certificate is self-signed
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	db := filepath.Join(dir, "nhi.db")
	r := nhi(t, nil, "snapshot", "x509", "--path", certs, "--tls", srv.Listener.Addr().String(), "--tls", dead, "--account", "edge", "--db", db)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"of x509/edge: partial, 2 identities",
		"Not read (1 endpoint; the snapshot is partial):",
		"tls://" + dead + ": cannot reach it for a TLS handshake",
		"Files: 2 read, 1 with certificates, 1 skipped (no certificate): " + filepath.Join(certs, "notes.txt"),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = nhi(t, nil, "identities", "--filter", "source:x509", "--db", db)
	if !strings.Contains(r.stdout, "expired") || !strings.Contains(r.stdout, "wildcard") || !strings.Contains(r.stdout, "self-signed") {
		t.Errorf("identities:\n%s%s", r.stdout, r.stderr)
	}
	// A directory holding no certificate says so, not only "0 identities".
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o700)
	os.WriteFile(filepath.Join(empty, "site.key"), []byte("not opened"), 0o600)
	r = nhi(t, nil, "snapshot", "x509", "--path", empty, "--account", "none", "--db", db)
	if want := "Files: 0 read, 0 with certificates, 1 skipped (no certificate): " + filepath.Join(empty, "site.key"); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("a directory without certificates: exit %d; output lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if r = nhi(t, nil, "snapshot", "x509", "--db", db); r.code != 2 || !strings.Contains(r.stderr, "say where to look") {
		t.Errorf("no --path or --tls: %d %s", r.code, r.stderr)
	}
}

// --path on the folder that holds the evidence file passes over nhi's own
// files (the file, its -wal, -shm and -beat-* companions) without a word:
// they are not skipped certificates.
func TestSnapshotX509PassesOverItsOwnFiles(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "own.test"}, DNSNames: []string{"own.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "nhi.db")
	for run := 1; run <= 2; run++ { // the second finds the file nhi wrote
		r := nhi(t, nil, "snapshot", "x509", "--path", dir, "--db", db)
		if r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s%s", run, r.code, r.stdout, r.stderr)
		}
		if want := "Files: 1 read, 1 with certificates, 0 skipped (no certificate)\n"; !strings.Contains(r.stdout, want) {
			t.Errorf("run %d: output lacks %q:\n%s", run, want, r.stdout)
		}
	}
}

// TestSnapshotX509MissingPath: a --path that does not exist (a typo) is
// refused before the evidence file is opened, naming it, where it was
// recorded as a partial snapshot with one gap.
func TestSnapshotX509MissingPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, missing := filepath.Join(dir, "nhi.db"), filepath.Join(dir, "certz")
	r := nhi(t, nil, "snapshot", "x509", "--path", missing, "--db", db)
	if want := "--path " + missing + " does not exist: check it, or leave it out; nothing was read"; r.code != 2 || !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Errorf("a missing --path: exit %d\n%s%s\nwant %q", r.code, r.stdout, r.stderr, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a missing --path created %s (%v)", db, err)
	}
}
