package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// aliasKeyNames are names whose keys the server must compute as AliasKey
// does: the letter v at either end (PostgreSQL's E'\v' is the letter v,
// not a vertical tab: step 3 trimmed it), every character
// strings.TrimSpace trims at either end, and characters it keeps.
func aliasKeyNames() []string {
	names := []string{"vbob", "bobv", "Vbob", "dev", "vivian", "v", "vv", "@vbob", "v@bob", "bob", "@bob", "",
		"\u200bbob", "bob\u180e", "\x1cbob\x1f"}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsSpace(r) {
			s := string(r)
			names = append(names, s+"Bob"+s, s+"@bob", "v"+s, s+s+"vbob"+s, s)
		}
	}
	return names
}

// The server's key of a name (nhi_alias_key) and of a directory record's
// names (nhi_person_keys, and the name_keys each row of people keeps) is
// AliasKey's, for every name above, and two names have one key on the
// server exactly when they have one in Go.
func TestAliasKeyMatchesGo(t *testing.T) {
	s := openAt(t, pgtest.URL(t))
	names := aliasKeyNames()
	keys := make([]string, len(names))
	for i, n := range names {
		if err := s.db.QueryRowContext(ctx, `SELECT nhi_alias_key($1)`, n).Scan(&keys[i]); err != nil {
			t.Fatal(err)
		}
		if want := AliasKey(n); keys[i] != want {
			t.Errorf("the server's key of %+q is %+q; AliasKey's %+q", n, keys[i], want)
		}
	}
	differ := 0
	for i, a := range names {
		for j, b := range names {
			if (keys[i] == keys[j]) != (AliasKey(a) == AliasKey(b)) {
				if differ++; differ <= 10 {
					t.Errorf("%+q and %+q: one key on the server %v, in Go %v", a, b, keys[i] == keys[j], AliasKey(a) == AliasKey(b))
				}
			}
		}
	}
	if differ > 10 {
		t.Errorf("and %d more pairs the server and Go compare apart", differ-10)
	}
	// A record as stored, its names untrimmed (a record is normalized
	// before it is stored, but the function must not depend on it).
	record, err := json.Marshal(map[string]any{"email": "Vivian@acme.test", "github": "\vvbob\u00a0", "aliases": names})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.db.QueryRowContext(ctx, `SELECT array_to_json(nhi_person_keys($1))::text`, string(record)).Scan(jsonText{&got}); err != nil {
		t.Fatal(err)
	}
	want := []string{"vivian@acme.test", "vbob"}
	for _, n := range names {
		if k := AliasKey(n); n != "" && !slices.Contains(want, k) {
			want = append(want, k)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("nhi_person_keys of a record:\n%+q\nAliasKey of its names:\n%+q", got, want)
	}
	checkNameKeys(t, s, "stored")
}

// jsonText scans a JSON text column into v.
type jsonText struct{ v any }

func (j jsonText) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("scan %T into JSON", src)
	}
	return json.Unmarshal([]byte(s), j.v)
}

// checkNameKeys sets a directory of people whose names begin or end in v
// and checks each row's name_keys against AliasKey of the person's names.
func checkNameKeys(t *testing.T, s *Store, step string) {
	t.Helper()
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: vPeople}, false); err != nil {
		t.Fatal(err)
	}
	compareNameKeys(t, s, step)
}

var vPeople = []Person{
	{Email: "vivian@acme.test", GitHub: "Vivian-V", Aliases: []string{"viv"}},
	{Email: "dev@acme.test", GitHub: "vbob", Aliases: []string{"@dev"}},
}

func compareNameKeys(t *testing.T, s *Store, step string) {
	t.Helper()
	dir, err := s.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dir.People() {
		var got []string
		if err := s.db.QueryRowContext(ctx, `SELECT array_to_json(name_keys)::text FROM people WHERE email = $1`, p.Email).Scan(jsonText{&got}); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, n := range p.Names() {
			want = append(want, AliasKey(n))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: people.name_keys of %s is %q; AliasKey of their names %q", step, p.Email, got, want)
		}
	}
}

