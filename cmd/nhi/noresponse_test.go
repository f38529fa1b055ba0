package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// The no-response rule through the binary: create states it, bad
// combinations are usage errors, escalate before its day changes nothing
// and says when, remind lists each reviewer's pending items as CSV for a
// mail merge, close states what the rule makes of the no-response items.
func TestNoResponseRuleEndToEnd(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 6)
	ok(t, "people", "import", writeFile(t, "people.csv", northwindPeople), "--db", db, "--as", "carol@northwind.example")
	refused(t, 2, `bad no-response rule "ignore": use keep, decommission or escalate`,
		"campaign", "create", "x", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--on-no-response", "ignore", "--db", db, "--as", "carol@northwind.example")
	refused(t, 2, "--fallback-reviewer and --escalate-after go with --on-no-response escalate",
		"campaign", "create", "x", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--on-no-response", "keep",
		"--escalate-after", "3", "--db", db, "--as", "carol@northwind.example")
	refused(t, 1, `"nobody" is not in the directory of people`,
		"campaign", "create", "x", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--on-no-response", "escalate",
		"--fallback-reviewer", "nobody", "--db", db, "--as", "carol@northwind.example")

	refused(t, 1, "creates this campaign and is also its fallback reviewer",
		"campaign", "create", "x", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--on-no-response", "escalate",
		"--fallback-reviewer", "user2", "--db", db, "--as", "carol@northwind.example")
	ok(t, "campaign", "create", "Q4", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--reviewer", "user2",
		"--on-no-response", "escalate", "--escalate-after", "10", "--fallback-reviewer", "user2", "--db", db, "--as", "alice-smith")
	r := ok(t, "campaign", "show", "Q4", "--db", db)
	if !strings.Contains(r.stdout, "no response items still pending 10 days after creation are reassigned to their reviewer's manager in the directory of people, else to carol@northwind.example") {
		t.Errorf("show:\n%s", r.stdout)
	}
	refused(t, 1, "campaign Q4 escalates items still pending 10 days after creation, from ", "campaign", "escalate", "Q4", "--db", db, "--as", "alice-smith")

	ok(t, "decide", "Q4", keyID(1), "decommission", "--db", db, "--as", "dan@northwind.example")
	r = ok(t, "campaign", "remind", "Q4", "--csv", "--db", db)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("remind --csv: %v\n%s", err, r.stdout)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != "reviewer,reviewer_name,campaign,due,identity_id,kind,name,scope,findings,state,escalated_from" {
		t.Fatalf("remind --csv: %d rows\n%s", len(rows), r.stdout)
	}
	per := map[string]int{}
	for _, row := range rows[1:] {
		per[row[0]+" "+row[1]]++
		if row[2] != "Q4" || row[3] != due(20) || row[9] != "pending" || row[4] == keyID(1) {
			t.Errorf("remind row %v", row)
		}
	}
	if len(per) != 2 || per["carol@northwind.example Carol Diaz"] == 0 || per["dan@northwind.example Dan Wu"] == 0 {
		t.Errorf("remind per reviewer: %v", per)
	}
	if r := ok(t, "campaign", "remind", "Q4", "--db", db); !strings.Contains(r.stdout, "Carol Diaz <carol@northwind.example>: ") {
		t.Errorf("remind:\n%s", r.stdout)
	}

	ok(t, "campaign", "create", "Q5", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example",
		"--on-no-response", "decommission", "--db", db, "--as", "carol@northwind.example")
	r = ok(t, "campaign", "close", "Q5", "--yes", "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "6 no-response") || !strings.Contains(r.stdout, "No-response rule: an item nobody decides by close is to be decommissioned (on-no-response: decommission)") {
		t.Errorf("close:\n%s", r.stdout)
	}
	if r := ok(t, "campaign", "show", "Q5", "--db", db); !strings.Contains(r.stdout, "decommission-by-rule") {
		t.Errorf("show after close:\n%s", r.stdout)
	}
	if r := ok(t, "campaign", "show", "Q5", "--json", "--db", db); !strings.Contains(r.stdout, `"on_no_response": "decommission"`) ||
		strings.Count(r.stdout, `"no_response_outcome": "decommission by rule"`) != 6 {
		t.Errorf("show --json after close:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", db)
}
