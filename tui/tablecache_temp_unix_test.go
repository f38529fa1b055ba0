//go:build unix

package tui

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writerEnv makes the test binary a TUI caught writing its table cache
// (TestTableCacheWriterProcess): the folder it writes in.
const writerEnv = "NHI_TEST_TABLE_WRITER"

// TestTableCacheWriterProcess is, under writerEnv, a process caught in the
// middle of a table cache's write: its temporary file made, half written,
// the process waiting to be killed. Otherwise it does nothing.
func TestTableCacheWriterProcess(t *testing.T) {
	dir := os.Getenv(writerEnv)
	if dir == "" {
		t.Skip("only as another process's writer")
	}
	f, err := createTableTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("writing " + f.Name() + "\n")
	time.Sleep(time.Minute) // killed before
}

// TestTableCacheRemovesAKilledWritersFile: a TUI killed while it wrote its
// table cache (kill -9, a closed terminal) leaves its temporary file; the
// next open removes it, however new it is, and leaves alone the file of
// a write under way in another TUI, which still runs.
func TestTableCacheRemovesAKilledWritersFile(t *testing.T) {
	e := newEvidence(t)
	dir := filepath.Join(t.TempDir(), "tables")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writer := func() (*exec.Cmd, string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestTableCacheWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "writing ")
		if err != nil || !ok {
			t.Fatalf("the writer process said %q (%v)", line, err)
		}
		return cmd, name
	}
	killed, left := writer()
	running, underWay := writer()
	if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.Wait()
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed writer left no file: %v", err)
	}

	openTable(t, e.path, dir) // reads the store, writes its cache
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file of the writer killed a moment ago is still there: %v", err)
	}
	if _, err := os.Stat(underWay); err != nil {
		t.Errorf("the write under way in another process lost its file: %v", err)
	}
	if n := len(cacheFiles(t, dir)); n != 1 {
		t.Errorf("%d cache files, want the one the open wrote", n)
	}

	// The other TUI ends, killed too: the next open, which reads the
	// cache and writes nothing, removes its file.
	running.Process.Signal(syscall.SIGKILL)
	running.Wait()
	if m := openTable(t, e.path, dir); m.cache.read == nil {
		t.Fatal("the second open did not read the cache")
	}
	if _, err := os.Stat(underWay); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file of the second writer killed is still there: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tableTempPrefix+"*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
