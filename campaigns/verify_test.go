package campaigns_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

func TestRemediationVerification(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Due: "2026-10-15"})
		for _, id := range []string{keyID("api", "1"), keyID("api", "2"), keyID("web", "3"), keyID("ops", "5")} {
			if _, err := campaigns.Decide(ctx, f.Store, "zoe", "q", id, campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := campaigns.Decide(ctx, f.Store, "zoe", "q", keyID("ops", "6"), campaigns.Keep, "runbook"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q")); !errors.Is(err, campaigns.ErrOpen) {
			t.Errorf("verify before close: %v", err)
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q")); !errors.Is(err, campaigns.ErrNoSnapshot) || !strings.Contains(err.Error(), "take a new snapshot") {
			t.Errorf("verify without a later snapshot: %v", err)
		}

		// A week later: api/1 and web/3 are gone; api/2 is still there; ops
		// could not be read (a gap on its deploy keys), so ops/5 is not checked.
		f.Clock.Set("2026-10-08T10:00:00Z")
		var obs []audit.Observation
		for _, o := range population() {
			if o.ID != keyID("api", "1") && o.ID != keyID("web", "3") && !strings.HasPrefix(o.Scope, "acme/ops") {
				obs = append(obs, o)
			}
		}
		gap := audit.Gap{Endpoint: "GET /repos/acme/ops/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/ops", Status: 403, Reason: "needs admin"}
		snap := f.Snapshot(t, []audit.Gap{gap}, obs...)
		r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Removed, []string{keyID("api", "1"), keyID("web", "3")}) || !slices.Equal(r.StillPresent, []string{keyID("api", "2")}) ||
			!slices.Equal(r.NotChecked, []string{keyID("ops", "5")}) || len(r.Overdue) != 0 || !r.Recorded || r.Snapshot.ID != snap.ID {
			t.Fatalf("remediation %+v", r)
		}
		var p campaigns.VerifyPayload
		json.Unmarshal(r.Event.Payload, &p)
		if r.Event.Type != campaigns.EventVerify || p.Snapshot != snap.ID || len(p.Removed) != 2 {
			t.Errorf("verify event %+v", r.Event)
		}
		// Again against the same snapshot: same answer, nothing new recorded.
		r2, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q"))
		if err != nil || r2.Recorded || !slices.Equal(r2.Removed, r.Removed) {
			t.Errorf("second verify %+v %v", r2, err)
		}
		c := get(t, f, "q")
		for id, want := range map[string]string{keyID("api", "1"): campaigns.Removed, keyID("api", "2"): campaigns.StillPresent,
			keyID("ops", "5"): campaigns.NotChecked, keyID("ops", "6"): ""} {
			if it := item(t, c, id); it.Verification != want || (want != "" && it.VerifiedSnapshot != snap.ID) {
				t.Errorf("%s: verification %q at %d, want %q", id, it.Verification, it.VerifiedSnapshot, want)
			}
		}

		// Past the due date, a snapshot taken by the snapshot command verifies
		// every closed campaign of the account; api/2 is now overdue.
		f.Clock.Set("2026-10-20T10:00:00Z")
		snap3 := f.Snapshot(t, nil, obs...)
		rs, err := campaigns.VerifyAfterSnapshot(ctx, f.Store, "nhi snapshot", snap3.ID)
		if err != nil || len(rs) != 1 {
			t.Fatalf("after snapshot: %+v %v", rs, err)
		}
		if !slices.Equal(rs[0].Overdue, []string{keyID("api", "2")}) || !slices.Equal(rs[0].Removed, []string{keyID("api", "1"), keyID("ops", "5"), keyID("web", "3")}) || !rs[0].Recorded {
			t.Errorf("after snapshot %+v", rs[0])
		}
		// An older snapshot never overwrites a newer verification.
		if _, err := campaigns.VerifyAfterSnapshot(ctx, f.Store, "x", snap.ID); err != nil {
			t.Fatal(err)
		}
		if it := item(t, get(t, f, "q"), keyID("ops", "5")); it.Verification != campaigns.Removed || it.VerifiedSnapshot != snap3.ID {
			t.Errorf("older snapshot overwrote the verification: %+v", it)
		}
		verifyOK(t, f)
	})
}

