package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDemoCarryForwardFollowsRenames: in the demo, whose week renames a
// repository, a campaign over the snapshot before the rename keeps two of
// its deploy keys (one decided by the ID it has now) and rotates the
// third; the next campaign, over the snapshot after it, carries the two
// keeps to the keys' new IDs and never the rotate. create says which it
// carried under their earlier ID, campaign show lists them under the
// table ("carried from q3 as OLD"), and --json and -o csv give that ID as
// carried_as.
func TestDemoCarryForwardFollowsRenames(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	var demo struct {
		Snapshot int64 `json:"snapshot"`
		Items    []struct {
			ID        string `json:"id"`
			CurrentID string `json:"current_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "demo-deploy-keys", "--db", db, "--json").stdout), &demo); err != nil {
		t.Fatal(err)
	}
	var olds, news []string
	for _, it := range demo.Items {
		if it.CurrentID != "" {
			olds, news = append(olds, it.ID), append(news, it.CurrentID)
		}
	}
	if len(olds) != 3 {
		t.Fatalf("the demo renames %d deploy keys; the test needs 3", len(olds))
	}
	// github:northwind:github_deploy_key:REPO/N -> northwind/REPO
	repoOf := func(id string) string {
		k := id[strings.LastIndex(id, ":")+1:]
		return "northwind/" + k[:strings.Index(k, "/")]
	}
	lead, rita := []string{"--db", db, "--as", "lead@northwind.test"}, []string{"--db", db, "--as", "rita@northwind.test"}
	ok(t, append([]string{"campaign", "create", "q3", "--scope", "kind:github_deploy_key scope:" + repoOf(olds[0]), "--snapshot", fmt.Sprint(demo.Snapshot),
		"--due", "2027-01-31", "--reviewer", "rita@northwind.test"}, lead...)...)
	ok(t, append([]string{"decide", "q3", olds[0], "keep", "--reason", "applies plans"}, rita...)...)
	ok(t, append([]string{"decide", "q3", news[1], "keep", "--reason", "reads state"}, rita...)...)
	ok(t, append([]string{"decide", "q3", olds[2], "rotate", "--reason", "old key"}, rita...)...)
	ok(t, append([]string{"campaign", "close", "q3", "--yes"}, lead...)...)
	r := ok(t, append([]string{"campaign", "create", "q4", "--scope", "kind:github_deploy_key scope:" + repoOf(news[0]), "--due", "2027-03-31",
		"--reviewer", "rita@northwind.test", "--carry-forward", "q3", "--allow-partial"}, lead...)...)
	want := "  carried     2 keep decisions from q3, awaiting confirmation: nhi decide q4 --confirm-carried --reason TEXT\n" +
		"  renamed     2 keeps were carried from q3 under the ID their identities had then:\n" +
		"    " + news[0] + " (carried as " + olds[0] + ")\n" +
		"    " + news[1] + " (carried as " + olds[1] + ")\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("campaign create --carry-forward:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = ok(t, "campaign", "show", "q4", "--db", db)
	want = "Carried from q3 under the ID the identity had there (2; its repository renamed since):\n" +
		"  " + news[0] + " (carried from q3 as " + olds[0] + ")\n" +
		"  " + news[1] + " (carried from q3 as " + olds[1] + ")\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("campaign show:\n%s\nwant:\n%s", r.stdout, want)
	}
	var show struct {
		Items []struct {
			ID        string  `json:"id"`
			Carried   *string `json:"carried"`
			CarriedAs string  `json:"carried_as"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "q4", "--db", db, "--json").stdout), &show); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range show.Items {
		if it.Carried != nil {
			got = append(got, it.ID+" as "+it.CarriedAs)
		}
	}
	if w := []string{news[0] + " as " + olds[0], news[1] + " as " + olds[1]}; !slices.Equal(got, w) {
		t.Errorf("campaign show --json: carried %v; want %v", got, w)
	}
	csv := ok(t, "campaign", "show", "q4", "--db", db, "-o", "csv").stdout
	if lines := strings.Split(csv, "\n"); !strings.HasSuffix(lines[0], ",carried_as,not_read") || !strings.HasSuffix(lines[1], ","+olds[0]+",") {
		t.Errorf("campaign show -o csv:\n%s", csv)
	}
	// The bundle names where the keeps were carried from, and checks
	// out both against the log and, alone, against itself.
	out := filepath.Join(t.TempDir(), "q4")
	ok(t, append([]string{"export", "q4", "--out", out}, lead...)...)
	history, err := os.ReadFile(filepath.Join(out, "history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(history), "carried from campaign q3 as "+olds[0]) {
		t.Errorf("history.csv does not say the keep was carried as %s:\n%s", olds[0], history)
	}
	if r := ok(t, "verify", "--report", out, "--db", db); !strings.Contains(r.stdout, "identical") {
		t.Errorf("verify --report --db says:\n%s", r.stdout)
	}
	if r := ok(t, "verify", "--report", out); !strings.Contains(r.stdout, "every file agrees with report.json") {
		t.Errorf("verify --report alone says:\n%s", r.stdout)
	}
}
