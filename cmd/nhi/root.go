package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/tui"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = ""

func toolVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

// versionOf names the build: the release version (ldflags, else the
// module's), and the commit it was built from when the build recorded
// VCS information (go build does, unless -buildvcs=false), so an evidence
// report says which code wrote it (docs/report.md). Without either it says
// so rather than pretend.
func versionOf(release string, bi *debug.BuildInfo) string {
	v := release
	if v == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, at string
	modified := false
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if rev == "" {
		if release == "" && (bi == nil || bi.Main.Version == "" || bi.Main.Version == "(devel)") {
			return v + " (built without VCS information)"
		}
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := v + " (commit " + rev
	if modified {
		out += ", modified"
	}
	if at != "" {
		out += ", " + at
	}
	return out + ")"
}

// app holds what every command shares: the global flags and the streams.
type app struct {
	db       string
	as       string
	readOnly bool
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
}

func defaultDB() string {
	if p := os.Getenv("NHI_DB"); p != "" {
		return p
	}
	return "nhi.db"
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "nhi",
		Short: "Audit non-human identities: snapshot, review, decide, prove",
		Long: `nhi audits non-human identities (GitHub App installations, tokens, deploy keys,
CI secrets, webhooks, runners): connectors snapshot them into one local evidence
file, an auditor reviews them in a terminal UI, and every decision is recorded in
a tamper-evident event log.

Run nhi with no command to open the terminal UI on the evidence file.`,
		Example: `  nhi demo                          # try it on a built-in sample organisation
  nhi snapshot github --org acme    # read a real organisation (token from GITHUB_TOKEN)
  nhi identities --json             # every identity, for scripts
  nhi verify                        # check the event log has not been edited`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.openTUI(cmd.Context(), false)
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.db, "db", defaultDB(), "evidence file (env NHI_DB)")
	root.PersistentFlags().StringVar(&a.as, "as", "", "who is acting, for the event log (env NHI_REVIEWER; default git user.email)")
	root.Flags().BoolVar(&a.readOnly, "readonly", false, "open the terminal UI without any way to write")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{command: cmd.CommandPath(), err: err}
	})
	root.AddCommand(
		newDemoCmd(a),
		newSnapshotCmd(a),
		newIdentitiesCmd(a),
		newOwnerCmd(a),
		newPolicyCmd(a),
		newDiffCmd(a),
		newSnapshotsCmd(a),
		newCampaignCmd(a), newDecideCmd(a),
		newNoteCmd(a),
		newExportCmd(a),
		newVerifyCmd(a),
		newVersionCmd(a),
	)
	wrapArgs(root)
	return root
}

// wrapArgs turns every positional-argument error into a usage error, so a
// wrong call exits 2 like a wrong flag does.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{command: cmd.CommandPath(), err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// open opens the evidence file named by --db.
func (a *app) open(ctx context.Context, opts audit.OpenOptions) (*audit.Store, error) {
	return audit.Open(ctx, a.db, opts)
}

// actor is who the event log will say acted.
func (a *app) actor() (string, error) {
	actor := audit.ResolveActor(a.as)
	if actor == "" {
		return "", errors.New("cannot tell who you are: pass --as EMAIL or set NHI_REVIEWER")
	}
	return actor, nil
}

func (a *app) openTUI(ctx context.Context, readOnly bool) error {
	if !isTerminal(a.stdout) {
		return errors.New("the review UI needs a terminal; for scripts use `nhi identities --json`")
	}
	readOnly = readOnly || a.readOnly
	st, err := a.open(ctx, audit.OpenOptions{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := st.LatestSnapshot(ctx)
	if err != nil {
		return err
	}
	// The TUI reads the identities itself, after its first frame.
	reviewer := &campaignReviewer{st: st, tool: "nhi " + toolVersion()}
	// Writes go through st as the CLI's do, in the actor's name; the UI
	// refuses them, saying why, when nobody can be named, and always in a
	// read-only session. The actor also signs the reports exported.
	opts := tui.Options{ReadOnly: readOnly, Store: st, Reviewer: reviewer, Actor: audit.ResolveActor(a.as)}
	return tui.Run(ctx, snap, nil, opts)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print nhi's version and the evidence-file schema it writes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "nhi %s (evidence schema v%d)\n", toolVersion(), audit.SchemaVersion)
			return nil
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
