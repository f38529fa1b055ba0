//go:build !unix

package tui

import "os"

// mapFile reads the file at path whole, where memory maps are not offered.
func mapFile(path string) (data []byte, unmap func(), err error) {
	data, err = os.ReadFile(path)
	return data, func() {}, err
}
