package x509

import (
	"bufio"
	"bytes"
	"context"
	stdx509 "crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// maxDER bounds a file read whole as DER: certificates are small, so a
// larger file without PEM headers is not one.
const maxDER = 1 << 20

// readPath reads a file, or every file under a directory. A path that
// cannot be read is a gap; a file that holds no certificate is skipped
// and counted.
func (c *Connector) readPath(ctx context.Context, root string, r connectors.Recorder) error {
	// As the paths below it are written (below), so that the folder is
	// theirs: ./certs/ is certs, the folder of certs/a.pem, whose removal
	// its reading in full can then claim; . stays ., the folder of
	// ./a.pem.
	root = filepath.Clean(root)
	info, err := os.Stat(root)
	if err != nil {
		return c.pathGap(r, root, err)
	}
	if !info.IsDir() {
		c.readFile(root, r)
		return nil
	}
	w := &walk{c: c, r: r, failedIn: map[string]bool{}}
	if err := w.dir(ctx, root, info); err != nil {
		return err
	}
	// A directory read without a failure anywhere below it was read in
	// full: a certificate file gone from it is removed, not unchecked
	// (audit.ScopeRead; ARCHITECTURE.md, "Removals").
	for _, d := range w.dirs {
		if !w.failedIn[d] {
			if err := r.Scope(audit.ScopeRead{Scope: d, Kinds: []audit.Kind{audit.KindX509Certificate}, Children: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// walk reads a directory tree, following symbolic links as a server
// does when it opens a certificate: /etc/letsencrypt/live/NAME/cert.pem
// and a Kubernetes Secret's volume are links, and a --path may be one.
// Each directory is read once, so a link back up the tree (a loop) ends.
type walk struct {
	c    *Connector
	r    connectors.Recorder
	seen dirSet   // directories read
	dirs []string // the paths they were read at
	// failedIn holds each path that could not be read in full and every
	// directory above it: a map, as a tree of 10,000 folders has as many
	// to look up (BenchmarkRead10k).
	failedIn map[string]bool
}

// failed notes that path could not be read in full.
func (w *walk) failed(path string) {
	for !w.failedIn[path] {
		w.failedIn[path] = true
		up, ok := folderOf(path)
		if !ok {
			return
		}
		path = up
	}
}

// below is the path of name in the folder dir as the walk writes it:
// dir as it is, where filepath.Join cleans it, so that the folder of
// ./a.pem, which --path . reads, is . (a.pem has none, and no removal
// below --path . was ever claimed: audit.Coverage finds a scope's folder
// at its last /).
func below(dir, name string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name // the root, /
	}
	return dir + string(filepath.Separator) + name
}

// folderOf is the folder a path below writes is in, as below wrote it
// (filepath.Dir would clean ./a to a); false for a path with none.
func folderOf(path string) (string, bool) {
	i := strings.LastIndexByte(path, filepath.Separator)
	switch {
	case i < 0 || path == string(filepath.Separator):
		return "", false
	case i == 0:
		return path[:1], true // the root, /
	}
	return path[:i], true
}

func (w *walk) dir(ctx context.Context, path string, info os.FileInfo) error {
	if !w.seen.add(info) {
		return nil
	}
	w.dirs = append(w.dirs, path)
	entries, err := os.ReadDir(path)
	if err != nil {
		w.failed(path)
		if err := w.c.pathGap(w.r, path, err); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p := below(path, e.Name())
		typ := e.Type()
		var info os.FileInfo
		if typ&fs.ModeSymlink != 0 || typ.IsDir() {
			if info, err = os.Stat(p); err != nil {
				// A link to nothing, or a loop of links: no certificate
				// is there to read.
				w.c.skip(p)
				continue
			}
			typ = info.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if err := w.dir(ctx, p, info); err != nil {
				return err
			}
		case typ.IsRegular():
			if !w.c.readFile(p, w.r) {
				w.failed(p)
			}
		}
	}
	return nil
}

func plainPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ownFile reports whether path is the evidence file the run writes to or
// one of its companions: --path . in the folder that holds nhi.db reads
// them otherwise, and would list nhi's own files as skipped.
func (c *Connector) ownFile(path string) bool {
	own := c.opts.Own
	if own == "" || !strings.HasPrefix(filepath.Base(path), filepath.Base(own)) {
		return false
	}
	own, err := filepath.Abs(own)
	if err != nil {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	return abs == own || strings.HasPrefix(abs, own+"-")
}

func (c *Connector) skip(path string) {
	c.summary.Skipped++
	if len(c.summary.SkippedFirst) < 5 {
		c.summary.SkippedFirst = append(c.summary.SkippedFirst, path)
	}
}

// readFile reads the certificates of one file: PEM blocks, or the whole
// file as DER, and records the file as read in full. It reports false when
// the file could not be read (a gap).
func (c *Connector) readFile(path string, r connectors.Recorder) bool {
	if c.ownFile(path) {
		return true
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".key", ".pk8", ".p12", ".pfx", ".jks", ".keystore":
		// Key files and key stores: not opened at all.
		c.skip(path)
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		c.pathGap(r, path, err)
		return false
	}
	defer f.Close()
	c.summary.Files++
	br := bufio.NewReader(f)
	head, _ := br.Peek(64 << 10)
	var certs []*stdx509.Certificate
	whole := true
	if bytes.Contains(head, []byte("-----BEGIN ")) {
		var problem string
		if certs, problem = c.readPEM(br); problem != "" {
			// Not read in full: a certificate crypto/x509 refuses (it is
			// stricter than many servers) or a read cut short may still be
			// one the file holds, so nothing in it is taken for removed.
			// What it did read is still recorded.
			c.fileGap(r, path, problem, problem)
			whole = false
		}
	} else if info, err := f.Stat(); err == nil && info.Size() <= maxDER {
		if der, err := io.ReadAll(br); err == nil {
			certs, _ = stdx509.ParseCertificates(der)
		}
	}
	if whole {
		r.Scope(audit.ScopeRead{Scope: path, Kinds: []audit.Kind{audit.KindX509Certificate}})
	}
	if len(certs) == 0 {
		if whole {
			c.skip(path)
		}
		return whole
	}
	c.summary.CertFiles++
	for _, leaf := range leaves(certs) {
		c.add(leaf, certs, path, "", "")
	}
	return whole
}

// pathGap records a file or folder that could not be opened as a gap,
// and lists it as not read.
func (c *Connector) pathGap(r connectors.Recorder, path string, err error) error {
	return c.fileGap(r, path, plainPathError(err), "cannot read it: "+plainPathError(err))
}

// fileGap records path as a gap with reason, and lists it as not read
// (why).
func (c *Connector) fileGap(r connectors.Recorder, path, why, reason string) error {
	c.notRead = append(c.notRead, path+": "+why)
	return r.Gap(audit.Gap{Endpoint: "file:" + path, Kind: audit.KindX509Certificate, Scope: path, Reason: reason})
}

// readPEM reads certificate blocks line by line. Every other block is
// skipped: a private key's lines are passed over, never decoded or kept,
// so its material never reaches memory the connector holds. problem says
// why the file was not read in full: a CERTIFICATE block that does not
// parse, or a read that failed.
func (c *Connector) readPEM(br *bufio.Reader) (certs []*stdx509.Certificate, problem string) {
	var (
		inCert bool
		skipTo string // the END line of a block being skipped
		body   strings.Builder
		bad    []string
		line0  int // the line of the BEGIN being read
		n      int
	)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case skipTo != "":
			if line == skipTo {
				skipTo = ""
			}
		case inCert:
			if line == "-----END CERTIFICATE-----" {
				inCert = false
				der, err := base64.StdEncoding.DecodeString(body.String())
				body.Reset()
				if err != nil {
					bad = append(bad, fmt.Sprintf("line %d: not base64", line0))
					continue
				}
				cert, err := stdx509.ParseCertificate(der)
				if err != nil {
					bad = append(bad, fmt.Sprintf("line %d: %s", line0, audit.Printable(err.Error())))
					continue
				}
				certs = append(certs, cert)
				continue
			}
			if !strings.Contains(line, ":") { // headers such as Proc-Type
				body.WriteString(line)
			}
		case line == "-----BEGIN CERTIFICATE-----" || line == "-----BEGIN TRUSTED CERTIFICATE-----":
			inCert, skipTo, line0 = line == "-----BEGIN CERTIFICATE-----", "", n
			if !inCert {
				skipTo = "-----END TRUSTED CERTIFICATE-----"
			}
		case strings.HasPrefix(line, "-----BEGIN ") && strings.HasSuffix(line, "-----"):
			typ := strings.TrimSuffix(strings.TrimPrefix(line, "-----BEGIN "), "-----")
			if strings.Contains(typ, "PRIVATE KEY") {
				c.summary.PrivateKeys++
			}
			skipTo = "-----END " + typ + "-----"
		}
	}
	if inCert {
		bad = append(bad, fmt.Sprintf("line %d: no END CERTIFICATE line: the file is cut short", line0))
	}
	if err := sc.Err(); err != nil {
		return certs, fmt.Sprintf("cannot read it past line %d: %s", n, plainPathError(err))
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 3 {
			bad, more = bad[:3], fmt.Sprintf(" (and %d more)", len(bad)-3)
		}
		return certs, "a CERTIFICATE block does not parse, so what it holds was not read: " + strings.Join(bad, "; ") + more
	}
	return certs, ""
}
