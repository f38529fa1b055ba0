package campaigns_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// A campaign create that finds the evidence file's write lock held by
// another connection all through its waits says so, names the snapshot
// running now and what to do, and records nothing: no campaign, no
// event, and the file verifies; once the lock is free the same create
// goes through.
func TestCreateBusySaysWhoHoldsTheFile(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	running, err := f.Store.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "other", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now, BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	head := func() int64 {
		ev, err := st.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ev.Seq
	}
	before := head()

	holder, err := f.Raw(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	spec := campaigns.Spec{Name: "q4", Scope: "kind:github_deploy_key", Due: "2026-10-31", Reviewers: []string{"rita@acme.test"}}
	_, err = campaigns.Create(ctx, st, "lead@acme.test", spec)
	if _, rerr := holder.ExecContext(ctx, "ROLLBACK"); rerr != nil {
		t.Fatal(rerr)
	}
	holder.Close()

	t.Logf("the error: %v", err)
	want := []string{
		f.Path + " stayed busy with other writers for ",
		fmt.Sprintf("another connection of this process (pid %d) held its write lock all that time", os.Getpid()),
		fmt.Sprintf("; running now: a snapshot of github/other (pid %d on host ", os.Getpid()),
		". A campaign create or a snapshot of a large population holds it for minutes: wait for it to finish, then run this command again: database is locked",
	}
	if !errors.Is(err, audit.ErrBusy) {
		t.Fatalf("a create while another connection holds the write lock = %v, want audit.ErrBusy", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the busy create's error should say %q", w)
		}
	}
	if n := head(); n != before {
		t.Errorf("the busy create appended %d events", n-before)
	}
	if list, err := campaigns.List(ctx, st); err != nil || len(list) != 0 {
		t.Errorf("the busy create left %d campaigns (%v)", len(list), err)
	}
	if _, err := running.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := campaigns.VerifyStore(ctx, st, nil); err != nil || len(res.Problems) > 0 {
		t.Errorf("verify after the busy create: %v %v", err, res.Problems)
	}

	created, err := campaigns.Create(ctx, st, "lead@acme.test", spec)
	if err != nil {
		t.Fatalf("once the lock is free the create goes through: %v", err)
	}
	if created.Campaign.Count != 6 {
		t.Errorf("the campaign has %d items, want the 6 deploy keys", created.Campaign.Count)
	}
}