func TestGapsOnlyHideWhatTheyCover(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
		for _, id := range []string{keyID("api", "1"), keyID("web", "3")} {
			if _, err := campaigns.Decide(ctx, f.Store, "zoe", "q", id, campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		// Gaps: another kind in acme/api; deploy keys of the whole org.
		gaps := []audit.Gap{
			{Endpoint: "GET /repos/acme/api/hooks", Kind: audit.KindGitHubWebhook, Scope: "acme/api", Reason: "403"},
			{Endpoint: "GET /orgs/acme/repos", Kind: audit.KindGitHubDeployKey, Scope: "acme", Reason: "500"},
		}
		f.Snapshot(t, gaps[:1])
		r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q"))
		if err != nil || len(r.Removed) != 2 {
			t.Fatalf("a gap of another kind hid a removal: %+v %v", r, err)
		}
		f.Snapshot(t, gaps)
		r, err = campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q"))
		if err != nil || len(r.NotChecked) != 2 {
			t.Fatalf("an org-wide gap did not make repo keys not-checked: %+v %v", r, err)
		}
	})
}

// tampered builds a file with every kind of campaign record, then lets a
// test edit it behind nhi's back.
func tampered(t *testing.T) *fixture {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Due: "2026-10-02"})
	for _, id := range []string{keyID("api", "1"), keyID("api", "2")} {
		if _, err := campaigns.Decide(ctx, f.Store, "zoe", "q", id, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Decide(ctx, f.Store, "yan", "q", keyID("api", "2"), campaigns.Keep, "needed"); err != nil {
		t.Fatal(err)
	}
	o, err := campaigns.Decide(ctx, f.Store, "zoe", "q", keyID("web", "3"), campaigns.Decommission, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Undo(ctx, f.Store, "zoe", "q", o.Event.Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	f.Snapshot(t, nil, population()[1:]...)
	if _, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, f.Store, "zoe", "q")); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "open", Scope: "id:*", Due: "2026-12-31"})
	verifyOK(t, f)
	return f
}

