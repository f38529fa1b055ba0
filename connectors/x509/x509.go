// Package x509 reads certificates as non-human identities: from PEM and
// DER files (bundles and chains; private keys beside them are skipped
// unread) and from what TLS servers present. Each leaf certificate is one
// identity, x509:<account>:x509_certificate:<SHA-256 fingerprint>, with
// every place it was found. See docs/certificates.md.
package x509

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	stdx509 "crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Source is the source name of every certificate identity.
const Source = "x509"

// DefaultAccount names the set of places read when --account is not given.
const DefaultAccount = "default"

// Options say where to look.
type Options struct {
	Account string   // DefaultAccount when empty
	Paths   []string // files and directories (read recursively)
	TLS     []string // HOST:PORT endpoints; HOST is sent as SNI when it is a name
	// Roots decides which certificates are publicly trusted (long-lived
	// applies to those only); nil is this machine's trust store.
	Roots *stdx509.CertPool
	// Timeout bounds each TLS handshake (default 10 s).
	Timeout time.Duration
	// Now is the time that decides whether a chain verifies (default: the
	// clock); tests set it.
	Now func() time.Time
	// Own is the evidence file the run writes to (SetOwn): it and its
	// companions (-wal, -shm, -journal, -beat-*) are nhi's own files,
	// passed over without a word when a --path holds them.
	Own string
}

// Summary is what a run saw beyond the identities: the files it skipped.
type Summary struct {
	Files        int      // files read
	CertFiles    int      // files that held at least one certificate
	Skipped      int      // files that hold no certificate
	SkippedFirst []string // the first few of them, to name
	PrivateKeys  int      // private-key blocks skipped unread
	// NoRoots: Options.Roots was nil and this machine's trust store holds
	// no root certificate (no CA bundle, as in a minimal container), so
	// whether a certificate is publicly trusted is not known (trusted
	// "unknown", trust_unknown), never "false".
	NoRoots bool
}

// Connector reads certificates. It implements connectors.Connector.
type Connector struct {
	opts    Options
	summary Summary
	certs   map[string]*found // fingerprint -> certificate
	// For Reach: TLS handshakes tried and completed, and each place that
	// could not be read.
	handshakes, reached int
	notRead             []string
}

// Reach says what the run read (connectors.Reacher): files and TLS
// endpoints read, those it could not, the handshakes it tried, and what
// the connector cannot see.
func (c *Connector) Reach() audit.Reach {
	cannot := CannotSee
	if c.summary.NoRoots {
		cannot = append(slices.Clone(CannotSee), NoRootsNote)
	}
	return audit.Reach{Unit: "files and TLS endpoints", Read: c.summary.Files + c.reached, NotRead: slices.Clone(c.notRead),
		Requests: c.handshakes, NotCollected: NotCollected, CannotSee: cannot}
}

// NoRootsNote is what a run on a machine without trusted root
// certificates cannot see (Summary.NoRoots).
const NoRootsNote = "whether a certificate is publicly trusted: this machine has no trusted root certificates (no CA bundle; SSL_CERT_FILE or SSL_CERT_DIR name one), so trusted is unknown and long-lived is not evaluated"

// NotCollected are the places certificates live that this connector does
// not read; CannotSee what reading certificates cannot tell. Each
// snapshot records them, and the evidence report lists them.
var (
	NotCollected = []string{
		"certificates outside the files and endpoints given: operating-system and browser stores, Java keystores, PKCS#12 files, Kubernetes secrets, cloud certificate managers",
		"client certificates for mutual TLS, unless their files are given",
	}
	CannotSee = []string{
		"revocation: no OCSP responder or CRL is asked",
		"certificates an endpoint presents only for other server names (SNI) than the one asked for",
		"private keys: their PEM blocks are passed over unread",
	}
)

// found is one certificate and the places it was seen.
type found struct {
	cert      *stdx509.Certificate
	chain     []*stdx509.Certificate // what it came with (intermediates)
	files     []string
	endpoints []string
	hosts     []string // the names it was asked for on TLS, to verify against
}

// SetOwn names the evidence file the run writes to (Options.Own).
func (c *Connector) SetOwn(path string) { c.opts.Own = path }

// NewConnector checks opts.
func NewConnector(opts Options) (*Connector, error) {
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if len(opts.Paths) == 0 && len(opts.TLS) == 0 {
		return nil, errors.New("say where to look: --path DIR|FILE and/or --tls HOST:PORT")
	}
	if strings.ContainsAny(opts.Account, ": \t\n") {
		return nil, fmt.Errorf("--account %q: no colons or spaces", audit.Printable(opts.Account))
	}
	for _, t := range opts.TLS {
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
			return nil, fmt.Errorf("--tls %q: use HOST:PORT, e.g. api.example.com:443", audit.Printable(t))
		}
	}
	// A --path that is not there is a mistake to fix, not a place that
	// could not be read: nothing would be learned of it, so the run fails
	// before it starts. One that exists but cannot be read is a gap.
	for _, p := range opts.Paths {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			what := "does not exist"
			if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				what = "is a symbolic link to nothing"
			}
			return nil, fmt.Errorf("--path %s %s: check it, or leave it out; nothing was read", audit.Printable(p), what)
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Connector{opts: opts, certs: map[string]*found{}}, nil
}

