package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// The demo's GitHub App: the App reading the organisation is one of its
// non-human identities too, so the sample lists its installation.
const (
	demoAppID          = 1029384
	demoInstallationID = 48151623
	demoAppSlug        = "nhi-audit-demo"
)

func newDemoCmd(a *app) *cobra.Command {
	var repos int
	var noTUI, history bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Snapshot built-in sample GitHub and AWS organisations and a Kubernetes cluster, then open the review UI",
		Long: `demo serves a generated GitHub organisation on loopback, reads it with the real
GitHub connector (authenticated as a GitHub App, as an auditor should) into the
evidence file (--db), does the same for a sample AWS organisation (three
accounts, read by the real AWS connector through AWS_ENDPOINT_URL) and, last,
a sample Kubernetes cluster (k8s/demo-cluster: a recorded world, its list
responses served on loopback and read by the real Kubernetes connector, since
the demo runs no API server; it says so, and so does the snapshot's note),
and opens the review UI. Nothing leaves this machine.

On a new evidence file it then lives through a week (--history, on by
default): a review campaign decides to decommission three deploy keys, and
a second snapshot reads the organisation as it really changed: one of those
keys removed, a secret rotated, a repository renamed, and the App no longer
installed on one repository, so that snapshot is partial. nhi diff,
identity status, nhi campaign verify and the campaign's report then have
something true to show: a removal where it was looked for, a rename as a
change (its key still present), and identities not checked where nothing
was read. --history=false takes the first snapshot only. A demo on a file
that already has one takes one more of the sample as it first was, so after
the week the removed key, the rename and the App come back; it says so
first. Pass a new --db for a demo from the start.`,
		Example: `  nhi demo
  nhi demo --no-tui && nhi diff && nhi campaign verify demo-deploy-keys
  nhi demo --repos 2000 --no-tui --db demo.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repos < 1 {
				return usageError{cmd.CommandPath(), errors.New("--repos must be at least 1")}
			}
			if !noTUI && !isTerminal(a.stdout) {
				return errors.New("the review UI needs a terminal; add --no-tui to only take the snapshot")
			}
			ctx := cmd.Context()
			org := githubtest.SampleOrg(repos)
			key, pemBytes, err := githubtest.NewAppKey(2048)
			if err != nil {
				return err
			}
			perms := map[string]string{
				"administration": "read", "members": "read", "organization_administration": "read",
				"organization_personal_access_tokens": "read", "organization_personal_access_token_requests": "read",
				"organization_hooks": "read", "organization_secrets": "read", "organization_self_hosted_runners": "read",
				"secrets": "read", "dependabot_secrets": "read", "codespaces_secrets": "read", "repository_hooks": "read",
				"actions": "read", "contents": "read", "metadata": "read",
			}
			org.Installations = append(org.Installations, githubtest.Installation{
				ID: demoInstallationID, AppID: demoAppID, AppSlug: demoAppSlug, RepositorySelection: "all",
				Permissions: perms, CreatedAt: githubtest.Reference.AddDate(0, 0, -3), UpdatedAt: githubtest.Reference.AddDate(0, 0, -3),
			})
			week := planDemoWeek(org)
			fresh, err := a.freshDemo(ctx)
			if err != nil {
				return err
			}
			if !fresh {
				fmt.Fprintln(a.stderr, "The evidence file already holds the demo: this run snapshots the sample organisation as it first was, without the week, so what the week changed comes back (pass a new --db for a demo from the start)")
			}
			srv := githubtest.NewServer(org, githubtest.WithApp(githubtest.App{
				ID: demoAppID, Slug: demoAppSlug, Name: "nhi audit (demo)", InstallationID: demoInstallationID,
				PublicKey: &key.PublicKey, Permissions: perms,
			}))
			defer srv.Close()
			if err := a.demoPolicy(ctx, org); err != nil {
				return err
			}
			// The sample AWS organisation beside the GitHub one: the
			// first screen shows both sources.
			if err := a.demoAWS(ctx); err != nil {
				return err
			}
			err = a.snapshot(ctx, false, func(env snapshotEnv) (connectors.Connector, error) {
				return ghconn.NewConnector(org.Login, ghconn.Options{
					APIURL: srv.URL(), Cache: env.cache, Progress: env.progress,
					App: &ghconn.AppAuth{AppID: demoAppID, PrivateKey: pemBytes, InstallationID: demoInstallationID},
				})
			})
			if err != nil {
				return err
			}
			if history && fresh {
				if err := week.campaign(ctx, a, org); err != nil {
					return err
				}
				week.apply(a.stdout, srv)
				err = a.snapshot(ctx, false, func(env snapshotEnv) (connectors.Connector, error) {
					return ghconn.NewConnector(org.Login, ghconn.Options{
						APIURL: srv.URL(), Cache: env.cache, Progress: env.progress,
						App: &ghconn.AppAuth{AppID: demoAppID, PrivateKey: pemBytes, InstallationID: demoInstallationID},
					})
				})
				if err != nil {
					return err
				}
			}
			// The cluster last: the GitHub and AWS snapshots keep the
			// numbers the docs quote.
			if err := a.demoKubernetes(ctx); err != nil {
				return err
			}
			if noTUI {
				return nil
			}
			// The table the UI opens on, prepared first: the UI reads it
			// back rather than derive it (preparesTable).
			a.prepareTable(ctx)
			return a.openTUI(ctx, false)
		},
	}
	cmd.Flags().IntVar(&repos, "repos", 40, "how many repositories the sample organisation has")
	cmd.Flags().BoolVar(&noTUI, "no-tui", false, "take the snapshot only; do not open the review UI")
	cmd.Flags().BoolVar(&history, "history", true, "on a new evidence file, decide a campaign, then take a second snapshot after a week's changes: a removal, a rotation, a rename, a repository the App no longer sees")
	return cmd
}

func newSnapshotCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Read every non-human identity of a source into the evidence file",
	}
	var (
		org          string
		auth         githubAuth
		concurrency  int
		noWait, wait bool
		restOnly     bool
		maxWait      time.Duration
	)
	gh := &cobra.Command{
		Use:   "github --org ORG",
		Short: "Snapshot a GitHub organisation",
		Long: `Reads the organisation's non-human identities through the GitHub REST API.

The token comes from GITHUB_TOKEN, else GH_TOKEN, else ` + "`gh auth token`" + `; it is
never stored. A personal access token cannot read the organisation's
fine-grained PATs and PAT requests: authenticate as a GitHub App
(--app-id, --app-key, and --installation-id or a lookup) to read those too.
Use --api-url for GitHub Enterprise Server: the host alone
(https://ghe.example.com) reads https://ghe.example.com/api/v3/, as gh does.
The server's version is recorded, and the kinds it does not have
(Codespaces and Copilot coding agent secrets, SAML credential
authorizations) are not read and are not gaps.

The token and the organisation are checked before a snapshot opens: a
token GitHub rejects, or an organisation it answers 404 for (it does not
exist, or the credential may not see it), fails the run with nothing
recorded, and creates no evidence file.

Progress goes to stderr. When the API rate limit runs out the run waits for
the reset; after a secondary rate limit every worker pauses as long as
GitHub asks (Retry-After, else until the reset, else a minute) and the run
goes on with fewer requests at a time. --no-wait stops instead of waiting
for either, and a pause longer than --max-wait (15 minutes for a secondary
limit unless set) stops too. A request unanswered for 25 s is tried twice
more at most, so a server that stops answering fails the run in about
80 s. An interrupted or stopped run keeps what it read, and the same
command continues it, against the same API URL with the same credential
(otherwise the interrupted snapshot is closed as failed and a new one
starts, saying why). One nhi at a time snapshots an organisation: a second
one fails, naming the first (its PID and host), or waits with --wait; one
whose process is gone or has not shown signs of life for a minute is taken
over. Answers are cached by ETag in the evidence file (never a secret), so a
second run costs little of the rate limit.`,
		Example: `  GITHUB_TOKEN=... nhi snapshot github --org acme
  nhi snapshot github --org acme --app-id 123456 \
      --app-key nhi-audit.private-key.pem
  nhi snapshot github --org acme --api-url https://github.example.com --no-wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(format string, args ...any) error {
				return usageError{cmd.CommandPath(), fmt.Errorf(format, args...)}
			}
			switch {
			case org == "":
				return usage("--org is required")
			case concurrency < 1 || concurrency > 64:
				return usage("--concurrency must be between 1 and 64")
			}
			// Checked before the evidence file is created: a mistyped URL
			// leaves nothing behind.
			if err := auth.check(); err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			opts, err := auth.options(cmd.Context())
			if err != nil {
				return err
			}
			opts.Concurrency, opts.NoWait, opts.MaxWait, opts.RESTOnly = concurrency, noWait, maxWait, restOnly
			return a.snapshot(cmd.Context(), wait, func(env snapshotEnv) (connectors.Connector, error) {
				opts.Cache, opts.Progress, opts.OwnerTeams = env.cache, env.progress, env.ownerTeams
				return ghconn.NewConnector(org, opts)
			})
		},
	}
	f := gh.Flags()
	f.StringVar(&org, "org", "", "organisation login (required)")
	auth.addFlags(f)
	f.IntVar(&concurrency, "concurrency", ghconn.DefaultConcurrency, "how many repositories to read at once")
	f.BoolVar(&noWait, "no-wait", false, "when a rate limit (primary or secondary) asks to wait, stop (resumable) instead")
	f.DurationVar(&maxWait, "max-wait", 0, "stop (resumable) rather than wait longer than this for a rate limit (default: 15m for a secondary limit, the reset for the primary)")
	f.BoolVar(&wait, "wait", false, "when another nhi is taking a snapshot of the same organisation, wait for it to finish instead of failing")
	f.BoolVar(&restOnly, "rest-only", false, "read every repository through the REST API alone, not its environments, rulesets, collaborators and CODEOWNERS through GraphQL (docs/github.md)")
	cmd.AddCommand(gh, newSnapshotX509Cmd(a), newSnapshotAWSCmd(a), newSnapshotKubernetesCmd(a))
	return cmd
}

