package x509

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// On a machine with no CA bundle (a minimal container), Go's trust store
// is empty and says no error: every certificate would read untrusted and
// long-lived would never fire. Whether each is publicly trusted is then
// not known: trusted is "unknown" with trust_unknown, so finding:none does
// not match it, and the snapshot's reach says what could not be judged.
// The store is read once per process, so the test runs itself again with
// the environment that names an empty bundle.
func TestNoTrustStoreIsNotUntrusted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE and SSL_CERT_DIR name the trust store on Linux; other systems ask the platform")
	}
	if os.Getenv("NHI_X509_NO_ROOTS") == "" {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoTrustStoreIsNotUntrusted$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NHI_X509_NO_ROOTS=1", "SSL_CERT_FILE="+filepath.Join(dir, "none.pem"), "SSL_CERT_DIR="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("with no trust store: %v\n%s", err, out)
		}
		return
	}
	dir := t.TempDir()
	root := gen(t, spec{cn: "Acme Test Root", ca: true, from: -day, to: 3650 * day}, nil)
	leaf := gen(t, spec{cn: "www.acme.test", dns: []string{"www.acme.test"}, from: -10 * day, to: 500 * day}, &root)
	write(t, filepath.Join(dir, "www.pem"), leaf.pem(), root.pem())
	st, _ := open(t)
	c, snap, ids := run(t, st, Options{Account: "web", Paths: []string{dir}})
	id, ok := ids[certID("web", leaf)]
	if !ok {
		t.Fatalf("the certificate was not recorded: %v", ids)
	}
	if id.Attributes[audit.CertTrusted] != "unknown" || id.Attributes[audit.AttrTrustUnknown] != "true" {
		t.Errorf("trusted %q, trust_unknown %q; want unknown, true", id.Attributes[audit.CertTrusted], id.Attributes[audit.AttrTrustUnknown])
	}
	if !c.Summary().NoRoots {
		t.Error("the summary does not say the machine has no trusted roots")
	}
	if snap.Reach == nil || !slices.Contains(snap.Reach.CannotSee, NoRootsNote) {
		t.Errorf("the snapshot's reach does not say so: %+v", snap.Reach)
	}
}
