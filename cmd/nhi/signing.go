package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/charmbracelet/x/term"

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
	path := s.keyPath
	if path == "" {
		path = os.Getenv(signingKeyEnv)
	}
	if path == "" {
		if s.allowedSigners != "" {
			return nil, errors.New("--allowed-signers says whose keys may sign, but no key signs: add --sign-with KEY or set " + signingKeyEnv)
		}
		return ctx, nil
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
	if err != nil {
		return nil, err
	}
	var allowed []byte
	if s.allowedSigners != "" {
		if allowed, err = os.ReadFile(s.allowedSigners); err != nil {
			return nil, fmt.Errorf("--allowed-signers: %w", err)
		}
	}
	return campaigns.SignWith(ctx, key, allowed), nil
}
