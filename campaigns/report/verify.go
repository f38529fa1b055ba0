package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// Check is one thing VerifyBundle checked, named by its subject: a file of
// the bundle, "signature", "evidence file" ("database" on PostgreSQL),
// "rebuild" or, without an evidence file, "consistency".
type Check struct {
	OK      bool
	Subject string
	Text    string
}

// BundleResult is what VerifyBundle found.
type BundleResult struct {
	Manifest *Manifest  // nil when manifest.json could not be read
	Checks   []Check    // in the order made
	SignedBy *PublicKey // the key of a good signature
	Pinned   bool       // the signing key was found in the allowed signers given
	// LogChecked says an evidence file (or a database) was given and
	// checked.
	LogChecked bool
	// SelfChecked says, without an evidence file, that every file of the
	// bundle is what nhi renders from its report.json (checkSelf).
	SelfChecked bool
}

// OK reports whether every check passed.
func (r *BundleResult) OK() bool {
	return !slices.ContainsFunc(r.Checks, func(c Check) bool { return !c.OK })
}

// Problems lists the failed checks.
func (r *BundleResult) Problems() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *BundleResult) pass(subject, format string, args ...any) {
	r.Checks = append(r.Checks, Check{true, subject, fmt.Sprintf(format, args...)})
}

func (r *BundleResult) fail(subject, format string, args ...any) {
	r.Checks = append(r.Checks, Check{false, subject, fmt.Sprintf(format, args...)})
}

// VerifyOptions say how far to trust the bundle's signature.
type VerifyOptions struct {
	// AllowedSigners is an allowed_signers file (ssh-keygen -Y verify -f)
	// the signing key must be listed in for the manifest's signer. Without
	// it a good signature proves only that the manifest was not changed
	// since someone signed it with the key it names. A key listed in it
	// for a decision's actor (namespace nhi-decision) is accepted besides
	// the directory's, in signatures.jsonl and in the evidence file.
	AllowedSigners []byte
	// Tool is this program's name and version, to explain a rebuilt file
	// that differs because another version wrote the bundle.
	Tool string
}

// VerifyBundle checks the bundle in dir: every file against manifest.json
// (none missing, none added), the signature when there is one, and, with
// an evidence file (st not nil), the manifest against its event log — the
// head event and the campaign's events must be in the log with those
// hashes, the digests must match — the log's own integrity, and the whole
// bundle rebuilt from the log as of the manifest's head, byte for byte.
// Without an evidence file, every file is compared instead with what nhi
// renders from the bundle's report.json (checkSelf).
// An error is returned only when the check itself could not run.
func VerifyBundle(ctx context.Context, dir string, st *audit.Store, opts VerifyOptions) (*BundleResult, error) {
	res := &BundleResult{}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read bundle %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: pass the folder nhi export wrote", dir)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileManifest))
	if errors.Is(err, fs.ErrNotExist) {
		res.fail(FileManifest, "missing: %s is not an nhi evidence bundle, or its manifest was deleted", dir)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Format != ManifestFormat {
		why := fmt.Sprintf("format %q", m.Format)
		if err != nil {
			why = err.Error()
		}
		res.fail(FileManifest, "cannot be read as an nhi bundle manifest (%s): it was edited", why)
		return res, nil
	}
	res.Manifest = &m
	res.pass(FileManifest, "campaign %s, %d files, event log head %d", m.Campaign.Name, len(m.Files), m.EventLogHead.Seq)

	checkFiles(dir, &m, res)
	checkSignature(dir, raw, &m, opts, res)
	checkDecisionSignatures(dir, &m, opts, res)
	if st == nil {
		// The bundle alone: its files against each other. With the
		// evidence file the rebuild from the log covers this.
		checkSelf(dir, raw, &m, opts, res)
		return res, nil
	}
	res.LogChecked = true
	if err := checkLog(ctx, dir, raw, st, &m, opts, res); err != nil {
		return nil, err
	}
	return res, nil
}

// checkFiles compares every file with its hash in the manifest.
func checkFiles(dir string, m *Manifest, res *BundleResult) {
	listed := map[string]bool{FileManifest: true, FileSignature: true}
	for _, f := range m.Files {
		listed[f.Path] = true
		if f.Path != filepath.Base(f.Path) || f.Path == "." || f.Path == ".." {
			res.fail(FileManifest, "lists %q, which is not a file of a bundle: the manifest was edited", audit.Printable(f.Path))
			continue
		}
		got, size, err := fileSHA256(filepath.Join(dir, f.Path))
		if err != nil {
			res.fail(f.Path, "listed in manifest.json but cannot be read (%v): it was deleted or renamed", unwrap(err))
			continue
		}
		if got != f.SHA256 {
			res.fail(f.Path, "SHA-256 %s, but manifest.json says %s: the file (or the manifest) was edited", got, f.SHA256)
			continue
		}
		if size != f.Bytes {
			res.fail(f.Path, "%d bytes, but manifest.json says %d: the manifest was edited", size, f.Bytes)
			continue
		}
		res.pass(f.Path, "SHA-256 %s matches manifest.json", f.SHA256)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		res.fail(dir, "cannot list the bundle: %v", err)
		return
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			res.fail(e.Name(), "is in the bundle but not listed in manifest.json: it was added")
		}
	}
}