func TestVerifyNamesEveryEditedRecord(t *testing.T) {
	k1, k2, k3 := keyID("api", "1"), keyID("api", "2"), keyID("web", "3")
	cases := []struct {
		name string
		sql  string
		args []any
		says []string
	}{
		{"decision changed", `UPDATE campaign_items SET decision = 'keep' WHERE identity_id = ? AND campaign_id = 1`, []any{k1},
			[]string{"campaign q: item " + k1, `decision is "keep" in the table but "decommission"`}},
		{"reason changed", `UPDATE campaign_items SET reason = 'approved by CISO' WHERE identity_id = ? AND campaign_id = 1`, []any{k2},
			[]string{k2, "reason"}},
		{"decider changed", `UPDATE campaign_items SET decided_by = 'rita' WHERE identity_id = ? AND campaign_id = 1`, []any{k2},
			[]string{k2, "decided_by", "yan"}},
		{"no-response approved", `UPDATE campaign_items SET decision = 'decommission' WHERE identity_id = ? AND campaign_id = 1`, []any{k3},
			[]string{k3, `"no-response" by the event log`}},
		{"conflict hidden", `UPDATE campaign_items SET conflict = 0 WHERE identity_id = ? AND campaign_id = 1`, []any{k2},
			[]string{k2, "conflict"}},
		{"verification changed", `UPDATE campaign_items SET verification = 'still-present' WHERE identity_id = ? AND campaign_id = 1`, []any{k1},
			[]string{k1, `verification is "still-present" in the table but "removed"`}},
		{"frozen owner edited", `UPDATE campaign_items SET owner = 'mallory' WHERE identity_id = ? AND campaign_id = 1`, []any{k3},
			[]string{"item " + k3 + " was edited after creation", "population no longer matches"}},
		{"findings dropped", `UPDATE campaign_items SET findings = '[]' WHERE identity_id = ? AND campaign_id = 2`, []any{k2},
			[]string{"campaign open: item " + k2 + " was edited"}},
		{"reviewer edited, row hash too", `UPDATE campaign_items SET reviewer = 'mallory', row_hash = 'x' WHERE identity_id = ? AND campaign_id = 2`, []any{k2},
			[]string{"campaign open", "population no longer matches"}},
		{"item deleted", `DELETE FROM campaign_items WHERE identity_id = ? AND campaign_id = 1`, []any{k3},
			[]string{"campaign q: the table holds 5 items but its creation", "recorded 6"}},
		{"item added", `INSERT INTO campaign_items (campaign_id, identity_id, kind, name, scope, owner, natural_owner, findings, permissions, reviewer, row_hash)
			VALUES (2, 'github:acme:x', 'k', 'n', 's', '', '', '[]', '{}', 'r', '')`, nil,
			[]string{"campaign open: the table holds 8 items"}},
		{"history row deleted", `DELETE FROM campaign_decisions WHERE identity_id = ? AND decision = 'keep'`, []any{k2},
			[]string{k2, "missing from the decision history"}},
		{"history row edited", `UPDATE campaign_decisions SET actor = 'rita' WHERE identity_id = ? AND decision = 'keep'`, []any{k2},
			[]string{k2, "history row", "yan"}},
		// What differs is named, where the message read the same on both
		// sides ("reads keep by yan ("needed") but the event log says keep
		// by yan ("needed")"): the time is the report's decided time.
		{"history row's time moved", `UPDATE campaign_decisions SET at = '2026-09-30T09:00:00Z' WHERE identity_id = ? AND decision = 'keep'`, []any{k2},
			[]string{k2, `the decision history row of event 5 (keep by yan) says it was made at "2026-09-30T09:00:00Z", the event log at "`}},
		{"history row's way changed", `UPDATE campaign_decisions SET via = 'bulk' WHERE identity_id = ? AND decision = 'keep'`, []any{k2},
			[]string{k2, `the decision history row of event 5 (keep by yan) says it was made "bulk", the event log "single"`}},
		{"undo made to undo another", `UPDATE campaign_decisions SET undoes = 3 WHERE via = 'undo'`, nil,
			[]string{k3, `the decision history row of event 7 (undo by zoe) says it undoes event 3, the event log event 6`}},
		{"undo erased", `DELETE FROM campaign_decisions WHERE via = 'undo'`, nil,
			[]string{k3, "missing from the decision history"}},
		{"undone decision restored", `UPDATE campaign_items SET decision = 'decommission', decided_by = 'zoe' WHERE identity_id = ? AND campaign_id = 1`, []any{k3},
			[]string{k3, `decision is "decommission" in the table but "no-response"`}},
		{"due moved", `UPDATE campaigns SET due = '2027-01-01' WHERE name = 'q'`, nil,
			[]string{"campaign q: due is \"2027-01-01\" in the table but \"2026-10-02\""}},
		{"reopened", `UPDATE campaigns SET status = 'open' WHERE name = 'q'`, nil,
			[]string{"campaign q: status"}},
		{"campaign deleted", `DELETE FROM campaigns WHERE name = 'open'`, nil,
			[]string{"campaign open (created by event", "missing from the campaigns table", "7 rows belong to campaign id 2"}},
		{"campaign forged", `INSERT INTO campaigns (name, scope, due, snapshot_id, as_of, policy_digest, reviewers, item_count, population_digest, created_at, created_by, create_seq, status)
			VALUES ('forged', 'id:*', '2026-12-31', 1, '', '', '[]', 0, '', '', 'x', 1, 'open')`, nil,
			[]string{"campaign forged is in the campaigns table but no event created it"}},
	}
	base := tampered(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base.Copy(t)
			f.Exec(t, `PRAGMA foreign_keys = OFF`)
			db := f.Raw(t)
			if _, err := db.Exec(tc.sql, tc.args...); err != nil {
				t.Fatal(err)
			}
			problems, err := campaigns.Verify(ctx, f.Store)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(problems, "\n")
			for _, s := range tc.says {
				if !strings.Contains(all, s) {
					t.Errorf("problems do not say %q:\n%s", s, all)
				}
			}
		})
	}
}

