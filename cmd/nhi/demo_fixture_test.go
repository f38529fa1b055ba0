package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// demos are the evidence files `nhi demo --no-tui` wrote, one per set of
// flags, for the tests that start from such a file and do not look at
// what demo printed: each test gets a copy of its own (demoCopy), never
// the file itself, so what it writes is its alone. TestMain removes the
// folder.
var demos struct {
	mu    sync.Mutex
	dir   string
	files map[string]*demoFile
}

type demoFile struct {
	once sync.Once
	path string
	err  error
}

// demoCopy is a copy, at demo.db in a folder of t's own, of the file
// `nhi demo --no-tui` with flags writes; the first test that asks runs
// the demo, the others wait for it.
func demoCopy(t *testing.T, flags ...string) string {
	t.Helper()
	key := strings.Join(flags, " ")
	demos.mu.Lock()
	if demos.files == nil {
		demos.files = map[string]*demoFile{}
	}
	f := demos.files[key]
	if f == nil {
		f = &demoFile{}
		demos.files[key] = f
	}
	if demos.dir == "" {
		demos.dir, f.err = os.MkdirTemp("", "nhi-demos-")
	}
	dir := demos.dir
	demos.mu.Unlock()
	f.once.Do(func() {
		if f.err != nil {
			return
		}
		sub, err := os.MkdirTemp(dir, "demo-")
		if err != nil {
			f.err = err
			return
		}
		path := filepath.Join(sub, "demo.db")
		if r := nhi(t, nil, append(append([]string{"demo", "--no-tui"}, flags...), "--db", path)...); r.code != 0 {
			f.err = errors.New("nhi demo " + key + ": " + r.stdout + r.stderr)
			return
		}
		// demo closes the file: everything is in it, the write-ahead log
		// beside it is gone or empty.
		if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
			f.err = errors.New("nhi demo " + key + " left writes in " + path + "-wal")
			return
		}
		f.path = path
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "demo.db")
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}
