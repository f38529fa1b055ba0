package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	k8sconn "github.com/nhi-audit/nhi/connectors/kubernetes"
	"github.com/nhi-audit/nhi/connectors/kubernetes/k8stest"
)

func newSnapshotKubernetesCmd(a *app) *cobra.Command {
	var (
		opts k8sconn.Options
		wait bool
	)
	cmd := &cobra.Command{
		Use:     "kubernetes [--kubeconfig FILE] [--context NAME ...] [--all-contexts]",
		Aliases: []string{"k8s"},
		Short:   "Snapshot the service accounts, legacy tokens and RBAC of Kubernetes clusters",
		Long: `Reads a cluster through client-go, one snapshot per context (k8s/<context>).

The kubeconfig is found the way kubectl finds it: --kubeconfig, else
KUBECONFIG, else ~/.kube/config, else the in-cluster service account. Without
--context the current context is read. The credential is recorded as the user
name the API server's SelfSubjectReview reports; no token is stored.

Service accounts, their legacy token Secrets (read through the metadata API,
so no Secret data is ever requested), Pods and their owners, and RBAC are
listed in pages. A list the credential may not read, cluster-wide or in one
namespace, is a gap naming the verb, resource and namespace. docs/kubernetes.md
gives a ClusterRole with everything nhi reads.`,
		Example: `  nhi snapshot kubernetes
  nhi snapshot kubernetes --context prod --context staging
  nhi snapshot kubernetes --kubeconfig ./audit.kubeconfig --all-contexts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.AllContexts && len(opts.Contexts) > 0 {
				return usageError{cmd.CommandPath(), errors.New("--context and --all-contexts cannot be combined")}
			}
			if opts.Kubeconfig != "" {
				// A --kubeconfig that is missing, a folder, empty or not
				// text is said as every file nhi reads (exit 2), where an
				// empty one was taken for none given.
				if _, err := readInputFile("--kubeconfig", opts.Kubeconfig, "YAML", "give a kubeconfig file (kubectl config view --raw writes one)"); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			plan, err := k8sconn.Plan(opts)
			if err != nil {
				return err
			}
			var failed, notTaken []string
			notStarted := func(c *k8sconn.Connector, err error) {
				fmt.Fprintf(a.stderr, "no snapshot of cluster %s was taken: %v\n", audit.Printable(c.Account()), err)
				failed, notTaken = append(failed, c.Account()), append(notTaken, c.Account())
			}
			checked := false // plan[0] was checked, and said so, before the file was created
			st, err := a.open(ctx, audit.OpenOptions{})
			if errors.Is(err, audit.ErrNotExist) {
				// A new evidence file is created only once a cluster
				// answers: an unreachable server or a rejected credential
				// leaves no file behind. The clusters before the first that
				// answers are not read; it is asked again by its run.
				for len(plan) > 0 {
					fmt.Fprintf(a.stderr, "Reading cluster %s at %s ...\n", audit.Printable(plan[0].Account()), audit.Printable(plan[0].APIURL()))
					_, cerr := connectors.Check(ctx, plan[0])
					if cerr == nil {
						checked = true
						break
					}
					notStarted(plan[0], cerr)
					plan = plan[1:]
				}
				if len(plan) == 0 {
					return notTakenError(notTaken)
				}
				st, err = a.open(ctx, audit.OpenOptions{Create: true})
			}
			if err != nil {
				return err
			}
			defer st.Close()
			run, err := a.runOptions(ctx, st, wait)
			if err != nil {
				return err
			}
			total := len(failed) + len(plan)
			for i, c := range plan {
				if i > 0 || !checked {
					fmt.Fprintf(a.stderr, "Reading cluster %s at %s ...\n", audit.Printable(c.Account()), audit.Printable(c.APIURL()))
				}
				start := time.Now()
				snap, err := connectors.Run(ctx, st, c, run)
				if snap != nil {
					a.recorded = true
					printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
					if nothingAllowed(snap) {
						fmt.Fprintf(a.stdout, "The credential may list nothing nhi reads in cluster %s: bind it to the read-only ClusterRole of docs/kubernetes.md (\"Permissions nhi needs\") and run again\n", audit.Printable(c.Account()))
					}
				}
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; what was read is kept, run the same command again to continue: %w", ctx.Err())
				}
				var ns *connectors.NotStartedError
				if errors.As(err, &ns) {
					notStarted(c, ns.Err)
					continue
				}
				if err != nil {
					fmt.Fprintf(a.stderr, "snapshot of cluster %s failed: %v\n", audit.Printable(c.Account()), err)
					failed = append(failed, c.Account())
					continue
				}
				if err := a.verifyRemediation(ctx, st, snap.ID); err != nil {
					return err
				}
			}
			if len(notTaken) > 0 && len(notTaken) == total { // none answered (each not taken is also failed)
				return notTakenError(notTaken)
			}
			if len(failed) > 0 {
				return failedSnapshots(failed, total, "cluster", "clusters")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)")
	f.StringArrayVar(&opts.Contexts, "context", nil, "context to read (repeatable; default: the current context)")
	f.BoolVar(&opts.AllContexts, "all-contexts", false, "read every context of the kubeconfig")
	f.BoolVar(&wait, "wait", false, "when another nhi is taking a snapshot of the same cluster, wait for it to finish instead of failing")
	return cmd
}

// notTakenError is the error of a run none of whose clusters answered,
// each already said: no snapshot was taken of any.
func notTakenError(clusters []string) error {
	if len(clusters) == 1 {
		return fmt.Errorf("nothing was recorded of cluster %s", clusters[0])
	}
	return fmt.Errorf("nothing was recorded of the %d clusters (%s)", len(clusters), strings.Join(clusters, ", "))
}

// nothingAllowed reports whether a snapshot read nothing because every
// list was forbidden: a credential no role binding names, which the
// list of refusals alone does not say plainly.
func nothingAllowed(snap *audit.Snapshot) bool {
	if snap.Total() > 0 || len(snap.Gaps) == 0 {
		return false
	}
	for _, g := range snap.Gaps {
		if !g.Coverage() && g.Status != http.StatusForbidden {
			return false
		}
	}
	return true
}

// demoCluster is the account of the demo's Kubernetes cluster.
const demoCluster = "demo-cluster"

// demoKubernetes reads the sample cluster (k8stest.Sample, docs/kubernetes.md)
// with the real connector from a recorded world: the API server's list
// responses, recorded once and served on loopback, since the demo runs no
// API server. It says so, and the snapshot's server line names the
// recorded world too. The demo reads it last, after the GitHub
// organisation's week, so the snapshot numbers the docs quote for GitHub
// and AWS do not move.
func (a *app) demoKubernetes(ctx context.Context) error {
	w := k8stest.Sample()
	// Made in 2021; the CI deployer's legacy token last used last year.
	w.Dated(time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC), map[string]time.Time{"ci/deployer-token": time.Now().AddDate(0, 0, -200)})
	srv, err := k8stest.NewRecorded(w)
	if err != nil {
		return fmt.Errorf("the demo's Kubernetes cluster: %w", err)
	}
	defer srv.Close()
	kc, err := k8sconn.New(demoCluster, srv.Config())
	if err != nil {
		return err
	}
	c := recordedCluster{kc}
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(a.stderr, "Reading the sample Kubernetes cluster from a recorded world, not a live API server (the demo runs none): its list responses, in kube-apiserver's JSON, served on %s ...\n", srv.URL)
	run, err := a.runOptions(ctx, st, false)
	if err != nil {
		return err
	}
	start := time.Now()
	snap, err := connectors.Run(ctx, st, c, run)
	if snap != nil {
		a.recorded = true
		printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("snapshot of the demo's Kubernetes cluster failed: %w", err)
	}
	return a.verifyRemediation(ctx, st, snap.ID)
}

// recordedCluster is the demo's connector: the real one, whose snapshot
// also notes that a recorded world answered, so the evidence file never
// passes the demo's cluster off as a live one.
type recordedCluster struct{ *k8sconn.Connector }

// recordedWorldNote is the note of a snapshot of the demo's cluster.
const recordedWorldNote = "a recorded world answered, not a live API server: nhi demo serves the sample cluster's recorded list responses on loopback (docs/kubernetes.md)"

// Server implements connectors.Described.
func (c recordedCluster) Server() (string, []string) {
	v, notes := c.Connector.Server()
	return v, append([]string{recordedWorldNote}, notes...)
}