// githubToken finds a token the way gh users expect, without ever
// printing or storing it.
func githubToken(ctx context.Context) (string, error) {
	for _, env := range []string{"GITHUB_TOKEN", "GH_TOKEN"} {
		if t := strings.TrimSpace(os.Getenv(env)); t != "" {
			return t, nil
		}
	}
	if _, err := exec.LookPath("gh"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "gh", "auth", "token").Output(); err == nil {
			if t := strings.TrimSpace(string(out)); t != "" {
				return t, nil
			}
		}
	}
	return "", errors.New("no GitHub token: set GITHUB_TOKEN or GH_TOKEN, run `gh auth login`, or authenticate as a GitHub App with --app-id and --app-key")
}

// snapshotEnv is what a connector gets from the command that runs it: the
// evidence file as its request cache, and where to report progress.
type snapshotEnv struct {
	cache    connectors.Cache
	progress func(ghconn.Progress)
	// ownerTeams are the teams recorded as owners: the GitHub connector
	// reads their members too (docs/people.md).
	ownerTeams []string
}

// heldCache is the request cache of a connector built before its evidence
// file exists: it holds what is put until attach writes it to the file,
// and from then on is the file's cache. Until then nothing is cached.
type heldCache struct {
	mu   sync.Mutex
	to   connectors.Cache
	puts []heldPut
}

