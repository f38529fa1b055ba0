package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// writeAround records actor's decision d on item id of campaign name
// around nhi's checks (campaignstest.WriteAround).
func writeAround(t *testing.T, f *fixture, name, actor, id string, d campaigns.Decision, reason string) int64 {
	t.Helper()
	seq, err := campaignstest.WriteAround(ctx, f.Store, actor, campaigns.DecidePayload{Campaign: name, Items: []string{id}, Decision: d, Reason: reason})
	must(t, err)
	return seq
}

// csvRecords reads a CSV table of the bundle in dir.
func csvRecords(t *testing.T, dir, name string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, name)))).ReadAll()
	must(t, err)
	return recs
}

// column is the index of column name in a CSV table's header.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %s in %q", name, header)
	}
	return i
}

// A decision by the identity's own owner or holder, written around nhi
// (nhi refuses it; plain SQL on the evidence file, an administrator on
// PostgreSQL do not), is one nhi verify names. The evidence report says
// it too, where an auditor reads it: the register row is flagged
// self-review, the decision history says whose the identity was, the
// attestation counts them with their events and the CC6.3 line no longer
// claims every identity went before a reviewer who does not own it. The
// bundle still agrees with itself (nhi verify --report alone), and a
// flag taken out of decisions.csv, its hashes redone, fails that check.
// Before, the report showed both decisions as ordinary ones.
func TestReportNamesASelfReviewWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.snapshot("2026-11-01T08:00:00Z", nil, idRenovate, idDeployProd, idOldCI) // deploy-prod was added by alice
		f.at("2026-11-01T08:30:00Z").must(f.Store.SetOwner(ctx, "admin", idRenovate, "bob"))
		f.at("2026-11-01T09:00:00Z").must(campaigns.Create(ctx, f.Store, "carol", campaigns.Spec{Name: "self", Scope: "id:*", Due: "2026-11-30",
			Reviewers: []string{"alice", "bob"}}))
		f.Clock.Set("2026-11-02T10:00:00Z")
		held := writeAround(t, f, "self", "alice", idDeployProd, campaigns.Decommission, "")
		f.Clock.Set("2026-11-02T10:05:00Z")
		owned := writeAround(t, f, "self", "Bob", idRenovate, campaigns.Keep, "needed")
		f.decide("2026-11-02T10:10:00Z", "bob", "self", idOldCI, campaigns.Decommission, "")
		f.at("2026-11-03T09:00:00Z").must(campaigns.Close(ctx, f.Store, "carol", "self"))

		problems, err := campaigns.Verify(ctx, f.Store)
		must(t, err)
		if len(problems) != 2 {
			t.Fatalf("nhi verify after two self-reviews: %q; want both named", problems)
		}

		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, f.Store, "self", dir, exportOptions())
		must(t, err)

		// The register: flagged where the decision is in force.
		recs := csvRecords(t, dir, report.FileDecisions)
		idCol, flagsCol := column(t, recs[0], "identity_id"), column(t, recs[0], "flags")
		flagged := map[string]bool{}
		for _, r := range recs[1:] {
			flagged[r[idCol]] = strings.Contains(r[flagsCol], report.FlagSelfReview)
		}
		if want := map[string]bool{idRenovate: true, idDeployProd: true, idOldCI: false}; !maps.Equal(flagged, want) {
			t.Errorf("decisions.csv's self-review flags: %v; want %v", flagged, want)
		}

		// The history says whose it was.
		recs = csvRecords(t, dir, report.FileHistory)
		evCol, detailCol := column(t, recs[0], "event"), column(t, recs[0], "detail")
		details := map[string]string{}
		for _, r := range recs[1:] {
			details[r[evCol]] = r[detailCol]
		}
		for seq, says := range map[int64]string{
			held:  "self-review: its holder according to the source is alice, the same person as alice: nhi refuses such a decision (rule holder), so it was written around nhi",
			owned: "self-review: its recorded owner when the campaign was created is bob, the same person as Bob: nhi refuses such a decision (rule owner), so it was written around nhi",
		} {
			if d := details[fmt.Sprint(seq)]; !strings.Contains(d, says) {
				t.Errorf("history.csv's detail of event %d: %q; want it to say %q", seq, d, says)
			}
		}
		for ev, d := range details {
			if ev != fmt.Sprint(held) && ev != fmt.Sprint(owned) && strings.Contains(d, "self-review") {
				t.Errorf("history.csv names event %s a self-review: %q", ev, d)
			}
		}

		// The attestation counts them, with their events, and CC6.3 says so.
		var r report.Report
		must(t, json.Unmarshal(readFile(t, filepath.Join(dir, report.FileJSON)), &r))
		s := r.Attestation.Summary
		if s.SelfReviews != 2 || !slices.Equal(s.SelfReviewEvents, []int64{held, owned}) || s.SelfReviewsInForce != 2 {
			t.Errorf("report.json's summary: %d self-reviews, events %v, %d in force; want 2, [%d %d], 2", s.SelfReviews, s.SelfReviewEvents, s.SelfReviewsInForce, held, owned)
		}
		says := fmt.Sprintf("Self-review: 2 decisions were made by the identity's own owner or holder, a member of its owning team or the campaign's creator, or handed it to the decider herself (events %d, %d). nhi refuses such a decision, so they were written around nhi", held, owned)
		if !strings.HasPrefix(r.Attestation.SelfReview, says) {
			t.Errorf("the attestation's self-review: %q; want it to say %q", r.Attestation.SelfReview, says)
		}
		for _, c := range r.Attestation.Controls {
			if c.ID == "CC6.3" && !strings.Contains(c.How, "But 2 decisions were made by the identity's own owner or holder, a member of its owning team or the campaign's creator, written around nhi") {
				t.Errorf("CC6.3 claims: %q; want it to name the self-reviews", c.How)
			}
		}
		html, md := string(readFile(t, filepath.Join(dir, report.FileHTML))), string(readFile(t, filepath.Join(dir, report.FileMD)))
		for _, want := range []string{`<div class="banner">` + says, `<span class="flag flag-self-review flag-over">self-review</span>`, `<b>2</b>self-reviews`} {
			if !strings.Contains(html, strings.ReplaceAll(want, "'", "&#39;")) {
				t.Errorf("report.html does not say %q", want)
			}
		}
		for _, want := range []string{"> **" + says, "self-review (decided by the identity", "| **2** |"} {
			if !strings.Contains(md, want) {
				t.Errorf("report.md does not say %q", want)
			}
		}

		// Rebuilt from the log, the bundle is the same; the evidence
		// file's check fails, naming both self-reviews.
		res := verify(t, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
		var named int
		for _, p := range res.Problems() {
			if strings.Contains(p.Text, "nhi refuses such a decision") {
				named++
				continue
			}
			t.Errorf("verify --report --db: %s: %s; want only the self-reviews named", p.Subject, p.Text)
		}
		if named != 2 {
			t.Errorf("verify --report --db named %d self-reviews; want 2: %+v", named, res.Problems())
		}

		// Consistent with itself; the flag is covered.
		selfConsistent(t, dir)
		d := editBundle(t, dir, report.FileDecisions, report.FlagSelfReview, "")
		failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), report.FileDecisions, `flags is "not-assignee  short-reason", report.json says "not-assignee self-review short-reason"`)
	})
}

