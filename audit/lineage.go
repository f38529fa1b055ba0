package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// A repository can be renamed; its credentials stay what they were. A
// connector says so with each observation's lineage attribute: a key that
// no rename changes (GitHub: the repository's immutable ID and the
// identity's key within it; a fine-grained token's ID, whether requested or
// granted). Lineage keys are unique across kinds. Identity IDs keep their readable
// <source>:<account>:<kind>:<key> form, so a renamed repository's
// identities get new IDs; when a snapshot finishes, each new identity
// whose lineage an absent one had is linked to it (identity_aliases), and
// the old ID resolves to the new: owners and notes follow, campaign
// verification finds it still present, diff shows the rename as a change.
// No event is rewritten. See ARCHITECTURE.md ("Renames").

// LineageAttribute is the observation attribute holding the lineage key.
const LineageAttribute = "lineage"

// linkRenames records, before the run's identities become current, which
// new identities continue absent ones of the same lineage.
func (w *SnapshotWriter) linkRenames(ctx context.Context, tx *sql.Tx) error {
	type key struct{ lineage string }
	rows, err := tx.QueryContext(ctx, `SELECT o.identity_id, o.kind, json_extract(o.attributes, '$.lineage')
		FROM observations o LEFT JOIN identities i ON i.id = o.identity_id
		WHERE o.snapshot_id = ? AND i.id IS NULL AND json_extract(o.attributes, '$.lineage') IS NOT NULL`, w.id)
	if err != nil {
		return fmt.Errorf("finishing snapshot: %w", err)
	}
	fresh := map[key]string{}
	for rows.Next() {
		var id, kind string
		var k key
		if err := rows.Scan(&id, &kind, &k.lineage); err != nil {
			rows.Close()
			return err
		}
		fresh[k] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(fresh) == 0 {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT i.id, i.kind, json_extract(o.attributes, '$.lineage')
		FROM identities i JOIN observations o ON o.snapshot_id = i.last_snapshot AND o.identity_id = i.id
		WHERE i.source = ? AND i.account = ? AND json_extract(o.attributes, '$.lineage') IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM observations x WHERE x.snapshot_id = ? AND x.identity_id = i.id)
		AND NOT EXISTS (SELECT 1 FROM identity_aliases a WHERE a.id = i.id)`, w.info.Source, w.info.Account, w.id)
	if err != nil {
		return fmt.Errorf("finishing snapshot: %w", err)
	}
	type link struct{ old, cur string }
	var links []link
	for rows.Next() {
		var id, kind string
		var k key
		if err := rows.Scan(&id, &kind, &k.lineage); err != nil {
			rows.Close()
			return err
		}
		if cur, ok := fresh[k]; ok {
			links = append(links, link{id, cur})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, l := range links {
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_aliases (id, current, snapshot_id) VALUES (?, ?, ?)`, l.old, l.cur, w.id); err != nil {
			return fmt.Errorf("finishing snapshot: linking %s to %s: %w", l.old, l.cur, err)
		}
	}
	return nil
}

// Aliases maps every identity ID that continues under another to the ID
// it is known by now (following renames of renames).
func (s *Store) Aliases(ctx context.Context) (map[string]string, error) {
	return readAliases(ctx, s.db)
}

// Aliases is Store.Aliases as the transaction sees them: a campaign's
// decision finds a renamed identity's item by either ID under the lock.
func (t *Tx) Aliases(ctx context.Context) (map[string]string, error) {
	return readAliases(ctx, t.tx)
}

