package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// Opener opens the file to import. Parse calls it once to check the file
// and Each once more for every reading of its identities: the file is
// read as a stream each time, never held whole (but to name what is
// wrong in JSON that is not an export's flat array of objects).
type Opener func() (io.ReadCloser, error)

// Population is a file checked in full and found valid. It holds how to
// open the file, not its identities: Each reads them again, one at a
// time, as they are recorded, so a million rows never sit decoded in
// memory at once (docs/import.md, "Speed").
type Population struct {
	Source, Account string
	// Delimiter is the CSV separator found in the header (',', ';' or tab);
	// 0 for JSON.
	Delimiter rune
	// SHA256 is the digest of the file's bytes, recorded with the snapshot
	// so the evidence names exactly which file it came from.
	SHA256 string
	File   string
	// Identities is how many identities the file holds.
	Identities int

	counts map[audit.Kind]int
	open   Opener
	format string
}

// Counts is the number of identities per kind.
func (p *Population) Counts() map[audit.Kind]int { return maps.Clone(p.counts) }

// Parse checks data, a whole file (ParseFrom).
func Parse(data []byte, opts Options) (*Population, error) {
	return ParseFrom(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, opts)
}

// ParseFrom checks the file open opens. It returns *Errors when the file
// cannot be imported as it is, listing every problem found (up to
// MaxErrors), and otherwise a Population whose Each reads the identities.
// The check keeps the kinds' counts and the keys (to find a repeated
// one), compactly; no identity is built.
func ParseFrom(open Opener, opts Options) (*Population, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	b := newBuilder(opts.Source, opts.Account, opts.File, nil)
	var (
		sum  string
		flat bool
		err  error
	)
	if opts.Format == FormatJSON {
		sum, err = stream(open, func(r *bufio.Reader) (err error) {
			flat, err = parseFlatJSON(r, b)
			return err
		})
		if err == nil && !flat {
			// Not an export's flat array: read again, from the start, by
			// encoding/json, whose messages say what is wrong. It refuses
			// whatever the fast reader hands on (FuzzFlatJSON), so a JSON
			// population is always recorded as parseFlatJSON reads it.
			b = newBuilder(opts.Source, opts.Account, opts.File, nil)
			sum, err = whole(open, func(data []byte) error { return parseJSON(data, b) })
		}
	} else {
		sum, err = stream(open, func(r *bufio.Reader) error { return parseCSV(r, b) })
	}
	if err != nil {
		return nil, err
	}
	c := b.c
	if len(c.errs.List) > 0 {
		// Rows report their cells after checking them all: put the list in
		// the order of the file.
		slices.SortStableFunc(c.errs.List, func(a, b Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, &c.errs
	}
	if b.n == 0 {
		return nil, &Errors{File: opts.File, List: []Error{{Line: 1, Msg: "the file has no identities, so there is nothing to import (nhi refuses an empty import: it would mark every identity of " +
			opts.Source + "/" + opts.Account + " as removed)"}}}
	}
	return &Population{
		Source: opts.Source, Account: opts.Account, Delimiter: b.delim,
		SHA256: sum, File: opts.File, Identities: b.n,
		counts: b.counts, open: open, format: opts.Format,
	}, nil
}

// Each reads the file again and hands fn its identities in the file's
// order, each in maps of its own. It stops at fn's first error and
// returns it. A file that no longer has the digest it was checked with
// is an error (ErrChanged), at its end or where it stops reading as it
// did: fn may have been handed identities of it by then.
func (p *Population) Each(fn func(audit.Observation) error) error {
	b := newBuilder(p.Source, p.Account, p.File, fn)
	read := func(r *bufio.Reader) error { return parseCSV(r, b) }
	if p.format == FormatJSON {
		read = func(r *bufio.Reader) error {
			ok, err := parseFlatJSON(r, b)
			if err == nil && !ok && b.err == nil {
				b.c.add(Error{Msg: "not read as when checked"})
			}
			return err
		}
	}
	sum, err := stream(p.open, func(r *bufio.Reader) error {
		if err := read(r); err != nil {
			return err
		}
		return b.err // the recorder's error: the rest is not read
	})
	switch {
	case b.err != nil:
		return b.err
	case err != nil:
		return err
	case sum != p.SHA256 || len(b.c.errs.List) > 0 || b.n != p.Identities:
		return fmt.Errorf("%s: %w", audit.Printable(p.File), ErrChanged)
	}
	return nil
}

// ErrChanged is a file written to between its check and its recording.
var ErrChanged = fmt.Errorf("the file changed while it was imported (it is no longer the file that was checked, by its SHA-256); import it again once nothing writes to it")

// stream opens the file and hands read its bytes past a byte-order mark,
// buffered; it returns the SHA-256 of the whole file, read to its end.
func stream(open Opener, read func(*bufio.Reader) error) (string, error) {
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), readBuffer)
	if start, _ := r.Peek(len(bom)); bytes.Equal(start, bom) {
		r.Discard(len(bom))
	}
	if err := read(r); err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // what read left, for the digest
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readBuffer is how much of a file is read at a time; a CSV header must
// fit in it.
const readBuffer = 1 << 20

// whole opens the file and hands read all its bytes; it returns their
// SHA-256.
func whole(open Opener, read func([]byte) error) (string, error) {
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), read(data)
}
