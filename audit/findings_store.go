package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// members returns, per account, the organisation members the newest
// finished snapshot that read them recorded. Accounts with no such
// snapshot are absent: membership unknown. Each account's are read by
// themselves, one column a row: the account beside each of the 48,000
// members of a large organisation was a third of this read, which every
// table read waits for before its first rows (issue 21). A finished
// snapshot's principals never change, so the two reads agree.
func members(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT s.account, max(s.id) FROM snapshots s
		WHERE s.status IN ('complete', 'partial')
		  AND EXISTS (SELECT 1 FROM principals p WHERE p.snapshot_id = s.id AND p.type = 'member')
		GROUP BY s.account`)
	if err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	type latest struct {
		account string
		id      int64
	}
	var accounts []latest
	for rows.Next() {
		var l latest
		if err := rows.Scan(&l.account, &l.id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading members: %w", err)
		}
		accounts = append(accounts, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	out := make(map[string][]string, len(accounts))
	for _, l := range accounts {
		logins, err := memberLogins(ctx, q, l.id)
		if err != nil {
			return nil, err
		}
		out[l.account] = logins
	}
	return out, nil
}

// memberLogins is the members snapshot id recorded.
func memberLogins(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT login FROM principals WHERE snapshot_id = ? AND type = 'member'`, id)
	if err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	defer rows.Close()
	var logins []string
	for rows.Next() {
		var login string
		if err := rows.Scan(&login); err != nil {
			return nil, fmt.Errorf("reading members: %w", err)
		}
		logins = append(logins, login)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	return logins, nil
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
