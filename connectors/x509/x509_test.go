package x509

import (
	"bytes"
	"context"
	"crypto/tls"
	stdx509 "crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

func open(t *testing.T) (*audit.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// run snapshots opts and returns the snapshot and the identities by ID.
func run(t *testing.T, st *audit.Store, opts Options) (*Connector, *audit.Snapshot, map[string]audit.Identity) {
	t.Helper()
	c, err := NewConnector(opts)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := connectors.Snapshot(context.Background(), st, c, "test")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]audit.Identity{}
	for _, id := range ids {
		if id.SnapshotID == snap.ID {
			m[id.ID] = id
		}
	}
	return c, snap, m
}

func certID(account string, i issued) string {
	return audit.IdentityID(Source, account, audit.KindX509Certificate, i.fingerprint())
}

func rules(id audit.Identity) string { return audit.RuleNames(id.Findings) }

// Files: chains and bundles give their leaves, one certificate found twice
// is one identity with both locations, DER reads like PEM, private keys are
// skipped unread, anything else is skipped and counted.
func TestFiles(t *testing.T) {
	const canary = "CANARY-PRIVATE-KEY-7d1e9a"
	dir := t.TempDir()
	root := gen(t, spec{cn: "Acme Test Root", ca: true, from: -day, to: 3650 * day}, nil)
	inter := gen(t, spec{cn: "Acme Test Issuing CA", ca: true, from: -day, to: 1800 * day}, &root)
	api := gen(t, spec{cn: "api.acme.test", dns: []string{"api.acme.test"}, from: -10 * day, to: 80 * day}, &inter)
	wild := gen(t, spec{cn: "*.acme.test", dns: []string{"*.acme.test", "acme.test"}, from: -30 * day, to: 470 * day}, &inter)
	expired := gen(t, spec{cn: "old.acme.test", dns: []string{"old.acme.test"}, from: -400 * day, to: -5 * day}, &inter)
	expiring := gen(t, spec{cn: "soon.acme.test", dns: []string{"soon.acme.test"}, from: -80 * day, to: 5 * day}, &inter)
	weak := gen(t, spec{cn: "legacy.acme.test", rsaBits: 1024, sha1: true, from: -day, to: 300 * day}, nil)

	// A chain with its key: a private key in the same file, whose body is
	// not even base64, proves it is never decoded.
	fakeKey := []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n" + canary + "!!not base64!!\n-----END RSA PRIVATE KEY-----\n")
	write(t, filepath.Join(dir, "api", "fullchain.pem"), fakeKey, api.pem(), inter.pem(), root.pem(), keyPEM(t, api.key))
	write(t, filepath.Join(dir, "api", "cert.der"), api.cert.Raw) // the same leaf again, as DER
	write(t, filepath.Join(dir, "bundle.crt"), wild.pem(), []byte("\n# comment\n"), expired.pem(), expiring.pem(), inter.pem())
	write(t, filepath.Join(dir, "legacy", "legacy.pem"), weak.pem())
	write(t, filepath.Join(dir, "legacy", "legacy.key"), keyPEM(t, weak.key))
	write(t, filepath.Join(dir, "README.md"), []byte("# not a certificate\n"))
	write(t, filepath.Join(dir, "empty.pem"), nil)

	roots := stdx509.NewCertPool()
	roots.AddCert(root.cert) // stands for the public Web PKI
	st, path := open(t)
	c, snap, ids := run(t, st, Options{Account: "hosts", Paths: []string{dir}, Roots: roots})

	if snap.Status != audit.SnapshotComplete || snap.Total() != 5 {
		t.Fatalf("snapshot %s with %d identities; want complete with 5 (api, wild, expired, expiring, legacy)", snap.Status, snap.Total())
	}
	if s := c.Summary(); s.Skipped != 3 || s.CertFiles != 4 || s.PrivateKeys != 2 {
		t.Errorf("summary %+v; want 3 skipped (README.md, empty.pem, legacy.key), 4 certificate files, 2 private keys passed over", s)
	}

	a := ids[certID("hosts", api)]
	files := filepath.Join(dir, "api", "cert.der") + ", " + filepath.Join(dir, "api", "fullchain.pem")
	if a.Name != "api.acme.test" || a.Attributes[audit.CertFiles] != files || a.Attributes[audit.CertSANs] != "api.acme.test" ||
		a.Attributes[audit.CertTrusted] != "true" || a.Attributes[audit.CertIsCA] != "false" || a.Attributes[audit.CertKeyType] != "ECDSA" ||
		a.Attributes[audit.CertKeyBits] != "256" || a.Attributes["issuer"] != "CN=Acme Test Issuing CA,O=Acme Test" ||
		!a.CreatedAt.Equal(api.cert.NotBefore.UTC()) || !a.ExpiresAt.Equal(api.cert.NotAfter.UTC()) || rules(a) != "orphaned" {
		t.Errorf("api certificate: %+v, findings %s", a, rules(a))
	}
	for _, c := range []struct {
		cert issued
		want string
	}{
		{wild, "orphaned,long-lived,wildcard"},
		{expired, "expired,orphaned"},
		{expiring, "orphaned,expiring"},
		{weak, "orphaned,weak-key"}, // self-signed, but in a file: no TLS endpoint presents it
	} {
		id, ok := ids[certID("hosts", c.cert)]
		if !ok {
			t.Errorf("%s: not recorded", c.cert.cert.Subject.CommonName)
			continue
		}
		if got := rules(id); got != c.want {
			t.Errorf("%s: findings %s; want %s", id.Name, got, c.want)
		}
	}
	w := ids[certID("hosts", weak)]
	var msgs []string
	for _, f := range w.Findings {
		msgs = append(msgs, f.Rule+" "+f.OWASP+": "+f.Message)
	}
	if !strings.Contains(strings.Join(msgs, "\n"), "weak-key NHI4: RSA key of 1024 bits (at least 2048); signed with SHA1-RSA, which collisions break") ||
		w.Attributes[audit.CertSelfSigned] != "true" {
		t.Errorf("weak certificate: %s; %v", msgs, w.Attributes)
	}
	for _, f := range ids[certID("hosts", wild)].Findings {
		if f.Rule == audit.RuleLongLived && !strings.Contains(f.Message, "valid for 500 days") {
			t.Errorf("long-lived: %s", f.Message)
		}
	}

	// Nothing of a private key reaches the evidence file.
	real := keyPEM(t, api.key)
	body := bytes.Split(real, []byte("\n"))[1]
	st.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(canary)) || bytes.Contains(b, body) {
			t.Errorf("private key material in %s", f)
		}
	}
}

