package audit

import (
	"context"
	"fmt"
)

// OwnerTeams are the teams ("@org/slug") recorded as owners of
// identities, sorted: a connector reads their members, so the team-owner
// separation rule (docs/people.md) sees who belongs to them.
func (s *Store) OwnerTeams(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT owner FROM owners WHERE owner LIKE '%_/_%' AND owner NOT LIKE '%@%@%' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading owner teams: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
