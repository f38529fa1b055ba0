package audit

import (
	"context"
	"encoding/json"
	"fmt"
)

// StreamIdentities calls fn with every identity EachIdentity gives, with
// the same derived fields, in ID order, a batch at a time. It is the read
// for a caller that wants a million identities fast (the TUI's load,
// issue 21):
//   - an identity last seen in a snapshot taken under the policy in force
//     keeps the findings that snapshot stored for it, and only the rules
//     that depend on what people recorded since (owners, exceptions:
//     OwnerDependent) are evaluated again; every rule is evaluated under
//     the policy in force, as EachIdentity does, for an identity whose
//     snapshot recorded another policy or none (files from before schema
//     v4). Texts of stored findings that repeat (most do) are decoded once
//     and their Finding slice shared: fn must not change an identity's
//     Findings in place, nor keep the pointer past its call;
//   - the change marks are not read batch by batch when no source has
//     two finished snapshots to compare.
//
// It reads and derives in one goroutine (fill spreads the findings over
// the cores): reading beside deriving, or two readers over ranges of IDs
// on two connections, cost this driver twice the CPU and were slower
// (ARCHITECTURE.md, tui).
//
// An error from fn stops the read and is returned as is.
func (s *Store) StreamIdentities(ctx context.Context, fn func(*Identity) error) error {
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return err
	}
	ren, err := s.renames(ctx)
	if err != nil {
		return err
	}
	d, err := s.derivations(ctx, "", true)
	if err != nil {
		return err
	}
	if d.ev.stored, err = s.snapshotsUnderPolicy(ctx, d.ev.policy); err != nil {
		return err
	}
	if marked, err := s.anyChangeMarks(ctx); err != nil {
		return err
	} else if !marked {
		// No identity is new or changed: no batch need ask.
		d.perBatch, d.marks = false, map[string]string{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityColumns+`, o.findings `+identityFrom+` ORDER BY i.id`)
	if err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	defer rows.Close()
	decoded := map[string][]Finding{"[]": {}}
	// The first batches are small, so the first identities reach fn
	// after milliseconds.
	batch := min(256, eachBatch)
	buf := make([]Identity, 0, batch)
	accounts := make([]string, 0, batch)
	flush := func() error {
		for i := range buf {
			if err := judge.judge(ctx, &buf[i], accounts[i]); err != nil {
				return err
			}
		}
		kept := ren.follow(buf)
		if err := d.fill(ctx, kept); err != nil {
			return err
		}
		markRenamed(kept, ren.prev)
		for i := range kept {
			if err := fn(&kept[i]); err != nil {
				return err
			}
		}
		clear(buf[:cap(buf)])
		buf, accounts = buf[:0], accounts[:0]
		return nil
	}
	for rows.Next() {
		var stored string
		id, account, err := scanIdentityText(rows, &stored)
		if err != nil {
			return err
		}
		if d.ev.stored[id.SnapshotID] {
			fs, ok := decoded[stored]
			if !ok {
				if err := json.Unmarshal([]byte(stored), &fs); err != nil {
					return fmt.Errorf("identity %s: findings: %w", id.ID, err)
				}
				decoded[stored] = fs
			}
			id.Findings = fs
		}
		buf = append(buf, id)
		accounts = append(accounts, account)
		if len(buf) == batch {
			if err := flush(); err != nil {
				return err
			}
			batch = min(2*batch, eachBatch)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	return flush()
}

// anyChangeMarks reports whether an identity can be new or changed: some
// source and account has a finished snapshot before its newest
// (changeMarksBetween compares the two).
func (s *Store) anyChangeMarks(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT source, account FROM snapshots
		WHERE status IN ('complete', 'partial') GROUP BY source, account HAVING count(*) > 1) AS pairs`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("reading snapshots: %w", err)
	}
	return n > 0, nil
}

// snapshotsUnderPolicy is the set of snapshots taken under p: the
// findings they stored are what p gives as of their start, but for the
// owner-dependent rules.
func (s *Store) snapshotsUnderPolicy(ctx context.Context, p Policy) (map[int64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id FROM snapshots s JOIN policies p ON p.id = s.policy_id WHERE p.digest = ?`, p.Digest())
	if err != nil {
		return nil, fmt.Errorf("reading the snapshots' policies: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ruleOrder is each rule's place in Rules: findings come in that order.
var ruleOrder = func() map[string]int {
	m := make(map[string]int, len(Rules))
	for i, r := range Rules {
		m[r] = i
	}
	return m
}()

// withOwnerDependent is what Evaluate gives for id, from stored — the
// findings of every other rule, in rule order, as its snapshot stored
// them — and the owner-dependent rules evaluated now. stored is returned
// as is when those add nothing; else a new slice.
func (e *Evaluator) withOwnerDependent(id *Identity, account string, stored []Finding) []Finding {
	var live []Finding
	for i, rule := range Rules {
		if !OwnerDependent(rule) {
			continue
		}
		r := e.rules[i]
		if msg := e.check(rule, r, id, &id.Observation, account); msg != "" {
			live = append(live, Finding{Rule: rule, Severity: r.Severity, OWASP: OWASPNHI[rule], Message: msg})
		}
	}
	if len(live) == 0 {
		if stored == nil {
			return []Finding{}
		}
		return stored
	}
	out := make([]Finding, 0, len(stored)+len(live))
	for _, f := range stored {
		for len(live) > 0 && ruleOrder[live[0].Rule] < ruleOrder[f.Rule] {
			out, live = append(out, live[0]), live[1:]
		}
		out = append(out, f)
	}
	return append(out, live...)
}
