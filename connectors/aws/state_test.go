package aws_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// AWS retired an account's Status in ListAccounts on 9 September 2026:
// a suspended or closed account says so in State alone. Either way, as an
// older answer's Status said it too, the account is not read, and its
// snapshot says why, never that the organisation role could not be
// assumed.
func TestSuspendedAndClosedAccountsByState(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []awstest.Option
		// what the closed account's snapshot says it is
		closed string
	}{
		{"State, as AWS answers now", nil, "CLOSED"},
		{"Status, as AWS answered before 2025", []awstest.Option{awstest.WithStatusOnly()}, "SUSPENDED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := awstest.Sample(fixedNow)
			org.Accounts = append(org.Accounts,
				&awstest.Account{ID: "444444444444", Name: "on-hold", Status: "SUSPENDED"},
				&awstest.Account{ID: "555555555555", Name: "gone", Status: "CLOSED"})
			s := serve(t, org, tc.opts...)
			st, _ := openStore(t)
			opts := options(&lockedBuffer{})
			opts.OrgRole = "OrganizationAccountAccessRole"
			_, snaps := snapshotAll(t, st, opts)
			for acct, state := range map[string]string{"444444444444": "SUSPENDED", "555555555555": tc.closed} {
				snap := snaps[acct]
				if snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 1 || !strings.Contains(snap.Gaps[0].Reason, "is "+state+" in the organisation; not read") {
					t.Errorf("account %s: %s %+v; want partial with one gap saying it is %s", acct, snap.Status, snap.Gaps, state)
				}
				if got := s.Calls(acct); len(got) != 0 {
					t.Errorf("account %s, %s, was called: %v", acct, state, got)
				}
			}
			if snap := snaps[awstest.SampleProd]; snap.Status != audit.SnapshotComplete {
				t.Errorf("an active account: %s %+v", snap.Status, snap.Gaps)
			}
		})
	}
}
