package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/nhi-audit/nhi/audit"
)

// The bundle: the report in each format, SHA256SUMS, manifest.json and,
// when signed, manifest.json.sig.

// Report formats.
const (
	FormatHTML = "html"
	FormatMD   = "md"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Formats lists every format, in the order a bundle lists them.
var Formats = []string{FormatCSV, FormatHTML, FormatJSON, FormatMD}

// Files of a bundle besides the CSV tables.
const (
	FileHTML      = "report.html"
	FileMD        = "report.md"
	FileJSON      = "report.json"
	FileSums      = "SHA256SUMS"
	FileManifest  = "manifest.json"
	FileSignature = "manifest.json.sig"
)

// ManifestFormat identifies manifest.json's shape; fields are only added.
const ManifestFormat = "nhi-evidence-bundle/1"

// ErrNotEmpty is returned when the output folder already holds files.
var ErrNotEmpty = errors.New("output folder is not empty")

// ErrBadFormat is returned for a format nhi does not write.
var ErrBadFormat = errors.New("unknown report format")

// ParseFormats reads a comma-separated list of formats ("" means all) and
// returns it sorted and without repeats.
func ParseFormats(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(Formats), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "markdown" {
			f = FormatMD
		}
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("%w %q: choose from %s", ErrBadFormat, audit.Printable(f), strings.Join(Formats, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Manifest is manifest.json: what the bundle is and the hash of each file.
type Manifest struct {
	Format      string           `json:"format"`
	Tool        string           `json:"tool"`
	GeneratedAt string           `json:"generated_at"`
	Signer      string           `json:"signer"`
	Campaign    ManifestCampaign `json:"campaign"`
	Snapshot    ManifestSnapshot `json:"snapshot"` // zero over several snapshots: see Snapshots
	// Snapshots are the population's, one per source/account.
	Snapshots []ManifestSnapshot `json:"snapshots"`
	// VerifyingSnapshots are the snapshots the remediation states rest on.
	VerifyingSnapshots []ManifestSnapshot `json:"verifying_snapshots"`
	PopulationDigest   string             `json:"population_digest"`
	PolicyDigest       string             `json:"policy_digest"`
	EventLogHead       HeadRef            `json:"event_log_head"`
	Formats            []string           `json:"formats"`
	// CSVBOM: the CSV tables start with a UTF-8 byte order mark (--excel).
	CSVBOM    bool       `json:"csv_utf8_bom"`
	Files     []FileHash `json:"files"`
	Signature *KeyInfo   `json:"signature"`
}

// ManifestCampaign names the campaign and the events that opened and
// closed it.
type ManifestCampaign struct {
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	CreateEvent HeadRef   `json:"create_event"`
	CloseEvent  *HeadRef  `json:"close_event"`
	Items       int       `json:"items"`
	Events      []HeadRef `json:"events"` // create, close and verify events
}

// ManifestSnapshot names the snapshot the population came from.
type ManifestSnapshot struct {
	ID      int64  `json:"id"`
	Source  string `json:"source"`
	Account string `json:"account"`
	Digest  string `json:"digest"`
	Status  string `json:"status"`
}

// HeadRef is an event's sequence number and hash.
type HeadRef struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

func hashOf(name string, data []byte) FileHash {
	sum := sha256.Sum256(data)
	return FileHash{Path: name, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(data))}
}

// sink opens a file of the bundle for writing.
type sink func(name string) (io.WriteCloser, error)

// hashWriter hashes what it writes.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	hw.h.Write(p)
	hw.n += int64(len(p))
	return hw.w.Write(p)
}

// emit writes one file through the sink and returns its hash.
func emit(create sink, name string, write func(io.Writer) error) (FileHash, error) {
	wc, err := create(name)
	if err != nil {
		return FileHash{}, err
	}
	hw := &hashWriter{w: wc, h: sha256.New()}
	err = write(hw)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	var fe *FileError
	if errors.As(err, &fe) {
		// The file could not be written: it is named already, and what
		// wrapped the failure on the way out (a template) adds nothing.
		return FileHash{}, fe
	}
	if err != nil {
		return FileHash{}, fmt.Errorf("writing %s: %w", name, err)
	}
	return FileHash{Path: name, SHA256: hex.EncodeToString(hw.h.Sum(nil)), Bytes: hw.n}, nil
}

// emitAll writes files side by side and returns their hashes in order.
func emitAll(create sink, names []string, write func(name string, w io.Writer) error) ([]FileHash, error) {
	hashes := make([]FileHash, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			hashes[i], errs[i] = emit(create, name, func(w io.Writer) error { return write(name, w) })
		})
	}
	wg.Wait()
	return hashes, errors.Join(errs...)
}

