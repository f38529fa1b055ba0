package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
