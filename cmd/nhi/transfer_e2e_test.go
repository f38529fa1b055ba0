package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// On PostgreSQL an offboarding's reviewer, connected as a login role
// granted nhi_reviewer alone, transfers a leaver's identity with nhi
// decide … transfer --to: the decision and the new owner recorded, the
// evidence verifying. Before, the database refused her the owner, which
// is nhi_admin's to set, and the command failed asking for that grant.
func TestReviewerRoleTransfersThroughTheCLI(t *testing.T) {
	ctx := context.Background()
	owner, rita, role := demoOnPostgres(t)
	var ownerRole string
	if err := pgtest.Connect(t, owner).QueryRow(ctx, `SELECT session_user`).Scan(&ownerRole); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,github,status,left_at,manager,aliases,signing_key\n"+
		"lead@acme.com,Lead,,active,,,"+ownerRole+",\n"+
		"rita@acme.com,Rita Diaz,rita-diaz,active,,,"+role+",\n"+
		"sam@acme.com,Sam Lee,sam-lee,active,,,,\n"+
		"chen@acme.com,Chen Patel,chen-patel,left,2026-01-15,rita@acme.com,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"people", "import", csv}, {"offboard", "chen-patel", "--allow-partial"}} {
		if r := nhi(t, nil, append([]string{"--db", owner}, args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	name := "offboard-chen-patel-2026-01-15"
	var id string
	if err := pgtest.Connect(t, owner).QueryRow(ctx, `SELECT identity_id FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		WHERE c.name = $1 AND i.reviewer = 'rita@acme.com' ORDER BY identity_id LIMIT 1`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, nil, "--db", rita, "decide", name, id, "transfer", "--to", "sam-lee", "--reason", "sam runs it now")
	if r.code != 0 || !strings.Contains(r.stdout, "to sam-lee in "+name) || !strings.Contains(r.stdout, "by rita@acme.com); owner recorded") {
		t.Fatalf("rita's role transferring %s: exit %d\n%s%s", id, r.code, r.stdout, r.stderr)
	}
	var got string
	if err := pgtest.Connect(t, owner).QueryRow(ctx, `SELECT owner FROM owners WHERE identity_id = $1`, id).Scan(&got); err != nil || got != "sam@acme.com" {
		t.Errorf("the owner of %s after the transfer: %q %v; want sam@acme.com", id, got, err)
	}
	if r := nhi(t, nil, "--db", owner, "verify"); r.code != 0 {
		t.Errorf("verify after the transfer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
