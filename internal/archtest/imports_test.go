// Package archtest holds no code, only a test that the module's packages
// import each other the one way ARCHITECTURE.md draws. It lives apart from
// every package it checks, because the rule is about the whole module and
// no package should have to build the others to be tested.
package archtest

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/nhi-audit/nhi"

// testOnly are test-support packages: any test may import them, no
// package's own code may (a benchmark's heap sampler has no place in the
// binary).
var testOnly = []string{"internal/benchmem"}

// allowed is, for each part of the module, the parts its non-test code may
// import (ARCHITECTURE.md): cmd → tui → audit, cmd → campaigns/report →
// campaigns → audit ← connectors; filter and sshsig are leaves that audit
// and its callers import. Packages of one part (connectors,
// connectors/github, …) may import each other. Nothing imports cmd or tui,
// connectors import neither campaigns nor tui, and audit imports only
// filter and sshsig.
var allowed = map[string][]string{
	"cmd":              {"tui", "campaigns/report", "campaigns", "connectors", "audit", "filter", "sshsig", "internal"}, // internal/spool
	"tui":              {"audit", "filter", "internal"},                                                                 // internal/hugepages
	"campaigns/report": {"campaigns", "audit", "filter", "sshsig", "internal"},                                          // internal/spool, internal/jsonscan
	"campaigns":        {"audit", "filter", "sshsig", "internal"},                                                       // internal/spool; campaignstest runs on internal/pgtest
	"connectors":       {"audit", "filter", "internal"},                                                                 // internal/jsonscan
	"audit":            {"filter", "sshsig"},
	"filter":           {},
	"sshsig":           {},
	"internal":         {},
}

// part is the part of the module a package belongs to: its top directory,
// except that campaigns/report stands apart from campaigns.
func part(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	if rel == "campaigns/report" || strings.HasPrefix(rel, "campaigns/report/") {
		return "campaigns/report"
	}
	top, _, _ := strings.Cut(rel, "/")
	return top
}

type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func TestImportsPointOneWay(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-json", module+"/...") // -e: an import cycle is reported as a wrong edge, not a failed go list
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	trackDirs(t, "../..")
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := map[string]bool{}
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		trackFiles(t, p)
		from := part(p.ImportPath)
		seen[from] = true
		may, known := allowed[from]
		if !known {
			t.Errorf("package %s is in no part of the import rules: add %q to allowed here and to ARCHITECTURE.md", p.ImportPath, from)
			continue
		}
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue // the standard library and other modules
			}
			if slices.Contains(testOnly, strings.TrimPrefix(imp, module+"/")) {
				t.Errorf("%s imports %s, which only tests may import (ARCHITECTURE.md)", p.ImportPath, imp)
				continue
			}
			to := part(imp)
			if to == from || slices.Contains(may, to) {
				continue
			}
			t.Errorf("%s imports %s: %s may import only %v (ARCHITECTURE.md)", p.ImportPath, imp, from, may)
		}
	}
	// The rules must not outlive the packages: a part with no package left
	// is a rule nobody checks.
	for from := range allowed {
		if !seen[from] {
			t.Errorf("no package is in part %q: remove it from the rules", from)
		}
	}
}

// go test caches a passing result until a file the test itself opened
// changes; it cannot see what the go list child read. trackDirs and
// trackFiles open the directories and Go files go list looked at, so that
// a new package, a new file or an edited import runs the test again.
func trackDirs(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func trackFiles(t *testing.T, p listed) {
	t.Helper()
	for _, name := range p.GoFiles {
		if _, err := os.ReadFile(filepath.Join(p.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}