// nhi refuses a decision on an identity owned by a team the decider is
// a member of (rule team-owner), and one by the campaign's creator
// (rule creator, without --allow-admin-review). One written around nhi
// is named by nhi verify, and the report marks it as it marks a
// self-review, by the same check, in every format: the register's flag,
// the history's detail, the attestation and CC6.3, the pages. Before,
// the report showed both as ordinary decisions.
func TestReportNamesATeamOwnersAndTheCreatorsDecisionWrittenAroundNhi(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Principals = []audit.Principal{{Type: audit.PrincipalTeamMember, Scope: "acme/platform", Login: "dana", Role: "member"}}
		f.snapshot("2026-11-01T08:00:00Z", nil, idRenovate, idDeployProd, idOldCI)
		f.at("2026-11-01T08:30:00Z").must(f.Store.SetOwner(ctx, "admin", idOldCI, "@acme/platform"))
		f.at("2026-11-01T09:00:00Z").must(campaigns.Create(ctx, f.Store, "carol", campaigns.Spec{Name: "self", Scope: "id:*", Due: "2026-11-30",
			Reviewers: []string{"alice", "bob"}}))
		// Each is refused at the door first (a decision.refused event, in
		// the item's trail on the page), then written around nhi.
		for _, d := range []struct{ actor, id, rule string }{{"Dana", idOldCI, campaigns.RuleTeam}, {"carol", idDeployProd, campaigns.RuleCreator}} {
			_, err := campaigns.Decide(ctx, f.Store, d.actor, "self", d.id, campaigns.Decommission, "")
			if re, ok := errors.AsType[*campaigns.RefusedError](err); !ok || re.Rule != d.rule {
				t.Fatalf("%s decides %s through nhi: %v; want it refused by rule %s", d.actor, d.id, err, d.rule)
			}
		}
		f.Clock.Set("2026-11-02T10:00:00Z")
		team := writeAround(t, f, "self", "Dana", idOldCI, campaigns.Decommission, "")
		f.Clock.Set("2026-11-02T10:05:00Z")
		creator := writeAround(t, f, "self", "carol", idDeployProd, campaigns.Decommission, "")
		f.decide("2026-11-02T10:10:00Z", "bob", "self", idRenovate, campaigns.Decommission, "")
		f.at("2026-11-03T09:00:00Z").must(campaigns.Close(ctx, f.Store, "erin", "self")) // carol decided: rule closer

		problems, err := campaigns.Verify(ctx, f.Store)
		must(t, err)
		if len(problems) != 2 || !strings.Contains(problems[0], "(rule team-owner)") || !strings.Contains(problems[1], "(rule creator)") {
			t.Fatalf("nhi verify after a team owner's and the creator's decisions: %q; want both named", problems)
		}

		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, f.Store, "self", dir, exportOptions())
		must(t, err)

		recs := csvRecords(t, dir, report.FileDecisions)
		idCol, flagsCol := column(t, recs[0], "identity_id"), column(t, recs[0], "flags")
		flagged := map[string]bool{}
		for _, r := range recs[1:] {
			flagged[r[idCol]] = strings.Contains(r[flagsCol], report.FlagSelfReview)
		}
		if want := map[string]bool{idRenovate: false, idDeployProd: true, idOldCI: true}; !maps.Equal(flagged, want) {
			t.Errorf("decisions.csv's self-review flags: %v; want %v", flagged, want)
		}

		recs = csvRecords(t, dir, report.FileHistory)
		evCol, detailCol := column(t, recs[0], "event"), column(t, recs[0], "detail")
		details := map[string]string{}
		for _, r := range recs[1:] {
			details[r[evCol]] = r[detailCol]
		}
		var r report.Report
		must(t, json.Unmarshal(readFile(t, filepath.Join(dir, report.FileJSON)), &r))
		createSeq := r.Attestation.CreateEvent
		history := map[int64]string{
			team:    "self-review: its recorded owner when the campaign was created is @acme/platform, a team whose members in the campaign's snapshot include dana: nhi refuses such a decision (rule team-owner), so it was written around nhi, and it is no review by someone outside the owning team",
			creator: fmt.Sprintf("self-review: the campaign's creator is carol (event %d), the same person as carol, and it was created without --allow-admin-review: nhi refuses such a decision (rule creator), so it was written around nhi, and the campaign's creator reviewed it herself", createSeq),
		}
		for seq, says := range history {
			if d := details[fmt.Sprint(seq)]; !strings.Contains(d, says) {
				t.Errorf("history.csv's detail of event %d: %q; want it to say %q", seq, d, says)
			}
		}
		s := r.Attestation.Summary
		if s.SelfReviews != 2 || !slices.Equal(s.SelfReviewEvents, []int64{team, creator}) || s.SelfReviewsInForce != 2 {
			t.Errorf("report.json's summary: %d self-reviews, events %v, %d in force; want 2, [%d %d], 2", s.SelfReviews, s.SelfReviewEvents, s.SelfReviewsInForce, team, creator)
		}
		says := fmt.Sprintf("Self-review: 2 decisions were made by the identity's own owner or holder, a member of its owning team or the campaign's creator, or handed it to the decider herself (events %d, %d).", team, creator)
		if !strings.HasPrefix(r.Attestation.SelfReview, says) {
			t.Errorf("the attestation's self-review: %q; want it to say %q", r.Attestation.SelfReview, says)
		}
		html, md := string(readFile(t, filepath.Join(dir, report.FileHTML))), string(readFile(t, filepath.Join(dir, report.FileMD)))
		for _, want := range []string{`<div class="banner">` + says, `<span class="flag flag-self-review flag-over">self-review</span>`, history[team], history[creator]} {
			if !strings.Contains(html, strings.ReplaceAll(want, "'", "&#39;")) {
				t.Errorf("report.html does not say %q", want)
			}
		}
		for _, want := range []string{"> **" + says, "a member of its owning team or the campaign's creator, or handed to the decider herself", history[team], history[creator]} {
			if !strings.Contains(md, want) {
				t.Errorf("report.md does not say %q", want)
			}
		}

		res := verify(t, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
		var named int
		for _, p := range res.Problems() {
			if strings.Contains(p.Text, "nhi refuses such a decision") {
				named++
				continue
			}
			t.Errorf("verify --report --db: %s: %s; want only the two decisions named", p.Subject, p.Text)
		}
		if named != 2 {
			t.Errorf("verify --report --db named %d decisions; want 2: %+v", named, res.Problems())
		}
		selfConsistent(t, dir)
	})
}

// An ordinary campaign's report names no self-review: no flag, no word
// in the history, no count (the goldens hold the rest).
func TestReportOfAnOrdinaryCampaignNamesNoSelfReview(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	for _, name := range []string{report.FileDecisions, report.FileHistory} {
		if b := readFile(t, filepath.Join(dir, name)); bytes.Contains(b, []byte("self-review")) {
			t.Errorf("%s names a self-review", name)
		}
	}
	var r report.Report
	must(t, json.Unmarshal(readFile(t, filepath.Join(dir, report.FileJSON)), &r))
	if s := r.Attestation.Summary; s.SelfReviews != 0 || s.SelfReviewEvents != nil || r.Attestation.SelfReview != "" {
		t.Errorf("the golden campaign's summary: %+v, attestation %q; want no self-review", s, r.Attestation.SelfReview)
	}
}
