package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// A signature row added to a decision's event behind nhi's back — on
// PostgreSQL any reviewer may insert one (docs/team.md, threat model), in
// an evidence file anyone who writes it — does not make the report show
// the decision as signed: the export checks every signature it would
// show against the event's bytes and the key the event names, and,
// finding one that does not hold, writes nothing and says to run nhi
// verify, as it does for a table row the log contradicts. Before, the
// register's Signed column showed the added row's fingerprint for a
// decision nobody signed.
func TestExportRefusesASignatureThatDoesNotHold(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		var seq int64
		if err := f.Store.QueryRow(ctx, `SELECT i.decision_seq FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
			WHERE c.name = '2026-Q4' AND i.identity_id = ?`, idRenovate).Scan(&seq); err != nil || seq == 0 {
			t.Fatalf("bob's decision on the App: event %d %v", seq, err)
		}
		key, err := report.LoadSigningKey(genKey(t, "ed25519", ""), nil)
		must(t, err)
		f.Exec(t, `INSERT INTO event_signatures (seq, fingerprint, public_key, signature) VALUES (?, ?, ?, ?)`, seq, key.Public.Fingerprint, key.Public.Authorized,
			"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n")
		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, f.Store, "2026-Q4", dir, exportOptions())
		if !errors.Is(err, report.ErrSignatureDoesNotHold) {
			t.Fatalf("export with a signature row nobody made: %v; want ErrSignatureDoesNotHold", err)
		}
		if testing.Verbose() {
			t.Log(err)
		}
		for _, want := range []string{"event " + itoa(seq), "nothing is exported", "nhi verify"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the refused export left %s: %v", dir, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
