// Package k8stest runs a real Kubernetes control plane on loopback for the
// connector's tests (etcd, kube-apiserver and kube-controller-manager, the
// last two built from tools/k8s), and holds the sample cluster that tests
// and `nhi demo` read, live or as a recorded world (recorded.go).
package k8stest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Version is the Kubernetes release tools/k8s builds.
const Version = "v1.37.2"

// BuildCommand is the one command that builds the servers the tests need.
const BuildCommand = "tools/k8s/build.sh"

// StampFile, beside the binaries, records the linker flags that stamped
// the release into them (tools/k8s/build.sh).
const StampFile = "version.stamp"

// ToolsDir is where tools/k8s/build.sh puts kube-apiserver and
// kube-controller-manager: outside the repository, in the user's cache.
func ToolsDir() (string, error) {
	if d := os.Getenv("NHI_K8S_TOOLS"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "nhi-tools", "k8s-"+Version), nil
}

// Binaries returns the paths of etcd, kube-apiserver and
// kube-controller-manager, or an error naming what is missing and the one
// command that installs it.
func Binaries() (etcd, apiserver, controllerManager string, err error) {
	dir, err := ToolsDir()
	if err != nil {
		return "", "", "", err
	}
	apiserver = filepath.Join(dir, "kube-apiserver")
	controllerManager = filepath.Join(dir, "kube-controller-manager")
	var missing []string
	for _, p := range []string{apiserver, controllerManager} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	// build.sh stamps the release into the binaries and records it beside
	// them: binaries from before it did report v0.0.0-master.
	if len(missing) == 0 {
		if b, err := os.ReadFile(filepath.Join(dir, StampFile)); err != nil || !strings.Contains(string(b), ".gitVersion="+Version+" ") {
			missing = append(missing, filepath.Join(dir, StampFile)+" (the binaries are not stamped with "+Version+"; "+BuildCommand+" relinks them)")
		}
	}
	etcd, lerr := exec.LookPath("etcd")
	if lerr != nil {
		missing = append(missing, "etcd (Debian package etcd-server)")
	}
	if len(missing) > 0 {
		return "", "", "", fmt.Errorf("the Kubernetes test servers are not installed (missing: %s); run %s once (it builds %s from the Go module proxy into %s, about 9 minutes cold on 2 cores, and installs etcd-server), or run .ci/run, which does it",
			strings.Join(missing, ", "), BuildCommand, Version, dir)
	}
	return etcd, apiserver, controllerManager, nil
}

// Cluster is a running control plane on loopback.
type Cluster struct {
	Host   string // https://127.0.0.1:PORT
	CA     []byte // PEM of the serving certificate's CA
	Dir    string // its files: certificates, tokens, logs
	Etcd   string // etcd's client URL, http://127.0.0.1:PORT
	tokens map[string]string
	procs  []*exec.Cmd
}

// Users of the static token file: an administrator, and an auditor whose
// permissions the tests grant (the connector's ClusterRole, or less).
const (
	Admin   = "nhi-admin"
	Auditor = "nhi-auditor"
)

// Config returns a client configuration for user (Admin or Auditor).
func (c *Cluster) Config(user string) *rest.Config {
	return &rest.Config{Host: c.Host, BearerToken: c.tokens[user], TLSClientConfig: rest.TLSClientConfig{CAData: c.CA}, QPS: 200, Burst: 400}
}

// Token returns user's static token, for kubeconfig files in tests.
func (c *Cluster) Token(user string) string { return c.tokens[user] }

