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
// people import, policy set, --allowed-signers, --head-file) could not be
// read, said the same way by each: the flag that named it, the path as
// the user gave it, what is wrong, and what to do. usage marks a file
// that cannot be what the command asked for (missing, a folder, empty,
// not text): a mistake in the call, exit 2 as a wrong flag's; a file the
// system would not let nhi read is a failure, exit 1.
type inputError struct {
	msg   string
	usage bool
}

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
		return nil, &inputError{fmt.Sprintf("%s is a folder, not a file: give the path of the file to read", audit.Printable(path)), true}
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
			return &inputError{fmt.Sprintf("%s does not exist in %s", p, audit.Printable(wd)), true}
		}
		return &inputError{p + " does not exist", true}
	}
	return &inputError{msg: fmt.Sprintf("cannot read %s: %v", p, audit.OSReason(err))}
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
				audit.Printable(r.name), r.give), true}
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

// readInputFile reads the whole file flag names (flag "" for a command's
// argument) through openInput, so it fails as the files import reads do,
// each failure led by the flag: "--allowed-signers: keys is a folder, …".
// An empty file is refused too, saying empty (what to give instead): a
// file left empty by a failed save would otherwise say nothing, as an
// allowed_signers file that pins no key.
func readInputFile(flag, path, give, empty string) ([]byte, error) {
	data, err := func() ([]byte, error) {
		r, err := openInput(path, give)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	}()
	if err == nil && len(bytes.TrimSpace(data)) == 0 {
		err = &inputError{fmt.Sprintf("%s is empty: %s", audit.Printable(path), empty), true}
	}
	if err == nil {
		return data, nil
	}
	var ie *inputError
	if flag != "" && errors.As(err, &ie) {
		return nil, &inputError{flag + ": " + ie.msg, ie.usage}
	}
	return nil, err
}

// inputUsage reports whether err is a file a command was given that
// cannot be what it asked for (inputError.usage): nhi exits 2.
func inputUsage(err error) bool {
	var ie *inputError
	return errors.As(err, &ie) && ie.usage
}
