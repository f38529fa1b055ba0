package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nhi-audit/nhi/sshsig"
)

// SignatureNamespace is the SSHSIG namespace of a signed event: a
// signature made for anything else (a commit, a report) never verifies as
// a decision's. Check one by hand with
// `ssh-keygen -Y verify -n nhi-decision` (docs/people.md).
const SignatureNamespace = "nhi-decision"

// Signature is the signature of one event.
type Signature struct {
	Seq         int64
	Fingerprint string // SHA256:...
	PublicKey   string // "TYPE BASE64"
	Armored     string
}

// Signatures returns the signatures of events, by seq.
func (s *Store) Signatures(ctx context.Context) (map[int64]Signature, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, fingerprint, public_key, signature FROM event_signatures`)
	if err != nil {
		return nil, fmt.Errorf("reading signatures: %w", err)
	}
	defer rows.Close()
	out := map[int64]Signature{}
	for rows.Next() {
		var sg Signature
		if err := rows.Scan(&sg.Seq, &sg.Fingerprint, &sg.PublicKey, &sg.Armored); err != nil {
			return nil, err
		}
		out[sg.Seq] = sg
	}
	return out, rows.Err()
}

// signedClaim is what every signed payload says about its signature, so
// that deleting the signature shows: the claim is covered by the chain.
type signedClaim struct {
	SignedBy string `json:"signed_by"`
}

// verifySignatures checks every stored signature over its event's
// canonical bytes, and that the key was the acting person's signing key in
// the directory as it stood then (keys, per e-mail, in keys[seq]), or is
// listed for them in allowed (an allowed_signers file), and that no event
// claims a signature it does not have.
func (s *Store) verifySignatures(ctx context.Context, r *VerifyResult, allowed []byte) error {
	sigs, err := s.Signatures(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, actor, type, payload FROM events ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	dir := map[string]Person{} // the directory replayed as the log goes
	byAlias := map[string]string{}
	for rows.Next() {
		var seq int64
		var at, actor, typ, payload string
		if err := rows.Scan(&seq, &at, &actor, &typ, &payload); err != nil {
			return err
		}
		if typ == EventPersonSet {
			var p PersonSet
			if json.Unmarshal([]byte(payload), &p) == nil {
				dir[p.Email] = p.Person
				for _, n := range p.Names() {
					byAlias[AliasKey(n)] = p.Email
				}
			}
		}
		var claim signedClaim
		_ = json.Unmarshal([]byte(payload), &claim)
		sg, signed := sigs[seq]
		delete(sigs, seq)
		if !signed {
			if claim.SignedBy != "" {
				r.add("signatures: event %d (%s by %s) says it is signed by %s, but its signature is missing: it was deleted", seq, typ, actor, claim.SignedBy)
			}
			continue
		}
		r.Signed++
		rec, err := canonicalRecord(seq, at, actor, typ, payload)
		if err != nil {
			r.add("signatures: event %d: %v", seq, err)
			continue
		}
		key, err := sshsig.VerifySignature([]byte(sg.Armored), rec, SignatureNamespace)
		if err != nil {
			r.add("signatures: event %d (%s by %s at %s) does not verify: %v: the event or its signature was changed", seq, typ, actor, at, err)
			continue
		}
		if key.Fingerprint != sg.Fingerprint || key.Fingerprint != claim.SignedBy {
			r.add("signatures: event %d (%s by %s) is signed by %s, but says %s: the signature was replaced", seq, typ, actor, key.Fingerprint, orUnsigned(claim.SignedBy))
			continue
		}
		person, known := dir[byAlias[AliasKey(actor)]]
		switch {
		case known && person.SigningKey != "" && sameKey(person.SigningKey, key):
		case len(allowed) > 0 && sshsig.CheckAllowedSigners(allowed, actor, SignatureNamespace, key) == nil:
		default:
			r.add("signatures: event %d (%s by %s) is signed by key %s, which was not %s's signing key in the directory then%s",
				seq, typ, actor, key.Fingerprint, actor, allowedHint(allowed))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for seq := range sigs {
		r.add("signatures: a signature is stored for event %d, which the log does not hold", seq)
	}
	return nil
}

func sameKey(authorized string, key *sshsig.PublicKey) bool {
	k, err := sshsig.ParsePublicKey(authorized)
	return err == nil && k.Fingerprint == key.Fingerprint
}

func allowedHint(allowed []byte) string {
	if len(allowed) == 0 {
		return " (if it is listed in an allowed signers file, pass it with --allowed-signers)"
	}
	return " nor listed for them in the allowed signers file"
}

func orUnsigned(s string) string {
	if s == "" {
		return "no signature"
	}
	return s
}