// fileSHA256 hashes the file at path as it reads it, and counts its
// bytes: a bundle of a million-item campaign holds a report.json of
// 757 MB, which read whole made verify --report hold 1.6 GB (issue 21).
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func checkSignature(dir string, raw []byte, m *Manifest, opts VerifyOptions, res *BundleResult) {
	sig, err := os.ReadFile(filepath.Join(dir, FileSignature))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if m.Signature != nil {
			res.fail(FileSignature, "missing, but manifest.json says %s signed it: the signature was deleted", m.Signature.Signer)
		} else if opts.AllowedSigners != nil {
			res.fail(FileSignature, "missing: the bundle is not signed, but an allowed signers file was given")
		}
		return
	case err != nil:
		res.fail(FileSignature, "cannot be read: %v", unwrap(err))
		return
	}
	if m.Signature == nil {
		res.fail(FileSignature, "present, but manifest.json names no signer: the signature was added or the manifest edited")
		return
	}
	key, err := VerifySignature(sig, raw, Namespace)
	if err != nil {
		res.fail(FileSignature, "does not verify manifest.json: %v", err)
		return
	}
	if key.Fingerprint != m.Signature.Fingerprint || key.Authorized != m.Signature.PublicKey {
		res.fail(FileSignature, "made with key %s, but manifest.json says %s signed it with %s: the signature was replaced",
			key.Fingerprint, m.Signature.Signer, m.Signature.Fingerprint)
		return
	}
	res.SignedBy = key
	if opts.AllowedSigners != nil {
		if err := CheckAllowedSigners(opts.AllowedSigners, m.Signature.Signer, key); err != nil {
			res.fail(FileSignature, "good signature, but %v", err)
			return
		}
		res.Pinned = true
		res.pass(FileSignature, "good signature of manifest.json by %s, %s key %s, listed in the allowed signers", m.Signature.Signer, key.Type, key.Fingerprint)
		return
	}
	res.pass(FileSignature, "good signature of manifest.json by %s, %s key %s (not pinned: pass an allowed signers file to check it is the key you expect)",
		m.Signature.Signer, key.Type, key.Fingerprint)
}

