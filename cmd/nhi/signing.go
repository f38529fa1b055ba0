package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/sshsig"
)

// signingKeyEnv names the environment variable that, like --sign-with,
// says which key signs decisions (docs/people.md).
const signingKeyEnv = "NHI_SIGNING_KEY"

// signing is how a command signs decisions: --sign-with (else
// NHI_SIGNING_KEY) and --allowed-signers.
type signing struct {
	keyPath, allowedSigners string
}

// context returns ctx carrying the signing key, when one is configured.
// An encrypted key takes its passphrase from NHI_SIGN_PASSPHRASE, or asks
// for it on the terminal without echoing it, as git commit -S does; a
// public key file means the private half is in ssh-agent.
func (s *signing) context(ctx context.Context, a *app) (context.Context, error) {
	wrap, err := s.load(a)
	if err != nil || wrap == nil {
		return ctx, err
	}
	return wrap(ctx), nil
}

// load reads the configured key once (asking for its passphrase if need
// be) and returns what adds it to a context, or nil when no key is
// configured.
func (s *signing) load(a *app) (func(context.Context) context.Context, error) {
	path := s.keyPath
	if path == "" {
		path = os.Getenv(signingKeyEnv)
	}
	if path == "" {
		if s.allowedSigners != "" {
			return nil, errors.New("--allowed-signers says whose keys may sign, but no key signs: add --sign-with KEY or set " + signingKeyEnv)
		}
		return nil, nil
	}
	flag := "--sign-with"
	if s.keyPath == "" {
		flag = signingKeyEnv
	}
	key, err := loadSigningKey(a, flag, path)
	if err != nil {
		return nil, err
	}
	var allowed []byte
	if s.allowedSigners != "" {
		if allowed, err = readAllowedSigners(s.allowedSigners); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) context.Context { return campaigns.SignWith(ctx, key, allowed) }, nil
}

// allowedSignersForm is what --allowed-signers takes, said when it is
// given something else.
const allowedSignersForm = `give an allowed_signers file: a line "PRINCIPALS [namespaces="…"] KEY" for each signer, ssh-keygen's format, as nhi signature writes`

// readAllowedSigners reads the file --allowed-signers names, for verify
// and for the commands that sign alike: a file that is missing, a
// folder, empty, not text or that lists no signer is refused (exit 2),
// where one that lists nobody would have pinned no key and said only that
// the key was not in it.
func readAllowedSigners(path string) ([]byte, error) {
	data, err := readInputFile("--allowed-signers", path, "text", allowedSignersForm)
	if err != nil {
		return nil, err
	}
	if !sshsig.ListsAnySigner(data) {
		return nil, &inputError{fmt.Sprintf("--allowed-signers: %s lists no signer: %s", audit.Printable(path), allowedSignersForm), true}
	}
	return data, nil
}

// signingKeyForm is what --sign-with takes, said when it is given
// something else.
const signingKeyForm = "give an SSH key file: a private key (Ed25519, ECDSA or RSA), or the public key (.pub) of one ssh-agent holds"

// loadSigningKey reads the key --sign-with names, for a decision or an
// evidence bundle alike: a private key file, or a public key file whose
// private half ssh-agent holds. An encrypted key takes its passphrase from
// NHI_SIGN_PASSPHRASE, or asks for it on the terminal without echoing it,
// as git commit -S does.
//
// The file is read first as every input file is (readInputFile): a
// missing file, a folder, an empty or a binary one is named with flag
// (--sign-with, or NHI_SIGNING_KEY when it named the file), exit 2.
func loadSigningKey(a *app, flag, path string) (*sshsig.SigningKey, error) {
	if _, err := readInputFile(flag, path, "an OpenSSH key", signingKeyForm); err != nil {
		return nil, err
	}
	key, err := sshsig.LoadKey(path, []byte(os.Getenv(passphraseEnv)))
	if errors.Is(err, sshsig.ErrEncryptedKey) {
		if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
			fmt.Fprintf(a.stderr, "Enter passphrase for %s: ", path)
			pass, rerr := term.ReadPassword(f.Fd())
			fmt.Fprintln(a.stderr)
			if rerr != nil {
				return nil, fmt.Errorf("reading the passphrase: %w", rerr)
			}
			key, err = sshsig.LoadKey(path, pass)
		}
	}
	return key, err
}

// newSignatureCmd writes what an auditor needs to check one signed event
// with ssh-keygen alone.
func newSignatureCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "signature SEQ --out DIR",
		Short: "Write a signed event's bytes and signature, to check with ssh-keygen -Y verify",
		Long: `signature writes, for the signed event SEQ (a decision signed with --sign-with):
event-SEQ.json (the event's canonical bytes, what the signature covers),
event-SEQ.sig (the SSH signature, namespace nhi-decision) and
event-SEQ.allowed_signers (the signer and the key the signature names), then
prints the ssh-keygen command that checks them. Whether that key is the
signer's own is for you to compare with a key you trust; nhi verify compares
it with the directory of people.`,
		Example: `  nhi signature 42 --out /tmp/check`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || seq <= 0 {
				return usageError{cmd.CommandPath(), fmt.Errorf("SEQ %q is not an event number", args[0])}
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			ev, err := st.EventAt(cmd.Context(), seq)
			if err != nil {
				return err
			}
			sigs, err := st.Signatures(cmd.Context())
			if err != nil {
				return err
			}
			sg, ok := sigs[seq]
			if !ok {
				return fmt.Errorf("event %d (%s by %s) is not signed", seq, ev.Type, audit.Printable(ev.Actor))
			}
			canon, err := ev.CanonicalBytes()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("cannot write to --out %s: %v; choose a folder you can write", audit.Printable(out), audit.OSReason(err))
			}
			base := filepath.Join(out, fmt.Sprintf("event-%d", seq))
			allowed := sshsig.AllowedSignersLine(ev.Actor, audit.SignatureNamespace, sg.PublicKey) + "\n"
			for _, f := range []struct {
				path string
				data []byte
			}{{base + ".json", canon}, {base + ".sig", []byte(sg.Armored)}, {base + ".allowed_signers", []byte(allowed)}} {
				if err := writeWhole(f.path, f.data); err != nil {
					return fmt.Errorf("cannot write %s: %v; a file of that name already there is as it was: make room, or choose another folder with --out, and run the command again", audit.Printable(f.path), audit.OSReason(err))
				}
			}
			fmt.Fprintf(a.stdout, "Event %d (%s by %s), signed by %s. Check it with:\n  ssh-keygen -Y verify -f %s -I %s -n %s -s %s < %s\n",
				seq, ev.Type, audit.Printable(ev.Actor), sg.Fingerprint, base+".allowed_signers", ev.Actor, audit.SignatureNamespace, base+".sig", base+".json")
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "folder to write the files into")
	return cmd
}

// writeWhole writes data to path whole or not at all: into a temporary
// file beside it, renamed over path once written, so a write that fails
// (a full disk, a file size limit) leaves neither half a file at path nor
// the temporary one, and what path held before stays.
func writeWhole(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".nhi-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
