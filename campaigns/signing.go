package campaigns

import (
	"context"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/sshsig"
)

// Signed decisions: a reviewer signs each decision event with their SSH
// key, as git signs commits (docs/people.md). The key travels in the
// context, so every way of deciding (one item, bulk, confirm, undo, the
// review UI) signs the same way.

type signingCtxKey struct{}

type signing struct {
	key     *sshsig.SigningKey
	allowed []byte // an allowed_signers file, or nil
}

// SignWith returns a context in which decisions, confirmations and undos
// are signed with key (namespace nhi-decision, over the event's canonical
// bytes). The key must be the acting person's: their signing_key in the
// directory, or listed for them in allowed, an allowed_signers file in
// ssh-keygen's format (nil for none).
func SignWith(ctx context.Context, key *sshsig.SigningKey, allowed []byte) context.Context {
	return context.WithValue(ctx, signingCtxKey{}, &signing{key: key, allowed: allowed})
}

func signingFrom(ctx context.Context) *signing {
	s, _ := ctx.Value(signingCtxKey{}).(*signing)
	if s == nil || s.key == nil {
		return nil
	}
	return s
}

// fingerprint is what the payload says about the signature ("" unsigned).
func (s *signing) fingerprint() string {
	if s == nil {
		return ""
	}
	return s.key.Public.Fingerprint
}

func (s *signing) signer() *sshsig.SigningKey {
	if s == nil {
		return nil
	}
	return s.key
}

// signingRefusal refuses an unsigned decision in a campaign that requires
// signatures, and a signature by a key that is not the actor's.
func (sep *separation) signingRefusal(sg *signing, actor string) *Refusal {
	if sg == nil {
		if sep.c.RequireSigned {
			return &Refusal{RuleUnsigned, fmt.Sprintf("campaign %s requires signed decisions; sign with --sign-with KEY or NHI_SIGNING_KEY", sep.c.Name)}
		}
		return nil
	}
	fp := sg.key.Public.Fingerprint
	if p := sep.dir.Lookup(actor); p != nil && p.SigningKey != "" {
		if k, err := sshsig.ParsePublicKey(p.SigningKey); err == nil && k.Fingerprint == fp {
			return nil
		}
	}
	if len(sg.allowed) > 0 && sshsig.CheckAllowedSigners(sg.allowed, actor, audit.SignatureNamespace, sg.key.Public) == nil {
		return nil
	}
	return &Refusal{RuleSigningKey, fmt.Sprintf("key %s is not %s's signing key in the directory of people, nor listed for them in an allowed signers file", fp, audit.Printable(actor))}
}
