package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// TestHelpFilter: nhi help filter carries the field table docs/filter.md
// has (both from the filter package's list), its examples parse, and a
// bad filter points to it and exits 2.
func TestHelpFilter(t *testing.T) {
	t.Parallel()
	for _, e := range filterExamples {
		if _, err := parseFilterArg(e.expr); err != nil {
			t.Errorf("example %q does not parse: %v", e.expr, err)
		}
	}
	r := ok(t, "help", "filter")
	if !strings.Contains(r.stdout, filter.FieldsText()) {
		t.Errorf("nhi help filter lacks the field table:\n%s", r.stdout)
	}
	for _, want := range []string{"perm.contents:write", "unused>90d", "status:removed", "finding:stale -owner:none"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nhi help filter does not mention %s", want)
		}
	}
	r = nhi(t, nil, "identities", "--filter", "kind:deploy_key (owner:none", "--db", campaignDB(t, 1))
	if r.code != 2 || !strings.Contains(r.stderr, "Run 'nhi help filter' for the filter language.") || strings.Contains(r.stderr, "filter --help") {
		t.Errorf("a bad filter: exit %d\n%s", r.code, r.stderr)
	}
	// A decision: term with no campaign in view is the filter's mistake
	// too: the hint names nhi help filter, never a command "filter".
	r = nhi(t, nil, "identities", "--filter", "decision:keep", "--db", campaignDB(t, 1))
	if r.code != 2 || !strings.Contains(r.stderr, "no campaign in view") || !strings.Contains(r.stderr, "Run 'nhi help filter' for the filter language.") || strings.Contains(r.stderr, "filter --help") {
		t.Errorf("decision: with no campaign in view: exit %d\n%s", r.code, r.stderr)
	}
}

// TestHelpPolicy: nhi help policy names every key and every rule, and a
// typo in a policy file says which key and the nearest one.
func TestHelpPolicy(t *testing.T) {
	t.Parallel()
	r := ok(t, "help", "policy")
	for _, want := range []string{"first_party_apps", "never_used_days", "severity", "review", "min_reason_chars", "max_decisions_per_minute"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nhi help policy does not mention %s", want)
		}
	}
	for rule := range audit.DefaultPolicy().Rules {
		if !strings.Contains(r.stdout, "  "+rule+":\n") {
			t.Errorf("nhi help policy does not list rule %s", rule)
		}
	}
	db := campaignDB(t, 1)
	f := writeFile(t, "policy.yaml", "version: 1\nrules:\n  stale:\n    unused_dayz: 30\n")
	refused(t, 1, `line 4: unknown key "unused_dayz" in a rule; did you mean "unused_days"?`, "policy", "set", f, "--db", db, "--as", "lead")
	if r := nhi(t, nil, "policy", "set", f, "--db", db, "--as", "lead"); strings.Contains(r.stderr, "audit.") {
		t.Errorf("a policy typo names a Go type:\n%s", r.stderr)
	}
}

// TestRootHelpNamesTheStores: --db takes a PostgreSQL URL as well as a
// file, and nhi log says what it does, in nhi --help.
func TestRootHelpNamesTheStores(t *testing.T) {
	t.Parallel()
	r := ok(t, "--help")
	for _, want := range []string{"--db string                evidence file, or a PostgreSQL URL (postgres://…; env NHI_DB)", "log         Read the event log's head, to cite and check later"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nhi --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestDecideHelpNamesEverySeparationRule: nhi decide --help names each
// rule that refuses a reviewer (owner, alias, team, creator), not the
// owner alone.
func TestDecideHelpNamesEverySeparationRule(t *testing.T) {
	t.Parallel()
	said := strings.Join(strings.Fields(ok(t, "decide", "--help").stdout), " ")
	for _, want := range []string{"You may not decide an identity you own", "any alias the directory of people gives you",
		"nor one a team you belong to owns", "nor any in a campaign you created unless it was created with --allow-admin-review"} {
		if !strings.Contains(said, want) {
			t.Errorf("nhi decide --help lacks %q:\n%s", want, said)
		}
	}
}

// TestCampaignCreateHelpSaysSnapshotOnce: --snapshot's default is said
// in words, once, and its value is named ID, not pflag's type.
func TestCampaignCreateHelpSaysSnapshotOnce(t *testing.T) {
	t.Parallel()
	r := ok(t, "campaign", "create", "--help")
	if !strings.Contains(r.stdout, "--snapshot ID ") || strings.Contains(r.stdout, "int64Slice") || strings.Contains(r.stdout, "(default [])") {
		t.Errorf("nhi campaign create --help:\n%s", r.stdout)
	}
}

// TestHelpFitsEightyColumns: each command's --help fits a terminal of 80
// columns, where a longer line wraps in the middle of a sentence or a
// command: what it says of itself (nhi help filter's field table, the
// filter package's FieldsText, included), its usage line, its examples
// (which ran to 114 columns), the commands under it and its flags. nhi
// policy's own text is the policy file's YAML and comments, as nhi policy
// show prints them, and is left as it is.
func TestHelpFitsEightyColumns(t *testing.T) {
	t.Setenv("COLUMNS", "80") // flags wrap at the terminal (TestHelpFlagsWrapAtTheTerminal)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden {
			text := c.Long
			if text == "" || c.CommandPath() == "nhi policy" {
				text = c.Short
			}
			// UsageString: the usage line, the examples, the commands
			// under it with their Short, the flags.
			for _, line := range strings.Split(text+"\n"+c.UsageString(), "\n") {
				if w := utf8.RuneCountInString(line); w > 80 {
					t.Errorf("%s --help: a line of %d columns: %q", c.CommandPath(), w, line)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
}

// TestHelpFlagsWrapAtTheTerminal: each command's flags, in its --help,
// wrap their descriptions under themselves at the terminal's width (here
// COLUMNS=80), where cobra printed each on one line (200 columns for
// demo's --history) that the terminal broke at its edge; in a pipe each
// flag is one line, whole, for grep.
func TestHelpFlagsWrapAtTheTerminal(t *testing.T) {
	flagLines := func(usage string) (lines []string) {
		in := false
		for _, l := range strings.Split(usage, "\n") {
			switch {
			case l == "Flags:" || l == "Global Flags:":
				in = true
			case l == "":
				in = false
			case in:
				lines = append(lines, l)
			}
		}
		return lines
	}
	var walk func(c *cobra.Command, width int)
	walk = func(c *cobra.Command, width int) {
		for _, l := range flagLines(c.UsageString()) {
			if w := utf8.RuneCountInString(l); width > 0 && w > width || width == 0 && !strings.HasPrefix(strings.TrimSpace(l), "-") {
				t.Errorf("%s --help at width %d: %q", c.CommandPath(), width, l)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub, width)
		}
	}
	t.Setenv("COLUMNS", "80")
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard), 80)
	t.Setenv("COLUMNS", "")
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard), 0)
}

