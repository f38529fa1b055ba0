//go:build unix

package tui

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the file at path into memory, read-only: a cache file of a
// million rows is read in place, its pages shared with the system's file
// cache, rather than copied into 300 MB of new memory (each page of which
// the kernel must fault in and clear). unmap gives it back; a table read
// from it keeps it mapped (its texts are views into it).
func mapFile(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.Size() == 0 || int64(int(fi.Size())) != fi.Size() {
		return []byte{}, func() {}, nil
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { unix.Munmap(data) }, nil
}
