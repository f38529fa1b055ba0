// Package spool keeps records on disk between the pass that writes them
// and the pass that reads them back, in order, so that a million of them
// are never all in memory (issue 21): a campaign's population between
// the read that freezes it and the transaction that records it
// (campaigns), each reviewer's pending items, as their reminder says
// them, between the read that finds whose they are and the reminder's
// print (campaigns' Remind), and the long tables of an evidence report
// between the read of the campaign and the files that list them
// (campaigns/report).
//
// A record is a sequence of fields the caller writes and reads back in
// the same order: strings as their length (uvarint) and bytes, integers
// as varints, booleans as a byte. The file marks no record's end; the
// caller counts its records.
package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"unsafe"
)

const bufferSize = 256 << 10

// Writer appends records to a new temporary file. Its methods keep the
// first error, which Err and Close return.
type Writer struct {
	f    *os.File // nil once removed
	name string
	// unlinked: the file's name was removed as soon as it was made, so
	// the open file is all there is of it (see Create).
	unlinked bool
	closed   bool // for writing: Close was called
	w        *bufio.Writer
	buf      [binary.MaxVarintLen64]byte
	err      error // the first write's error
}

// Create makes a new temporary file as os.CreateTemp does (dir "" is the
// system's temporary folder; the last "*" of pattern is replaced by a
// random string). Where the system allows it (Unix), the file's name is
// removed at once and the file lives on while it is open: a process
// killed before it removes it (SIGKILL, the OOM killer) leaves nothing
// in the folder, where each left a file as big as what it spooled (a
// million-item campaign's population) that nothing ever removed.
func Create(dir, pattern string) (*Writer, error) {
	return CreateBuffered(dir, pattern, bufferSize)
}

// CreateBuffered is Create with a write buffer of size bytes, for a
// caller that keeps many spools open for writing at once (one a
// reviewer: campaigns' Remind), where Create's 256 KiB each would add up.
func CreateBuffered(dir, pattern string, size int) (*Writer, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, name: f.Name(), unlinked: os.Remove(f.Name()) == nil, w: bufio.NewWriterSize(f, size)}, nil
}

// Name is the path the file was created at, for messages; it names no
// file where Create could remove it at once.
func (w *Writer) Name() string { return w.name }

// Err is the first error a write met (a full disk), which every later
// write and Close return too; nil so far.
func (w *Writer) Err() error { return w.err }

