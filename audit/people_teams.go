package audit

import "context"

// OwnerTeams are the teams ("@org/slug") recorded as owners of
// identities, sorted: a connector reads their members, so the team-owner
// separation rule (docs/people.md) sees who belongs to them.
func (s *Store) OwnerTeams(ctx context.Context) ([]string, error) {
	return s.texts(ctx, "owner teams", `SELECT DISTINCT owner FROM owners WHERE owner LIKE '%_/_%' AND owner NOT LIKE '%@%@%' ORDER BY 1`)
}
