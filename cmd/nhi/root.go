package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
// module's, which go build derives from the checkout's tag or commit), and
// the commit it was built from when the build recorded VCS information
// (go build does, unless -buildvcs=false), so an evidence report says which
// code wrote it (docs/report.md). A build from a checkout without a tag is
// named by its commit, never "dev"; without any of these it says so rather
// than pretend.
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
	if rev == "" {
		if v == "" {
			return "unversioned (built without VCS information)"
		}
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	var details []string
	if v == "" {
		v = "commit " + rev
	} else {
		details = append(details, "commit "+rev)
	}
	if modified {
		details = append(details, "modified")
	}
	if at != "" {
		details = append(details, at)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}

// wrappedFlagUsages is the flags of a command's help, each description
// wrapped under itself at the width of the terminal help is printed on
// (nhi's standard output), or COLUMNS; whole in a pipe.
func init() {
	cobra.AddTemplateFunc("wrappedFlagUsages", func(f *pflag.FlagSet) string {
		return strings.TrimRight(f.FlagUsagesWrapped(proseWidth(os.Stdout)), " \t\n")
	})
	// The usage line and each command's Short under "Available Commands"
	// wrap alike, under themselves: at 80 columns they ran to 117.
	cobra.AddTemplateFunc("wrappedUseLine", func(line string) string {
		return hangingWrap(line, proseWidth(os.Stdout), 2, 6)
	})
	cobra.AddTemplateFunc("wrappedShort", func(short string, padding int) string {
		return hangingWrap(short, proseWidth(os.Stdout), 2+padding+1, 2+padding+1)
	})
}

// hangingWrap is text, to be printed after first cells, wrapped at words
// to width, the lines after the first indented by indent, a bracketed
// option ("[--to PERSON]") never broken; whole where width is 0 (a pipe)
// or leaves under 20 cells.
func hangingWrap(text string, width, first, indent int) string {
	if width-indent < 20 || first+len(text) <= width {
		return text
	}
	var words []string
	for _, w := range strings.Fields(text) {
		if n := len(words); n > 0 && strings.Count(words[n-1], "[") > strings.Count(words[n-1], "]") {
			words[n-1] += " " + w
			continue
		}
		words = append(words, w)
	}
	var b strings.Builder
	at := first
	for i, word := range words {
		if i > 0 && at+1+len(word) > width {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			at = indent
		} else if i > 0 {
			b.WriteByte(' ')
			at++
		}
		b.WriteString(word)
		at += len(word)
	}
	return b.String()
}

// app holds what every command shares: the global flags and the streams.
type app struct {
	db       string
	as       string
	readOnly bool
	campaign string  // the UI's campaign (--campaign)
	sign     signing // the UI's signing key (--sign-with, NHI_SIGNING_KEY)
	// recorded says the command recorded a population in the evidence
	// since its table was last prepared (prepare.go).
	recorded bool
	// wrote says the command opened the evidence to write: a command
	// whose output was lost may have recorded (outputLost).
	wrote  bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// stopWatch ends the watch on the output of a readsOnly command
	// (outputgone.go).
	stopWatch func()
}

func defaultDB() string {
	if p := os.Getenv("NHI_DB"); p != "" {
		return p
	}
	return "nhi.db"
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root, _ := newRoot(stdin, stdout, stderr)
	return root
}

// newRoot is the root command, and the app its commands share.
func newRoot(stdin io.Reader, stdout, stderr io.Writer) (*cobra.Command, *app) {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, stopWatch: func() {}}
	root := &cobra.Command{
		Use:   "nhi",
		Short: "Audit non-human identities: snapshot, review, decide, prove",
		Long: `nhi audits non-human identities (GitHub App installations, tokens, deploy
keys, CI secrets, webhooks, runners, cloud keys and roles, Kubernetes service
accounts, certificates): connectors snapshot them into one local evidence
file, an auditor reviews them in a terminal UI, and every decision is
recorded in a tamper-evident event log.

Run nhi with no command to open the terminal UI on the evidence file.`,
		Example: `  nhi demo                          # try it on a built-in sample organisation
  nhi snapshot github --org acme    # a real organisation (token: GITHUB_TOKEN)
  nhi identities -o json            # every identity, for scripts
  nhi verify                        # check the event log has not been edited`,
		Args:          unknownCommand,
		Version:       toolVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.openTUI(cmd.Context(), false)
		},
		PersistentPreRun: func(cmd *cobra.Command, _ []string) { a.watchReads(cmd) },
	}
	root.SetVersionTemplate(fmt.Sprintf("nhi {{.Version}} (evidence schema v%d)\n", audit.SchemaVersion))
	// The flags' descriptions wrap under themselves at the terminal's
	// width (or COLUMNS), as gh's do, where a line of 200 columns wrapped
	// at the terminal's edge; in a pipe each is one line, whole. So do
	// the usage line and the commands' Shorts.
	root.SetUsageTemplate(strings.NewReplacer(
		"{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}", "{{wrappedFlagUsages .LocalFlags}}",
		"{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}", "{{wrappedFlagUsages .InheritedFlags}}",
		"{{.UseLine}}", "{{wrappedUseLine .UseLine}}",
		"{{rpad .Name .NamePadding }} {{.Short}}", "{{rpad .Name .NamePadding }} {{wrappedShort .Short .NamePadding}}").Replace(root.UsageTemplate()))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	a.db = defaultDB()
	root.PersistentFlags().Var(dbFlag{&a.db}, "db", "evidence file, or a PostgreSQL URL (postgres://…; env NHI_DB)")
	root.PersistentFlags().Var(actorFlag(&a.as), "as", "who is acting, for the event log (env NHI_REVIEWER; default git user.email)")
	root.Flags().BoolVar(&a.readOnly, "readonly", false, "open the terminal UI without any way to write")
	root.Flags().StringVar(&a.campaign, "campaign", "", "open the terminal UI on a campaign: your items in it, to decide")
	root.Flags().StringVar(&a.sign.keyPath, "sign-with", "", "sign the UI's decisions with this SSH key: a private key file, or a public key whose private half is in ssh-agent (env "+signingKeyEnv+")")
	root.Flags().StringVar(&a.sign.allowedSigners, "allowed-signers", "", "an allowed_signers file listing your key, when the directory of people does not list it")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{command: cmd.CommandPath(), err: flagSuggestion(cmd, err)}
	})
	root.AddCommand(
		newDemoCmd(a),
		newSnapshotCmd(a),
		newImportCmd(a),
		newIdentitiesCmd(a),
		newOwnerCmd(a),
		newPolicyCmd(a),
		newDiffCmd(a),
		newSnapshotsCmd(a),
		newCampaignCmd(a), newDecideCmd(a), newExceptionCmd(a), newOffboardCmd(a),
		newNoteCmd(a),
		newPeopleCmd(a), newSignatureCmd(a),
		newExportCmd(a),
		newVerifyCmd(a),
		newDBCmd(a),
		newLogCmd(a),
		newVersionCmd(a),
		newFilterHelp(),
	)
	wrapArgs(root)
	helpKnowsItsTopics(root)
	preparesTable(root, a)
	addCompletions(root, a)
	markReadsOnly(root)
	return root, a
}

