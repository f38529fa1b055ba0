package tui

import (
	"errors"
	"os"
	"path/filepath"
)

// A cache file is written as a temporary file renamed in place. A TUI
// killed while it writes (a million identities' table takes seconds to
// write, a patched one's write-back starts seconds after the open)
// leaves that file behind, as large as a cache file: hundreds of MB at a
// million. Its writer holds a lock on it while it lives (lockWrite, an
// advisory lock the system lets go of when the process ends, however it
// ends), so the next open, and every write, removes the temporary files
// no process holds (removeDeadWrites): a dead writer's, not a write
// under way in another TUI, whatever their age.

// tableTempPrefix starts the name of a temporary cache file; cachedHeads
// never lists one.
const tableTempPrefix = ".table-"

// createTableTemp creates, in dir, the temporary file a cache is written
// to, locked while its writer lives.
func createTableTemp(dir string) (*os.File, error) {
	for range 3 {
		f, err := os.CreateTemp(dir, tableTempPrefix+"*") // 0600
		if err != nil {
			return nil, err
		}
		if err := lockWrite(f); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		// Between the creation and the lock, another process's
		// removeDeadWrites may have taken the file for a dead writer's
		// and removed it: then it is made again.
		fi, err1 := f.Stat()
		named, err2 := os.Stat(f.Name())
		if err1 == nil && err2 == nil && os.SameFile(fi, named) {
			return f, nil
		}
		f.Close()
	}
	return nil, errors.New("the temporary file of the table cache was removed as it was made, three times")
}

// removeDeadWrites removes the temporary files in dir whose writers are
// gone.
func removeDeadWrites(dir string) {
	if dir == "" {
		return
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, tableTempPrefix+"*"))
	for _, t := range tmps {
		removeIfDead(t)
	}
}
