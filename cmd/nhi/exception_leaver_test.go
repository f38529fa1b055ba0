package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// An exception approval by a person the directory of people had marked
// left when it was written (the log holds one only if it was written
// around nhi) approves nothing: nhi exception list shows the exception
// awaiting approval, its approver "none (see below)", and a line under
// the table saying whose approval it was, when the directory said they
// left and which event marked them so; -o json gives the same as
// not_approved, and nhi verify fails the file. Before, the list read
// "approved" by the leaver.
func TestExceptionListSaysALeaversApprovalIsNone(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	ok(t, "people", "import", writeFile(t, "people.csv", northwindPeople), "--db", db, "--as", "carol@northwind.example")
	ok(t, "policy", "set", writeFile(t, "policy.yaml", "version: 1\nexception_approval: required\n"), "--db", db, "--as", "carol@northwind.example")
	ok(t, "campaign", "create", "Q4", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--db", db, "--as", "alice-smith")
	item := keyID(1)
	ok(t, "decide", "Q4", item, "keep", "--reason", "CI needs it", "--db", db, "--as", "dan@northwind.example")
	refused(t, 1, "bob@northwind.example left on 2026-10-31", "exception", "approve", "Q4", item, "--db", db, "--as", "bob@northwind.example")

	// bob's approval, written into the file around nhi.
	ctx := context.Background()
	st, err := audit.Open(ctx, db, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keep, marked, approve int64
	if err := st.QueryRow(ctx, `SELECT max(seq) FROM events WHERE type = 'campaign.decide'`).Scan(&keep); err != nil {
		t.Fatal(err)
	}
	if err := st.QueryRow(ctx, `SELECT seq FROM events WHERE type = 'person.set' AND payload LIKE '%bob@northwind.example%'`).Scan(&marked); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, func(tx *audit.Tx) error {
		ev, err := tx.Append(ctx, "bob@northwind.example", campaigns.EventApprove, campaigns.ApprovePayload{Campaign: "Q4", Items: []string{item},
			Action: "approve exception", Approves: keep, Detail: fmt.Sprintf("approves the exception kept by dan@northwind.example (event %d)", keep)})
		approve = ev.Seq
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	why := fmt.Sprintf("event %d's approval by bob@northwind.example approves nothing: bob@northwind.example left on 2026-10-31 (marked left by event %d, before it), and nhi refuses a leaver's approval", approve, marked)
	r := ok(t, "exception", "list", "Q4", "--wide", "--db", db)
	if !strings.Contains(r.stdout, "none (see below)") || !strings.Contains(r.stdout, "awaiting-approval") ||
		!strings.Contains(r.stdout, "Not approved: "+item+": "+why+" (nhi verify names it).") {
		t.Errorf("exception list:\n%s\nwant awaiting approval, approver none, and a line saying %q", r.stdout, why)
	}
	var list []struct {
		State       string  `json:"state"`
		ApprovedBy  *string `json:"approved_by"`
		NotApproved *struct {
			Event  int64  `json:"event"`
			By     string `json:"by"`
			Left   string `json:"left"`
			Marked int64  `json:"marked_left_by_event"`
			Why    string `json:"why"`
		} `json:"not_approved"`
	}
	r = ok(t, "exception", "list", "Q4", "-o", "json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	if x := list[0]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != nil || x.NotApproved == nil || x.NotApproved.Event != approve ||
		x.NotApproved.By != "bob@northwind.example" || x.NotApproved.Left != "bob@northwind.example left on 2026-10-31" || x.NotApproved.Marked != marked || x.NotApproved.Why != why {
		t.Errorf("list --json: %s", r.stdout)
	}
	refused(t, 1, fmt.Sprintf("event %d (decision.approve by bob@northwind.example) approves the exception on %s in campaign Q4, and its actor is bob@northwind.example left on 2026-10-31", approve, item), "verify", "--db", db)
}
