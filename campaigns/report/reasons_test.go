package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestRemediationRowsSayWhy: a row the checking snapshot did not check,
// or that failed its check, says why in every format, in the words nhi
// campaign verify prints under it (one function): the ops key's gap, the
// unrotated key and token's detail. Before any verification, a
// decommission says that no later snapshot has checked it.
func TestRemediationRowsSayWhy(t *testing.T) {
	f := newFixture(t)
	st := f.Store
	rs, err := campaigns.VerifyRemediation(ctx, st, "carol", "2026-Q4") // already recorded: nothing written
	if err != nil || len(rs) != 1 || rs[0].Recorded {
		t.Fatal(rs, err)
	}
	rem := &rs[0]
	r, err := report.Build(ctx, st, "2026-Q4", report.Options{GeneratedAt: generatedAt, Signer: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	var md, html, js bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, state string
	}{{idOpsKey, campaigns.NotChecked}, {idDeployProd, campaigns.NotRotated}, {idPAT, campaigns.NotRotated}} {
		want := rem.Reason(c.id, c.state)
		if want == "" || strings.Contains(want, "fingerprint )") {
			t.Fatalf("campaign verify gives %s the reason %q", c.id, want)
		}
		x := row(t, r, c.id)
		if x.Verification != c.state || x.VerificationReason != want {
			t.Errorf("%s: %s, %q; campaign verify says %s, %q", c.id, x.Verification, x.VerificationReason, c.state, want)
		}
		if !strings.Contains(js.String(), `"verification_reason":`+quote(want)) {
			t.Errorf("report.json does not give %s its reason %q", c.id, want)
		}
	}
	if want := "GET /repos/acme/ops/keys: Bad Gateway after 3 retries"; rem.Reason(idOpsKey, campaigns.NotChecked) != want {
		t.Errorf("campaign verify's reason for the ops key: %q, want %q", rem.Reason(idOpsKey, campaigns.NotChecked), want)
	}
	section := func(doc, from, to string) string {
		_, s, _ := strings.Cut(doc, from)
		s, _, _ = strings.Cut(s, to)
		return s
	}
	gap := "GET /repos/acme/ops/keys: Bad Gateway after 3 retries"
	if s := section(md.String(), "## 6. Remediation", "## 7."); !strings.Contains(s, "not-checked — "+gap) {
		t.Errorf("report.md's remediation does not say why the ops key was not checked:\n%s", s)
	}
	if s := section(html.String(), `<section id="remediation">`, "</section>"); !strings.Contains(s, `<div class="why">`+gap+"</div>") {
		t.Errorf("report.html's remediation does not say why the ops key was not checked:\n%s", s)
	}

	// As of the close, before snapshot 3: nothing has checked them yet.
	c, err := campaigns.Get(ctx, st, "2026-Q4")
	if err != nil {
		t.Fatal(err)
	}
	early, err := report.Build(ctx, st, "2026-Q4", report.Options{GeneratedAt: generatedAt, Signer: "carol", AsOf: c.CloseSeq})
	if err != nil {
		t.Fatal(err)
	}
	want := "no snapshot of github/acme taken since snapshot 2 has checked it yet"
	if want != campaigns.NotVerifiedReason("github", "acme", 2, 1) {
		t.Fatalf("NotVerifiedReason: %q", campaigns.NotVerifiedReason("github", "acme", 2, 1))
	}
	for _, x := range early.Remediation.Rows {
		if x.Verification != report.NotVerified || x.VerificationReason != want {
			t.Errorf("%s as of the close: %s, %q; want %s, %q", x.ID, x.Verification, x.VerificationReason, report.NotVerified, want)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestNoResponseReadsOnce: the register's HTML cell of a no-response row
// holds the decision and its flags; the flag that repeats the decision
// read "no-response no-response" on screen and paper.
func TestNoResponseReadsOnce(t *testing.T) {
	f := newFixture(t)
	r, err := report.Build(ctx, f.Store, "2026-Q4", report.Options{GeneratedAt: generatedAt, Signer: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if x := row(t, r, idFormula); x.Decision != "no-response" {
		t.Fatalf("the formula secret: %s", x.Decision)
	}
	if s := html.String(); !strings.Contains(s, `<span class="d d-no-response">no-response</span></td>`) || strings.Contains(s, `flag-no-response">no-response`) {
		t.Errorf("report.html's no-response cell repeats itself")
	}
}