// checkLog checks the manifest against the evidence file and rebuilds the
// bundle from it. On PostgreSQL its checks name the database: there is no
// file there, and the TUI says "the database" too.
func checkLog(ctx context.Context, dir string, raw []byte, st *audit.Store, m *Manifest, opts VerifyOptions, res *BundleResult) error {
	subject, store := "evidence file", "the evidence file"
	if st.Remote() {
		subject, store = "database", "the database"
	}
	head, err := st.EventAt(ctx, m.EventLogHead.Seq)
	switch {
	case errors.Is(err, audit.ErrNoEvent):
		res.fail(subject, "%s has no event %d, the head manifest.json names: it is not %s this bundle came from, or the manifest was edited", st.Path(), m.EventLogHead.Seq, store)
		return nil
	case err != nil:
		return err
	case head.Hash != m.EventLogHead.Hash:
		res.fail(subject, "event %d of %s has hash %s, but manifest.json says %s: it is not %s this bundle came from, or the manifest was edited",
			head.Seq, st.Path(), head.Hash, m.EventLogHead.Hash, store)
		return nil
	}
	res.pass(subject, "event %d of %s has the hash manifest.json names as the log's head", head.Seq, st.Path())
	for _, e := range m.Campaign.Events {
		ev, err := st.EventAt(ctx, e.Seq)
		if err != nil || ev.Hash != e.Hash {
			res.fail(subject, "campaign event %d is not in %s with hash %s: the manifest was edited, or the log rewritten", e.Seq, st.Path(), e.Hash)
			return nil
		}
	}

	// The evidence file (the database) itself must be intact: a head found in a rewritten
	// log proves nothing. Its decisions' keys may be listed in the
	// allowed signers, as for nhi verify.
	v, err := campaigns.VerifyStore(ctx, st, opts.AllowedSigners)
	if err != nil {
		return err
	}
	if !v.OK() {
		for _, p := range v.Problems {
			res.fail(subject, "%s", p)
		}
		return nil
	}
	res.pass(subject, "%s verifies: %d events, hash chain intact, tables and digests match the log", st.Path(), v.Events)

	at, err := time.Parse(time.RFC3339, m.GeneratedAt)
	if err != nil {
		res.fail(FileManifest, "generated_at %q is not a time: the manifest was edited", audit.Printable(m.GeneratedAt))
		return nil
	}
	o := Options{GeneratedAt: at, Signer: m.Signer, Tool: m.Tool, AsOf: m.EventLogHead.Seq}
	if s := m.Signature; s != nil {
		o.Key = &PublicKey{Type: s.KeyType, Fingerprint: s.Fingerprint, Authorized: s.PublicKey}
	}
	r, err := build(ctx, st, m.Campaign.Name, o)
	if err != nil {
		res.fail("rebuild", "cannot rebuild campaign %s from %s: %v", audit.Printable(m.Campaign.Name), st.Path(), err)
		return nil
	}
	defer r.close()
	if r.Population.PopulationDigest != m.PopulationDigest {
		res.fail(FileManifest, "population digest %s, but campaign %s's is %s in %s", m.PopulationDigest, m.Campaign.Name, r.Population.PopulationDigest, store)
	}
	if r.Population.SnapshotDigest != m.Snapshot.Digest {
		res.fail(FileManifest, "snapshot digest %s, but snapshot %d's is %s in %s", m.Snapshot.Digest, r.Population.Snapshot, r.Population.SnapshotDigest, store)
	}
	if len(m.Snapshots) != len(r.Population.Sources) {
		res.fail(FileManifest, "lists %s, but campaign %s has %d in %s", audit.Counted(len(m.Snapshots), "population snapshot", "population snapshots"), audit.Printable(m.Campaign.Name), len(r.Population.Sources), store)
	}
	for i, ms := range m.Snapshots {
		if i < len(r.Population.Sources) && (r.Population.Sources[i].Snapshot.ID != ms.ID || r.Population.Sources[i].Snapshot.Digest != ms.Digest) {
			res.fail(FileManifest, "population snapshot %d with digest %s, which %s does not show behind this report", ms.ID, audit.Printable(ms.Digest), store)
		}
	}
	for _, ms := range m.VerifyingSnapshots {
		i := slices.IndexFunc(r.Population.VerifyingSnapshots, func(v SnapshotEvidence) bool { return v.ID == ms.ID })
		if i < 0 || r.Population.VerifyingSnapshots[i].Digest != ms.Digest {
			res.fail(FileManifest, "verifying snapshot %d with digest %s, which %s does not show behind this report", ms.ID, audit.Printable(ms.Digest), store)
		}
	}
	formats := slices.Clone(m.Formats)
	if slices.ContainsFunc(formats, func(f string) bool { return !slices.Contains(Formats, f) }) {
		res.fail(FileManifest, "lists formats %v, not all of which nhi writes: the manifest was edited", formats)
		return nil
	}
	// Render into hashes only, keeping the manifest's bytes.
	var mu sync.Mutex
	rebuilt := map[string]string{}
	create := func(name string) (io.WriteCloser, error) {
		return &hashSink{name: name, done: func(name, sum string) { mu.Lock(); rebuilt[name] = sum; mu.Unlock() }}, nil
	}
	manifest, _, err := render(r, formats, m.CSVBOM, create)
	if err != nil {
		res.fail("rebuild", "cannot render the rebuilt report: %v", err)
		return nil
	}
	failed := map[string]bool{}
	for _, c := range res.Checks {
		if !c.OK {
			failed[c.Subject] = true
		}
	}
	version := ""
	if opts.Tool != "" && opts.Tool != m.Tool {
		version = fmt.Sprintf(" (or the difference comes from the bundle's nhi version, %s, not this one, %s)", audit.Printable(m.Tool), opts.Tool)
	}
	listed := map[string]string{}
	for _, f := range m.Files {
		listed[f.Path] = f.SHA256
	}
	// The files that say something first, then the lists of hashes
	// (SHA256SUMS, manifest.json), which differ with any of them.
	names := slices.SortedFunc(maps.Keys(rebuilt), func(a, b string) int {
		sums := func(n string) bool { return n == FileSums || n == FileManifest }
		return cmp.Or(cmpBool(sums(a), sums(b)), strings.Compare(a, b))
	})
	differ := map[string]bool{}
	same := 0
	for _, name := range names {
		switch {
		case failed[name]:
			continue // already named: its hash differs from the manifest
		case name == FileManifest:
			if !bytes.Equal(raw, manifest) {
				differ[name] = true
				continue
			}
		case listed[name] == "":
			res.fail(name, "the bundle rebuilt from %s has it, but manifest.json does not list it: it was removed from the bundle and the manifest", st.Path())
			continue
		case listed[name] != rebuilt[name]:
			differ[name] = true
			continue
		}
		same++
	}
	if len(differ) > 0 {
		// Where each differs, by its row or line, as the check without
		// the evidence file names it: from a second rendering, compared
		// with the bundle's files as it is written (compareSink), made
		// only when something differs.
		from := diffSource{"the log", fmt.Sprintf("rebuilt from %s as of event %d", st.Path(), m.EventLogHead.Seq),
			"its content was changed after export, and manifest.json with it" + version}
		diffs := rebuiltDiffs(ctx, st, dir, m, o, formats, differ)
		diffs[FileManifest] = diffLines(raw, manifest)
		for _, name := range names {
			d := diffs[name]
			switch {
			case !differ[name]:
			case name == FileManifest:
				res.fail(name, "%s", d.explainAgainst(name, diffSource{"the log", from.rendered, "it was edited after export" + version}))
			case d == nil || d.err != nil || d.line == 0:
				res.fail(name, "differs from the one rebuilt from %s as of event %d (SHA-256 %s): %s",
					st.Path(), m.EventLogHead.Seq, rebuilt[name], from.why)
			default:
				res.fail(name, "%s", d.explainAgainst(name, from))
			}
		}
	}
	if same == len(names) {
		// Counted as the manifest's line counts them, the files it lists,
		// so an auditor reads one number ("11 files" beside "all 12").
		what := fmt.Sprintf("all %d files", same)
		if _, ok := rebuilt[FileManifest]; ok {
			what = fmt.Sprintf("manifest.json and all %d files it lists", same-1)
		}
		res.pass("rebuild", "%s are identical to the bundle rebuilt from %s as of event %d", what, st.Path(), m.EventLogHead.Seq)
	}
	return nil
}