// tlsServer serves cert on loopback for SNI name, other for anything else.
func tlsServer(t *testing.T, name string, cert, other issued, chain ...issued) string {
	t.Helper()
	pair := func(i issued, chain ...issued) *tls.Certificate {
		c := &tls.Certificate{Certificate: [][]byte{i.cert.Raw}, PrivateKey: i.key, Leaf: i.cert}
		for _, x := range chain {
			c.Certificate = append(c.Certificate, x.cert.Raw)
		}
		return c
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if h.ServerName == name {
			return pair(cert, chain...), nil
		}
		return pair(other), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				conn.(*tls.Conn).Handshake()
				conn.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TLS endpoints: the certificate presented for the name asked (SNI), a
// self-signed one flagged, the same certificate at two endpoints one
// identity, and an endpoint that cannot be reached a gap naming it.
func TestTLSEndpoints(t *testing.T) {
	root := gen(t, spec{cn: "Acme Test Root", ca: true, from: -day, to: 3650 * day}, nil)
	site := gen(t, spec{cn: "localhost", dns: []string{"localhost"}, from: -day, to: 90 * day}, &root)
	fallback := gen(t, spec{cn: "default.invalid", from: -day, to: 90 * day}, &root)
	self := gen(t, spec{cn: "intranet", dns: []string{"localhost"}, from: -day, to: 700 * day}, nil)

	_, port, _ := net.SplitHostPort(tlsServer(t, "localhost", site, fallback, root))
	_, port2, _ := net.SplitHostPort(tlsServer(t, "localhost", site, fallback))
	selfAddr := tlsServer(t, "never.asked", fallback, self) // no SNI is sent to an IP: the default
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := closed.Addr().String()
	closed.Close()

	// A server that accepts the connection and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	roots := stdx509.NewCertPool()
	roots.AddCert(root.cert)
	st, _ := open(t)
	ep1, ep2 := "localhost:"+port, "localhost:"+port2
	// The endpoints that answer have the default time (10 s) for their
	// handshakes: a loaded machine is not a server that never answers.
	_, snap, ids := run(t, st, Options{Account: "edge", TLS: []string{ep1, ep2, selfAddr, dead}, Roots: roots})

	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 1 || snap.Gaps[0].Endpoint != "tls://"+dead ||
		!strings.Contains(snap.Gaps[0].Reason, "cannot reach it for a TLS handshake") {
		t.Fatalf("snapshot %s, gaps %+v; want partial naming tls://%s", snap.Status, snap.Gaps, dead)
	}
	// The one that never answers is waited for as long as asked, alone
	// (in a file of its own): only it decides what the 300 ms say.
	silentStore, _ := open(t)
	_, silentSnap, _ := run(t, silentStore, Options{Account: "edge", TLS: []string{silent.Addr().String()}, Timeout: 300 * time.Millisecond})
	if len(silentSnap.Gaps) != 1 {
		t.Fatalf("a server that never answers: gaps %+v; want one", silentSnap.Gaps)
	}
	if g := silentSnap.Gaps[0]; g.Endpoint != "tls://"+silent.Addr().String() || !strings.Contains(g.Reason, "(no TLS answer within 300ms)") {
		t.Errorf("a server that never answers: %+v; want how long nhi waited, not %q", g, "context deadline exceeded")
	}
	if len(ids) != 2 {
		t.Fatalf("%d identities; want the site's (SNI localhost, at two endpoints) and the self-signed one", len(ids))
	}
	s := ids[certID("edge", site)]
	if s.Attributes[audit.CertTLSEndpoints] != strings.Join(sorted(ep1, ep2), ", ") || s.Attributes[audit.CertTrusted] != "true" ||
		s.Scope != sorted(ep1, ep2)[0] || rules(s) != "orphaned" {
		t.Errorf("site certificate: %+v, findings %s", s, rules(s))
	}
	x := ids[certID("edge", self)]
	if rules(x) != "orphaned,self-signed" || x.Attributes[audit.CertTrusted] != "false" {
		t.Errorf("self-signed endpoint: findings %s, %v", rules(x), x.Attributes)
	}
	for _, f := range x.Findings {
		if f.Rule == audit.RuleSelfSigned && (f.OWASP != "NHI4" || !strings.Contains(f.Message, "presented by "+selfAddr)) {
			t.Errorf("self-signed finding: %+v", f)
		}
	}

	// The next scan, which does not ask the self-signed endpoint, did not
	// look there: its certificate is not checked, not removed.
	_, snap2, _ := run(t, st, Options{Account: "edge", TLS: []string{ep1}, Roots: roots})
	all, _ := st.Identities(context.Background())
	for _, id := range all {
		want := audit.StatusActive
		if id.ID == certID("edge", self) {
			want = audit.StatusNotChecked
			if !strings.Contains(id.StatusReason, selfAddr) {
				t.Errorf("not-checked reason %q does not name %s", id.StatusReason, selfAddr)
			}
		}
		if id.Status != want {
			t.Errorf("after snapshot %d: %s is %s; want %s", snap2.ID, id.Name, id.Status, want)
		}
	}
}

// A certificate file deleted from a directory read in full is removed,
// however --path names the directory: with a trailing slash, as ./certs
// from the folder that holds it, or as . from inside it.
func TestDeletedFileIsRemoved(t *testing.T) {
	for _, named := range []string{"as is", "with a slash", "relative", "dot"} {
		t.Run(named, func(t *testing.T) {
			dir := t.TempDir()
			a := gen(t, spec{cn: "a.acme.test", from: -day, to: 30 * day}, nil)
			b := gen(t, spec{cn: "b.acme.test", from: -day, to: 30 * day}, nil)
			c := gen(t, spec{cn: "c.acme.test", from: -day, to: 30 * day}, nil)
			write(t, filepath.Join(dir, "certs", "a.pem"), a.pem())
			write(t, filepath.Join(dir, "certs", "old", "b.pem"), b.pem())
			write(t, filepath.Join(dir, "certs", "c.pem"), c.pem())
			path := filepath.Join(dir, "certs")
			switch named {
			case "with a slash":
				path += string(filepath.Separator)
			case "relative":
				t.Chdir(dir)
				path = "./certs/"
			case "dot":
				t.Chdir(path)
				path = "."
			}
			st, _ := open(t)
			run(t, st, Options{Account: "files", Paths: []string{path}})
			remove(t, filepath.Join(dir, "certs", "old"), filepath.Join(dir, "certs", "c.pem"))
			snap, status := rerun(t, st, path)
			if snap.Status != audit.SnapshotComplete || status["a.acme.test"] != audit.StatusActive || status["b.acme.test"] != audit.StatusRemoved || status["c.acme.test"] != audit.StatusRemoved {
				t.Errorf("--path %s, after deleting old/b.pem and c.pem: snapshot %s, statuses %v", path, snap.Status, status)
			}
		})
	}
}

// TestUnreachableOnlyRemovesNothing: a run of the same account whose only
// place, a TLS endpoint, could not be reached looked nowhere: the
// certificate an earlier run found in a file is not-checked, never
// removed (it was removed: a snapshot that recorded no place read was
// judged by its status, partial, as having looked everywhere but its gap).
func TestUnreachableOnlyRemovesNothing(t *testing.T) {
	dir := t.TempDir()
	a := gen(t, spec{cn: "a.acme.test", from: -day, to: 30 * day}, nil)
	write(t, filepath.Join(dir, "certs", "a.pem"), a.pem())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := closed.Addr().String()
	closed.Close()
	st, _ := open(t)
	run(t, st, Options{Account: "files", Paths: []string{filepath.Join(dir, "certs")}})
	_, snap, _ := run(t, st, Options{Account: "files", TLS: []string{dead}})
	if snap.Status != audit.SnapshotPartial {
		t.Fatalf("a run whose only endpoint is unreachable: %s", snap.Status)
	}
	all, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Status != audit.StatusNotChecked || !strings.Contains(all[0].StatusReason, fmt.Sprint("snapshot ", snap.ID)) {
		t.Errorf("the certificate of the file the second run did not read: %+v", all)
	}
	if res, err := st.Verify(context.Background()); err != nil || !res.OK() {
		t.Errorf("nhi verify: %+v %v", res, err)
	}
}

// A file not read in full deep below --path leaves every folder above it
// not read in full: a certificate under that branch that is gone (or
// unreadable) is not-checked, never removed, while one deleted from a
// sibling folder read in full is removed; however --path names the
// folder: as ./certs/, absolutely, or as . from inside it.
func TestFailureBelowClaimsNoRemovalAbove(t *testing.T) {
	for _, named := range []string{"relative", "absolute", "dot"} {
		t.Run(named, func(t *testing.T) {
			dir := t.TempDir()
			deep := gen(t, spec{cn: "deep.acme.test", from: -day, to: 30 * day}, nil)
			beside := gen(t, spec{cn: "beside.acme.test", from: -day, to: 30 * day}, nil)
			up := gen(t, spec{cn: "up.acme.test", from: -day, to: 30 * day}, nil)
			sibling := gen(t, spec{cn: "sibling.acme.test", from: -day, to: 30 * day}, nil)
			certs := filepath.Join(dir, "certs")
			write(t, filepath.Join(certs, "a", "b", "c", "deep.pem"), deep.pem())
			write(t, filepath.Join(certs, "a", "b", "c", "beside.pem"), beside.pem())
			write(t, filepath.Join(certs, "a", "up.pem"), up.pem())
			write(t, filepath.Join(certs, "s", "sibling.pem"), sibling.pem())
			path := certs
			switch named {
			case "relative":
				t.Chdir(dir)
				path = "./certs/"
			case "dot":
				t.Chdir(certs)
				path = "."
			}
			st, _ := open(t)
			run(t, st, Options{Account: "files", Paths: []string{path}})

			// deep.pem is cut short; beside.pem in its folder and
			// up.pem two folders above are deleted, as is sibling.pem.
			write(t, filepath.Join(certs, "a", "b", "c", "deep.pem"), deep.pem()[:200])
			remove(t, filepath.Join(certs, "a", "b", "c", "beside.pem"), filepath.Join(certs, "a", "up.pem"), filepath.Join(certs, "s", "sibling.pem"))
			snap, status := rerun(t, st, path)
			want := map[string]string{
				"deep.acme.test":    audit.StatusNotChecked,
				"beside.acme.test":  audit.StatusNotChecked,
				"up.acme.test":      audit.StatusNotChecked,
				"sibling.acme.test": audit.StatusRemoved,
			}
			if snap.Status != audit.SnapshotPartial || !reflect.DeepEqual(status, want) {
				t.Errorf("--path %s, after cutting a/b/c/deep.pem short and deleting a/b/c/beside.pem, a/up.pem and s/sibling.pem: snapshot %s, statuses %v; want partial, %v", path, snap.Status, status, want)
			}
		})
	}
}

// remove deletes each path, a file or a folder with all below it.
func remove(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
}

// rerun snapshots path again (account files) and returns the snapshot
// and every identity's status, by name.
func rerun(t *testing.T, st *audit.Store, path string) (*audit.Snapshot, map[string]string) {
	t.Helper()
	_, snap, _ := run(t, st, Options{Account: "files", Paths: []string{path}})
	all, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, id := range all {
		status[id.Name] = id.Status
	}
	return snap, status
}

func sorted(a, b string) []string {
	if a > b {
		return []string{b, a}
	}
	return []string{a, b}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{}, {TLS: []string{"no-port"}}, {Paths: []string{"."}, Account: "a:b"}} {
		if _, err := NewConnector(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	// A --path that is not there is refused before anything is read,
	// named, with what to do; so is a link to nothing.
	dir := t.TempDir()
	missing, dangling := filepath.Join(dir, "missing"), filepath.Join(dir, "link")
	if err := os.Symlink(missing, dangling); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		missing:  "--path " + missing + " does not exist: check it, or leave it out; nothing was read",
		dangling: "--path " + dangling + " is a symbolic link to nothing: check it",
	} {
		if _, err := NewConnector(Options{Paths: []string{dir, path}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--path %s: %v; want %q", path, err, want)
		}
	}
}

// Certificates behind symbolic links are read where a server would open
// them: Let's Encrypt's live/NAME/cert.pem links into archive/, a --path
// may itself be a link to a directory, a link back up the tree is read
// once, and a link to nothing is skipped and named.
func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	old := gen(t, spec{cn: "le.acme.test", from: -60 * day, to: 30 * day}, nil)
	renewed := gen(t, spec{cn: "le.acme.test", from: -day, to: 89 * day}, nil)
	write(t, filepath.Join(dir, "letsencrypt", "archive", "le.acme.test", "cert1.pem"), old.pem())
	write(t, filepath.Join(dir, "letsencrypt", "archive", "le.acme.test", "cert2.pem"), renewed.pem())
	live := filepath.Join(dir, "letsencrypt", "live", "le.acme.test")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(live, 0o700))
	must(os.Symlink("../../archive/le.acme.test/cert1.pem", filepath.Join(live, "cert.pem")))
	must(os.Symlink("..", filepath.Join(live, "up")))                 // a loop
	must(os.Symlink("missing.pem", filepath.Join(live, "chain.pem"))) // a link to nothing
	linked := filepath.Join(dir, "certs")
	must(os.Symlink(filepath.Join(dir, "letsencrypt", "live"), linked))

	st, _ := open(t)
	for _, path := range []string{filepath.Join(dir, "letsencrypt", "live"), linked} {
		c, snap, ids := run(t, st, Options{Account: "le", Paths: []string{path}})
		id, ok := ids[certID("le", old)]
		if !ok || snap.Status != audit.SnapshotComplete || len(ids) != 1 {
			t.Fatalf("--path %s: %s, %d identities; want the certificate cert.pem links to", path, snap.Status, len(ids))
		}
		if files := id.Attributes[audit.CertFiles]; !strings.Contains(files, filepath.Join("le.acme.test", "cert.pem")) {
			t.Errorf("--path %s: files %q; want the link's path, where the server reads it", path, files)
		}
		if s := c.Summary(); s.Skipped != 1 || !strings.HasSuffix(s.SkippedFirst[0], "chain.pem") {
			t.Errorf("--path %s: skipped %d %v; want the link to nothing named", path, s.Skipped, s.SkippedFirst)
		}
	}

	// Renewal points the link at the next certificate: the old one is
	// removed from the place that was read in full, the new one active.
	must(os.Remove(filepath.Join(live, "cert.pem")))
	must(os.Symlink("../../archive/le.acme.test/cert2.pem", filepath.Join(live, "cert.pem")))
	run(t, st, Options{Account: "le", Paths: []string{linked}})
	all, _ := st.Identities(context.Background())
	status := map[string]string{}
	for _, id := range all {
		status[id.ID] = id.Status
	}
	if status[certID("le", old)] != audit.StatusRemoved || status[certID("le", renewed)] != audit.StatusActive {
		t.Errorf("after renewal: old %q, renewed %q; want removed, active", status[certID("le", old)], status[certID("le", renewed)])
	}
}

// A CERTIFICATE block that does not parse (a copy cut short, a
// certificate crypto/x509 refuses) leaves its file not read in full: a
// gap naming the file and the line, the file's other certificates read,
// and what it held before not-checked, never removed.
func TestUnparsedBlockIsAGap(t *testing.T) {
	dir := t.TempDir()
	a := gen(t, spec{cn: "a.acme.test", from: -day, to: 30 * day}, nil)
	b := gen(t, spec{cn: "b.acme.test", from: -day, to: 30 * day}, nil)
	c := gen(t, spec{cn: "c.acme.test", from: -day, to: 30 * day}, nil)
	write(t, filepath.Join(dir, "bundle.pem"), a.pem(), b.pem())
	write(t, filepath.Join(dir, "c.pem"), c.pem())
	st, _ := open(t)
	run(t, st, Options{Account: "files", Paths: []string{dir}})

	// b's block loses lines from its middle; c.pem is cut short.
	lines := strings.Split(string(b.pem()), "\n")
	broken := strings.Join(append(lines[:2:2], lines[5:]...), "\n")
	write(t, filepath.Join(dir, "bundle.pem"), a.pem(), []byte(broken))
	write(t, filepath.Join(dir, "c.pem"), c.pem()[:200])
	_, snap, ids := run(t, st, Options{Account: "files", Paths: []string{dir}})
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 2 {
		t.Fatalf("snapshot %s, gaps %+v; want partial with a gap for each file", snap.Status, snap.Gaps)
	}
	for i, want := range []string{"bundle.pem", "c.pem"} {
		g := snap.Gaps[i]
		if g.Endpoint != "file:"+filepath.Join(dir, want) || !strings.Contains(g.Reason, "line ") {
			t.Errorf("gap %d: %+v; want file:%s and the line", i, g, want)
		}
	}
	if !strings.Contains(snap.Gaps[1].Reason, "cut short") {
		t.Errorf("c.pem: %q; want it said to be cut short", snap.Gaps[1].Reason)
	}
	if _, ok := ids[certID("files", a)]; !ok {
		t.Errorf("a, whole beside the broken block, not read: %v", ids)
	}
	all, _ := st.Identities(context.Background())
	for _, id := range all {
		if want := map[string]string{"a.acme.test": audit.StatusActive}[id.Name]; want == "" && id.Status != audit.StatusNotChecked {
			t.Errorf("%s is %s; want not-checked (its file was not read in full)", id.Name, id.Status)
		}
	}
}

// TestNotYetValid: a TLS endpoint that serves a certificate whose
// not-before is still ahead is flagged (its clients refuse it until
// then); the same in a file, issued ahead of a rotation, is not.
func TestNotYetValid(t *testing.T) {
	root := gen(t, spec{cn: "Acme Test Root", ca: true, from: -day, to: 3650 * day}, nil)
	early := gen(t, spec{cn: "localhost", dns: []string{"localhost"}, from: 3 * day, to: 90 * day}, &root)
	next := gen(t, spec{cn: "next.acme.test", dns: []string{"next.acme.test"}, from: 3 * day, to: 90 * day}, &root)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "next.pem"), next.pem())
	_, port, _ := net.SplitHostPort(tlsServer(t, "localhost", early, early, root))
	roots := stdx509.NewCertPool()
	roots.AddCert(root.cert)
	st, _ := open(t)
	ep := "localhost:" + port
	_, _, ids := run(t, st, Options{Account: "edge", TLS: []string{ep}, Paths: []string{dir}, Roots: roots})

	served := ids[certID("edge", early)]
	if rules(served) != "not-yet-valid,orphaned" {
		t.Errorf("a certificate served before its not-before: findings %s", rules(served))
	}
	for _, f := range served.Findings {
		want := "presented by " + ep + " but not valid until " + early.cert.NotBefore.UTC().Format("2006-01-02 15:04 UTC") + ", 3 days after it was read: clients refuse it until then"
		if f.Rule == audit.RuleNotYetValid && (f.Severity != "high" || f.Message != want) {
			t.Errorf("not-yet-valid finding: %+v\nwant message %q", f, want)
		}
	}
	if got := rules(ids[certID("edge", next)]); got != "orphaned" {
		t.Errorf("a certificate in a file, valid from next week: findings %s; want orphaned only", got)
	}
}

// The names the walk gives below --path / are those whose folders
// audit.Coverage finds (its TestRootFolderCoversBelow judges them): /etc
// and /a.pem, never //etc, in the folder /; and a failure goes up to /,
// which is then not claimed read in full.
func TestRootNames(t *testing.T) {
	if got := below("/", "etc"); got != "/etc" {
		t.Errorf("below(/, etc) = %q, want /etc", got)
	}
	if got := below(below("/", "etc"), "a.pem"); got != "/etc/a.pem" {
		t.Errorf("below(/etc, a.pem) = %q, want /etc/a.pem", got)
	}
	w := &walk{failedIn: map[string]bool{}}
	w.failed("/etc/ssl/a.pem")
	for _, p := range []string{"/etc/ssl/a.pem", "/etc/ssl", "/etc", "/"} {
		if !w.failedIn[p] {
			t.Errorf("a failure at /etc/ssl/a.pem leaves %s claimed", p)
		}
	}
	if len(w.failedIn) != 4 {
		t.Errorf("failed above: %v", w.failedIn)
	}
}
