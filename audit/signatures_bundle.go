package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// SignedRecord is everything needed to check one signed event without the
// evidence file (docs/report.md, "How an auditor verifies the bundle"):
// the bytes that were signed, the signature, and the key the directory of
// people gave the signer at that event.
type SignedRecord struct {
	Seq         int64  `json:"seq"`
	Type        string `json:"type"`
	Actor       string `json:"actor"`
	Record      string `json:"record"` // the canonical bytes: [seq, at, actor, type, payload] as compact JSON, then "\n"
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
	Signature   string `json:"signature"` // armored SSHSIG, namespace nhi-decision
	// SignerKey is the actor's signing_key in the directory as it stood
	// at the event ("" when it held none: only an allowed signers file
	// can vouch for the key then).
	SignerKey string `json:"signer_key"`
}

// SignedRecords returns the signed events among seqs, in sequence order,
// each with its canonical bytes, its signature and its signer's key in the
// directory as of that event. Unsigned events are left out.
func (s *Store) SignedRecords(ctx context.Context, seqs []int64) ([]SignedRecord, error) {
	sigs, err := s.Signatures(ctx)
	if err != nil {
		return nil, err
	}
	want := make([]int64, 0, len(seqs))
	for _, seq := range seqs {
		if _, ok := sigs[seq]; ok {
			want = append(want, seq)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) == 0 {
		return nil, nil
	}
	// The directory, replayed up to the last signed event.
	rows, err := s.db.QueryContext(ctx, `SELECT seq, payload FROM events WHERE type = ? AND seq <= ? ORDER BY seq`, EventPersonSet, want[len(want)-1])
	if err != nil {
		return nil, fmt.Errorf("reading the directory of people: %w", err)
	}
	type change struct {
		seq int64
		p   Person
	}
	var changes []change
	for rows.Next() {
		var c change
		var payload string
		if err := rows.Scan(&c.seq, &payload); err != nil {
			rows.Close()
			return nil, err
		}
		var ps PersonSet
		if json.Unmarshal([]byte(payload), &ps) == nil {
			c.p = ps.Person
			changes = append(changes, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	dir := map[string]Person{}
	byAlias := map[string]string{}
	next := 0
	out := make([]SignedRecord, 0, len(want))
	for _, seq := range want {
		for ; next < len(changes) && changes[next].seq < seq; next++ {
			p := changes[next].p
			dir[p.Email] = p
			for _, n := range p.Names() {
				byAlias[AliasKey(n)] = p.Email
			}
		}
		e, err := s.EventAt(ctx, seq)
		if err != nil {
			return nil, err
		}
		rec, err := e.CanonicalBytes()
		if err != nil {
			return nil, err
		}
		sg := sigs[seq]
		out = append(out, SignedRecord{Seq: seq, Type: e.Type, Actor: e.Actor, Record: string(rec), Fingerprint: sg.Fingerprint,
			PublicKey: sg.PublicKey, Signature: sg.Armored, SignerKey: dir[byAlias[AliasKey(e.Actor)]].SigningKey})
	}
	return out, nil
}
