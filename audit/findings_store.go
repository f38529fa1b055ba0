package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// members returns, per account, the organisation members the newest
// finished snapshot that read them recorded. Accounts with no such
// snapshot are absent: membership unknown.
func members(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `
		WITH latest AS (
			SELECT s.account, max(s.id) AS id FROM snapshots s
			WHERE s.status IN ('complete', 'partial')
			  AND EXISTS (SELECT 1 FROM principals p WHERE p.snapshot_id = s.id AND p.type = 'member')
			GROUP BY s.account)
		SELECT latest.account, p.login FROM latest JOIN principals p ON p.snapshot_id = latest.id AND p.type = 'member'`)
	if err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var acct, login string
		if err := rows.Scan(&acct, &login); err != nil {
			return nil, err
		}
		out[acct] = append(out[acct], login)
	}
	return out, rows.Err()
}

// SnapshotFindings returns the findings frozen with a snapshot, by identity
// ID: every rule but the owner-dependent ones, evaluated as of the
// snapshot's start under the policy recorded on it.
func (s *Store) SnapshotFindings(ctx context.Context, snapshotID int64) (map[string][]Finding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity_id, findings FROM observations WHERE snapshot_id = ? AND findings <> '[]'`, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("reading findings: %w", err)
	}
	defer rows.Close()
	out := map[string][]Finding{}
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, err
		}
		var fs []Finding
		if err := json.Unmarshal([]byte(js), &fs); err != nil {
			return nil, fmt.Errorf("identity %s: findings: %w", id, err)
		}
		out[id] = fs
	}
	return out, rows.Err()
}