// dbFlag is --db: a value given empty (or blank) is a usage error, as a
// person flag's is, never a store nhi fails to open (exit 1): a script
// that passes an empty variable named no store.
type dbFlag struct{ path *string }

func (f dbFlag) String() string { return *f.path }
func (f dbFlag) Type() string   { return "string" }

func (f dbFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("an empty --db names no evidence: give a file or a postgres:// URL, or leave --db out (then NHI_DB, else ./nhi.db)")
	}
	*f.path = v
	return nil
}

// personFlag is a flag that names a person: --as, who is acting, and
// export's --signer, who attests. A value given empty (or blank) is a
// usage error naming the flag, never read as the flag left out: a script
// that passes an empty variable means to name someone, and falling back
// to the default (NHI_REVIEWER, git's user.email) would record someone
// else as having decided or attested. An empty NHI_REVIEWER is unset, as
// for any variable (audit.ResolveActorSource; docs/people.md, "The actor
// is a person"). leftOut says what leaving the flag out does.
type personFlag struct {
	name    *string
	leftOut string
}

// actorFlag is --as.
func actorFlag(name *string) personFlag {
	return personFlag{name, "leave --as out (then NHI_REVIEWER, else git's user.email)"}
}

func (f personFlag) String() string { return *f.name }
func (f personFlag) Type() string   { return "string" }

