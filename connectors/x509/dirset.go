package x509

import (
	"os"
	"slices"
)

// dirSet is the directories a walk has read, by identity (os.SameFile),
// so that a link back up the tree ends: found by device and inode where
// the system says them (fileKey), else by a search of those read.
type dirSet struct {
	keys  map[fileKey]bool
	other []os.FileInfo // directories without a fileKey
}

// add adds info's directory, and reports false when it was there already.
func (s *dirSet) add(info os.FileInfo) bool {
	if k, ok := keyOf(info); ok {
		if s.keys[k] {
			return false
		}
		if s.keys == nil {
			s.keys = map[fileKey]bool{}
		}
		s.keys[k] = true
		return true
	}
	if slices.ContainsFunc(s.other, func(o os.FileInfo) bool { return os.SameFile(o, info) }) {
		return false
	}
	s.other = append(s.other, info)
	return true
}