// rebuiltDiffs renders the bundle rebuilt from st again, comparing each
// file of differ with the bundle's as it is written: where each first
// differs. Any it could not compare is left out.
func rebuiltDiffs(ctx context.Context, st *audit.Store, dir string, m *Manifest, o Options, formats []string, differ map[string]bool) map[string]*fileDiff {
	diffs := map[string]*fileDiff{}
	r, err := build(ctx, st, m.Campaign.Name, o)
	if err != nil {
		return diffs
	}
	defer r.close()
	var mu sync.Mutex
	create := func(name string) (io.WriteCloser, error) {
		if !differ[name] || name == FileManifest {
			return nopCloser{io.Discard}, nil
		}
		return newCompareSink(filepath.Join(dir, name), func(d *fileDiff) { mu.Lock(); diffs[name] = d; mu.Unlock() }), nil
	}
	if _, _, err := render(r, formats, m.CSVBOM, create); err != nil {
		return map[string]*fileDiff{}
	}
	return diffs
}

// hashSink hashes a rebuilt file instead of keeping it.
type hashSink struct {
	name string
	h    hash.Hash
	done func(name, sum string)
}

func (s *hashSink) Write(p []byte) (int, error) {
	if s.h == nil {
		s.h = sha256.New()
	}
	return s.h.Write(p)
}

func (s *hashSink) Close() error {
	if s.h == nil {
		s.h = sha256.New()
	}
	s.done(s.name, hex.EncodeToString(s.h.Sum(nil)))
	return nil
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
