package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/nhi-audit/nhi/audit"
)

// The bundle checked against itself (docs/report.md, "With the bundle
// alone"): without the evidence file, the report is read back from
// report.json, every other format rendered from it again with the
// renderers nhi export uses (with the manifest's formats and byte order
// mark), and each compared, byte for byte as it is rendered, with the
// bundle's file. A file that says something report.json does not fails,
// naming its first differing row or line. This proves the files
// consistent with each other, not true: whoever holds an unsigned bundle
// can rewrite every file alike; only the log (--db) ties them to what
// happened.

// checkSelf renders the bundle in dir again from its report.json and
// compares every file, SHA256SUMS and manifest.json (raw) with it.
func checkSelf(dir string, raw []byte, m *Manifest, opts VerifyOptions, res *BundleResult) {
	const subject = "consistency"
	failed := map[string]bool{}
	for _, c := range res.Checks {
		if !c.OK {
			failed[c.Subject] = true
		}
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	formats := slices.Clone(m.Formats)
	switch {
	case slices.ContainsFunc(formats, func(f string) bool { return !slices.Contains(Formats, f) }):
		res.fail(FileManifest, "lists formats %v, not all of which nhi writes: the manifest was edited", audit.Printable(strings.Join(formats, ",")))
		return
	case listed[FileJSON] && !slices.Contains(formats, FormatJSON):
		res.fail(FileManifest, "lists report.json, but not json among its formats (%s): the manifest was edited", strings.Join(formats, ","))
		return
	case !listed[FileJSON]:
		return // nothing to render the others from: SelfChecked stays false, and nhi verify says so
	case failed[FileJSON] || failed[FileManifest]:
		return // report.json or the manifest is already named: every comparison would fail with it
	}
	r, err := readReport(filepath.Join(dir, FileJSON))
	if err != nil {
		res.fail(FileJSON, "cannot be read as the report nhi writes (%v): it was edited", err)
		return
	}
	defer r.close()
	// The CSV tables' hashes report.json lists; render puts in those of
	// the tables its rows give.
	listedData := slices.Clone(r.Integrity.DataFiles)

	var mu sync.Mutex
	diffs := map[string]*fileDiff{}
	var sums, manifest bytes.Buffer
	create := func(name string) (io.WriteCloser, error) {
		switch name {
		case FileSums:
			return nopCloser{&sums}, nil
		case FileManifest:
			return nopCloser{&manifest}, nil
		}
		return newCompareSink(filepath.Join(dir, name), func(d *fileDiff) {
			mu.Lock()
			diffs[name] = d
			mu.Unlock()
		}), nil
	}
	_, rebuilt, err := render(r, formats, m.CSVBOM, create)
	if err != nil {
		res.fail(subject, "cannot render the report again from report.json: %v", err)
		return
	}
	version := ""
	if opts.Tool != "" && opts.Tool != m.Tool {
		version = fmt.Sprintf(" (or the difference comes from the bundle's nhi version, %s, not this one, %s)", audit.Printable(m.Tool), opts.Tool)
	}
	bad := 0
	names := slices.Sorted(maps.Keys(diffs))
	for _, name := range names {
		d := diffs[name]
		switch {
		case failed[name]:
			continue // already named: its hash differs from the manifest's
		case !listed[name]:
			res.fail(name, "report.json and the formats manifest.json names (%s) give this file, but the manifest does not list it: it was removed from the bundle and the manifest", strings.Join(formats, ","))
		case d.err != nil:
			res.fail(name, "cannot be compared with the report rendered again from report.json: %v", d.err)
		case d.line == 0:
			continue
		case name == FileJSON && dataFilesDiffer(d, listedData, r.Integrity.DataFiles, res):
			// named by what its integrity section lists
		default:
			res.fail(name, "%s%s", d.explain(name), version)
		}
		bad++
	}
	for _, f := range m.Files {
		if _, ok := diffs[f.Path]; ok || f.Path == FileSums || f.Path == FileSignatures || failed[f.Path] {
			continue // signatures.jsonl: checked against report.json by checkDecisionSignatures
		}
		res.fail(f.Path, "listed in manifest.json, but its formats (%s) give no such file: the manifest was edited", strings.Join(formats, ","))
		bad++
	}
	// SHA256SUMS must list what manifest.json lists (checkFiles checked
	// each hash against its file).
	if listed[FileSums] && !failed[FileSums] {
		var want bytes.Buffer
		for _, f := range m.Files {
			if f.Path != FileSums {
				fmt.Fprintf(&want, "%s  %s\n", f.SHA256, f.Path)
			}
		}
		if got, err := os.ReadFile(filepath.Join(dir, FileSums)); err == nil && !bytes.Equal(got, want.Bytes()) {
			d := diffLines(got, want.Bytes())
			res.fail(FileSums, "line %d is %s, but manifest.json lists %s: sha256sum -c and the manifest check different hashes",
				d.line, quoteLine(d.bundle, d.col), quoteLine(d.rebuilt, d.col))
			bad++
		}
	}
	// manifest.json must say what report.json says (generation time,
	// signer, campaign, snapshots, digests, head, signing key), with the
	// files and hashes it lists, which checkFiles checked.
	rebuilt.Files = m.Files
	rebuilt.CSVBOM = m.CSVBOM
	if want, err := json.MarshalIndent(rebuilt, "", "  "); err == nil {
		want = append(want, '\n')
		if !bytes.Equal(raw, want) {
			d := diffLines(raw, want)
			res.fail(FileManifest, "line %d is %s, but rendered from report.json it is %s: the manifest and report.json disagree, so one of them was edited after export%s",
				d.line, quoteLine(d.bundle, d.col), quoteLine(d.rebuilt, d.col), version)
			bad++
		}
	}
	if bad > 0 {
		return
	}
	res.SelfChecked = true
	res.pass(subject, "report.json reads back as nhi writes it, and %s what nhi renders from it: the files agree with each other (consistent, not proven true)",
		selfCheckedFiles(names))
}

// dataFilesDiffer fails report.json for each CSV table whose SHA-256 its
// integrity section lists other than that of the table its rows give,
// and reports whether the first difference d is one of those hashes.
func dataFilesDiffer(d *fileDiff, listed, rebuilt []FileHash, res *BundleResult) bool {
	explained := false
	for _, h := range rebuilt {
		i := slices.IndexFunc(listed, func(l FileHash) bool { return l.Path == h.Path })
		if i < 0 || listed[i].SHA256 == h.SHA256 {
			continue
		}
		res.fail(FileJSON, "lists %s with SHA-256 %s (integrity, data_files), but its rows give a table with SHA-256 %s: its rows, or that hash, were edited after export",
			h.Path, audit.Printable(listed[i].SHA256), h.SHA256)
		explained = explained || bytes.Contains(d.bundle, []byte(listed[i].SHA256))
	}
	return explained
}

// selfCheckedFiles names the files checkSelf rendered from report.json.
func selfCheckedFiles(names []string) string {
	var parts []string
	csvs := 0
	for _, n := range names {
		switch {
		case n == FileJSON:
		case strings.HasSuffix(n, ".csv"):
			csvs++
		default:
			parts = append(parts, n)
		}
	}
	if csvs > 0 {
		parts = append(parts, "the "+audit.Counted(csvs, "CSV table", "CSV tables"))
	}
	parts = append(parts, FileSums, FileManifest)
	return audit.JoinAnd(parts) + " are"
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// fileDiff is where a bundle's file first differs from the same file
// rendered again: line 0 when it does not.
type fileDiff struct {
	line            int    // 1-based
	col             int    // the byte of the line where they differ
	bundle, rebuilt []byte // that line of each, without its newline
	bundleEnded     bool   // the bundle's file ended before it
	rebuiltEnded    bool   // the rendered file ended before it
	header          []byte // the file's first line (a CSV table's header)
	err             error
}

// maxLine caps how much of a differing line is kept.
const maxLine = 1 << 16

// compareSink compares what a renderer writes with a file of the bundle as
// it is written: nothing is kept but the line being compared (and a CSV
// table's header), so a file of a million rows costs a buffer.
type compareSink struct {
	path    string
	f       *os.File
	in      *bufio.Reader
	buf     []byte
	line    int    // lines compared whole
	cur     []byte // the line being compared, so far
	header  []byte
	d       *fileDiff
	tailing bool // collecting the rest of the rendered line after a difference
	done    func(*fileDiff)
}

func newCompareSink(path string, done func(*fileDiff)) *compareSink {
	s := &compareSink{path: path, done: done}
	f, err := os.Open(path)
	if err != nil {
		s.d = &fileDiff{err: unwrap(err)}
		return s
	}
	s.f, s.in = f, bufio.NewReaderSize(f, 1<<16)
	return s
}

func (s *compareSink) Write(p []byte) (int, error) {
	n := len(p)
	if s.d != nil {
		if s.tailing {
			s.tail(p)
		}
		return n, nil
	}
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	got := s.buf[:len(p)]
	k, err := io.ReadFull(s.in, got)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		s.d = &fileDiff{err: err}
		return n, nil
	}
	if k == len(p) && bytes.Equal(got, p) {
		s.advance(p)
		return n, nil
	}
	i := 0
	for i < k && got[i] == p[i] {
		i++
	}
	s.advance(p[:i])
	d := &fileDiff{line: s.line + 1, col: len(s.cur), header: s.header}
	s.d = d
	// The bundle's line: what was read beyond the difference, then the
	// file up to the line's end.
	d.bundle = append(slices.Clone(s.cur), lineOf(got[i:k])...)
	if i == k && k < len(p) {
		d.bundleEnded = len(s.cur) == 0
	}
	if !bytes.Contains(got[i:k], []byte{'\n'}) && k == len(p) {
		for len(d.bundle) < maxLine {
			chunk, err := s.in.ReadSlice('\n')
			d.bundle = append(d.bundle, bytes.TrimSuffix(chunk, []byte{'\n'})...)
			if err != bufio.ErrBufferFull {
				break
			}
		}
	}
	d.rebuilt = slices.Clone(s.cur)
	s.tailing = true
	s.tail(p[i:])
	return n, nil
}

// tail adds what is rendered after a difference to the differing line,
// up to its end.
func (s *compareSink) tail(p []byte) {
	d := s.d
	j := bytes.IndexByte(p, '\n')
	if j < 0 {
		j = len(p)
	} else {
		s.tailing = false
	}
	d.rebuilt = append(d.rebuilt, p[:min(j, max(0, maxLine-len(d.rebuilt)))]...)
}

// lineOf is p up to its first newline.
func lineOf(p []byte) []byte {
	if j := bytes.IndexByte(p, '\n'); j >= 0 {
		return p[:j]
	}
	return p
}

// advance notes p, which both sides hold.
func (s *compareSink) advance(p []byte) {
	for {
		j := bytes.IndexByte(p, '\n')
		if j < 0 {
			if len(s.cur) < maxLine {
				s.cur = append(s.cur, p[:min(len(p), maxLine-len(s.cur))]...)
			}
			return
		}
		if s.line == 0 && s.header == nil {
			s.header = append(slices.Clone(s.cur), p[:j]...)
		}
		s.line++
		s.cur = s.cur[:0]
		p = p[j+1:]
	}
}

func (s *compareSink) Close() error {
	if s.f != nil {
		defer s.f.Close()
	}
	if s.d == nil {
		s.d = &fileDiff{}
		// The bundle's file must end where the rendered one does.
		if rest, err := s.in.Peek(1); len(rest) > 0 && err == nil {
			d := &fileDiff{line: s.line + 1, col: len(s.cur), header: s.header, rebuiltEnded: len(s.cur) == 0, rebuilt: slices.Clone(s.cur)}
			line, _ := s.in.ReadSlice('\n')
			d.bundle = append(slices.Clone(s.cur), bytes.TrimSuffix(line, []byte{'\n'})...)
			s.d = d
		}
	}
	s.done(s.d)
	return nil
}

// diffLines compares two small files line by line.
func diffLines(bundle, rebuilt []byte) *fileDiff {
	s := &compareSink{in: bufio.NewReader(bytes.NewReader(bundle)), done: func(*fileDiff) {}}
	s.Write(rebuilt)
	s.Close()
	return s.d
}

// explain says where the bundle's file name first differs from the one
// rendered from report.json: a CSV table by its row, the identity and
// the column, another file by its line.
func (d *fileDiff) explain(name string) string {
	if name == FileJSON {
		return fmt.Sprintf("line %d is %s, but read and written again by nhi it is %s: it is not as nhi writes it, so it was edited after export",
			d.line, quoteLine(d.bundle, d.col), quoteLine(d.rebuilt, d.col))
	}
	return d.explainAgainst(name, fromReportJSON)
}

// diffSource is what a bundle's file was compared with, as a difference
// names it.
type diffSource struct {
	name     string // "report.json": "report.json says ..."
	rendered string // "rendered from report.json"
	why      string // the conclusion
}

var fromReportJSON = diffSource{"report.json", "rendered from report.json", "the file and report.json disagree, so one of them was edited after export"}

// explainAgainst is explain, the other side src.
func (d *fileDiff) explainAgainst(name string, src diffSource) string {
	if strings.HasSuffix(name, ".csv") && d.line > 1 {
		if text := d.csvRow(src.name); text != "" {
			return text + ": " + src.why
		}
	}
	switch {
	case d.bundleEnded:
		return fmt.Sprintf("ends after line %d, where the file %s goes on with %s: %s", d.line-1, src.rendered, quoteLine(d.rebuilt, 0), src.why)
	case d.rebuiltEnded:
		return fmt.Sprintf("goes on after line %d, where the file %s ends, with %s: %s", d.line-1, src.rendered, quoteLine(d.bundle, 0), src.why)
	}
	return fmt.Sprintf("line %d is %s, but %s it is %s: %s", d.line, quoteLine(d.bundle, d.col), src.rendered, quoteLine(d.rebuilt, d.col), src.why)
}

// csvRow explains a difference in a CSV table's data row: "row 17
// (ID): owner is "x", report.json says "y"" (src, "report.json"). ""
// when the lines do not read as rows of the table.
func (d *fileDiff) csvRow(src string) string {
	row := d.line - 1
	header, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(d.header, []byte(utf8BOM)))).Read()
	if err != nil {
		return ""
	}
	read := func(line []byte) []string {
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil || len(rec) != len(header) {
			return nil
		}
		return rec
	}
	ours := read(d.rebuilt)
	idOf := func(rec []string) string {
		if i := slices.Index(header, "identity_id"); i >= 0 && rec != nil {
			return " (" + audit.Printable(rec[i]) + ")"
		}
		return ""
	}
	switch {
	case d.bundleEnded && ours != nil:
		return fmt.Sprintf("ends after row %d, where %s has more (row %d%s)", row-1, src, row, idOf(ours))
	case d.rebuiltEnded:
		if theirs := read(d.bundle); theirs != nil {
			return fmt.Sprintf("has a row %d%s that %s does not have", row, idOf(theirs), src)
		}
		return ""
	}
	theirs := read(d.bundle)
	if ours == nil || theirs == nil {
		return ""
	}
	for i := range header {
		if theirs[i] != ours[i] {
			return fmt.Sprintf("row %d%s: %s is %q, %s says %q", row, idOf(ours), audit.Printable(header[i]), audit.Printable(theirs[i]), src, audit.Printable(ours[i]))
		}
	}
	return ""
}

// quoteLine quotes a line around byte col, where it differs: at most some
// 40 bytes before and 80 after, the rest cut with "…".
func quoteLine(line []byte, col int) string {
	from, to := max(0, col-40), min(len(line), col+80)
	for from > 0 && from < len(line) && line[from]&0xC0 == 0x80 { // not mid-rune
		from--
	}
	for to < len(line) && line[to]&0xC0 == 0x80 {
		to++
	}
	q := fmt.Sprintf("%q", audit.Printable(string(line[from:to])))
	if from > 0 {
		q = "…" + q
	}
	if to < len(line) {
		q += "…"
	}
	return q
}
