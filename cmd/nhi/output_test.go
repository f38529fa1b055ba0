package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryJSONCommandTakesOutput: a kubectl or gh user types -o json on
// any command that prints JSON; every command with --json has -o/--output.
func TestEveryJSONCommandTakesOutput(t *testing.T) {
	withJSON := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.LocalFlags().Lookup("json") != nil {
			withJSON++
			if o := c.LocalFlags().Lookup("output"); o == nil || o.Shorthand != "o" {
				t.Errorf("%s has --json but not -o/--output", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	if withJSON < 15 {
		t.Errorf("only %d commands have --json: the walk missed the command tree", withJSON)
	}
}

// TestOutputJSONIsTheJSONFlag: -o json prints what --json prints, -o with
// the default format's name what no flag prints, on the lists and records
// that had only --json; a format a command does not print is refused,
// naming those it does, and so is --json with another -o.
func TestOutputJSONIsTheJSONFlag(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--repos", "6")
	for _, c := range []struct {
		args []string
		text string
		wide bool // it prints -o wide too
	}{
		{[]string{"snapshots"}, "table", false},
		{[]string{"snapshots", "show", "1"}, "text", false},
		{[]string{"diff"}, "text", false},
		{[]string{"people", "list"}, "table", false},
		{[]string{"offboard", "--pending"}, "text", true},
		{[]string{"policy", "show"}, "text", false},
		{[]string{"exception", "list", "demo-deploy-keys"}, "table", true},
		{[]string{"campaign", "sample", "demo-deploy-keys", "--size", "2", "--seed", "s"}, "text", false},
	} {
		run := func(extra ...string) string {
			return ok(t, append(append([]string{"--db", db}, c.args...), extra...)...).stdout
		}
		name := strings.Join(c.args, " ")
		if j, o := run("--json"), run("-o", "json"); j != o || !strings.HasPrefix(strings.TrimSpace(j), "[") && !strings.HasPrefix(strings.TrimSpace(j), "{") {
			t.Errorf("nhi %s: -o json printed\n%.300s\nwant what --json printed\n%.300s", name, o, j)
		}
		if d, o := run(), run("--output", c.text); d != o {
			t.Errorf("nhi %s: -o %s printed\n%.300s\nwant the default\n%.300s", name, c.text, o, d)
		}
		args := append([]string{"--db", db}, c.args...)
		formats := c.text + ", json"
		if c.wide {
			formats = c.text + ", wide, json"
		}
		refused(t, 2, `unknown output format "yaml": use one of `+formats, append(args, "-o", "yaml")...)
		refused(t, 2, "--json and -o "+c.text+" say different things", append(args, "--json", "-o", c.text)...)
	}
}