func (f personFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("an empty name is no one, and nhi puts no one else in its place: name someone, or " + f.leftOut)
	}
	*f.name = v
	return nil
}

// wrapArgs turns every positional-argument error into a usage error, so a
// wrong call exits 2 like a wrong flag does. cobra's own count checks
// ("accepts 1 arg(s), received 0") say "1 argument" and get the usage
// line, which names the arguments the command wants (nhi note list ID). A group of commands
// (nhi campaign) given a word it does not know says so, with the nearest
// command, instead of printing its help and exiting 0.
func wrapArgs(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		c.Args = unknownCommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil {
				return nil
			}
			if msg, ok := cobraArgCount(err.Error()); ok {
				err = fmt.Errorf("%s: the usage is %s", msg, strings.TrimSuffix(cmd.UseLine(), " [flags]"))
			} else if errors.As(err, new(wrongArgCount)) {
				err = fmt.Errorf("%w: the usage is %s", err, strings.TrimSuffix(cmd.UseLine(), " [flags]"))
			} else if noArguments(cmd, args, err) && cmd.HasSubCommands() {
				err = unknownCommand(cmd, args) // with the nearest commands
			} else if noArguments(cmd, args, err) {
				// cobra.NoArgs calls a word "unknown command", where the
				// command has none: the word is an argument it does not take.
				msg := fmt.Sprintf("%s takes no arguments, and was given %q", cmd.CommandPath(), args[0])
				if cmd.Flags().Lookup("filter") != nil {
					msg += "; to select identities, pass the filter as --filter " + shellQuote(strings.Join(args, " "))
				}
				err = errors.New(msg)
			}
			return usageError{command: cmd.CommandPath(), err: err}
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// wrongArgCount is a command's own count of its arguments gone wrong
// ("expected CAMPAIGN ID DECISION, got 0 arguments", where what it takes
// depends on its flags): wrapArgs adds the usage line, as to cobra's.
type wrongArgCount struct{ error }

// helpKnowsItsTopics makes nhi help refuse a topic it does not know, as
// a mistyped command is refused: exit 2, naming the nearest topics (nhi
// help filtr: did you mean filter?). cobra's help printed nhi's own help
// for it and exited 0, as if the topic were that.
func helpKnowsItsTopics(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, help := range root.Commands() {
		if help.Name() != "help" || help.Run == nil {
			continue
		}
		show := help.Run
		help.Run = nil
		help.RunE = func(cmd *cobra.Command, args []string) error {
			found, rest, err := root.Find(args)
			if err == nil && len(rest) > 0 {
				err = unknownCommand(found, rest)
			}
			if err != nil {
				msg := strings.Replace(err.Error(), "unknown command", "unknown help topic", 1)
				if !strings.Contains(msg, "did you mean") && len(rest) > 0 {
					// cobra suggests commands only; filter is a topic.
					var topics []string
					for _, c := range found.Commands() {
						if !c.Runnable() && !c.HasSubCommands() {
							topics = append(topics, c.Name())
						}
					}
					if near := audit.Nearest(rest[0], topics); near != "" {
						msg += "; did you mean " + near + "?"
					}
				}
				return usageError{command: found.CommandPath(), err: errors.New(msg)}
			}
			show(cmd, args)
			return nil
		}
	}
}

// noArguments reports whether err is cobra.NoArgs's refusal of args by
// cmd.
func noArguments(cmd *cobra.Command, args []string, err error) bool {
	return len(args) > 0 && err.Error() == fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
}

// shellQuote quotes s for a POSIX shell, as a user would type it.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// flagSuggestion adds the nearest flag to pflag's "unknown flag: --x".
func flagSuggestion(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var known []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	if near := audit.Nearest(name, known); near != "" {
		return fmt.Errorf("%w; did you mean --%s?", err, near)
	}
	return err
}

// unknownCommand refuses arguments to a command that takes none but has
// subcommands, naming the nearest subcommands as flags, topics and policy
// keys are named (audit.NearestAll: a typo away, or a prefix). cobra's
// own suggestions (SuggestionsFor) take any name two edits away, however
// short the word: nhi foo suggested log.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if s := audit.NearestAll(args[0], names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return errors.New(msg)
}