// Stop ends the servers.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if p.Process != nil {
			_ = p.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = p.Process.Kill()
				<-done
			}
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs etcd, kube-apiserver and kube-controller-manager with their
// files in dir, and returns once the API server is ready. The servers
// listen on loopback only.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	etcdBin, apiBin, kcmBin, err := Binaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, tokens: map[string]string{Admin: randHex(), Auditor: randHex()}}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	if err := c.writeFiles(); err != nil {
		return nil, err
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.Etcd = etcdClient
	// Flags etcd 3.4 (Debian's etcd-server) and later both know.
	if err := c.run(ctx, "etcd", etcdBin,
		"--data-dir", filepath.Join(dir, "etcd"), "--listen-client-urls", etcdClient, "--advertise-client-urls", etcdClient,
		"--listen-peer-urls", etcdPeer, "--initial-advertise-peer-urls", etcdPeer, "--initial-cluster", "default="+etcdPeer,
		"--log-level", "error"); err != nil {
		return nil, err
	}
	c.Host = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	f := func(name string) string { return filepath.Join(dir, name) }
	if err := c.run(ctx, "kube-apiserver", apiBin,
		"--etcd-servers", etcdClient, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(ports[2]), "--tls-cert-file", f("serving.crt"), "--tls-private-key-file", f("serving.key"),
		"--cert-dir", f("certs"), "--token-auth-file", f("tokens.csv"), "--authorization-mode", "RBAC",
		"--service-account-key-file", f("sa.pub"), "--service-account-signing-key-file", f("sa.key"),
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-cluster-ip-range", "10.0.0.0/24", "--endpoint-reconciler-type", "none",
		"--disable-admission-plugins", "ServiceAccount", "--enable-priority-and-fairness=false",
		"--profiling=false", "--max-requests-inflight", "2000", "--max-mutating-requests-inflight", "1000",
		// Service accounts are listed from etcd, not the watch cache, so
		// a continue token expires when CompactEtcd compacts past it (the
		// cache learns of compactions only from the API server's own).
		"--watch-cache-sizes", "serviceaccounts#0"); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	// The controller manager's kubeconfig names the server, known only
	// now that its port is chosen.
	if err := os.WriteFile(f("admin.kubeconfig"), c.Kubeconfig("test", Admin), 0o600); err != nil {
		return nil, err
	}
	if err := c.run(ctx, "kube-controller-manager", kcmBin,
		"--kubeconfig", f("admin.kubeconfig"), "--leader-elect=false", "--secure-port", "0",
		"--controllers", "serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller",
		"--service-account-private-key-file", f("sa.key"), "--root-ca-file", f("ca.crt"),
		"--use-service-account-credentials=false"); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

func (c *Cluster) run(ctx context.Context, name, bin string, args ...string) error {
	log, err := os.Create(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CA)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(150 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens[Admin])
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	logTail, _ := os.ReadFile(filepath.Join(c.Dir, "kube-apiserver.log"))
	if len(logTail) > 2000 {
		logTail = logTail[len(logTail)-2000:]
	}
	return fmt.Errorf("kube-apiserver not ready after 150s (%s); its log ends:\n%s", last, logTail)
}

// CompactEtcd compacts etcd's history up to its current revision, through
// etcd's JSON gateway, as the API server's own compaction (every 5 minutes
// by default) does to what is older: a list's continue token from before
// then is answered 410 Gone, reason Expired.
func (c *Cluster) CompactEtcd(ctx context.Context) error {
	post := func(path, body string) (map[string]any, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Etcd+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("etcd %s: %s (%v)", path, resp.Status, err)
		}
		return out, nil
	}
	r, err := post("/v3/kv/range", `{"key":"AA=="}`)
	if err != nil {
		return err
	}
	header, _ := r["header"].(map[string]any)
	rev, _ := header["revision"].(string)
	if rev == "" {
		return fmt.Errorf("etcd /v3/kv/range: no revision in %v", r)
	}
	_, err = post("/v3/kv/compaction", `{"revision":"`+rev+`","physical":true}`)
	return err
}

func randHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// writeFiles writes the CA, the serving certificate for 127.0.0.1, the
// service-account signing key, the static token file and a kubeconfig for
// the controller manager.
func (c *Cluster) writeFiles() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nhi-test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	srvKeyDER, _ := x509.MarshalECPrivateKey(srvKey)
	saPub, _ := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	c.CA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	files := map[string][]byte{
		"ca.crt":      c.CA,
		"serving.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"serving.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"tokens.csv": []byte(fmt.Sprintf("%s,%s,%s-uid,\"system:masters\"\n%s,%s,%s-uid,\"nhi-auditors\"\n",
			c.tokens[Admin], Admin, Admin, c.tokens[Auditor], Auditor, Auditor)),
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "certs"), 0o700); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(c.Dir, "admin.kubeconfig"), c.Kubeconfig("test", Admin), 0o600)
}

// Kubeconfig returns a kubeconfig whose one context, named context, is
// user on this cluster.
func (c *Cluster) Kubeconfig(context, user string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority: %[3]s
users:
- name: %[4]s
  user:
    token: %[5]s
contexts:
- name: %[1]s
  context: {cluster: %[1]s, user: %[4]s}
current-context: %[1]s
`, context, c.Host, filepath.Join(c.Dir, "ca.crt"), user, c.tokens[user])
	return b.Bytes()
}

// ErrShort is the skip message under -short.
var ErrShort = errors.New("-short: the tests against a real kube-apiserver do not run (they start etcd, kube-apiserver and kube-controller-manager)")
