package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// passphraseEnv names the environment variable an encrypted signing key's
// passphrase is read from (never a flag: flags show in ps and shell history).
const passphraseEnv = "NHI_SIGN_PASSPHRASE"

func newExportCmd(a *app) *cobra.Command {
	var (
		out, formats, generatedAt, signer, keyPath, oldKeyPath string
		force, excel                                           bool
	)
	cmd := &cobra.Command{
		Use:   "export CAMPAIGN --out DIR",
		Short: "Write a campaign's evidence report for an external auditor",
		Long: `export writes the evidence bundle of a campaign into DIR: the report as
self-contained HTML (prints to PDF) and Markdown, CSV tables (decisions,
population, exceptions, remediation, reviewers), a JSON report, SHA256SUMS, and
manifest.json with the SHA-256 of every file, the campaign, the snapshot and
population digests and the event log's head. With --sign-with KEY,
manifest.json is signed with an SSH key (manifest.json.sig, namespace
nhi-evidence) that ssh-keygen -Y verify accepts: as for nhi decide, a private
key file, or a public key whose private half is in ssh-agent; an encrypted
key's passphrase is read from ` + passphraseEnv + ` or asked on the terminal.
--sign KEY, its older name, still works.

The same evidence file and inputs give the same bytes: the generation time is an
input (--generated-at, default now). DIR must be new or empty; --force replaces
an earlier bundle. The bundle is written beside DIR and renamed into place, so a
failed export leaves nothing behind. Check a bundle with
nhi verify --report DIR. See docs/report.md.`,
		Example: `  nhi export 2026-Q4 --out evidence/2026-Q4
  nhi export 2026-Q4 --out evidence/2026-Q4 --format html,csv \
      --sign-with ~/.ssh/id_ed25519 --signer ciso@acme.com
  nhi verify --report evidence/2026-Q4 --db nhi.db`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			usage := func(err error) error { return usageError{cmd.CommandPath(), err} }
			if out == "" {
				return usage(errors.New("--out DIR is required: the folder to write the bundle into"))
			}
			fs, err := report.ParseFormats(formats)
			if err != nil {
				return usage(fmt.Errorf("--format: %w", err))
			}
			at := time.Now().UTC().Truncate(time.Second)
			if generatedAt != "" {
				if at, err = time.Parse(time.RFC3339, generatedAt); err != nil {
					return usage(fmt.Errorf("--generated-at %q: use RFC 3339, e.g. 2027-01-15T09:00:00Z", audit.Printable(generatedAt)))
				}
			}
			st, err := a.open(ctx, audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			if signer == "" {
				if signer, err = defaultSigner(ctx, a, st); err != nil {
					return err
				}
			}
			if signer == "" {
				return errors.New("cannot tell who attests the report: pass --signer NAME (or --as, NHI_REVIEWER)")
			}
			opts := report.ExportOptions{Formats: fs, Force: force, Excel: excel,
				Options: report.Options{GeneratedAt: at, Signer: signer, Tool: "nhi " + toolVersion()}}
			if oldKeyPath != "" {
				if keyPath != "" && keyPath != oldKeyPath {
					return usage(errors.New("--sign and --sign-with name different keys: pass --sign-with alone (--sign is its older name)"))
				}
				keyPath = oldKeyPath
				// On stderr: cobra's deprecation notice would go to
				// stdout, which scripts read.
				fmt.Fprintln(a.stderr, "nhi: --sign is now --sign-with (the same key file, or a key in ssh-agent); --sign still works")
			}
			if keyPath != "" {
				if !report.ValidSigner(signer) {
					return usage(fmt.Errorf("--signer %q cannot sign: use an email address or login (letters, digits and @._+- only), as it will appear in allowed_signers", audit.Printable(signer)))
				}
				if opts.Key, err = loadSigningKey(a, "--sign-with", keyPath); err != nil {
					return err
				}
			}
			res, err := report.Export(ctx, st, args[0], out, opts)
			if err != nil {
				return exportFailed(err, out)
			}
			r := res.Report
			fmt.Fprintf(a.stdout, "Exported campaign %s (%s, %s) to %s, as of event %d, generated %s, signer %s\n",
				r.Attestation.Campaign, r.Attestation.Status, counted(r.Attestation.Summary.Items, "item", "items"), res.Dir, r.Integrity.Head.Seq, r.GeneratedAt, audit.Printable(r.Attestation.Signer))
			for _, f := range res.Files {
				fmt.Fprintf(a.stdout, "  %s  %s\n", f.SHA256, f.Path)
			}
			if r.Integrity.Signature != nil {
				fmt.Fprintf(a.stdout, "Signed manifest.json with %s key %s (namespace %s).\n", r.Integrity.Signature.KeyType, r.Integrity.Signature.Fingerprint, report.Namespace)
			}
			if r.Draft {
				fmt.Fprintf(a.stdout, "Note: campaign %s is still open; this is an interim report.\n", r.Attestation.Campaign)
			}
			fmt.Fprintf(a.stdout, "Check it with: nhi verify --report %s --db %s\n", res.Dir, st.Path())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder to write the bundle into (new or empty; required)")
	f.StringVar(&formats, "format", "", "formats to write, comma-separated: html,md,csv,json (default all)")
	f.BoolVar(&force, "force", false, "replace an earlier bundle in --out")
	f.BoolVar(&excel, "excel", false, "start each CSV table with a UTF-8 byte order mark, so Excel reads non-ASCII names right")
	f.StringVar(&generatedAt, "generated-at", "", "generation time the report states, RFC 3339 (default now, UTC; not before the report's last event)")
	f.Var(personFlag{&signer, "leave --signer out (then the actor: --as, NHI_REVIEWER, else git's user.email)"}, "signer", "who attests the report (default the actor: --as, NHI_REVIEWER, git user.email)")
	f.StringVar(&keyPath, "sign-with", "", "sign manifest.json with this SSH key: a private key file (Ed25519, ECDSA or RSA), or a public key whose private half is in ssh-agent; passphrase from "+passphraseEnv+" or the terminal")
	// --sign was the flag's name before it took what nhi decide's does;
	// scripts keep it.
	f.StringVar(&oldKeyPath, "sign", "", "the older name of --sign-with")
	f.MarkHidden("sign")
	interruptedNote(cmd, "nothing was written to the --out folder (the bundle is written beside it and renamed in once whole; an earlier bundle there is as it was); run the same command again")
	return cmd
}

// defaultSigner is who attests a report when --signer does not say: the
// actor, as every other command finds it. On PostgreSQL that is the
// role the database authenticated, which --as may only narrow, never
// git's user.email or the OS user (docs/team.md); the directory of
// people gives the person's e-mail where it knows the name.
//
// A person the directory marks left attests nothing: as every command
// that acts in someone's name, the export refuses them (docs/people.md).
func defaultSigner(ctx context.Context, a *app, st *audit.Store) (string, error) {
	name, source := audit.ResolveActorSource(a.as)
	name, source, err := a.sessionName(ctx, st, name, source)
	if err != nil || name == "" {
		return name, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return "", err
	}
	if p := dir.Lookup(name); p != nil {
		if p.Status == audit.PersonLeft {
			return "", fmt.Errorf("you are acting as %q (from %s), and %s %s according to the directory of people, so nothing was written: a leaver attests no report; name who does with --signer",
				audit.Printable(name), source, p.Email, p.LeftNote())
		}
		return p.Email, nil
	}
	return name, nil
}