type heldPut struct {
	key, etag string
	value     []byte
}

func (h *heldCache) cache() connectors.Cache {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.to
}

func (h *heldCache) CacheGet(ctx context.Context, key string) (string, []byte, bool, error) {
	if to := h.cache(); to != nil {
		return to.CacheGet(ctx, key)
	}
	return "", nil, false, nil
}

func (h *heldCache) CachePut(ctx context.Context, key, etag string, value []byte) error {
	h.mu.Lock()
	if h.to == nil {
		h.puts = append(h.puts, heldPut{key, etag, value})
		h.mu.Unlock()
		return nil
	}
	to := h.to
	h.mu.Unlock()
	return to.CachePut(ctx, key, etag, value)
}

// attach writes what was put to to, which is the cache from then on. A
// put that fails costs a request next time, never data, so it is not an
// error here either (the GitHub connector's own puts are not).
func (h *heldCache) attach(ctx context.Context, to connectors.Cache) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.puts {
		_ = to.CachePut(ctx, p.key, p.etag, p.value)
	}
	h.to, h.puts = to, nil
}

// ownFiler is a connector that reads local files (x509): it is told the
// evidence file it writes to, so that nhi's own files are never read as
// its input.
type ownFiler interface{ SetOwn(path string) }

// snapshot opens the evidence file, builds the connector with it, runs one
// snapshot, reporting progress on stderr, and prints a summary.
func (a *app) snapshot(ctx context.Context, wait bool, build func(snapshotEnv) (connectors.Connector, error)) error {
	p := newProgressPrinter(a.stderr, isTerminal(a.stderr), terminalWidth(a.stderr), time.Now)
	var c connectors.Connector
	// connect builds the connector and says what it reads, once built,
	// before it is first asked anything.
	connect := func(env snapshotEnv) (err error) {
		if c, err = build(env); err == nil {
			fmt.Fprintf(a.stderr, "Reading %s/%s from %s ...\n", c.Source(), c.Account(), c.APIURL())
		}
		return err
	}
	var began time.Time // when the run began, if before Run (a new file)
	st, err := a.open(ctx, audit.OpenOptions{})
	if errors.Is(err, audit.ErrNotExist) {
		// A new evidence file is created only once the source is known
		// to be there: a mistyped --org or a rejected token leaves no
		// file behind. The connector that checks is the one that runs,
		// so the run does not ask again (its check is kept); what it
		// caches meanwhile is held until the file exists. A new file has
		// no owner teams.
		held := &heldCache{}
		if err := connect(snapshotEnv{cache: held, progress: p.Update}); err != nil {
			return err
		}
		if _, cerr := connectors.Check(ctx, c); cerr != nil {
			p.Close()
			return notStarted(c, cerr)
		}
		if st, err = a.open(ctx, audit.OpenOptions{Create: true}); err == nil {
			// The run began before what its check cached is written:
			// the snapshot's record vouches only for entries stored
			// since its start (to the second), and one started after
			// them left them out, so the next run asked again.
			began = st.Now()
			held.attach(ctx, st)
		}
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if c == nil {
		teams, err := st.OwnerTeams(ctx)
		if err != nil {
			return err
		}
		if err := connect(snapshotEnv{cache: st, progress: p.Update, ownerTeams: teams}); err != nil {
			return err
		}
	}
	if o, ok := c.(ownFiler); ok && !audit.IsPostgresURL(st.Path()) {
		o.SetOwn(st.Path())
	}
	start := time.Now()
	actor, err := a.snapshotActor(ctx, st, audit.ResolveActor(a.as))
	if err != nil {
		return err
	}
	snap, err := connectors.Run(ctx, st, c, connectors.RunOptions{
		ToolVersion: toolVersion(), Actor: actor, Wait: wait, StartedAt: began,
		OnWait: func(held error) {
			fmt.Fprintf(a.stderr, "%s\nWaiting for it to finish ...\n", strings.TrimSuffix(held.Error(), "; wait for it with --wait, or run again once it has finished"))
		},
		Notice: func(n string) { fmt.Fprintf(a.stderr, "Note: %s\n", audit.Printable(n)) },
	})
	p.Close()
	if snap != nil {
		a.recorded = true
		printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
	}
	if errors.Is(err, audit.ErrSnapshotRunning) {
		return err
	}
	var ns *connectors.NotStartedError
	if errors.As(err, &ns) {
		return notStarted(c, ns.Err)
	}
	if err != nil && snap != nil {
		// The failure is said once, on stderr, with what the population
		// is now: the previous complete snapshot, if there is one.
		return fmt.Errorf("snapshot %d of %s/%s failed: %w; %s", snap.ID, c.Source(), c.Account(), err, currentAfterFailure(ctx, st, snap))
	}
	if errors.Is(err, connectors.ErrResumable) {
		// Stopped on purpose (--no-wait, --max-wait) or by a server that
		// stopped answering: kept and resumable, not failed.
		return fmt.Errorf("snapshot of %s stopped: %w", c.Account(), err)
	}
	if err != nil {
		return fmt.Errorf("snapshot of %s failed: %w", c.Account(), err)
	}
	return a.verifyRemediation(ctx, st, snap.ID)
}

// notStarted says that a run failed before its snapshot opened, so the
// user knows nothing was recorded (connectors.Check).
func notStarted(c connectors.Connector, err error) error {
	return fmt.Errorf("no snapshot of %s/%s was taken: %w", c.Source(), c.Account(), err)
}

// verifyRemediation checks, against a new snapshot, every decommissioning
// approved in a closed campaign: the proof that what was approved is gone.
func (a *app) verifyRemediation(ctx context.Context, st *audit.Store, snapshotID int64) error {
	actor, err := a.snapshotActor(ctx, st, audit.ResolveActor(a.as))
	if err != nil {
		return err
	}
	results, err := campaigns.VerifyAfterSnapshot(ctx, st, actor, snapshotID)
	if err != nil {
		return fmt.Errorf("the snapshot is saved, but checking campaign decisions against it failed: %w", err)
	}
	for _, r := range results {
		// Rotate items gone or not checked are listed with the
		// decommissions; each decision is counted under its own.
		removed, present, notChecked := r.Decommissions()
		var parts []string
		if n := len(removed) + len(present) + len(notChecked); n > 0 || len(r.Overdue) > 0 {
			p := fmt.Sprintf("of its identities of %s/%s approved for decommissioning, %d removed, %d still present, %d not checked",
				audit.Printable(r.Snapshot.Source), audit.Printable(r.Snapshot.Account), len(removed), len(present), len(notChecked))
			if len(r.Overdue) > 0 {
				p += fmt.Sprintf(", %d overdue", len(r.Overdue))
			}
			parts = append(parts, p)
		}
		gone, unchecked := r.RotateRemoved(), r.RotateNotChecked()
		if len(r.Rotated)+len(r.NotRotated)+len(gone)+len(unchecked) > 0 {
			parts = append(parts, fmt.Sprintf("of those to rotate, %d rotated, %d not rotated, %d removed, %d not checked",
				len(r.Rotated), len(r.NotRotated), len(gone), len(unchecked)))
		}
		if len(r.Transferred)+len(r.NotTransferred) > 0 {
			parts = append(parts, fmt.Sprintf("of those to transfer, %d transferred, %d not", len(r.Transferred), len(r.NotTransferred)))
		}
		switch r.Access {
		case "revoked":
			parts = append(parts, "the leaver's access revoked")
		case "held":
			parts = append(parts, fmt.Sprintf("the leaver's access NOT revoked (%s)", counted(len(r.AccessHeld), "token or SSO authorization held", "tokens or SSO authorizations held")))
		case campaigns.NotChecked:
			parts = append(parts, "the leaver's access not checked")
		}
		if len(parts) == 0 {
			continue
		}
		fmt.Fprintf(a.stdout, "Campaign %s: %s (see nhi campaign verify %s)\n", audit.Printable(r.Campaign), strings.Join(parts, "; "), audit.Printable(r.Campaign))
	}
	return nil
}

// snapshotActor is who takes a snapshot of st and records what follows
// from it: on PostgreSQL the session's role, which --as or NHI_REVIEWER
// may only narrow (docs/team.md; the database refuses any other name),
// on an evidence file onFile; "nhi" when that is empty.
func (a *app) snapshotActor(ctx context.Context, st *audit.Store, onFile string) (string, error) {
	narrow, source := audit.ResolveActorSource(a.as)
	if source != "--as" && source != "NHI_REVIEWER" {
		narrow = ""
	}
	actor, ok, err := st.SessionActor(ctx, narrow)
	if err != nil {
		return "", err
	}
	if !ok {
		actor = onFile
	}
	if actor == "" {
		actor = "nhi"
	}
	return actor, nil
}

func printSnapshot(w io.Writer, snap *audit.Snapshot, path string, took time.Duration) {
	read := counted(snap.Total(), "identity", "identities")
	if snap.Status == audit.SnapshotFailed {
		read += " read before it failed" // no population (nhi snapshots)
	}
	fmt.Fprintf(w, "Snapshot %d of %s/%s: %s, %s in %s, written to %s\n",
		snap.ID, snap.Source, snap.Account, snap.Status, read, took.Round(time.Millisecond), path)
	if snap.Credential != "" {
		fmt.Fprintf(w, "Read with: %s\n", audit.Printable(snap.Credential))
	}
	if snap.ServerVersion != "" {
		server := "GitHub Enterprise Server"
		if snap.Source == "k8s" {
			server = "Kubernetes"
		}
		fmt.Fprintf(w, "Server: %s %s\n", server, audit.Printable(snap.ServerVersion))
	}
	for _, n := range snap.Notes {
		fmt.Fprintf(w, "Note: %s\n", audit.Printable(n))
	}
	kinds := make([]string, 0, len(snap.Counts))
	for k := range snap.Counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-34s %6d\n", k, snap.Counts[audit.Kind(k)])
	}
	var endpoints []audit.Gap
	for _, g := range snap.Gaps {
		if g.Coverage() {
			fmt.Fprintf(w, "Coverage: %s\n", audit.Printable(g.Reason))
		} else {
			endpoints = append(endpoints, g)
		}
	}
	if len(endpoints) > 0 {
		// A failed snapshot is not partial: say only what it did not read.
		status := "the snapshot is partial"
		if snap.Status != audit.SnapshotPartial {
			status = "before the run " + string(snap.Status)
		}
		fmt.Fprintf(w, "Not read (%s; %s):\n", counted(len(endpoints), "endpoint", "endpoints"), status)
		for _, g := range endpoints {
			fmt.Fprintf(w, "  %s: %s\n", g.Endpoint, audit.Printable(g.Reason))
		}
	}
}

