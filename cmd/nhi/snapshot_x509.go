package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	x509conn "github.com/nhi-audit/nhi/connectors/x509"
)

func newSnapshotX509Cmd(a *app) *cobra.Command {
	var (
		opts x509conn.Options
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "x509 [--path DIR|FILE ...] [--tls HOST:PORT ...]",
		Short: "Snapshot certificates from files and TLS endpoints",
		Long: `Reads X.509 certificates as non-human identities: PEM and DER files (bundles
and chains; directories are read recursively) and the certificates TLS servers
present (HOST is sent as SNI). Each leaf certificate is one identity,
x509:ACCOUNT:x509_certificate:SHA256-FINGERPRINT, with every file and endpoint
it was found at. Private keys in the same files are skipped unread; files that
hold no certificate are skipped and counted. An endpoint that cannot be reached
is a coverage gap: the snapshot is then partial. A --path that does not exist
is refused before anything is read.

Certificates are publicly trusted when they chain to a root this machine
trusts; only those can be long-lived (more than 398 days). See
docs/certificates.md.`,
		Example: `  nhi snapshot x509 --path /etc/nginx/certs --tls api.example.com:443 \
      --account prod
  nhi snapshot x509 --tls api.example.com:443 --tls login.example.com:443`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := x509conn.NewConnector(opts)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			err = a.snapshot(cmd.Context(), wait, func(snapshotEnv) (connectors.Connector, error) { return c, nil })
			// With --path, say what was found even when it is nothing: a
			// complete snapshot of 0 certificates is otherwise silent about
			// a directory that held none.
			if s := c.Summary(); len(opts.Paths) > 0 {
				fmt.Fprintf(a.stdout, "Files: %d read, %d with certificates, %d skipped (no certificate)", s.Files, s.CertFiles, s.Skipped)
				if s.Skipped > 0 {
					names := make([]string, len(s.SkippedFirst))
					for i, n := range s.SkippedFirst {
						names[i] = audit.Printable(n)
					}
					more := ""
					if s.Skipped > len(names) {
						more = ", …"
					}
					fmt.Fprintf(a.stdout, ": %s%s", strings.Join(names, ", "), more)
				}
				fmt.Fprintln(a.stdout)
				if s.PrivateKeys > 0 {
					fmt.Fprintf(a.stdout, "Private keys passed over unread: %d\n", s.PrivateKeys)
				}
			}
			if c.Summary().NoRoots {
				fmt.Fprintf(a.stderr, "Note: %s.\n", x509conn.NoRootsNote)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Paths, "path", nil, "a certificate file, or a directory to read recursively (repeatable)")
	f.StringArrayVar(&opts.TLS, "tls", nil, "a TLS endpoint HOST:PORT whose certificate to read (repeatable)")
	f.BoolVar(&wait, "wait", false, "when another nhi is taking a snapshot of the same account, wait for it to finish instead of failing")
	f.StringVar(&opts.Account, "account", "", "names this set of places, e.g. prod (default \""+x509conn.DefaultAccount+"\")")
	return cmd
}