// TestHelpExamplesParse: every nhi line of every command's Examples names
// a command that exists, with flags it has and as many arguments as it
// takes, as the docs' shell blocks must (TestDocsCommandsParse): a new
// user copies them first.
func TestHelpExamplesParse(t *testing.T) {
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		example := strings.ReplaceAll(c.Example, "\\\n", " ")
		for _, line := range strings.Split(example, "\n") {
			for _, words := range nhiCommands(line) {
				n++
				if err := parsesWithArgs(words); err != nil {
					t.Errorf("%s --help: %q: %v", c.CommandPath(), strings.Join(words, " "), err)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	if n < 40 {
		t.Errorf("found only %d nhi lines in the commands' examples: is the scan broken?", n)
	}
}

// parsesWithArgs is parses, and the command's check of its arguments.
func parsesWithArgs(words []string) error {
	if err := parses(words); err != nil {
		return err
	}
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(words)
	if err != nil {
		return err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

// TestHelpRefusesATopicItDoesNotKnow: nhi help with a topic it does not
// know is refused as a mistyped command is (exit 2, the nearest topic
// named, nothing on stdout), where it printed nhi's own help and exited
// 0; the topics it knows still print theirs.
func TestHelpRefusesATopicItDoesNotKnow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"help", "filtr"}, `unknown help topic "filtr" for "nhi"; did you mean filter?` + "\nRun 'nhi --help' for usage.\n"},
		{[]string{"help", "polcy"}, `did you mean policy?`},
		{[]string{"help", "xyzzy"}, `unknown help topic "xyzzy" for "nhi"` + "\n"},
		{[]string{"help", "snapshot", "gitlab"}, `unknown help topic "gitlab" for "nhi snapshot"; did you mean github?` + "\nRun 'nhi snapshot --help' for usage.\n"},
	} {
		r := nhi(t, nil, c.args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, c.says) {
			t.Errorf("nhi %s: exit %d, want 2 saying %q\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), r.code, c.says, r.stdout, r.stderr)
		}
	}
	for args, says := range map[string]string{
		"help":                 "Run nhi with no command to open the terminal UI",
		"help filter":          "One language selects identities everywhere in nhi",
		"help policy":          "The policy holds every threshold",
		"help campaign create": "nhi campaign create NAME --scope EXPR",
	} {
		if r := ok(t, strings.Fields(args)...); !strings.Contains(r.stdout, says) {
			t.Errorf("nhi %s does not say %q:\n%s", args, says, r.stdout)
		}
	}
}

// TestCampaignShortNamesEverySubcommand: nhi --help lists what nhi
// campaign does as a list of its commands, which a reader takes for all
// of them: it left out remind and escalate.
func TestCampaignShortNamesEverySubcommand(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	for _, c := range root.Commands() {
		if c.Name() != "campaign" {
			continue
		}
		_, list, _ := strings.Cut(c.Short, ": ")
		named := map[string]bool{}
		for _, w := range strings.Split(list, ", ") {
			named[w] = true
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden && !named[sub.Name()] {
				t.Errorf("nhi --help says campaign does %q, leaving out %s", list, sub.Name())
			}
		}
		return
	}
	t.Fatal("no campaign command")
}

// TestMissingArgumentsShowTheUsage: every command that needs arguments,
// run with none, is a usage error (exit 2) that says what it expected
// and ends with its usage line, as nhi note list does; nhi decide and nhi
// offboard, which count their arguments themselves (what they take
// depends on their flags), said what they expected with no usage line.
func TestMissingArgumentsShowTheUsage(t *testing.T) {
	needing := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Args != nil {
			if err := c.Args(c, nil); err != nil {
				needing++
				var usage usageError
				if !errors.As(err, &usage) {
					t.Errorf("%s with no arguments: %v is no usage error", c.CommandPath(), err)
				}
				line := strings.TrimSuffix(c.UseLine(), " [flags]")
				if !strings.HasSuffix(err.Error(), ": the usage is "+line) {
					t.Errorf("%s with no arguments says %q, not its usage line %q", c.CommandPath(), err, line)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	if needing < 15 {
		t.Errorf("only %d commands need arguments: the walk missed the command tree", needing)
	}
	refused(t, 2, "expected CAMPAIGN ID DECISION, got 0 arguments: the usage is nhi decide CAMPAIGN ID ", "decide")
	refused(t, 2, "got 0 arguments: the usage is nhi offboard PERSON | --scope EXPR | --pending\n", "offboard")
}
