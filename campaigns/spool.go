package campaigns

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// spool holds a campaign's frozen population on disk between the read
// that freezes it and the transaction that records it: a million items
// are never all in memory (issue 21), and the write lock is held only
// while they are inserted, not while they are read and evaluated.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int // items written
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "nhi-campaign-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the campaign's population: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// fields are the strings of an item the spool keeps, in a fixed order:
// the frozen columns and the row hash.
func (f *frozen) fields(hash *string) []*string {
	return []*string{&f.id, &f.kind, &f.name, &f.scope, &f.owner, &f.naturalOwner,
		&f.findings, &f.permissions, &f.reviewer, &f.carried, &f.carriedReason, hash}
}

// add appends an item and its row hash, each string prefixed with its
// length.
func (s *spool) add(f *frozen, hash string) error {
	var n [binary.MaxVarintLen64]byte
	for _, p := range f.fields(&hash) {
		if _, err := s.w.Write(n[:binary.PutUvarint(n[:], uint64(len(*p)))]); err != nil {
			return err
		}
		if _, err := s.w.WriteString(*p); err != nil {
			return err
		}
	}
	s.n++
	return nil
}

// each reads the items back in the order they were added, batch at a
// time; the slices are reused between calls of fn.
func (s *spool) each(batch int, fn func(items []frozen, hashes []string) error) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(s.f, 256<<10)
	items, hashes := make([]frozen, 0, batch), make([]string, 0, batch)
	var buf []byte
	for read := 0; read < s.n; read++ {
		var f frozen
		var hash string
		for _, p := range f.fields(&hash) {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				return fmt.Errorf("reading the campaign's population back: %w", err)
			}
			buf = slices.Grow(buf[:0], int(n))[:n]
			if _, err := io.ReadFull(r, buf); err != nil {
				return fmt.Errorf("reading the campaign's population back: %w", err)
			}
			*p = string(buf)
		}
		items, hashes = append(items, f), append(hashes, hash)
		if len(items) == batch || read == s.n-1 {
			if err := fn(items, hashes); err != nil {
				return err
			}
			items, hashes = items[:0], hashes[:0]
		}
	}
	return nil
}

// remove deletes the file.
func (s *spool) remove() error {
	return errors.Join(s.f.Close(), os.Remove(s.f.Name()))
}