// Several writers on one file (each its own Store, as separate processes
// would be) deciding at once: nothing lost, nothing locked.
func TestConcurrentDecisionsOnOneFile(t *testing.T) {
	f := newFixture(t)
	var obs []audit.Observation
	for i := range 120 {
		obs = append(obs, key(fmt.Sprintf("r%d", i%7), fmt.Sprint(i), "nobody"))
	}
	f.Snapshot(t, nil, obs...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	// A file another process just created is only recognisable once its
	// header has left the write-ahead log.
	f.Exec(t, `PRAGMA wal_checkpoint(TRUNCATE)`)
	c := get(t, f, "q")
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, len(c.Items)+writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := audit.Open(ctx, f.Path, audit.OpenOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for i := w; i < len(c.Items); i += writers {
				if _, err := campaigns.Decide(ctx, st, fmt.Sprintf("rev%d", w), "q", c.Items[i].ID, campaigns.Decommission, ""); err != nil {
					errs <- err
				}
			}
			// Everyone else also decides item 0 (rev0's loop has it): the
			// conflict must show. Deciding it twice would be no change.
			if w == 0 {
				return
			}
			if _, err := campaigns.Decide(ctx, st, fmt.Sprintf("rev%d", w), "q", c.Items[0].ID, campaigns.Decommission, ""); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c = get(t, f, "q")
	if c.Progress.Decided != len(c.Items) || len(item(t, c, c.Items[0].ID).History) != writers || !c.Items[0].Conflict {
		t.Errorf("after concurrent decisions: %+v, first item %+v", c.Progress, c.Items[0])
	}
	evs, _ := f.Store.EventsOfType(ctx, campaigns.EventDecide)
	if len(evs) != len(c.Items)+writers-1 {
		t.Errorf("%d decide events, want %d", len(evs), len(c.Items)+writers-1)
	}
	verifyOK(t, f)
}

// Verify reads a campaign a row at a time (issue 21): an item edited in
// the middle of one several thousand items long is named exactly as in a
// small one, with the same words and in the same order, and nothing else
// is.
func TestVerifyNamesAnEditInTheMiddleOfALargeCampaign(t *testing.T) {
	const n = 5000
	f := newFixture(t)
	obs := make([]audit.Observation, n)
	ids := make([]string, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%03d", i/10), fmt.Sprint(i), "")
		ids[i] = obs[i].ID
	}
	slices.Sort(ids)
	f.Snapshot(t, nil, obs...)
	created := create(t, f, campaigns.Spec{Name: "big", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"}})
	if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "big", "name:key-1*", campaigns.Decommission, "unused", false); err != nil {
		t.Fatal(err)
	}
	middle, decided := ids[n/2], ids[n/2+501]
	single, err := campaigns.Decide(ctx, f.Store, "rita", "big", middle, campaigns.Keep, "still deploys")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead", "big"); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, f)

	cases := []struct {
		name string
		sql  string
		args []any
		says []string
	}{
		{"frozen owner edited", `UPDATE campaign_items SET owner = 'mallory' WHERE identity_id = ?`, []any{middle}, []string{
			"campaign big: item " + middle + " was edited after creation: its frozen columns (owner, findings, reviewer, ...) no longer match their hash",
			fmt.Sprintf("campaign big: its population no longer matches the digest its creation (event %d) recorded: items were edited, added or removed behind nhi's back", created.Event.Seq),
		}},
		{"decision changed", `UPDATE campaign_items SET decision = 'keep' WHERE identity_id = ?`, []any{decided}, []string{
			"campaign big: item " + decided + `: decision is "keep" in the table but "no-response" by the event log: the table was edited`,
		}},
		{"history row deleted", `DELETE FROM campaign_decisions WHERE identity_id = ?`, []any{middle}, []string{
			fmt.Sprintf("campaign big: item %s: the decision of event %d (keep by rita) is missing from the decision history: it was deleted behind nhi's back", middle, single.Event.Seq),
		}},
		{"two edits, listed in ID order", `UPDATE campaign_items SET reason = 'x' WHERE identity_id IN (?, ?)`, []any{decided, middle}, []string{
			"campaign big: item " + middle + `: reason is "x" in the table but "still deploys" by the event log: the table was edited`,
			"campaign big: item " + decided + `: reason is "x" in the table but "" by the event log: the table was edited`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.Copy(t)
			if _, err := c.Raw(t).Exec(tc.sql, tc.args...); err != nil {
				t.Fatal(err)
			}
			problems, err := campaigns.Verify(ctx, c.Store)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(problems, tc.says) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(tc.says, "\n"))
			}
		})
	}
}

// Verify reads each row as one text its columns are packed into, and
// builds the canonical row from them (issue 21): texts that JSON escapes
// (a line separator, a backspace) verify as the row read whole does, and
// a row whose texts hold the packing's separator, its ID among them, is
// read again column by column: an untouched file verifies, and an edit
// of such a row is still named.
func TestVerifyOddTexts(t *testing.T) {
	f := newFixture(t)
	odd := key("api", "odd\x1fsep", "")
	odd.Name = "key\u2028line\bback\x01ctl\u00e9\"q\\\x1fsep"
	odd.Permissions = map[string]string{"contents\u2029": "read\b"}
	f.Snapshot(t, nil, odd, key("api", "plain", ""))
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", odd.ID, campaigns.Keep, "needed"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := f.Raw(t).QueryRow(`SELECT name FROM campaign_items WHERE identity_id = ?`, odd.ID).Scan(&name); err != nil || name != odd.Name {
		t.Fatalf("the frozen name is %q (%v), not the odd one", name, err)
	}
	verifyOK(t, f)

	for _, tc := range []struct{ sql, want string }{
		{`UPDATE campaign_items SET reason = 'x' WHERE identity_id = ?`,
			`campaign q: item ` + audit.Printable(odd.ID) + `: reason is "x" in the table but "needed" by the event log: the table was edited`},
		{`UPDATE campaign_items SET scope = 'acme/x' WHERE identity_id = ?`,
			`campaign q: item ` + audit.Printable(odd.ID) + ` was edited after creation: its frozen columns (owner, findings, reviewer, ...) no longer match their hash`},
	} {
		c := f.Copy(t)
		if _, err := c.Raw(t).Exec(tc.sql, odd.ID); err != nil {
			t.Fatal(err)
		}
		problems, err := campaigns.Verify(ctx, c.Store)
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) == 0 || problems[0] != tc.want {
			t.Errorf("problems:\n%s\nwant first:\n%s", strings.Join(problems, "\n"), tc.want)
		}
	}
}

