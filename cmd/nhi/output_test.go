package main

import (
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
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
// naming those it does, and so is --json with another -o. The default is
// "table" on every command, lists and results alike (campaign verify
// said "text" where identities said "table"), but policy show's yaml.
func TestOutputJSONIsTheJSONFlag(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--repos", "6")
	for _, c := range []struct {
		args []string
		text string
		wide bool // it prints -o wide too
	}{
		{[]string{"snapshots"}, "table", false},
		{[]string{"snapshots", "show", "1"}, "table", false},
		{[]string{"diff"}, "table", false},
		{[]string{"people", "list"}, "table", false},
		{[]string{"offboard", "--pending"}, "table", true},
		{[]string{"policy", "show"}, "yaml", false},
		{[]string{"exception", "list", "demo-deploy-keys"}, "table", true},
		{[]string{"campaign", "sample", "demo-deploy-keys", "--size", "2", "--seed", "s"}, "table", false},
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
		// "text", the name some gave their default before, prints it.
		if d, o := run(), run("-o", "text"); c.text != "yaml" && d != o {
			t.Errorf("nhi %s: -o text printed\n%.300s\nwant the default\n%.300s", name, o, d)
		}
		args := append([]string{"--db", db}, c.args...)
		if c.text != "yaml" {
			refused(t, 2, `unknown output format "yaml": use one of `+c.text, append(args, "-o", "yaml")...)
		}
		formats := c.text + ", json"
		if c.wide {
			formats = c.text + ", wide, json"
		}
		refused(t, 2, `unknown output format "xml": use one of `+formats, append(args, "-o", "xml")...)
		refused(t, 2, "--json and -o "+c.text+" say different things", append(args, "--json", "-o", c.text)...)
	}
	for _, args := range [][]string{{"campaign", "verify", "demo-deploy-keys"}, {"campaign", "create", "x"}, {"note", "list", "x"}, {"people", "show", "x"}} {
		refused(t, 2, `unknown output format "yaml": use one of table, json`, append(append([]string{"--db", db}, args...), "-o", "yaml")...)
	}
}

// TestPolicyShowTakesYAML: nhi policy show prints YAML, and -o yaml says
// so, as kubectl's -o yaml does: it prints what no flag prints, a file
// policy set takes back; -o text, the format's name before, prints the
// same; the help names yaml and json.
func TestPolicyShowTakesYAML(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	plain := ok(t, "policy", "show", "--db", db).stdout
	y := ok(t, "policy", "show", "--db", db, "-o", "yaml").stdout
	if y != plain || !strings.Contains(y, "version: ") {
		t.Errorf("-o yaml printed\n%.300s\nwant what no flag prints\n%.300s", y, plain)
	}
	if p, err := audit.ParsePolicy([]byte(y)); err != nil {
		t.Errorf("-o yaml printed no policy: %v", err)
	} else if d := ok(t, "policy", "show", "--db", db, "-o", "json").stdout; !strings.Contains(d, `"version": `+strconv.Itoa(p.Version)) {
		t.Errorf("-o json printed another policy than -o yaml:\n%.300s", d)
	}
	if txt := ok(t, "policy", "show", "--db", db, "--output", "text").stdout; txt != plain {
		t.Errorf("-o text printed\n%.300s\nwant what no flag prints", txt)
	}
	if h := ok(t, "policy", "show", "--help").stdout; !strings.Contains(h, "yaml (the default) or json") {
		t.Errorf("the help does not name -o's formats:\n%s", h)
	}
}