// Source is "x509".
func (c *Connector) Source() string { return Source }

// Account is the --account.
func (c *Connector) Account() string { return c.opts.Account }

// APIURL lists what was read.
func (c *Connector) APIURL() string {
	var parts []string
	for _, p := range c.opts.Paths {
		parts = append(parts, "file:"+p)
	}
	for _, t := range c.opts.TLS {
		parts = append(parts, "tls://"+t)
	}
	return strings.Join(parts, " ")
}

// Credential says what read the certificates: nothing secret is needed.
func (c *Connector) Credential(context.Context) (string, error) {
	return "no credential: files read locally, TLS handshakes without a client certificate", nil
}

// Whole: a certificate scan is never resumed; the next run reads it all.
func (c *Connector) Whole() {}

// Summary is what the last Run skipped and counted.
func (c *Connector) Summary() Summary { return c.summary }

// Run reads every path and endpoint, then records each leaf certificate
// once with all its locations.
func (c *Connector) Run(ctx context.Context, r connectors.Recorder) error {
	// The places it records (Scope) are all it claims to have looked at,
	// even none: a run whose every endpoint was unreachable removes
	// nothing an earlier run found in files (docs/certificates.md).
	if s, ok := r.(interface{ Scoped() error }); ok {
		if err := s.Scoped(); err != nil {
			return err
		}
	}
	for _, p := range c.opts.Paths {
		if err := c.readPath(ctx, p, r); err != nil {
			return err
		}
	}
	for _, t := range c.opts.TLS {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.readTLS(ctx, t, r)
	}
	fps := make([]string, 0, len(c.certs))
	for fp := range c.certs {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	roots := c.opts.Roots
	if roots == nil {
		// A machine without a CA bundle gives an empty pool and no error
		// (Linux): nothing would chain, and every certificate would read
		// untrusted, long-lived never firing. Not known, instead.
		var err error
		if roots, err = stdx509.SystemCertPool(); err != nil || roots.Equal(stdx509.NewCertPool()) {
			roots, c.summary.NoRoots = nil, true
		}
	}
	for _, fp := range fps {
		if err := r.Record(c.observe(fp, c.certs[fp], roots)); err != nil {
			return err
		}
	}
	return nil
}

// add notes a certificate found at a place; chain is what came with it.
func (c *Connector) add(cert *stdx509.Certificate, chain []*stdx509.Certificate, file, endpoint, host string) {
	sum := sha256.Sum256(cert.Raw)
	fp := hex.EncodeToString(sum[:])
	f := c.certs[fp]
	if f == nil {
		f = &found{cert: cert}
		c.certs[fp] = f
	}
	for _, x := range chain {
		if !x.Equal(cert) && !slices.ContainsFunc(f.chain, x.Equal) {
			f.chain = append(f.chain, x)
		}
	}
	if file != "" && !slices.Contains(f.files, file) {
		f.files = append(f.files, file)
	}
	if endpoint != "" && !slices.Contains(f.endpoints, endpoint) {
		f.endpoints = append(f.endpoints, endpoint)
	}
	if host != "" && !slices.Contains(f.hosts, host) {
		f.hosts = append(f.hosts, host)
	}
}

// leaves are the certificates of a file or chain that issued none of the
// others: the end of each chain. A lone CA certificate is its own leaf.
func leaves(certs []*stdx509.Certificate) []*stdx509.Certificate {
	var out []*stdx509.Certificate
	for _, c := range certs {
		issuer := false
		for _, o := range certs {
			// By name, not signature: a SHA-1 chain, which crypto/x509
			// no longer verifies, still has one end.
			if !o.Equal(c) && c.IsCA && bytes.Equal(o.RawIssuer, c.RawSubject) {
				issuer = true
				break
			}
		}
		if !issuer && !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

// readTLS records the certificate a server presents, or a gap naming the
// endpoint when it cannot be reached.
func (c *Connector) readTLS(ctx context.Context, endpoint string, r connectors.Recorder) {
	host, _, _ := net.SplitHostPort(endpoint)
	cfg := &tls.Config{
		// What the server presents is read and verified below, apart from
		// the handshake: an untrusted certificate is a finding, not an error.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
	}
	if net.ParseIP(host) == nil {
		cfg.ServerName = host // SNI
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: c.opts.Timeout}, Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	c.handshakes++
	conn, err := d.DialContext(ctx, "tcp", endpoint)
	if err != nil {
		why := plainError(err)
		if errors.Is(err, context.DeadlineExceeded) {
			// A server that accepts and never answers, or a firewall
			// that drops: say how long nhi waited, not Go's words.
			why = fmt.Sprintf("no TLS answer within %s", c.opts.Timeout)
		}
		c.notRead = append(c.notRead, "tls://"+endpoint+": "+why)
		r.Gap(audit.Gap{Endpoint: "tls://" + endpoint, Kind: audit.KindX509Certificate, Scope: endpoint,
			Reason: "cannot reach it for a TLS handshake (" + why + "); its certificate was not read"})
		return
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	if len(state.PeerCertificates) == 0 {
		c.notRead = append(c.notRead, "tls://"+endpoint+": no certificate presented")
		r.Gap(audit.Gap{Endpoint: "tls://" + endpoint, Kind: audit.KindX509Certificate, Scope: endpoint, Reason: "the server presented no certificate"})
		return
	}
	// The endpoint was read in full: a certificate it no longer presents
	// is removed (audit.ScopeRead).
	r.Scope(audit.ScopeRead{Scope: endpoint, Kinds: []audit.Kind{audit.KindX509Certificate}})
	c.reached++
	c.add(state.PeerCertificates[0], state.PeerCertificates[1:], "", endpoint, cfg.ServerName)
}

func plainError(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// observe turns a certificate into its observation.
func (c *Connector) observe(fp string, f *found, roots *stdx509.CertPool) audit.Observation {
	cert := f.cert
	notBefore, notAfter := cert.NotBefore.UTC(), cert.NotAfter.UTC()
	slices.Sort(f.files)
	slices.Sort(f.endpoints)
	keyType, bits := keyInfo(cert)
	a := map[string]string{
		"subject":            cert.Subject.String(),
		"issuer":             cert.Issuer.String(),
		"serial":             formatSerial(cert),
		"fingerprint":        fp,
		audit.CertKeyType:    keyType,
		audit.CertSignature:  cert.SignatureAlgorithm.String(),
		audit.CertIsCA:       strconv.FormatBool(cert.IsCA),
		audit.CertSelfSigned: strconv.FormatBool(selfSigned(cert)),
	}
	if roots == nil {
		a[audit.CertTrusted], a[audit.AttrTrustUnknown] = "unknown", "true"
	} else {
		a[audit.CertTrusted] = strconv.FormatBool(c.trusted(f, roots))
	}
	if bits > 0 {
		a[audit.CertKeyBits] = strconv.Itoa(bits)
	}
	if sans := sanList(cert); len(sans) > 0 {
		a[audit.CertSANs] = strings.Join(sans, ", ")
	}
	if len(f.files) > 0 {
		a[audit.CertFiles] = strings.Join(f.files, ", ")
	}
	if len(f.endpoints) > 0 {
		a[audit.CertTLSEndpoints] = strings.Join(f.endpoints, ", ")
	}
	name := cert.Subject.CommonName
	if name == "" {
		if sans := sanList(cert); len(sans) > 0 {
			name = sans[0]
		} else {
			name = a["serial"]
		}
	}
	scope := ""
	if len(f.endpoints) > 0 {
		scope = f.endpoints[0]
	} else if len(f.files) > 0 {
		scope = f.files[0]
	}
	return audit.Observation{
		ID:   audit.IdentityID(Source, c.opts.Account, audit.KindX509Certificate, fp),
		Kind: audit.KindX509Certificate, Name: name, Scope: scope,
		CreatedAt: &notBefore, ExpiresAt: &notAfter, Attributes: a,
	}
}

// trusted reports whether the certificate chains, through what it came
// with, to one of roots: a publicly trusted certificate when roots is the
// machine's store. Expiry is left to the expired rule: the chain is
// checked as of the certificate's own validity.
func (c *Connector) trusted(f *found, roots *stdx509.CertPool) bool {
	inter := stdx509.NewCertPool()
	for _, x := range f.chain {
		inter.AddCert(x)
	}
	at := c.opts.Now()
	if at.After(f.cert.NotAfter) || at.Before(f.cert.NotBefore) {
		at = f.cert.NotBefore.Add(f.cert.NotAfter.Sub(f.cert.NotBefore) / 2)
	}
	_, err := f.cert.Verify(stdx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageAny}})
	return err == nil
}

// selfSigned reports whether cert names itself as issuer and its own key
// signed it. A signature crypto/x509 refuses to check (SHA-1) counts: the
// names already say so, and weak-key reports the algorithm.
func selfSigned(cert *stdx509.Certificate) bool {
	if !bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		return false
	}
	err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature)
	var insecure stdx509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

func keyInfo(cert *stdx509.Certificate) (string, int) {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return cert.PublicKeyAlgorithm.String(), 0
}

func formatSerial(cert *stdx509.Certificate) string {
	if cert.SerialNumber == nil {
		return ""
	}
	b := cert.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func sanList(cert *stdx509.Certificate) []string {
	var out []string
	out = append(out, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, cert.EmailAddresses...)
	for _, u := range cert.URIs {
		out = append(out, u.String())
	}
	return out
}
