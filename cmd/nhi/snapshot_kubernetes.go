package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	k8sconn "github.com/nhi-audit/nhi/connectors/kubernetes"
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
			ctx := cmd.Context()
			plan, err := k8sconn.Plan(opts)
			if err != nil {
				return err
			}
			st, err := a.open(ctx, audit.OpenOptions{Create: true})
			if err != nil {
				return err
			}
			defer st.Close()
			var failed []string
			for _, c := range plan {
				fmt.Fprintf(a.stderr, "Reading cluster %s at %s ...\n", audit.Printable(c.Account()), audit.Printable(c.APIURL()))
				start := time.Now()
				snap, err := connectors.Run(ctx, st, c, a.runOptions(wait))
				if snap != nil {
					printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
				}
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; what was read is kept, run the same command again to continue: %w", ctx.Err())
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
			if len(failed) > 0 {
				return fmt.Errorf("the snapshots of %d cluster(s) failed (%s); the others are saved", len(failed), strings.Join(failed, ", "))
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