// render writes the bundle's files (manifest.json last, without the
// signature) through create and returns the manifest. The CSV tables'
// hashes are listed in the reports' integrity section, which the reports
// write last.
func render(r *Report, formats []string, bom bool, create sink) ([]byte, *Manifest, error) {
	r.Integrity.DataFiles = []FileHash{}
	// The CSV tables and the reports are written side by side; a report
	// waits for the tables' hashes only at its integrity section, the
	// last (Report.awaitDataFiles).
	var csvHashes []FileHash
	var csvErr error
	done := make(chan struct{})
	r.dataFiles = done
	defer func() { r.dataFiles = nil }()
	go func() {
		defer close(done)
		if !slices.Contains(formats, FormatCSV) {
			return
		}
		csvHashes, csvErr = emitAll(create, CSVFiles, func(name string, w io.Writer) error {
			if bom {
				if _, err := io.WriteString(w, utf8BOM); err != nil {
					return err
				}
			}
			return r.WriteCSV(name, w)
		})
		if csvErr == nil {
			files := slices.Clone(csvHashes)
			slices.SortFunc(files, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })
			r.Integrity.DataFiles = files
		}
	}()
	// The reports only read r: render them side by side.
	var names []string
	writers := map[string]func(io.Writer) error{}
	for _, f := range []struct {
		format, name string
		write        func(io.Writer) error
	}{{FormatJSON, FileJSON, r.WriteJSON}, {FormatMD, FileMD, r.WriteMarkdown}, {FormatHTML, FileHTML, r.WriteHTML}} {
		if slices.Contains(formats, f.format) {
			names = append(names, f.name)
			writers[f.name] = f.write
		}
	}
	if len(r.Signatures) > 0 { // whatever the formats: the proof of who decided
		names = append(names, FileSignatures)
		writers[FileSignatures] = r.writeSignatures
	}
	hs, err := emitAll(create, names, func(name string, w io.Writer) error { return writers[name](w) })
	<-done
	if err = errors.Join(csvErr, err); err != nil {
		return nil, nil, err
	}
	hashes := append(csvHashes, hs...)
	if len(hashes) == 0 {
		return nil, nil, fmt.Errorf("%w: no format chosen", ErrBadFormat)
	}
	slices.SortFunc(hashes, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })
	var sums bytes.Buffer
	for _, h := range hashes {
		fmt.Fprintf(&sums, "%s  %s\n", h.SHA256, h.Path)
	}
	h, err := emit(create, FileSums, func(w io.Writer) error { _, err := w.Write(sums.Bytes()); return err })
	if err != nil {
		return nil, nil, err
	}
	hashes = append(hashes, h)
	slices.SortFunc(hashes, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })

	m := manifestOf(r, formats, hashes)
	m.CSVBOM = bom && slices.Contains(formats, FormatCSV)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	data = append(data, '\n')
	if _, err := emit(create, FileManifest, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return nil, nil, err
	}
	return data, m, nil
}

func manifestOf(r *Report, formats []string, hashes []FileHash) *Manifest {
	a, p, in := &r.Attestation, &r.Population, &r.Integrity
	m := &Manifest{
		Format: ManifestFormat, Tool: r.Tool, GeneratedAt: r.GeneratedAt, Signer: a.Signer,
		Campaign:  ManifestCampaign{Name: a.Campaign, Status: a.Status, Items: r.count(tableRegister), Events: []HeadRef{}},
		Snapshot:  ManifestSnapshot{ID: p.Snapshot, Source: p.Source, Account: p.Account, Digest: p.SnapshotDigest, Status: p.SnapshotStatus},
		Snapshots: []ManifestSnapshot{}, VerifyingSnapshots: []ManifestSnapshot{},
		PopulationDigest: p.PopulationDigest, PolicyDigest: in.PolicyDigest,
		EventLogHead: HeadRef{Seq: in.Head.Seq, Hash: in.Head.Hash},
		Formats:      slices.Clone(formats), Files: hashes, Signature: in.Signature,
	}
	for _, src := range p.Sources {
		v := &src.Snapshot
		m.Snapshots = append(m.Snapshots, ManifestSnapshot{ID: v.ID, Source: v.Source, Account: v.Account, Digest: v.Digest, Status: v.Status})
	}
	for _, v := range p.VerifyingSnapshots {
		m.VerifyingSnapshots = append(m.VerifyingSnapshots, ManifestSnapshot{ID: v.ID, Source: v.Source, Account: v.Account, Digest: v.Digest, Status: v.Status})
	}
	for _, e := range in.CampaignEvents {
		ref := HeadRef{Seq: e.Seq, Hash: e.Hash}
		m.Campaign.Events = append(m.Campaign.Events, ref)
		switch e.Seq {
		case a.CreateEvent:
			m.Campaign.CreateEvent = ref
		case a.CloseEvent:
			m.Campaign.CloseEvent = &ref
		}
	}
	return m
}

