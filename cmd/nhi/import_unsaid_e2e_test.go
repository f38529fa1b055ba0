package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// importedIDs imports data as source slack/acme into a new evidence file
// and returns a function listing the keys of the identities a filter
// lists (their IDs' last part), with their findings' rules.
func importedIDs(t *testing.T, data string) (keys func(filter string) []string, rules func(key string) []string) {
	t.Helper()
	dir := t.TempDir()
	db, file := filepath.Join(dir, "nhi.db"), filepath.Join(dir, "in.csv")
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := nhi(t, nil, "import", file, "--source", "slack", "--account", "acme", "--db", db); r.code != 0 {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	type row struct {
		ID       string `json:"id"`
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
	}
	list := func(filter string) []row {
		t.Helper()
		r := nhi(t, nil, "identities", "--json", "--filter", filter, "--db", db)
		var out []row
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
			t.Fatalf("identities --filter %q: %d\n%s%s", filter, r.code, r.stdout, r.stderr)
		}
		return out
	}
	key := func(id string) string { return id[strings.LastIndexByte(id, ':')+1:] }
	keys = func(filter string) []string {
		t.Helper()
		out := []string{}
		for _, x := range list(filter) {
			out = append(out, key(x.ID))
		}
		slices.Sort(out)
		return out
	}
	all := list("")
	rules = func(k string) []string {
		out := []string{}
		for _, x := range all {
			if key(x.ID) == k {
				for _, f := range x.Findings {
					out = append(out, f.Rule)
				}
			}
		}
		return out
	}
	return keys, rules
}

// An import row of one of nhi's own kinds with an empty expires_at or
// rotated_at is "not reported" (docs/import.md): a fine-grained PAT without
// one is not found to never expire, a secret without one is not found
// unrotated from its creation, and the filter neither lists them as never
// expiring or never rotated nor as the opposite. "never" says it outright.
func TestImportedEmptyDatesAreNotNever(t *testing.T) {
	t.Parallel()
	keys, rules := importedIDs(t, "key,kind,owner,created_at,rotated_at,expires_at,permissions\n"+
		"P1,github_fine_grained_pat,alice,2026-01-01,,,contents:read\n"+
		"P2,github_fine_grained_pat,alice,2026-01-01,,never,contents:read\n"+
		"S1,github_actions_secret,alice,2020-01-01,,,\n"+
		"S2,github_actions_secret,alice,2020-01-01,never,,\n")

	if got := rules("P1"); slices.Contains(got, "no-expiry") {
		t.Errorf("P1, whose file left expires_at empty, is found %v; the file did not say it never expires", got)
	}
	if got := rules("P2"); !slices.Contains(got, "no-expiry") {
		t.Errorf("P2, whose file says expires_at never, is found %v; want no-expiry", got)
	}
	if got := rules("S1"); slices.Contains(got, "unrotated") {
		t.Errorf("S1, whose file left rotated_at empty, is found %v; the file did not say it was never rotated", got)
	}
	if got := rules("S2"); !slices.Contains(got, "unrotated") {
		t.Errorf("S2, created in 2020 and never rotated, is found %v; want unrotated", got)
	}
	for filter, want := range map[string][]string{
		"expires:never":              {"P2", "S1", "S2"}, // a secret has no expiry by its kind
		"-expires:never":             {},
		"expires<3650d":              {},
		"-expires<3650d":             {"P2", "S1", "S2"},
		"-expired":                   {"P2", "S1", "S2"},
		"rotated:never":              {"P1", "P2", "S2"}, // a PAT is not rotated by its kind
		"-rotated:never":             {},
		"finding:none":               {},
		"-finding:any":               {},
		"attr.expires_unknown:true":  {"P1"},
		"attr.rotated_unknown:true":  {"S1"},
		"attr.policies_unknown:true": {},
	} {
		if got := keys(filter); !slices.Equal(got, want) {
			t.Errorf("--filter %q lists %v; want %v", filter, got, want)
		}
	}
}

// An import without a permissions column, or with an empty cell on a kind
// that has permissions, does not say what is granted: those identities are
// policies_unknown, so perm:none and -perm:any leave them out. An empty
// list ([]) says "none".
func TestImportedPermissionsNotGivenAreNotNone(t *testing.T) {
	t.Parallel()
	keys, _ := importedIDs(t, "key,kind,expires_at,permissions\n"+
		"P1,github_fine_grained_pat,never,\n"+
		"P2,github_fine_grained_pat,never,[]\n"+
		"P3,github_fine_grained_pat,never,contents:write\n"+
		"S1,github_actions_secret,,\n"+
		"B1,bot_token,never,\n")
	for filter, want := range map[string][]string{
		"perm:none":                  {"P2", "S1"},
		"-perm:any":                  {"P2", "S1"},
		"perm:any":                   {"P3"},
		"-perm:none":                 {"P3"},
		"-perm:write":                {"P2", "S1"},
		"attr.policies_unknown:true": {"B1", "P1"},
	} {
		if got := keys(filter); !slices.Equal(got, want) {
			t.Errorf("--filter %q lists %v; want %v", filter, got, want)
		}
	}

	// No permissions column at all: nothing is said of any of them.
	keys, _ = importedIDs(t, "key,kind,expires_at\nP1,github_fine_grained_pat,never\nB1,bot_token,never\nS1,github_actions_secret,\n")
	if got := keys("perm:none"); !slices.Equal(got, []string{"S1"}) {
		t.Errorf("without a permissions column, perm:none lists %v; want only the secret, which has no permissions by its kind", got)
	}
}