// open opens the evidence file named by --db.
func (a *app) open(ctx context.Context, opts audit.OpenOptions) (*audit.Store, error) {
	if opts.BusyTimeout == 0 {
		d, err := busyTimeoutFromEnv()
		if err != nil {
			return nil, err
		}
		opts.BusyTimeout = d
	}
	st, err := audit.Open(ctx, a.db, opts)
	a.wrote = a.wrote || (err == nil && !opts.ReadOnly)
	if errors.Is(err, audit.ErrNotExist) || errors.Is(err, audit.ErrNoConnection) || errors.Is(err, audit.ErrBadURL) {
		if env := os.Getenv("NHI_DB"); env != "" && env == a.db {
			// The user may not remember setting it: the message names a
			// store they never typed.
			err = fmt.Errorf("%w\n(The store named by NHI_DB, set in your environment: unset it for ./nhi.db, or pass --db.)", err)
		}
	}
	return st, err
}

// busyTimeoutEnv says how long a write waits, each of its tries, for
// another process's write lock on an evidence file (audit.OpenOptions
// BusyTimeout; 10 s when unset): longer where a long snapshot and
// reviewers share one file, shorter in scripts that prefer to fail fast.
const busyTimeoutEnv = "NHI_BUSY_TIMEOUT"

func busyTimeoutFromEnv() (time.Duration, error) {
	v := os.Getenv(busyTimeoutEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a duration such as 30s: set it to how long a write waits for a busy evidence file, or unset it for 10s", busyTimeoutEnv, v)
	}
	return d, nil
}