// A database whose people's keys step 3's functions computed (vivian's
// alias viv's key i, her e-mail's ivian@acme.test) has them computed
// again at the owner's next open: step 8 replaces the functions and the
// stored column, and the server's checks find vivian by her alias.
func TestAliasKeyStepRecomputesPeople(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: vPeople}, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The functions and keys as step 7 left them.
	pgtest.Exec(t, where, `
CREATE OR REPLACE FUNCTION nhi_alias_key(name text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT lower(regexp_replace(btrim(name, E' \t\n\r\f\v'), '^@', '')) $$;
CREATE OR REPLACE FUNCTION nhi_person_keys(record text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT array_agg(DISTINCT lower(regexp_replace(btrim(n, E' \t\n\r\f\v'), '^@', ''))) FROM (
	SELECT record::jsonb->>'email' AS n
	UNION ALL SELECT record::jsonb->>'github'
	UNION ALL SELECT jsonb_array_elements_text(COALESCE(record::jsonb->'aliases', '[]'::jsonb))
) names WHERE n <> '' $$;
ALTER TABLE people DROP COLUMN name_keys;
ALTER TABLE people ADD COLUMN name_keys text[] GENERATED ALWAYS AS (nhi_person_keys(record)) STORED;
CREATE INDEX people_name_keys ON people USING gin (name_keys);
UPDATE meta SET value = '7' WHERE key = 'schema.audit'`)
	c := pgtest.Connect(t, where)
	var old bool
	if err := c.QueryRow(ctx, `SELECT name_keys @> ARRAY['ivian@acme.test', 'i'] FROM people WHERE email = 'vivian@acme.test'`).Scan(&old); err != nil || !old {
		t.Fatalf("step 3's keys of vivian: ivian@acme.test and i: %v %v", old, err)
	}
	s = openAt(t, where)
	compareNameKeys(t, s, "upgraded")
	var who string
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(nhi_person_of('viv'), '') || ',' || COALESCE(nhi_person_of('i'), '')`).Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != "vivian@acme.test," {
		t.Errorf("after the upgrade, the server finds viv and i as %q; want vivian@acme.test and nobody", who)
	}
}

// A role named v and another's name (vsam_…) is not that person to the
// server: it may not record an event in sam's name, as sam's own role
// may; nor may a role record in the name of v and its own name.
func TestVRoleCannotRecordAsItsNamesake(t *testing.T) {
	where := pgtest.URL(t)
	db := pgtest.DatabaseName(where)
	s := openAt(t, where)
	if _, err := s.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	sam, vsam := "sam_"+db, "vsam_"+db
	for _, role := range []string{sam, vsam} {
		pgtest.LoginRole(t, where, role, RoleReviewer)
	}
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: []Person{{Email: "sam@acme.test", Aliases: []string{sam}}}}, false); err != nil {
		t.Fatal(err)
	}
	c := pgtest.Connect(t, where)
	record := func(role, actor string) bool {
		t.Helper()
		tx := pgtest.BeginAs(t, c, role)
		defer tx.Rollback(ctx)
		_, err := tx.Exec(ctx, `INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash) VALUES (1000000, '2026-12-02T00:00:00Z', $1, 'note.add', '{}', '', 'test')`, actor)
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "42501" && strings.Contains(pe.Message, "may not record an event in the name of") {
			return false
		}
		if err != nil {
			t.Fatalf("as %s, an event in the name of %q: %v", role, actor, err)
		}
		return true
	}
	for _, tc := range []struct {
		role, actor string
		want        bool
	}{
		{sam, sam, true},
		{sam, "sam@acme.test", true},
		{sam, "\v" + sam + "\u3000", true}, // AliasKey trims both
		{vsam, vsam, true},
		{vsam, sam, false},
		{vsam, "sam@acme.test", false},
		{vsam, "v" + vsam, false},
		{sam, "v" + sam, false},
		{sam, "vsam@acme.test", false},
	} {
		if got := record(tc.role, tc.actor); got != tc.want {
			t.Errorf("as %s, an event in the name of %+q: accepted %v; want %v", tc.role, tc.actor, got, tc.want)
		}
	}
}
