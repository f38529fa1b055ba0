package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestCLIScripts runs testdata/cli/*.txtar with the real binary: what a
// user meets off the docs' paths (a damaged file, a file of another
// program, a store that is not there), each error saying what to do and
// the file left as it was (go test ./cmd/nhi -run TestCLIScripts).
func TestCLIScripts(t *testing.T) {
	bin := nhiBinary(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/cli",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("NHI_DB", filepath.Join(env.WorkDir, "nhi.db"))
			env.Setenv("NHI_CACHE_DIR", filepath.Join(env.WorkDir, ".cache", "nhi", "tables"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// cut FILE N: keep the first N bytes of FILE, as a copy
			// interrupted or a disk that filled up leaves it.
			"cut": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: cut FILE N")
				}
				n, err := strconv.ParseInt(args[1], 10, 64)
				ts.Check(err)
				ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
			},
		},
	})
}
