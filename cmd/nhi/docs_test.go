package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/pflag"
)

// TestDocsScripts runs the walks of the README and docs/*.md as a user
// types them, against the sample organisation (nhi demo), with the real
// binary: testscript files in testdata/docs (go test ./cmd/nhi -run
// TestDocsScripts). A command the docs show and the binary no longer takes
// fails here.
func TestDocsScripts(t *testing.T) {
	bin := nhiBinary(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/docs",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("NHI_DB", filepath.Join(env.WorkDir, "nhi.db"))
			// The table cache the snapshots prepare, in the script's own
			// folder (README, "The table cache").
			env.Setenv("NHI_CACHE_DIR", filepath.Join(env.WorkDir, ".cache", "nhi", "tables"))
			return nil
		},
	})
}

// TestDocsCommandsParse: every nhi command line in the README's and
// docs/*.md's shell blocks names a command nhi has, with flags it takes
// (placeholders such as ORG and NAME stand for arguments). A renamed flag
// or command makes the docs lie; this test says which line.
func TestDocsCommandsParse(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	n := 0
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inBlock := false
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inBlock = !inBlock
				continue
			}
			if !inBlock {
				continue
			}
			for _, words := range nhiCommands(line) {
				n++
				if err := parses(words); err != nil {
					t.Errorf("%s:%d: %q: %v", filepath.Base(path), i+1, strings.Join(words, " "), err)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("found only %d nhi command lines in the docs: is the scan broken?", n)
	}
}

// nhiCommands splits a shell line into the nhi commands it runs: segments
// between &&, ||, | and ; that start with nhi (or go run ./cmd/nhi), each
// without its comment and redirections.
func nhiCommands(line string) [][]string {
	words := shellWords(line)
	var out [][]string
	var cur []string
	flush := func() {
		// nhi, then a command or a flag: a screen's title line ("nhi ·
		// 4 sources") is not a command.
		if len(cur) > 0 && cur[0] == "nhi" && (len(cur) == 1 || cur[1] != "" && (cur[1][0] == '-' || cur[1][0] >= 'a' && cur[1][0] <= 'z')) {
			out = append(out, cur[1:])
		}
		cur = nil
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "#" || strings.HasPrefix(w, "#") && len(cur) > 0:
			flush()
			return out
		case w == "&&" || w == "||" || w == "|" || w == ";":
			flush()
		case w == ">" || w == ">>" || w == "<" || w == "2>":
			i++ // and its file
		case strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>"):
		case len(cur) == 0 && (w == "$" || strings.Contains(w, "=") && !strings.HasPrefix(w, "-")):
			// a prompt, or an environment assignment before the command
		case len(cur) == 0 && w == "go" && i+2 < len(words) && words[i+1] == "run" && words[i+2] == "./cmd/nhi":
			cur = []string{"nhi"}
			i += 2
		default:
			cur = append(cur, w)
		}
	}
	flush()
	return out
}

// shellWords splits a line as sh would, for quotes: 'a b' and "a b" are
// one word each, and #, &&, |, ; and > stand alone when spaced.
func shellWords(line string) []string {
	var words []string
	var b strings.Builder
	quote := rune(0)
	in := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			b.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}

// parses finds the command and parses its flags without running it.
func parses(args []string) error {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		return unknownCommand(root, rest)
	}
	return cmd.ParseFlags(rest)
}

// TestDocsWalked: every nhi command the shell blocks of docs/*.md show is
// walked by that doc's testscript (testdata/docs/NAME.txtar): some exec
// line there runs the same command with at least the flags the doc
// gives it (the values may differ: the doc's placeholders become the
// sample organisation's). A command that cannot run here (it needs a real
// GitHub organisation, cluster or key) is named, with the reason, in a
// comment just before its block:
//
//	<!-- not walked: nhi snapshot github — needs a GitHub organisation -->
//
// so the exceptions are few and each says why.
func TestDocsWalked(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	walked := 0
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".md")
		var shown []docCommand
		var exempt, pending map[string]bool
		inBlock := false
		lines := strings.Split(string(raw), "\n")
		for i := 0; i < len(lines); i++ {
			line := lines[i]
			trim := strings.TrimSpace(line)
			if reason, ok := strings.CutPrefix(trim, "<!-- not walked: "); ok {
				cmd, why, found := strings.Cut(strings.TrimSuffix(reason, " -->"), " — ")
				if !found || strings.TrimSpace(why) == "" {
					t.Errorf("%s:%d: a not-walked mark says why: <!-- not walked: nhi CMD — REASON -->", filepath.Base(path), i+1)
				}
				if pending == nil {
					pending = map[string]bool{}
				}
				pending[strings.TrimSpace(cmd)] = true
				continue
			}
			if strings.HasPrefix(trim, "```") {
				inBlock = !inBlock
				if inBlock {
					exempt, pending = pending, nil
				}
				continue
			}
			if !inBlock {
				continue
			}
			// A command continued on the next lines is one command.
			at := i + 1
			for strings.HasSuffix(strings.TrimSpace(line), "\\") && i+1 < len(lines) {
				i++
				line = strings.TrimSuffix(strings.TrimSpace(line), "\\") + " " + lines[i]
			}
			for _, words := range nhiCommands(line) {
				c, err := commandOf(words)
				if err != nil {
					continue // TestDocsCommandsParse says why
				}
				if exempt[c.path] {
					continue
				}
				c.where = fmt.Sprintf("%s:%d", filepath.Base(path), at)
				shown = append(shown, c)
			}
		}
		if len(shown) == 0 {
			continue
		}
		script := filepath.Join("testdata", "docs", name+".txtar")
		ran, err := scriptCommands(script)
		if err != nil {
			t.Errorf("docs/%s.md shows %d nhi commands and has no walk: %v", name, len(shown), err)
			continue
		}
		for _, c := range shown {
			if !slices.ContainsFunc(ran, c.coveredBy) {
				t.Errorf("%s: %q (flags %v) is run by no line of %s", c.where, c.path, c.flags, script)
			}
			walked++
		}
	}
	if walked < 30 {
		t.Errorf("only %d commands of docs/*.md are walked: is the scan broken?", walked)
	}
}

// docCommand is an nhi command as a doc shows or a script runs it: its
// command path and the flags it sets.
type docCommand struct {
	path  string
	flags []string
	where string
}

func (c docCommand) coveredBy(r docCommand) bool {
	if r.path != c.path {
		return false
	}
	for _, f := range c.flags {
		if !slices.Contains(r.flags, f) {
			return false
		}
	}
	return true
}

// commandOf finds the command args name and the flags they set.
func commandOf(args []string) (docCommand, error) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return docCommand{}, err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return docCommand{}, err
	}
	c := docCommand{path: cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name != "db" && f.Name != "as" { // the walk's file and actor, not the doc's point
			c.flags = append(c.flags, f.Name)
		}
	})
	return c, nil
}

// scriptCommands are the nhi commands a testscript file runs (exec nhi,
// ! exec nhi).
func scriptCommands(path string) ([]docCommand, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []docCommand
	for _, line := range strings.Split(string(raw), "\n") {
		words := shellWords(line)
		if len(words) > 0 && words[0] == "!" {
			words = words[1:]
		}
		if len(words) < 2 || words[0] != "exec" || words[1] != "nhi" {
			continue
		}
		if c, err := commandOf(words[2:]); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}
