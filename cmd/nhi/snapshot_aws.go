package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	awsconn "github.com/nhi-audit/nhi/connectors/aws"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

func newSnapshotAWSCmd(a *app) *cobra.Command {
	var (
		opts        awsconn.Options
		accounts    string
		concurrency int
		wait        bool
	)
	cmd := &cobra.Command{
		Use:   "aws [--profile P] [--region R] [--org-role NAME] [--accounts ID,...]",
		Short: "Snapshot the IAM users, access keys, roles and OIDC providers of AWS accounts",
		Long: `Reads IAM through the AWS SDK, one snapshot per account (aws/<account-id>).

Credentials come from the SDK's default chain (environment, shared config and
credentials files, SSO, web identity, instance metadata); --profile picks a
profile. Nothing is stored but the caller's ARN. Endpoints follow the SDK's own
settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, ...).

Without --org-role the caller's own account is read. With it, the
organisation's accounts are listed (organizations:ListAccounts) and the role is
assumed in each; suspended accounts are skipped and their snapshot says so.
An API the caller may not use is a gap naming the account and the IAM
permission; the SecurityAudit managed policy grants everything nhi reads.
Progress and waits (throttling, the credential report) go to stderr.`,
		Example: `  AWS_PROFILE=audit nhi snapshot aws
  nhi snapshot aws --org-role OrganizationAccountAccessRole
  nhi snapshot aws --org-role nhi-audit --accounts 111122223333,444455556666`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, acct := range strings.Split(accounts, ",") {
				if acct = strings.TrimSpace(acct); acct != "" {
					opts.Accounts = append(opts.Accounts, acct)
				}
			}
			if concurrency < 1 || concurrency > 32 {
				return usageError{cmd.CommandPath(), errors.New("--concurrency must be between 1 and 32")}
			}
			if len(opts.Accounts) > 0 && opts.OrgRole == "" {
				return usageError{cmd.CommandPath(), errors.New("--accounts needs --org-role: without it nhi reads only the caller's own account")}
			}
			ctx := cmd.Context()
			opts.Progress = a.stderr
			plan, err := awsconn.NewPlan(ctx, opts)
			if err != nil {
				return err
			}
			st, err := a.open(ctx, audit.OpenOptions{Create: true})
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(a.stderr, "Reading %s as %s ...\n", counted(len(plan.Connectors), "AWS account", "AWS accounts"), audit.Printable(plan.Caller))
			var failed []string
			var verifyErr error
			start := time.Now()
			run, err := a.runOptions(ctx, st, wait)
			if err != nil {
				return err
			}
			plan.Snapshot(ctx, st, run, concurrency, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
				if snap != nil {
					a.recorded = true
					printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
				}
				if err != nil {
					fmt.Fprintf(a.stderr, "snapshot of aws account %s %sfailed: %v\n", c.Account(), audit.Printable(parenthesised(c.Name())), err)
					failed = append(failed, c.Account())
					return
				}
				if verr := a.verifyRemediation(ctx, st, snap.ID); verr != nil && verifyErr == nil {
					verifyErr = verr
				}
			})
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted; what was read is kept, run the same command again to continue: %w", ctx.Err())
			}
			if verifyErr != nil {
				return verifyErr
			}
			if len(failed) > 0 {
				return failedSnapshots(failed, len(plan.Connectors), "account", "accounts")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Profile, "profile", "", "shared config profile (default: AWS_PROFILE, then the default chain)")
	f.StringVar(&opts.Region, "region", "", "region for the SDK (default: the chain's, else us-east-1; IAM is global)")
	f.StringVar(&opts.OrgRole, "org-role", "", "role to assume in every account of the organisation (e.g. OrganizationAccountAccessRole)")
	f.StringVar(&accounts, "accounts", "", "with --org-role: only these account IDs, comma-separated")
	f.IntVar(&concurrency, "concurrency", awsconn.DefaultAccounts, "how many accounts to read at once")
	f.BoolVar(&wait, "wait", false, "when another nhi is taking a snapshot of the same account, wait for it to finish instead of failing")
	return cmd
}

func parenthesised(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ") "
}

// demoAWS serves the sample AWS organisation (awstest: three accounts,
// healthy and risky identities) on loopback and snapshots it with the
// real connector, pointed at it the SDK's standard way: the AWS_*
// environment, restored afterwards.
func (a *app) demoAWS(ctx context.Context) error {
	org := awstest.Sample(time.Now())
	srv := awstest.New(org, awstest.WithReportReady())
	defer srv.Close()
	for k, v := range srv.Env() {
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	plan, err := awsconn.NewPlan(ctx, awsconn.Options{OrgRole: org.RoleName})
	if err != nil {
		return fmt.Errorf("the demo's AWS organisation: %w", err)
	}
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(a.stderr, "Reading the sample AWS organisation (%d accounts) from %s ...\n", len(plan.Connectors), srv.URL)
	start := time.Now()
	var failed error
	run, err := a.runOptions(ctx, st, false)
	if err != nil {
		return err
	}
	plan.Snapshot(ctx, st, run, awsconn.DefaultAccounts, func(c *awsconn.Connector, snap *audit.Snapshot, err error) {
		if snap != nil {
			a.recorded = true
			printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
		}
		if err != nil && failed == nil {
			failed = fmt.Errorf("snapshot of aws account %s failed: %w", c.Account(), err)
		}
	})
	return failed
}

// runOptions are the choices every snapshot of the run shares: who takes
// it, and what to say when it waits for another run or notes something.
func (a *app) runOptions(ctx context.Context, st *audit.Store, wait bool) (connectors.RunOptions, error) {
	actor, err := a.snapshotActor(ctx, st, audit.ResolveActor(a.as))
	if err != nil {
		return connectors.RunOptions{}, err
	}
	return connectors.RunOptions{
		ToolVersion: toolVersion(), Actor: actor, Wait: wait,
		OnWait: func(held error) {
			fmt.Fprintf(a.stderr, "%s\nWaiting for it to finish ...\n", strings.TrimSuffix(held.Error(), "; wait for it with --wait, or run again once it has finished"))
		},
		Notice: func(n string) { fmt.Fprintf(a.stderr, "Note: %s\n", audit.Printable(n)) },
	}, nil
}
