package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// TestCampaignShowSaysItemNotRead: a deploy key's snapshot could not read
// what it is granted (policies_unknown) nor its last use. The campaign
// froze it with no permission and no finding, which campaign show gave
// as "-" and --json as "permissions": {} beside "findings": [], read as
// none. Now the table's FINDINGS says "not read", a line under it says
// what was not read of how many items, --json names the item's not_read
// with why and -o csv its last column, as nhi identities does.
func TestCampaignShowSaysItemNotRead(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	created := time.Now().Add(-24 * time.Hour).UTC()
	used := created.Add(time.Hour)
	unread := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1"), Kind: audit.KindGitHubDeployKey,
		Name: "unread-key", Scope: "acme/api", CreatedAt: &created,
		Attributes: map[string]string{"fingerprint": "SHA256:k1", "added_by": "ana", audit.AttrPoliciesUnknown: "true", audit.AttrLastUseUnknown: "true"}}
	read := audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/2"), Kind: audit.KindGitHubDeployKey,
		Name: "read-key", Scope: "acme/api", CreatedAt: &created, LastUsedAt: &used, Permissions: map[string]string{"contents": "read"},
		Attributes: map[string]string{"fingerprint": "SHA256:k2", "added_by": "ana", "read_only": "true"}}
	recordSnapshot(t, db, true, nil, unread, read)
	ok(t, "owner", "set", unread.ID, "ana@acme.test", "--db", db, "--as", "lead")
	ok(t, "owner", "set", read.ID, "ana@acme.test", "--db", db, "--as", "lead")
	ok(t, "campaign", "create", "q4", "--scope", "id:*", "--due", "2099-12-31", "--reviewer", "rita", "--db", db, "--as", "lead")

	r := ok(t, "campaign", "show", "q4", "--db", db)
	var row string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "unread-key") {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if !strings.Contains(row, "ana@acme.test not read rita pending") {
		t.Errorf("show: unread-key's row should say its findings were not read, got %q in\n%s", row, r.stdout)
	}
	show := strings.Join(strings.Fields(r.stdout), " ")
	if want := "Not read when the campaign froze them: permissions of 1 item (policies_unknown); last used of 1 item (last_used_unknown). Their permissions and findings, empty or in part, are not none"; !strings.Contains(show, want) {
		t.Errorf("show: want %q in\n%s", want, r.stdout)
	}

	var j struct {
		Items []struct {
			ID          string            `json:"id"`
			Permissions map[string]string `json:"permissions"`
			NotRead     []audit.NotRead   `json:"not_read"`
		} `json:"items"`
	}
	r = ok(t, "campaign", "show", "q4", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || len(j.Items) != 2 {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	for _, it := range j.Items {
		switch it.ID {
		case unread.ID:
			if len(it.NotRead) != 2 || it.NotRead[0].What != audit.NotReadPermissions || it.NotRead[0].Marker != audit.AttrPoliciesUnknown ||
				!strings.Contains(it.NotRead[0].Why, "not read") || it.NotRead[1].What != audit.NotReadLastUse {
				t.Errorf("show --json: %s's not_read = %+v, want permissions then last_used, each with why", it.ID, it.NotRead)
			}
		case read.ID:
			if it.NotRead == nil || len(it.NotRead) != 0 || it.Permissions["contents"] != "read" {
				t.Errorf("show --json: %s read whole: not_read = %#v (want []), permissions %v", it.ID, it.NotRead, it.Permissions)
			}
		}
	}
	r = ok(t, "campaign", "show", "q4", "-o", "csv", "--db", db)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasSuffix(lines[0], ",not_read") || !strings.HasSuffix(lines[1], ",permissions last_used") || !strings.HasSuffix(lines[2], ",") {
		t.Errorf("show -o csv: want a last column not_read, \"permissions last_used\" for %s, empty for %s:\n%s", unread.ID, read.ID, r.stdout)
	}
}
