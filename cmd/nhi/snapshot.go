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
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

func newDemoCmd(a *app) *cobra.Command {
	var repos int
	var noTUI bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Snapshot a built-in sample organisation, then open the review UI",
		Long: `demo serves a generated GitHub organisation on loopback, reads it with the real
GitHub connector into the evidence file (--db), and opens the review UI.
Nothing leaves this machine.`,
		Example: `  nhi demo
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
			srv := githubtest.NewServer(org)
			defer srv.Close()
			conn, err := ghconn.NewFromToken(srv.URL(), srv.Token(), org.Login, nil)
			if err != nil {
				return err
			}
			if err := a.snapshot(ctx, conn); err != nil {
				return err
			}
			if noTUI {
				return nil
			}
			return a.openTUI(ctx, false)
		},
	}
	cmd.Flags().IntVar(&repos, "repos", 40, "how many repositories the sample organisation has")
	cmd.Flags().BoolVar(&noTUI, "no-tui", false, "take the snapshot only; do not open the review UI")
	return cmd
}

func newSnapshotCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Read every non-human identity of a source into the evidence file",
	}
	var org, apiURL string
	gh := &cobra.Command{
		Use:   "github --org ORG",
		Short: "Snapshot a GitHub organisation",
		Long: `Reads the organisation's non-human identities through the GitHub REST API.
The token comes from GITHUB_TOKEN, else GH_TOKEN, else ` + "`gh auth token`" + `; it is
never stored. Use --api-url for GitHub Enterprise Server (https://HOST/api/v3/).`,
		Example: `  GITHUB_TOKEN=... nhi snapshot github --org acme
  nhi snapshot github --org acme --api-url https://github.example.com/api/v3/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return usageError{cmd.CommandPath(), errors.New("--org is required")}
			}
			token, err := githubToken(cmd.Context())
			if err != nil {
				return err
			}
			conn, err := ghconn.NewFromToken(apiURL, token, org, nil)
			if err != nil {
				return err
			}
			return a.snapshot(cmd.Context(), conn)
		},
	}
	gh.Flags().StringVar(&org, "org", "", "organisation login (required)")
	gh.Flags().StringVar(&apiURL, "api-url", "", "REST API base URL (default https://api.github.com/)")
	cmd.AddCommand(gh)
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
	return "", errors.New("no GitHub token: set GITHUB_TOKEN or GH_TOKEN, or run `gh auth login`")
}

// snapshot runs one connector into the evidence file and prints a summary.
func (a *app) snapshot(ctx context.Context, c connectors.Connector) error {
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(a.stderr, "Reading %s organisation %s from %s ...\n", c.Source(), c.Account(), c.APIURL())
	start := time.Now()
	snap, err := connectors.Snapshot(ctx, st, c, toolVersion())
	if snap != nil {
		printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("snapshot of %s failed: %w", c.Account(), err)
	}
	return nil
}

func printSnapshot(w io.Writer, snap *audit.Snapshot, path string, took time.Duration) {
	fmt.Fprintf(w, "Snapshot %d of %s/%s: %s, %d identities in %s, written to %s\n",
		snap.ID, snap.Source, snap.Account, snap.Status, snap.Total(), took.Round(time.Millisecond), path)
	kinds := make([]string, 0, len(snap.Counts))
	for k := range snap.Counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-34s %6d\n", k, snap.Counts[audit.Kind(k)])
	}
	if len(snap.Gaps) > 0 {
		fmt.Fprintf(w, "Not read (%d endpoints; the snapshot is partial):\n", len(snap.Gaps))
		for _, g := range snap.Gaps {
			fmt.Fprintf(w, "  %s: %s\n", g.Endpoint, g.Reason)
		}
	}
	if snap.Error != "" {
		fmt.Fprintf(w, "Failed: %s. The last complete snapshot is still the current population.\n", snap.Error)
	}
}
