package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestVerifyDecommissionByRule: items nobody decided, which the campaign's
// rule decommissions (--on-no-response decommission), are verified by a
// later snapshot like a reviewer's decommission — removed, still present,
// or not checked — and the output, the JSON and the report say they were
// decided by the rule.
func TestVerifyDecommissionByRule(t *testing.T) {
	t.Parallel()
	db := separationDB(t)
	carol := []string{"--db", db, "--as", "carol@northwind.example"}
	ok(t, append([]string{"campaign", "create", "R", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example",
		"--on-no-response", "decommission"}, carol...)...)
	ok(t, "decide", "R", keyID(1), "decommission", "--reason", "unused", "--db", db, "--as", "dan@northwind.example")
	ok(t, "decide", "R", keyID(2), "keep", "--reason", "in use", "--db", db, "--as", "dan@northwind.example")
	ok(t, append([]string{"campaign", "close", "R", "--yes"}, carol...)...)

	// A later snapshot: keys 1 (the reviewer's decommission) and 4, 5 (the
	// rule's) are gone; keys 0, 3 and 6 (the rule's) are still there.
	e := campaignstest.Open(t, db, false)
	e.Snapshot(t, nil, deployKey(0), deployKey(2), deployKey(3), deployKey(6))
	e.Store.Close()

	r := ok(t, append([]string{"campaign", "verify", "R"}, carol...)...)
	for _, want := range []string{
		"Campaign R: 6 decommission decisions of github/acme checked against snapshot 2",
		"  removed        3\n  still-present  3\n",
		"Decommissioned by the campaign's rule (on-no-response: decommission; no reviewer decided them): 5\n",
		"  still-present  " + keyID(0) + "\n",
		"  removed        " + keyID(4) + "\n",
		"  removed        " + keyID(5) + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify: want %q in\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, keyID(2)) {
		t.Errorf("a kept item was verified:\n%s", r.stdout)
	}
	var js []struct {
		Removed []string `json:"removed"`
		ByRule  []string `json:"by_rule"`
	}
	jr := ok(t, append([]string{"campaign", "verify", "R", "--json"}, carol...)...)
	if err := json.Unmarshal([]byte(jr.stdout), &js); err != nil || len(js) != 1 {
		t.Fatalf("verify --json: %v\n%s", err, jr.stdout)
	}
	if !slices.Contains(js[0].Removed, keyID(1)) || slices.Contains(js[0].ByRule, keyID(1)) || len(js[0].ByRule) != 5 || !slices.Contains(js[0].ByRule, keyID(5)) {
		t.Errorf("verify --json: %+v", js[0])
	}
	ok(t, "verify", "--db", db)

	// The report lists them in its remediation section, decided by the rule.
	out := filepath.Join(t.TempDir(), "report")
	ok(t, "export", "R", "--out", out, "--db", db)
	b, err := os.ReadFile(filepath.Join(out, "remediation.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 7 {
		t.Errorf("remediation.csv has %d lines, want a header and 6 rows:\n%s", n, b)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, keyID(5)) && !strings.Contains(line, ",removed,") {
			t.Errorf("remediation.csv: %s", line)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(md), "no reviewer: on-no-response rule"); n != 5 {
		t.Errorf("report.md names the rule as decider %d times, want 5", n)
	}
}