func readAliases(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, current FROM identity_aliases`)
	if err != nil {
		return nil, fmt.Errorf("reading renames: %w", err)
	}
	defer rows.Close()
	next := map[string]string{}
	for rows.Next() {
		var id, cur string
		if err := rows.Scan(&id, &cur); err != nil {
			return nil, err
		}
		next[id] = cur
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return FollowAliases(next), nil
}

// FollowAliases maps each old ID of next (old ID -> the ID it was linked
// to) to the ID it continues as at the end of its chain of renames, so a
// repository renamed twice names its latest ID.
func FollowAliases(next map[string]string) map[string]string {
	out := make(map[string]string, len(next))
	for id := range next {
		cur := id
		for range len(next) + 1 { // a cycle cannot arise, but must not hang
			n, ok := next[cur]
			if !ok {
				break
			}
			cur = n
		}
		out[id] = cur
	}
	return out
}

// predecessors inverts aliases: current ID -> earlier IDs.
func predecessors(aliases map[string]string) map[string][]string {
	out := map[string][]string{}
	for old, cur := range aliases {
		out[cur] = append(out[cur], old)
	}
	return out
}

// renamedFrom says, in words, what identity this one continues.
func renamedFrom(old string) string {
	return "renamed: was " + old
}

// followRenames applies renames to a list of identities before their
// findings are evaluated: one that continues under another ID is left out
// (its successor stands for it), and a successor without an owner takes
// its predecessor's.
func (s *Store) followRenames(ctx context.Context, ids []Identity) ([]Identity, map[string][]string, error) {
	r, err := s.renames(ctx)
	if err != nil {
		return nil, nil, err
	}
	return r.follow(ids), r.prev, nil
}

// renameView is what following renames needs, read once: a whole-population
// read (Store.EachTableIdentity) applies it a batch at a time.
type renameView struct {
	aliases map[string]string   // old ID -> the ID it continues as
	owners  map[string]string   // the owners projection; nil without aliases
	prev    map[string][]string // ID -> the IDs it continues
}

func (s *Store) renames(ctx context.Context) (*renameView, error) {
	aliases, err := s.Aliases(ctx)
	if err != nil || len(aliases) == 0 {
		return &renameView{}, err
	}
	owners, err := s.ownersByID(ctx)
	if err != nil {
		return nil, err
	}
	return &renameView{aliases: aliases, owners: owners, prev: predecessors(aliases)}, nil
}

// follow drops renamed identities from ids (in place) and gives an
// unowned successor its predecessor's owner.
func (r *renameView) follow(ids []Identity) []Identity {
	if len(r.aliases) == 0 {
		return ids
	}
	out := ids[:0]
	for _, it := range ids {
		if _, renamed := r.aliases[it.ID]; renamed {
			continue
		}
		if olds := r.prev[it.ID]; len(olds) > 0 && it.Owner == "" {
			for _, o := range olds {
				if r.owners[o] != "" {
					it.Owner = r.owners[o]
					break
				}
			}
		}
		out = append(out, it)
	}
	return out
}

// inheritOwners gives each unowned identity of ids that continues
// others (prev: predecessors of the aliases) the owner recorded under the
// first of them, by ID, that has one, as follow does for Identities: a
// snapshot's population (IdentitiesInSnapshot, EachIdentityInSnapshots:
// what a campaign freezes) shows the owner its readers show. A probe of
// the owners' key per renamed identity; renames are rare.
func inheritOwners(ctx context.Context, q querier, prev map[string][]string, ids []Identity) error {
	if len(prev) == 0 {
		return nil
	}
	for i := range ids {
		olds := prev[ids[i].ID]
		if len(olds) == 0 || ids[i].Owner != "" {
			continue
		}
		olds = slices.Sorted(slices.Values(olds))
		for _, o := range olds {
			owner, err := readOwner(ctx, q, o)
			if err != nil {
				return err
			}
			if owner != "" {
				ids[i].Owner = owner
				break
			}
		}
	}
	return nil
}

// markRenamed shows a renamed identity as changed, not new.
func markRenamed(ids []Identity, prev map[string][]string) {
	for i := range ids {
		if len(prev[ids[i].ID]) > 0 && ids[i].Change == ChangeNew {
			ids[i].Change = ChangeChanged
		}
	}
}

// resolveID is id, or the ID it continues as.
func (s *Store) resolveID(ctx context.Context, id string) (string, error) {
	return resolveIDIn(ctx, s.db, id)
}

// CurrentID is id, or the ID it continues as now (renames of renames
// followed), as the transaction sees the renames: a probe of
// identity_aliases' key per rename, where Aliases reads them all.
func (t *Tx) CurrentID(ctx context.Context, id string) (string, error) {
	return resolveIDIn(ctx, t.tx, id)
}

func resolveIDIn(ctx context.Context, q querier, id string) (string, error) {
	var cur string
	for range 64 {
		err := q.QueryRowContext(ctx, `SELECT current FROM identity_aliases WHERE id = ?`, id).Scan(&cur)
		if err == sql.ErrNoRows {
			return id, nil
		}
		if err != nil {
			return "", err
		}
		id = cur
	}
	return id, nil
}

// ownersByID reads the owners projection.
func (s *Store) ownersByID(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity_id, owner FROM owners`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, o string
		if err := rows.Scan(&id, &o); err != nil {
			return nil, err
		}
		out[id] = o
	}
	return out, rows.Err()
}

