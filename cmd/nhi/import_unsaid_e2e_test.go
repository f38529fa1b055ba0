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

// TestImportedFreeKindLastUseNotReported: a bot token (a kind of the
// file's own, import_bot_token) whose row leaves last_used_at empty is
// not reported, as an AWS access key's is: nhi identities says LAST USED
// "not read" and its findings not read (stale could not be judged), --json
// names not_read last_used and why, and used:unknown lists it, where it
// carried no last_used_unknown, showed "-" beside a bot whose file gave
// it, and finding:none listed it as having nothing to find.
func TestImportedFreeKindLastUseNotReported(t *testing.T) {
	dir := t.TempDir()
	db, file := filepath.Join(dir, "nhi.db"), filepath.Join(dir, "in.csv")
	if err := os.WriteFile(file, []byte("key,kind,name,owner,created_at,last_used_at,rotated_at,expires_at,permissions\n"+
		"B1,bot_token,bot-with-use,alice,2026-01-01,2026-11-28,never,never,[]\n"+
		"B2,bot_token,bot-unsaid,alice,2026-01-01,,never,never,[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", file, "--source", "slack", "--account", "acme", "--db", db)
	r := ok(t, "identities", "--db", db)
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "bot-unsaid") && !strings.HasSuffix(strings.Join(strings.Fields(l), " "), "not read active not read") {
			t.Errorf("identities: bot-unsaid's row %q, want LAST USED and FINDINGS not read", l)
		}
	}
	var js []struct {
		Name    string `json:"name"`
		NotRead []struct {
			What, Marker, Why string
		} `json:"not_read"`
	}
	r = ok(t, "identities", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || len(js) != 2 {
		t.Fatalf("identities --json: %v\n%s", err, r.stdout)
	}
	for _, j := range js {
		switch j.Name {
		case "bot-unsaid":
			if len(j.NotRead) != 1 || j.NotRead[0].What != "last_used" || j.NotRead[0].Marker != "last_used_unknown" ||
				!strings.Contains(j.NotRead[0].Why, "did not say when it was last used") {
				t.Errorf("identities --json: bot-unsaid's not_read %+v, want last_used, not said by its source", j.NotRead)
			}
		case "bot-with-use":
			if len(j.NotRead) != 0 {
				t.Errorf("identities --json: bot-with-use's not_read %+v, want none", j.NotRead)
			}
		}
	}
	for filter, want := range map[string]string{"used:unknown": "bot-unsaid", "finding:none": "bot-with-use", "attr.last_used_unknown:true": "bot-unsaid"} {
		r := ok(t, "identities", "-o", "id", "--filter", filter, "--db", db)
		if got := strings.Fields(r.stdout); len(got) != 1 || !strings.HasSuffix(got[0], map[string]string{"bot-unsaid": ":B2", "bot-with-use": ":B1"}[want]) {
			t.Errorf("--filter %q lists %v; want %s alone", filter, got, want)
		}
	}
}