func (w *Writer) keep(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// errClosed is what a write after Close keeps: the record is lost.
var errClosed = errors.New("spool: written after it was closed")

// open reports whether w can still be written, keeping errClosed if not.
func (w *Writer) open() bool {
	if w.w == nil {
		w.keep(errClosed)
		return false
	}
	return true
}

// String writes a string field.
func (w *Writer) String(v string) {
	if !w.open() {
		return
	}
	_, err := w.w.Write(binary.AppendUvarint(w.buf[:0], uint64(len(v))))
	w.keep(err)
	_, err = w.w.WriteString(v)
	w.keep(err)
}

// Bytes writes a string field from v's bytes, as String(string(v))
// would, without the copy: what a caller rendered into a buffer it
// reuses (campaigns' Remind: a reminder's line or row). String only
// copies v's bytes into the file's buffer before it returns.
func (w *Writer) Bytes(v []byte) {
	w.String(unsafe.String(unsafe.SliceData(v), len(v)))
}

// Int writes an integer field.
func (w *Writer) Int(v int64) {
	if !w.open() {
		return
	}
	_, err := w.w.Write(binary.AppendVarint(w.buf[:0], v))
	w.keep(err)
}

// Bool writes a boolean field.
func (w *Writer) Bool(v bool) {
	if !w.open() {
		return
	}
	var b byte
	if v {
		b = 1
	}
	w.keep(w.w.WriteByte(b))
}

// Strings writes a slice of strings, keeping nil apart from empty.
func (w *Writer) Strings(v []string) {
	if v == nil {
		w.Int(-1)
		return
	}
	w.Int(int64(len(v)))
	for _, s := range v {
		w.String(s)
	}
}

// Close writes what is buffered and closes the file for writing; it
// returns the first error of any write. The file stays, for Open, until
// Remove. Nothing may be written after.
func (w *Writer) Close() error {
	if w.f == nil || w.closed {
		return w.err
	}
	w.closed = true
	w.keep(w.w.Flush())
	// Its buffer goes with it: a caller that keeps several files to
	// read back (a bulk decision's selection: one a snapshot) does not
	// hold a buffer for each.
	w.w = nil
	return w.err
}

// Remove closes the file and deletes it.
func (w *Writer) Remove() error {
	if w.f == nil {
		return nil
	}
	err := errors.Join(w.Close(), w.f.Close())
	w.f = nil
	if !w.unlinked {
		err = errors.Join(err, os.Remove(w.name))
	}
	return err
}

// Reader reads back, from its start, a file a Writer wrote. A string
// equal to the one the same field of the previous record held (a kind, a
// scope, a reviewer) is shared with it rather than allocated again.
type Reader struct {
	r    *bufio.Reader
	buf  []byte
	err  error
	prev [40]string // by field: what the previous record held
	slot int        // the field being read
	// transient: each record is done with before the next is read, so
	// its strings point into arena, which the next record reuses, and
	// nothing is allocated a record.
	transient bool
	arena     []byte
	strs      []string
}

// Open reads the file back from its start, once Close has written all
// of it; it may be read as often as needed until Remove, each Reader on
// its own. With transient, the strings and slices a record's fields
// return are valid only until Next starts the next record; otherwise
// they are the caller's to keep.
func (w *Writer) Open(transient bool) (*Reader, error) {
	switch {
	case w.f == nil:
		return nil, fmt.Errorf("spool %s: read after it was removed", w.name)
	case !w.closed:
		return nil, fmt.Errorf("spool %s: read before it was closed for writing", w.name)
	case w.err != nil:
		return nil, w.err
	}
	fi, err := w.f.Stat()
	if err != nil {
		return nil, err
	}
	// A small file is read through a buffer its size, not bufferSize:
	// several read at once (a merge of them) cost what they hold.
	size := int(min(fi.Size(), bufferSize))
	return &Reader{r: bufio.NewReaderSize(io.NewSectionReader(w.f, 0, fi.Size()), size), transient: transient}, nil
}

// EachString reads back, from the start each time it is ranged over, a
// file of n records of one string each (the IDs a command matched, a
// reviewer's pending items), in order. The first error (opening, or a
// record short of the n) ends it, given with an empty string.
func (w *Writer) EachString(n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		r, err := w.Open(false)
		if err != nil {
			yield("", err)
			return
		}
		defer r.Close()
		for range n {
			r.Next()
			s := r.String()
			if err := r.Err(); err != nil {
				yield("", err)
				return
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// Next starts reading a record: call it before the first field of each.
func (d *Reader) Next() {
	d.slot, d.arena = 0, d.arena[:0]
}

// Err is the first error reading met: a short file reads as io.EOF or
// io.ErrUnexpectedEOF.
func (d *Reader) Err() error { return d.err }

// Close ends the reading; the file stays until the Writer's Remove.
func (d *Reader) Close() error { return nil }

func (d *Reader) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Int reads an integer field.
func (d *Reader) Int() int64 {
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return v
}

// Bool reads a boolean field.
func (d *Reader) Bool() bool {
	b, err := d.r.ReadByte()
	if err != nil {
		d.fail(err)
	}
	return b == 1
}

// String reads a string field.
func (d *Reader) String() string {
	slot := d.slot
	d.slot++
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(err)
		return ""
	}
	if n == 0 {
		return ""
	}
	if d.transient {
		start := len(d.arena)
		if cap(d.arena)-start < int(n) {
			// A new block: the strings already handed out keep the old.
			d.arena = make([]byte, 0, max(4096, 2*int(n)))
			start = 0
		}
		d.arena = d.arena[:start+int(n)]
		b := d.arena[start:]
		if _, err := io.ReadFull(d.r, b); err != nil {
			d.fail(err)
			return ""
		}
		return unsafe.String(&b[0], len(b))
	}
	if uint64(cap(d.buf)) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
		return ""
	}
	if slot >= len(d.prev) {
		return string(b)
	}
	if d.prev[slot] == string(b) {
		return d.prev[slot]
	}
	s := string(b)
	d.prev[slot] = s
	return s
}

// Strings reads a slice of strings, nil when nil was written.
func (d *Reader) Strings() []string {
	n := d.Int()
	if n < 0 {
		return nil
	}
	if n == 0 {
		return []string{}
	}
	if d.transient {
		d.strs = slices.Grow(d.strs[:0], int(n))[:n]
		for i := range d.strs {
			d.strs[i] = d.String()
		}
		return d.strs
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	return out
}