// MovedScopes are the scopes that continue under another name (a
// repository renamed): old scope -> its names since. An identity absent
// from its old scope is removed only where a later snapshot also read
// its scope under the new name (LookedMoved); the old name being gone
// from the organisation's listing proves nothing of it (README.md,
// "Reading GitHub"). Campaigns' verification judges by the same rule.
type MovedScopes map[string][]string

// Add records that from continues as to, and, path by path, the scopes
// above them that differ (acme/api/production becoming
// acme/api-v2/production renames acme/api too).
func (m MovedScopes) Add(from, to string) {
	for from != to && from != "" && to != "" {
		if !slices.Contains(m[from], to) {
			m[from] = append(m[from], to)
		}
		fi, ti := strings.LastIndexByte(from, '/'), strings.LastIndexByte(to, '/')
		if fi < 0 || ti < 0 || from[fi:] != to[ti:] {
			return
		}
		from, to = from[:fi], to[:ti]
	}
}

// Names are the names scope continues as, through every rename after
// it (a repository renamed twice), nearest first.
func (m MovedScopes) Names(scope string) []string {
	var out []string
	next := []string{scope}
	for len(next) > 0 {
		cur := next[0]
		next = next[1:]
		for _, to := range m[cur] {
			if to != scope && !slices.Contains(out, to) {
				out = append(out, to)
				next = append(next, to)
			}
		}
	}
	return out
}

// LookedMoved is c.Looked, where scope continues under names (a
// MovedScopes' Names): looked only where each of those was read too.
func (c *Coverage) LookedMoved(names []string, kind Kind, scope string) (bool, string) {
	if ok, why := c.Looked(kind, scope); !ok {
		return false, why
	}
	for _, to := range names {
		if ok, why := c.Looked(kind, to); !ok {
			return false, fmt.Sprintf("%s continues as %s (renamed): %s", Printable(scope), Printable(to), why)
		}
	}
	return true, ""
}

// readMovedScopes are the moved scopes of every account (source NUL
// account -> its MovedScopes), from the renames linked: an old
// identity's scope where it was last seen, and its successor's where the
// snapshot that linked them saw it.
func readMovedScopes(ctx context.Context, q querier) (map[string]MovedScopes, error) {
	rows, err := q.QueryContext(ctx, `SELECT i.source, i.account, o.scope, c.scope FROM identity_aliases a
		JOIN identities i ON i.id = a.id
		JOIN observations o ON o.snapshot_id = i.last_snapshot AND o.identity_id = a.id
		JOIN observations c ON c.snapshot_id = a.snapshot_id AND c.identity_id = a.current`)
	if err != nil {
		return nil, fmt.Errorf("reading renames: %w", err)
	}
	defer rows.Close()
	out := map[string]MovedScopes{}
	for rows.Next() {
		var src, acct, from, to string
		if err := rows.Scan(&src, &acct, &from, &to); err != nil {
			return nil, err
		}
		m := out[src+"\x00"+acct]
		if m == nil {
			m = MovedScopes{}
			out[src+"\x00"+acct] = m
		}
		m.Add(from, to)
	}
	return out, rows.Err()
}