// openAs opens the evidence file named by --db for a command that writes
// in someone's name, and says who: the one place where the actor is
// resolved (--as, NHI_REVIEWER, git user.email, the OS user). Once the file
// has a directory of people, the name must be one of a person's aliases,
// and the actor is that person (their e-mail); a name the directory does
// not know is refused before anything is written. On PostgreSQL the name
// is the database session's role (sessionName). The caller closes the
// store.
func (a *app) openAs(ctx context.Context, opts audit.OpenOptions) (*audit.Store, string, error) {
	name, source := audit.ResolveActorSource(a.as)
	if name == "" {
		return nil, "", errors.New("cannot tell who you are: pass --as EMAIL or set NHI_REVIEWER")
	}
	st, err := a.open(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	name, source, err = a.sessionName(ctx, st, name, source)
	if err != nil {
		st.Close()
		return nil, "", err
	}
	actor, err := resolvePerson(ctx, st, name, source)
	if err != nil {
		st.Close()
		return nil, "", err
	}
	return st, actor, nil
}

// sessionName is who acts on st, given the name and source
// ResolveActorSource found: on PostgreSQL the role the database
// authenticated, which a name given with --as or NHI_REVIEWER may only
// narrow (audit.Store.SessionActor, docs/team.md); on a file, the name.
func (a *app) sessionName(ctx context.Context, st *audit.Store, name, source string) (string, string, error) {
	narrow := ""
	if source == "--as" || source == "NHI_REVIEWER" {
		narrow = name
	}
	who, ok, err := st.SessionActor(ctx, narrow)
	if err != nil || !ok {
		return name, source, err
	}
	if narrow != "" {
		return who, "the database session, narrowed by " + source, nil
	}
	return who, "the database session", nil
}

// resolvePerson turns the name someone acts under into the person the
// directory knows, or refuses it; with no directory the name stands.
func resolvePerson(ctx context.Context, st *audit.Store, name, source string) (string, error) {
	dir, err := st.People(ctx)
	if err != nil {
		return "", err
	}
	if dir.Len() == 0 {
		return name, nil
	}
	if p := dir.Lookup(name); p != nil {
		if p.Status == audit.PersonLeft {
			return "", fmt.Errorf("you are acting as %q (from %s), and %s %s according to the directory of people, so nothing was written",
				audit.Printable(name), source, p.Email, p.LeftNote())
		}
		return p.Email, nil
	}
	msg := fmt.Sprintf("you are acting as %q (from %s), who is %v (%s), so nothing was written: "+
		"pass --as with one of your aliases, or ask for your row in the people file (nhi people import)",
		audit.Printable(name), source, audit.ErrUnknownPerson, counted(dir.Len(), "person", "people"))
	if s := closestNames(dir, name); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return "", wrapped{msg, audit.ErrUnknownPerson}
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
	if snap == nil {
		// No run finished: the UI names the newest, failed or unfinished,
		// and says why there is nothing to show, where "no snapshot yet"
		// would hide that one was tried.
		if snaps, err := st.Snapshots(ctx); err != nil {
			return err
		} else if len(snaps) > 0 {
			snap = &snaps[0]
		}
	}
	// The TUI reads the identities itself, after its first frame.
	// The UI writes in the name of the person the directory knows; a name
	// it does not know makes the session read-only in effect (every write
	// is refused, saying why).
	actor, source := audit.ResolveActorSource(a.as)
	actor, source, err = a.sessionName(ctx, st, actor, source)
	if err == nil {
		actor, err = resolvePerson(ctx, st, actor, source)
	}
	noActor := ""
	if err != nil {
		fmt.Fprintf(a.stderr, "nhi: %v\n", err)
		// The line above is gone once the UI takes the screen: a refused
		// write there says it again.
		actor, noActor = "", strings.TrimSuffix(strings.Replace(err.Error(), ", so nothing was written", "", 1), ".")
	}
	reviewer := &campaignReviewer{st: st, tool: "nhi " + toolVersion()}
	if !readOnly {
		// The UI signs decisions as nhi decide does; the passphrase of an
		// encrypted key is asked for now, before the UI takes the screen.
		if reviewer.sign, err = a.sign.load(a); err != nil {
			return err
		}
	}
	// Writes go through st as the CLI's do, in the actor's name; the UI
	// refuses them, saying why, when nobody can be named, and always in a
	// read-only session. The actor also signs the reports exported.
	opts := tui.Options{ReadOnly: readOnly, Store: st, Reviewer: reviewer, Actor: actor, NoActor: noActor, Poll: time.Second, TableCache: tableCacheDir(),
		Writes: writesContext(ctx)}
	if a.campaign != "" {
		if opts.Campaign, err = campaignNamed(ctx, st, a.campaign); err != nil {
			return err
		}
	}
	return tui.Run(ctx, snap, nil, opts)
}

// tableCacheDir is where the review UI caches the table it derived, by
// the head of the event log, so the next open of the same evidence reads
// it back (README, "The table cache"): $NHI_CACHE_DIR, else nhi/tables
// in the user's cache directory; NHI_CACHE_DIR=off keeps none. It is
// never evidence: verify, report and export never read it.
func tableCacheDir() string {
	switch d := os.Getenv("NHI_CACHE_DIR"); d {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "nhi", "tables")
	default:
		return d
	}
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
	f, ok := osFile(w)
	return ok && term.IsTerminal(f.Fd())
}
