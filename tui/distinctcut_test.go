package tui

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestMiddleCutsReadApart: names a column cuts in the middle never read
// alike when they differ, at any width, where the cut alone made three of
// the demo's access keys read "AKIAP…00001" at 80 columns; each cut is as
// wide as the column, and a name that fits is whole. The same of a column
// that keeps its values' ends (SCOPE), where the demo's webhooks
// all read "northwind/…".
func TestMiddleCutsReadApart(t *testing.T) {
	sets := [][]string{
		// The demo's AWS access keys and roles, as at 80 columns.
		{"AKIAMGMT0000000000000001", "AKIAMGMTTERRAFORM001", "AKIAPRODBACKUP000001", "AKIAPRODLEGACY000001",
			"AKIAPRODLEGACY000002", "AKIAPRODMETRICS00001", "AKIASANDBOXEXP000001", "dana",
			"AWSServiceRoleForOrganizations", "AWSServiceRoleForSSO", "AWSServiceRoleForECS", "OrganizationAccountAccessRole"},
		// Long common starts and ends: the difference deep inside.
		{"offboard-alice-smith-2026-10-31", "offboard-alice-smyth-2026-10-31", "offboard-alice-smith-2026-10-30",
			"offboard-alice-smith-2025-10-31", "prod-deploy-key-0001-for-the-api-service", "prod-deploy-key-0002-for-the-api-service"},
		// One a start or an end of another, and wide characters.
		{"deploy", "deploy-key", "deploy-keys", "key", "prod-key", "ключ-развёртывания-1", "ключ-развёртывания-2", "鍵鍵鍵鍵鍵鍵1", "鍵鍵鍵鍵鍵鍵2"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	var random []string
	for range 40 {
		// Many names alike but for a letter or two anywhere.
		b := []byte("svc-account-for-the-billing-pipeline-000")
		for range 1 + r.IntN(2) {
			b[r.IntN(len(b))] = "abcxyz0123"[r.IntN(10)]
		}
		random = append(random, string(b))
	}
	sets = append(sets, random)
	// The demo's scopes: repositories, environments, accounts, namespaces.
	sets = append(sets, []string{"northwind", "northwind/checkout-service", "northwind/auth-service",
		"northwind/auth-service/production", "northwind/payments-api", "northwind/payments-api/production",
		"northwind/checkout-service/production", "northwind/web-storefront/production", "northwind/mobile-ios",
		"northwind/mobile-ios/app-store", "northwind/mobile-android", "111111111111", "222222222222",
		"demo-cluster/payments", "demo-cluster/ci", "other-cluster/payments"})
	for _, keepEnd := range []bool{false, true} {
		testCutsReadApart(t, sets, keepEnd)
	}
}

func testCutsReadApart(t *testing.T, sets [][]string, keepEnd bool) {
	t.Helper()
	for n, set := range sets {
		widest := 0
		for _, v := range set {
			widest = max(widest, textWidth(v))
		}
		// From the narrowest a column that cuts so is (NAME's Min, SCOPE's)
		// to wider than every name.
		from := identityColumns[colName].Min
		if keepEnd {
			from = identityColumns[colScope].Min
		}
		for w := from; w <= widest+1; w++ {
			cut := make([]string, len(set))
			distinctCuts(set, cut, make([]cutNeed, len(set)), w, keepEnd)
			seen := map[string]string{}
			for i, v := range set {
				c := cut[i]
				if textWidth(v) <= w && c != v {
					t.Errorf("keepEnd %v, set %d at %d cells: %q fits but reads %q", keepEnd, n, w, v, c)
				}
				// A wide character does not straddle the cut: a cell less.
				if cw := textWidth(c); cw > w || (textWidth(v) > w && cw < w-1) {
					t.Errorf("keepEnd %v, set %d at %d cells: %q reads %q, %d cells", keepEnd, n, w, v, c, cw)
				}
				if other, ok := seen[c]; ok && other != v {
					t.Errorf("keepEnd %v, set %d at %d cells: %q and %q both read %q", keepEnd, n, w, other, v, c)
				}
				seen[c] = v
			}
		}
	}
}

// TestMiddleCutsAccessKeys: at NAME's 11 cells the demo's keys read apart
// by where they differ, and those that read apart by their ends keep
// truncateMiddle's cut (AKIAP…00002: no other reads so).
func TestMiddleCutsAccessKeys(t *testing.T) {
	vals := []string{"AKIAPRODBACKUP000001", "AKIAPRODLEGACY000001", "AKIAPRODLEGACY000002", "AKIAPRODMETRICS00001", "billing-export", "terraform-ci"}
	got := cutsAt(vals, 11, false)
	want := "AKIAPRODB…1 AKIAPRODL…1 AKIAP…00002 AKIAPRODM…1 billi…xport terra…rm-ci"
	if got != want {
		t.Errorf("cuts at 11 cells:\n got %s\nwant %s", got, want)
	}
}

// TestNamesReadApartAt80Columns: the demo's access keys on the table at
// 80 columns, where NAME is at its narrowest: each row's NAME reads
// otherwise than every other row's, sorted by name too (the keys
// together), and a name that fits is whole.
func TestNamesReadApartAt80Columns(t *testing.T) {
	names := []string{"AKIAMGMT0000000000000001", "AKIAMGMTTERRAFORM001", "AKIAPRODBACKUP000001",
		"AKIAPRODLEGACY000001", "AKIAPRODLEGACY000002", "AKIAPRODMETRICS00001", "AKIASANDBOXEXP000001", "dana"}
	ids := make([]audit.Identity, 0, len(names))
	for _, n := range names {
		ids = append(ids, identity(audit.KindAWSAccessKey, n, "222222222222"))
	}
	m := newTestModel(t, testSnapshot(), ids, 80, 24)
	check := func() {
		t.Helper()
		v := m.View()
		checkFrame(t, v, 80, 24)
		lines := strings.Split(v, "\n")
		at := strings.Index(lines[2], "NAME")
		w := strings.Index(lines[2][at:], "SCOPE") - 1
		seen := map[string]bool{}
		for _, l := range lines[3 : 3+len(names)] {
			cell := strings.TrimSpace(string([]rune(l)[at : at+w]))
			if seen[cell] {
				t.Errorf("two names read %q:\n%s", cell, v)
			}
			seen[cell] = true
		}
		if !seen["dana"] {
			t.Errorf("dana is not whole:\n%s", v)
		}
	}
	check()
	press(t, m, "s", "s") // by name
	check()
}

// cutsAt is vals cut to w cells together (distinctCuts), joined by spaces.
func cutsAt(vals []string, w int, keepEnd bool) string {
	cut := make([]string, len(vals))
	distinctCuts(vals, cut, make([]cutNeed, len(vals)), w, keepEnd)
	return strings.Join(cut, " ")
}
