package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nhi-audit/nhi/audit"
)

// inputError is why a file a command reads (nhi import, owner import,
// people import) could not be read, said the same way by each: the path
// as the user gave it, what is wrong, and what to do.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// binaryPrefix is how much of a file is looked at for a NUL byte: text
// holds none; UTF-16 text (Excel's "Unicode Text"), a spreadsheet's own
// file (.xlsx is a zip), a database or an archive holds some at once.
const binaryPrefix = 8 << 10

// openInput opens path for a command that reads it as text; give names
// the forms the command takes ("CSV UTF-8 or JSON"). Every failure,
// opening or reading, is an inputError:
//
//	PATH does not exist [in FOLDER, where PATH is relative]
//	PATH is a folder, not a file: give the path of the file to read
//	cannot read PATH: permission denied
//	PATH is not UTF-8 text (it holds NUL bytes, …): save or export it as GIVE and give that file
func openInput(path, give string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputFailed(path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, &inputError{fmt.Sprintf("%s is a folder, not a file: give the path of the file to read", audit.Printable(path))}
	}
	return &inputReader{r: f, c: f, name: path, give: give}, nil
}

// readInput is openInput's reader for what is already open (standard
// input, name being what the user typed for it).
func readInput(r io.Reader, name, give string) io.Reader {
	return &inputReader{r: r, name: name, give: give}
}

// inputFailed is the inputError of err, opening or reading path.
func inputFailed(path string, err error) error {
	p := audit.Printable(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A relative path says where it was looked for: the command may
		// run in another folder than the user thinks.
		if wd, werr := os.Getwd(); werr == nil && !filepath.IsAbs(path) {
			return &inputError{fmt.Sprintf("%s does not exist in %s", p, audit.Printable(wd))}
		}
		return &inputError{p + " does not exist"}
	}
	// The operating system's reason, without the path it repeats.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &inputError{fmt.Sprintf("cannot read %s: %v", p, err)}
}

// asInputError is err's inputError, if it has one, for a reader of the
// file that wrapped it in its own words: the file's failure is said as
// openInput says it, whoever read it.
func asInputError(err error) error {
	var ie *inputError
	if errors.As(err, &ie) {
		return ie
	}
	return err
}

// inputReader reads a file through openInput: a read error names the
// path, and a NUL byte early in the file refuses it as not text.
type inputReader struct {
	r    io.Reader
	c    io.Closer // nil for standard input, which is not the command's to close
	name string
	give string
	seen int   // bytes read so far, up to binaryPrefix
	err  error // the inputError that ended the reading, for every Read after
}

// Read reads as the file does, but for its failures. One is returned to
// every Read after it: a bufio.Reader's Peek hands an error on once, and
// a CSV reader reading on would take the rest of a binary file for text.
func (r *inputReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	if r.seen < binaryPrefix {
		look := p[:min(n, binaryPrefix-r.seen)]
		r.seen += len(look)
		if bytes.IndexByte(look, 0) >= 0 {
			r.err = &inputError{fmt.Sprintf("%s is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as %s and give that file",
				audit.Printable(r.name), r.give)}
			return 0, r.err
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = inputFailed(r.name, err)
		err = r.err
	}
	return n, err
}

func (r *inputReader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// openInputArg is openInput of a command's FILE argument, where "-" is
// standard input.
func openInputArg(stdin io.Reader, arg, give string) (io.ReadCloser, error) {
	if arg == "-" {
		return io.NopCloser(readInput(stdin, "standard input", give)), nil
	}
	return openInput(arg, give)
}