// ExportOptions say what to export where.
type ExportOptions struct {
	Options
	Formats []string // default: all
	// Force replaces an earlier bundle (a folder holding manifest.json) or
	// an empty folder; without it only a new or empty folder is written.
	Force bool
	// Key, when set, signs manifest.json (manifest.json.sig).
	Key *SigningKey
	// Excel starts each CSV table with a UTF-8 byte order mark, without
	// which Excel reads UTF-8 as the system code page and garbles every
	// name that is not ASCII.
	Excel bool
}

// utf8BOM is the UTF-8 byte order mark.
const utf8BOM = "\ufeff"

// Exported is what Export wrote.
type Exported struct {
	Dir string
	// Report is the report the bundle holds; of its long tables
	// (Register, History, Exceptions, Remediation.Rows) only the rows the
	// HTML and Markdown reports list: the files hold every row.
	Report   *Report
	Manifest *Manifest
	Files    []FileHash // every file, manifest and signature included, by name
}

// Export builds campaign name's report and writes the bundle into dir:
// first into a temporary folder beside it, then renamed into place, so a
// failed export leaves nothing half-written.
func Export(ctx context.Context, st *audit.Store, name, dir string, opts ExportOptions) (*Exported, error) {
	formats := opts.Formats
	if len(formats) == 0 {
		formats = slices.Clone(Formats)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	o := outPath{abs: abs, given: dir}
	if err := checkOut(o, opts.Force); err != nil {
		return nil, err
	}
	if opts.Key != nil {
		opts.Options.Key = opts.Key.Public
	}
	// The long tables stay in spool files while the bundle is written
	// (docs/report.md, "Large campaigns").
	r, err := build(ctx, st, name, opts.Options)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var out *Exported
	err = writeDir(o, opts.Force, func(tmp string) error {
		create := func(name string) (io.WriteCloser, error) {
			f, err := os.OpenFile(filepath.Join(tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return nil, &FileError{File: name, Err: audit.OSReason(err)}
			}
			return &syncFile{f: f, name: name}, nil
		}
		manifest, m, err := render(r, formats, opts.Excel, create)
		if err != nil {
			return err
		}
		out = &Exported{Dir: abs, Report: r, Manifest: m, Files: slices.Clone(m.Files)}
		out.Files = append(out.Files, hashOf(FileManifest, manifest))
		if opts.Key != nil {
			sig, err := opts.Key.Sign(manifest, Namespace)
			if err != nil {
				return err
			}
			h, err := emit(create, FileSignature, func(w io.Writer) error { _, err := w.Write(sig); return err })
			if err != nil {
				return err
			}
			out.Files = append(out.Files, h)
		}
		slices.SortFunc(out.Files, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// syncFile is a file of the bundle: written through a buffer, synced to
// disk when closed. Its failures are FileErrors, named as the bundle
// names the file.
type syncFile struct {
	f    *os.File
	name string
}

func (s *syncFile) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	if err != nil {
		err = &FileError{File: s.name, Err: audit.OSReason(err)}
	}
	return n, err
}

func (s *syncFile) Close() error {
	if err := s.f.Sync(); err != nil {
		s.f.Close()
		return &FileError{File: s.name, Err: audit.OSReason(err)}
	}
	if err := s.f.Close(); err != nil {
		return &FileError{File: s.name, Err: audit.OSReason(err)}
	}
	return nil
}

// FileError is a file of the bundle that could not be created or
// written (a full disk, a quota, a file size limit, a failing disk),
// named as the bundle names it ("report.json"), never by the temporary
// folder beside --out it was written in: that folder is removed before
// the user reads the error. Err is the system's reason.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// outPath is the folder a bundle is written to: abs, where it is written,
// and given, the path as the user gave it, which the errors name. Never
// the temporary folder beside it: that is nhi's, and gone by the time the
// user reads the error.
type outPath struct{ abs, given string }

// show is p, o.abs or a folder above it, as the user would name it: by
// the path they gave, where it reaches that far, else whole.
func (o outPath) show(p string) string {
	g := filepath.Clean(o.given)
	for a := o.abs; g != "." && filepath.Base(g) != ".."; a, g = filepath.Dir(a), filepath.Dir(g) {
		if a == p {
			return g
		}
		if a == filepath.Dir(a) || g == filepath.Dir(g) {
			break
		}
	}
	return p
}

// checkOut refuses an output folder that cannot take the bundle. Folders
// above it that do not exist yet are created when the bundle is written
// (makeParents), as the docs' `--out evidence/2026-Q4` in a new folder
// expects; a file where a folder should be is refused.
func checkOut(o outPath, force bool) error {
	dir, given := o.abs, o.given
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && p != filepath.Dir(p) {
			continue // a file above it is named when the walk reaches it
		}
		if err != nil {
			return fmt.Errorf("cannot write %s: %s: %w", given, o.show(p), audit.OSReason(err))
		}
		if !fi.IsDir() {
			return fmt.Errorf("cannot write %s: %s is a file, not a folder; choose another folder", given, o.show(p))
		}
		break
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", given, audit.OSReason(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("cannot write %s: it is a file, not a folder", given)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", given, audit.OSReason(err))
	}
	if len(entries) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%w: %s holds %s; choose a new folder, or pass --force to replace an earlier bundle", ErrNotEmpty, given, audit.Counted(len(entries), "file", "files"))
	}
	if _, err := os.Stat(filepath.Join(dir, FileManifest)); err != nil {
		return fmt.Errorf("%w: %s holds files but no %s, so it is not an earlier bundle; --force only replaces a bundle, choose another folder", ErrNotEmpty, given, FileManifest)
	}
	return nil
}

// writeDir has fill write the bundle into a new temporary folder beside
// o, then renames it to o, replacing an empty folder or (force) an
// earlier bundle. On any failure the temporary folder is removed.
func writeDir(o outPath, force bool, fill func(tmp string) error) (err error) {
	dir, given := o.abs, o.given
	made, err := makeParents(filepath.Dir(dir))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot write %s: cannot create the folder %s (%w); create it, or choose a folder you can write", given, o.show(pe.Path), pe.Err)
		}
		return fmt.Errorf("cannot write %s: %w", given, err)
	}
	defer func() {
		if err != nil {
			// Deepest first; a folder something else wrote into stays.
			for _, m := range slices.Backward(made) {
				os.Remove(m)
			}
		}
	}()
	removeAbandoned(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), tmpPrefix(dir)+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		// The bundle is written beside dir first: dir's folder must take
		// a new folder.
		return fmt.Errorf("cannot write %s: cannot create a folder in %s (%w); choose a folder you can write", given, o.show(filepath.Dir(dir)), audit.OSReason(err))
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("cannot write %s: %w", given, audit.OSReason(err))
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("cannot write %s: %w", given, audit.OSReason(err))
	}
	// The folder may have changed since checkOut: check again, then move
	// what is there aside, the new bundle in, and the old one away.
	if err := checkOut(o, force); err != nil {
		return err
	}
	old := ""
	if _, statErr := os.Stat(dir); statErr == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("cannot replace %s: %w; it is as it was", given, audit.OSReason(err))
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fmt.Errorf("cannot write %s: %w", given, audit.OSReason(err))
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return syncDir(filepath.Dir(dir))
}

// makeParents creates the folders of path that do not exist yet, and
// returns them, outermost first, so a failed export can take them back.
func makeParents(path string) ([]string, error) {
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	slices.Reverse(missing)
	for i, m := range missing {
		if err := os.Mkdir(m, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			for _, made := range slices.Backward(missing[:i]) {
				os.Remove(made)
			}
			return nil, err
		}
	}
	return missing, nil
}

// tmpPrefix starts the name of the temporary folders an export of dir
// writes into; the exporting process's ID follows, so that a later export
// can tell one that is still running from one that was killed.
func tmpPrefix(dir string) string { return "." + filepath.Base(dir) + ".nhi-export-" }

// removeAbandoned deletes the temporary folders (and set-aside old
// bundles) that exports of dir killed before they finished left beside
// it: those whose process is gone. Best effort: what cannot be removed
// stays, and costs only space.
func removeAbandoned(dir string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), tmpPrefix(dir)+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), tmpPrefix(dir))
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processRunning(pid) {
			continue
		}
		_ = os.RemoveAll(m)
	}
}

// processRunning reports whether a process with this ID exists.
func processRunning(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs folders; the rename is what matters
	return nil
}