// currentAfterFailure says which snapshot the population of failed's
// account still comes from, or that there is none yet.
func currentAfterFailure(ctx context.Context, st *audit.Store, failed *audit.Snapshot) string {
	snaps, err := st.Snapshots(ctx)
	if err == nil {
		for _, c := range audit.CurrentOf(snaps) {
			if c.Source == failed.Source && c.Account == failed.Account && c.ID != failed.ID {
				return fmt.Sprintf("the population of %s/%s is still that of snapshot %d (%s, %s)",
					failed.Source, failed.Account, c.ID, c.Status, c.StartedAt.Format("2006-01-02 15:04 UTC"))
			}
		}
	}
	return fmt.Sprintf("%s/%s has no finished snapshot yet, so it has no population", failed.Source, failed.Account)
}

// demoPolicy records, in a file that has no policy yet, the default
// policy with the sample organisation's own Apps as first-party, as an
// auditor would on day one: the rest are third-party.
func (a *app) demoPolicy(ctx context.Context, org *githubtest.Org) error {
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, id, err := st.Policy(ctx); err != nil || id != 0 {
		return err
	}
	p := audit.DefaultPolicy()
	p.FirstPartyApps = []string{demoAppSlug}
	for _, inst := range org.Installations {
		if strings.HasPrefix(inst.AppSlug, org.Login+"-") {
			p.FirstPartyApps = append(p.FirstPartyApps, inst.AppSlug)
		}
	}
	_, err = st.SetPolicy(ctx, "nhi demo", p)
	return err
}
