package report_test

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// An exception approval by a person the directory of people had marked
// left when it was written (written around nhi: nhi refuses it in its
// own transaction) approves nothing, and the evidence report says so
// wherever the exception shows: its row (report.json's
// exception_not_approved, the exceptions table of report.md and
// report.html, exceptions.csv's not_approved) reads never approved, and
// says whose approval it was, when the directory said they left and
// which event marked them so; the approval's line in the item's trail
// says it too. The bundle checks alone. Before, the exception read as
// approved by the leaver.
func TestReportSaysALeaversApprovalIsNone(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := campaignstest.NewOn(t, eng, "2026-10-01T12:00:00Z")
		st := e.Store
		mia := audit.Person{Email: "mia@acme.com", Name: "Mia", GitHub: "mia", Status: audit.PersonActive}
		_, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{
			{Email: "alice@acme.com", Name: "Alice", GitHub: "alice", Status: audit.PersonActive}, mia,
			{Email: "admin@acme.com", Name: "Admin", GitHub: "admin", Status: audit.PersonActive},
		}}, false)
		must(t, err)
		p, err := audit.ParsePolicy([]byte("version: 1\nexception_approval: required\n"))
		must(t, err)
		_, err = st.SetPolicy(ctx, "admin@acme.com", p)
		must(t, err)
		old := campaignstest.TimeP("2024-01-02T00:00:00Z")
		id := audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1")
		e.Snapshot(t, nil, audit.Observation{ID: id, Kind: audit.KindGitHubDeployKey, Name: "key-1", Scope: "acme/api", CreatedAt: old, RotatedAt: old,
			Attributes: map[string]string{"added_by": "someone", "read_only": "true"}})
		_, err = campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"alice@acme.com"}})
		must(t, err)
		o, err := campaigns.Decide(ctx, st, "alice@acme.com", "q", id, campaigns.Keep, "CI")
		must(t, err)
		mia.Status, mia.LeftAt = audit.PersonLeft, "2026-09-30"
		_, err = st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{mia}}, false)
		must(t, err)
		marked, err := st.LogHead(ctx)
		must(t, err)
		var seq int64
		must(t, st.Write(ctx, func(tx *audit.Tx) error {
			ev, err := tx.Append(ctx, "mia", campaigns.EventApprove, campaigns.ApprovePayload{Campaign: "q", Items: []string{id}, Action: "approve exception",
				Approves: o.Event.Seq, Expires: o.ExceptionExpires, Detail: "approves the exception kept by alice@acme.com"})
			seq = ev.Seq
			return err
		}))
		_, err = campaigns.Close(ctx, st, "admin@acme.com", "q")
		must(t, err)
		why := fmt.Sprintf("event %d's approval by mia approves nothing: mia@acme.com left on 2026-09-30 (marked left by event %d, before it), and nhi refuses a leaver's approval", seq, marked.Seq)

		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, st, "q", dir, exportOptions())
		must(t, err)
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(dir, name))
			must(t, err)
			return string(b)
		}
		var r struct {
			Exceptions []map[string]any `json:"exceptions"`
		}
		must(t, json.Unmarshal([]byte(read(report.FileJSON)), &r))
		if len(r.Exceptions) != 1 || r.Exceptions[0]["exception_state"] != campaigns.ExceptionUnapproved || r.Exceptions[0]["exception_approved_by"] != nil ||
			r.Exceptions[0]["exception_not_approved"] != why {
			t.Errorf("report.json's exceptions: %v; want never approved, by no one, saying %q", r.Exceptions, why)
		}
		for _, f := range []struct{ name, want string }{
			{report.FileMD, "never approved (lapsed at close); " + why},
			{report.FileHTML, strings.Replace(html.EscapeString("never approved (lapsed at close); "+why), "2026-09-30", "<time>2026-09-30</time>", 1)},
			{report.FileExceptions, "never-approved," + `"` + why + `"`},
			{report.FileHistory, why},
		} {
			if got := read(f.name); !strings.Contains(got, f.want) {
				t.Errorf("%s does not say %q:\n%s", f.name, f.want, got)
			}
		}
		res, err := report.VerifyBundle(ctx, dir, nil, report.VerifyOptions{Tool: "nhi test"})
		if err != nil || !res.OK() {
			t.Errorf("the bundle alone: %v %v", res.Problems(), err)
		}
	})
}