// Verify reads an item as its columns packed into one text (itemsPacked)
// and builds the canonical row the population digest covers from them:
// an edit of any one column of one item, in the file, is named, and so is
// one that puts the packing's separator into a text.
func TestVerifyNamesAnEditOfEachItemColumn(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, key("api", "1", ""), key("api", "2", ""), key("api", "3", ""))
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
	k := keyID("api", "2")
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", k, campaigns.Keep, "needed"); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, f)
	edited := "campaign q: item " + k + " was edited after creation"
	stateIs := func(col, v string) string {
		return fmt.Sprintf("campaign q: item %s: %s is %q in the table but", k, col, v)
	}
	for _, tc := range []struct{ col, to, says string }{
		{"identity_id", "'github:acme:x'", "github:acme:x"},
		{"kind", "'github-app'", edited},
		{"name", "name || 'x'", edited},
		{"scope", "'acme/web'", edited},
		{"owner", "'mallory'", edited},
		{"natural_owner", "'mallory'", edited},
		{"findings", "'[]'", edited},
		{"permissions", "'{}'", edited},
		{"reviewer", "'mallory'", edited},
		{"carried", "'keep'", edited},
		{"carried_reason", "'x'", edited},
		{"row_hash", "'x'", edited},
		{"name", "name || char(31)", edited},
		{"decision", "'decommission'", stateIs("decision", "decommission")},
		{"reason", "'x'", stateIs("reason", "x")},
		{"reason", "'need' || char(31) || 'ed'", stateIs("reason", "needed")},
		{"decided_by", "'mallory'", stateIs("decided_by", "mallory")},
		{"decided_at", "'2026-01-01T00:00:00Z'", stateIs("decided_at", "2026-01-01T00:00:00Z")},
		{"decision_seq", "1", stateIs("decision_seq", "1")},
		{"conflict", "1", stateIs("conflict", "true")},
		{"verification", "'removed'", stateIs("verification", "removed")},
		{"verified_snapshot", "1", stateIs("verified_snapshot", "1")},
		{"verify_seq", "1", stateIs("verify_seq", "1")},
	} {
		t.Run(tc.col, func(t *testing.T) {
			c := f.Copy(t)
			if _, err := c.Raw(t).Exec(`UPDATE campaign_items SET `+tc.col+` = `+tc.to+` WHERE identity_id = ?`, k); err != nil {
				t.Fatal(err)
			}
			problems, err := campaigns.Verify(ctx, c.Store)
			if err != nil {
				t.Fatal(err)
			}
			if all := strings.Join(problems, "\n"); !strings.Contains(all, tc.says) {
				t.Errorf("problems do not say %q:\n%s", tc.says, all)
			}
		})
	}
}

