package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
// the directory as it stood then, or is listed for them in allowed (an
// allowed_signers file), and that no event claims a signature it does not
// have. The log is read once, in order (the directory is replayed as it
// goes); the signatures, the costly part, are checked on every core.
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
	type check struct {
		seq                   int64
		at, actor, typ, claim string
		rec                   []byte
		sig                   Signature
		personKey             string   // the actor's signing key in the directory then
		sharedWith            []string // the other people whose signing key the signature's was then
		problem               string
	}
	var checks []*check
	dir := map[string]Person{} // the directory replayed as the log goes
	byAlias := map[string]string{}
	keyHolders := map[string][]string{} // fingerprint -> e-mails whose signing key it is then
	var keys sync.Map                   // public key line -> fingerprint
	for rows.Next() {
		var seq int64
		var at, actor, typ, payload string
		if err := rows.Scan(&seq, &at, &actor, &typ, &payload); err != nil {
			return err
		}
		if typ == EventPersonSet {
			var p PersonSet
			if json.Unmarshal([]byte(payload), &p) == nil {
				if old := dir[p.Email].SigningKey; old != "" {
					fp := fingerprintOf(&keys, old)
					keyHolders[fp] = slices.DeleteFunc(keyHolders[fp], func(e string) bool { return e == p.Email })
				}
				if fp := fingerprintOf(&keys, p.SigningKey); fp != "" {
					keyHolders[fp] = append(keyHolders[fp], p.Email)
				}
				dir[p.Email] = p.Person
				for _, n := range p.Names() {
					byAlias[AliasKey(n)] = p.Email
				}
			}
		}
		sg, signed := sigs[seq]
		if !signed && !strings.Contains(payload, `"signed_by"`) {
			continue
		}
		var claim signedClaim
		_ = json.Unmarshal([]byte(payload), &claim)
		delete(sigs, seq)
		if !signed {
			if claim.SignedBy != "" {
				r.add("signatures: event %d (%s by %s) says it is signed by %s, but its signature is missing: it was deleted", seq, typ, actor, claim.SignedBy)
			}
			continue
		}
		person := byAlias[AliasKey(actor)]
		c := &check{seq: seq, at: at, actor: actor, typ: typ, claim: claim.SignedBy, sig: sg,
			personKey: dir[person].SigningKey}
		for _, e := range keyHolders[sg.Fingerprint] {
			if e != person {
				c.sharedWith = append(c.sharedWith, e)
			}
		}
		if c.rec, err = canonicalRecord(seq, at, actor, typ, payload); err != nil {
			c.problem = fmt.Sprintf("signatures: event %d: %v", seq, err)
		}
		checks = append(checks, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(checks); i = int(next.Add(1)) - 1 {
				c := checks[i]
				if c.problem != "" {
					continue
				}
				key, err := sshsig.VerifySignature([]byte(c.sig.Armored), c.rec, SignatureNamespace)
				switch {
				case err != nil:
					c.problem = fmt.Sprintf("signatures: event %d (%s by %s at %s) does not verify: %v: the event or its signature was changed", c.seq, c.typ, c.actor, c.at, err)
				case key.Fingerprint != c.sig.Fingerprint || key.Fingerprint != c.claim:
					c.problem = fmt.Sprintf("signatures: event %d (%s by %s) is signed by %s, but says %s: the signature was replaced", c.seq, c.typ, c.actor, key.Fingerprint, orUnsigned(c.claim))
				case len(c.sharedWith) > 0 && c.personKey != "" && fingerprintOf(&keys, c.personKey) == key.Fingerprint:
					c.problem = fmt.Sprintf("signatures: event %d (%s by %s) is signed by key %s, which was then the signing key of %s too: the signature does not tell who signed",
						c.seq, c.typ, c.actor, key.Fingerprint, strings.Join(c.sharedWith, " and "))
				case c.personKey != "" && fingerprintOf(&keys, c.personKey) == key.Fingerprint:
				case len(allowed) > 0 && sshsig.CheckAllowedSigners(allowed, c.actor, SignatureNamespace, key) == nil:
				default:
					c.problem = fmt.Sprintf("signatures: event %d (%s by %s) is signed by key %s, which was not %s's signing key in the directory then%s",
						c.seq, c.typ, c.actor, key.Fingerprint, c.actor, allowedHint(allowed))
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range checks {
		r.Signed++
		if c.problem != "" {
			r.add("%s", c.problem)
		}
	}
	left := make([]int64, 0, len(sigs))
	for seq := range sigs {
		left = append(left, seq)
	}
	slices.Sort(left)
	for _, seq := range left {
		r.add("signatures: a signature is stored for event %d, which the log does not hold", seq)
	}
	return nil
}

// fingerprintOf parses a public key line once per verification.
func fingerprintOf(cache *sync.Map, line string) string {
	if fp, ok := cache.Load(line); ok {
		return fp.(string)
	}
	fp := ""
	if k, err := sshsig.ParsePublicKey(line); err == nil {
		fp = k.Fingerprint
	}
	cache.Store(line, fp)
	return fp
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
