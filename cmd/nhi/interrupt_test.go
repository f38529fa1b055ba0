package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// TestInterruptedCommandsSayWhatIsLeft: a campaign create, an export and
// an import stopped by ctrl-c or SIGTERM (main's context, done here before
// the store answers) say they were interrupted, what is left and what to
// run next, where they printed "context canceled" (or "sql: statement is
// closed", when the interrupt closed a statement under a goroutine); and
// what they say holds: no campaign, no bundle, no current import, and the
// file verifies.
func TestInterruptedCommandsSayWhatIsLeft(t *testing.T) {
	db := campaignDB(t, 20)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", "2030-01-01", "--reviewer", "rita", "--db", db, "--as", "lead")
	csv := filepath.Join(t.TempDir(), "bots.csv")
	if err := os.WriteFile(csv, []byte("key,kind\nB1,bot_token\nB2,bot_token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundle")
	head := logHead(t, db)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"campaign", "create", "q2", "--scope", "id:*", "--due", "2030-01-01", "--reviewer", "rita", "--as", "lead"},
			"interrupted before nhi campaign create finished: no campaign was created"},
		{[]string{"export", "q", "--out", out, "--as", "lead"},
			"interrupted before nhi export finished: nothing was written to the --out folder"},
		{[]string{"import", csv, "--source", "slack", "--as", "lead"},
			"interrupted before nhi import finished: nothing of the file is current"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(stopped, append(c.args, "--db", db), strings.NewReader(""), &stdout, &stderr)
		if code != exitFailure || !strings.Contains(stderr.String(), c.says) || !strings.Contains(stderr.String(), "run the same command again") ||
			strings.Contains(stderr.String(), "context canceled") {
			t.Errorf("nhi %s, interrupted: exit %d, want %d saying %q\n%s%s", c.args[0], code, exitFailure, c.says, stdout.String(), stderr.String())
		}
	}
	if got := logHead(t, db); got != head {
		t.Errorf("the interrupted commands wrote events: head %s, was %s", got, head)
	}
	if r := ok(t, "campaign", "list", "--db", db); strings.Contains(r.stdout, "q2") {
		t.Errorf("the interrupted campaign is listed:\n%s", r.stdout)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the interrupted export left %s: %v", out, err)
	}
	if r := ok(t, "identities", "--filter", "source:slack", "-o", "id", "--db", db); r.stdout != "" {
		t.Errorf("the interrupted import is current:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", db)
}

// TestInterruptedKeepsWhatARunSays: an error that says it was interrupted
// already (a connector run's, wrapping the context's error: what was read
// is kept, and how to continue) is printed as it was, not for the
// command's sentence or the general one.
func TestInterruptedKeepsWhatARunSays(t *testing.T) {
	stopped, stop := context.WithCancel(context.Background())
	stop()
	run := fmt.Errorf("snapshot of acme failed: interrupted; what was read is kept (snapshot 4), run the same command again to continue: %w", context.Canceled)
	if got := interrupted(stopped, &cobra.Command{Use: "demo"}, run); got != run {
		t.Errorf("a run's own words became %q", got)
	}
	if got := interrupted(stopped, &cobra.Command{Use: "verify"}, context.Canceled).Error(); got != "interrupted before verify finished; run it again" {
		t.Errorf("the general sentence: %q", got)
	}
}

// TestInterruptedConnectIsNotNoStore: a command on PostgreSQL stopped
// (ctrl-c, SIGTERM) while it connects says it was interrupted, where it
// said "no evidence file: cannot connect … context canceled" of a
// database that is there.
func TestInterruptedConnectIsNotNoStore(t *testing.T) {
	db := pgtest.URL(t)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	var stdout, stderr bytes.Buffer
	code := run(stopped, []string{"identities", "--db", db}, strings.NewReader(""), &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "interrupted before nhi identities finished; run it again") ||
		strings.Contains(stderr.String(), "no evidence file") {
		t.Errorf("identities, interrupted while it connects: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
