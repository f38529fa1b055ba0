package spool

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

type record struct {
	name  string
	n     int64
	ok    bool
	flags []string
}

var records = []record{
	{"", 0, false, nil},
	{"kind", -1, true, []string{}},
	{"kind", 1 << 40, false, []string{"a", "", strings.Repeat("é", 5000)}},
	{"Zoë \"q\"\n\x00", -(1 << 62), true, []string{"x"}},
}

func write(t *testing.T) *Writer {
	t.Helper()
	w, err := Create(t.TempDir(), "test-*.spool")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		w.String(r.name)
		w.Int(r.n)
		w.Bool(r.ok)
		w.Strings(r.flags)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func read(d *Reader) record {
	d.Next()
	return record{d.String(), d.Int(), d.Bool(), d.Strings()}
}

// Records come back in order, field for field, nil slices apart from
// empty ones, whichever way they are read, and as often as the file is
// opened.
func TestRoundTrip(t *testing.T) {
	w := write(t)
	for _, transient := range []bool{false, true} {
		d, err := w.Open(transient)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range records {
			got := read(d)
			if got.name != want.name || got.n != want.n || got.ok != want.ok || !slices.Equal(got.flags, want.flags) || (got.flags == nil) != (want.flags == nil) {
				t.Errorf("transient %v, record %d: %+v, want %+v", transient, i, got, want)
			}
		}
		if err := d.Err(); err != nil {
			t.Errorf("transient %v: %v", transient, err)
		}
		d.Close()
	}
	if err := w.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Remove: %v", err)
	}
	if _, err := w.Open(false); err == nil {
		t.Error("a removed spool opens")
	}
}

// A spool is in no folder while it is written and read (on Unix): a
// process killed (SIGKILL, the OOM killer) before it removes it leaves
// nothing in TMPDIR. Before, a killed campaign create left its
// population there, and a killed export its long tables, for good.
func TestNothingInTheFolder(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "test-*.spool")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()
	w.String(strings.Repeat("x", 1<<20))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := w.Open(true)
	if err != nil {
		t.Fatal(err)
	}
	d.Next()
	if got := d.String(); len(got) != 1<<20 || d.Err() != nil {
		t.Fatalf("read back %d bytes: %v", len(got), d.Err())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("while the spool is open the folder holds %v", left)
	}
}

// Read to keep, a string equal to the previous record's in the same field
// is that string, not a copy; read transiently, strings are not
// allocated a record but overwritten by the next.
func TestStringsShared(t *testing.T) {
	w := write(t)
	d, err := w.Open(false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_ = read(d)
	a, b := read(d), read(d)
	if a.name != "kind" || unsafe.StringData(a.name) != unsafe.StringData(b.name) {
		t.Errorf("records 2 and 3 hold %q and %q in two copies", a.name, b.name)
	}
}

// A file cut short is an error, never a record of zeros.
func TestShortFile(t *testing.T) {
	w := write(t)
	info, err := w.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.f.Truncate(info.Size() - 3); err != nil {
		t.Fatal(err)
	}
	d, err := w.Open(false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range records {
		read(d)
	}
	if err := d.Err(); !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Errorf("reading a file cut short: %v, want an EOF", err)
	}
}

// A write that fails (here: the file closed under the writer, as a full
// disk would fail it) is kept: Err reports it as soon as the buffer met
// it, and Close returns it.
func TestWriteErrorKept(t *testing.T) {
	w, err := Create(t.TempDir(), "test-*.spool")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()
	w.f.Close()
	big := strings.Repeat("x", 1<<20) // more than the buffer holds
	w.String(big)
	if w.Err() == nil {
		t.Fatal("writing a megabyte to a closed file: no error")
	}
	w.Int(1)
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Close after a failed write: %v, want the write's error", err)
	}
}

// TestEachString reads a file of IDs back whole, stops where the ranging
// stops, and gives a file shorter than its count as an error, not as
// fewer IDs; a field written from bytes reads back as String's.
func TestEachString(t *testing.T) {
	w, err := Create(t.TempDir(), "ids-*.spool")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()
	ids := []string{"github:acme:deploy_key:1", "", "github:acme:secret:Zoë"}
	for i, id := range ids {
		if i%2 == 0 {
			w.String(id)
		} else {
			w.Bytes([]byte(id))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(n, stop int) (got []string, err error) {
		for id, e := range w.EachString(n) {
			if e != nil {
				return got, e
			}
			if got = append(got, id); len(got) == stop {
				break
			}
		}
		return got, nil
	}
	for range 2 { // each ranging reads from the start
		if got, err := read(len(ids), -1); err != nil || !slices.Equal(got, ids) {
			t.Fatalf("read back %q, %v; want %q", got, err, ids)
		}
	}
	if got, err := read(len(ids), 1); err != nil || !slices.Equal(got, ids[:1]) {
		t.Errorf("stopped after one: read %q, %v", got, err)
	}
	got, err := read(len(ids)+1, -1)
	if !errors.Is(err, io.EOF) || !slices.Equal(got, ids) {
		t.Errorf("a count past the file's end: read %q, then %v; want the IDs, then io.EOF", got, err)
	}
}
