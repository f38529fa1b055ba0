package tui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtNHI is the nhi binary the tests that run it share: built once per
// test binary (a build is most of such a test's time), into a folder
// TestMain removes. Each test keeps its own evidence file and table cache
// folder beside it.
var builtNHI struct {
	once      sync.Once
	dir, path string
	err       error
	out       []byte
}

// nhiBinary builds cmd/nhi on first use and returns its path.
func nhiBinary(t *testing.T, ctx context.Context) string {
	t.Helper()
	builtNHI.once.Do(func() {
		if builtNHI.dir, builtNHI.err = os.MkdirTemp("", "nhi-tui-bin-"); builtNHI.err != nil {
			return
		}
		builtNHI.path = filepath.Join(builtNHI.dir, "nhi")
		builtNHI.out, builtNHI.err = exec.CommandContext(ctx, "go", "build", "-o", builtNHI.path, "../cmd/nhi").CombinedOutput()
	})
	if builtNHI.err != nil {
		t.Fatalf("go build: %v\n%s", builtNHI.err, builtNHI.out)
	}
	return builtNHI.path
}