// The walk keeps the items and their decision history in step by ID: on
// SQLite byte by byte, on PostgreSQL (whose collation need not be Go's)
// by flagging history rows without an item. Both name the same edits, in
// the same order.
func TestVerifyNamesHistoryEditsOnBothEngines(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Reviewers: []string{"rita"}})
		o, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("api", "2"), campaigns.Keep, "needed")
		if err != nil {
			t.Fatal(err)
		}
		verifyOK(t, f)
		seq := o.Event.Seq
		f.Exec(t, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
			SELECT id, ?, ?, 'keep', '', 'mallory', '', 'single' FROM campaigns WHERE name = 'q'`, "github:acme:aaa", seq)
		f.Exec(t, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
			SELECT id, ?, ?, 'keep', '', 'mallory', '', 'single' FROM campaigns WHERE name = 'q'`, keyID("api", "3x"), seq)
		f.Exec(t, `UPDATE campaign_items SET reason = 'x' WHERE identity_id = ?`, keyID("api", "2"))
		problems, err := campaigns.Verify(ctx, f.Store)
		if err != nil {
			t.Fatal(err)
		}
		added := func(id string) string {
			return fmt.Sprintf("campaign q: item %s: the decision history has a row for event %d (keep by mallory) that the event log does not: it was added behind nhi's back", id, seq)
		}
		want := []string{
			"campaign q: item " + keyID("api", "2") + `: reason is "x" in the table but "needed" by the event log: the table was edited`,
			added("github:acme:aaa"), added(keyID("api", "3x")),
		}
		if !slices.Equal(problems, want) {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
	})
}
