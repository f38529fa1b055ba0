package report_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// trail is the history of the register row of identity id.
func trail(r *report.Report, id string) []report.HistoryEntry {
	var out []report.HistoryEntry
	for _, h := range r.History {
		if h.ID == id {
			out = append(out, h)
		}
	}
	return out
}

// TestDecisionHistory: what an auditor asks after seeing a conflict flag or
// a changed decision is in the bundle: the decision that was overwritten,
// the undone one with its undo, the bulk filter, the carried decision and
// its confirmation, the no-response at close.
func TestDecisionHistory(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		// The conflict on the Sentry secret: carol's decommission, overwritten by alice.
		s := trail(r, idSentry)
		if len(s) != 2 || s[0].Actor != "carol" || s[0].Decision != "decommission" || s[0].Outcome != report.OutcomeOverwritten ||
			s[0].By != s[1].Event || !s[0].Other || s[1].Outcome != report.OutcomeCurrent || s[1].Event != r.Register[s[1].N-1].Event {
			t.Errorf("conflict trail: %+v", s)
		}
		if !hasFlag(r.Register[s[0].N-1].Flags, report.FlagConflict) {
			t.Error("the conflicting item is not flagged conflict")
		}
		// The runner: decommission undone, then keep.
		u := trail(r, idRunner)
		if len(u) != 3 || u[0].Outcome != report.OutcomeUndone || u[0].By != u[1].Event || u[1].Action != report.ActionUndo ||
			u[1].Undoes != u[0].Event || u[2].Decision != "keep" || u[2].Outcome != report.OutcomeCurrent {
			t.Errorf("undo trail: %+v", u)
		}
		// The bulk decision names its filter.
		if b := trail(r, idOldCI); len(b) != 1 || b[0].Via != "bulk" || b[0].Filter != "name:old-*" {
			t.Errorf("bulk trail: %+v", b)
		}
		if len(r.BulkDecisions) != 2 || r.BulkDecisions[0].Filter != "name:old-*" || r.BulkDecisions[0].Items != 1 {
			t.Errorf("bulk decisions: %+v", r.BulkDecisions)
		}
		// Carried, then confirmed.
		c := trail(r, idNPM)
		if len(c) != 2 || c[0].Action != report.ActionCarried || c[0].Outcome != report.OutcomeConfirmed || c[0].By != c[1].Event ||
			c[1].Action != report.ActionConfirm {
			t.Errorf("carried trail: %+v", c)
		}
		// No response at close.
		if n := trail(r, idFormula); len(n) != 1 || n[0].Action != report.ActionNoResponse || n[0].Event != r.Attestation.CloseEvent {
			t.Errorf("no-response trail: %+v", n)
		}
		// Every item has a trail; history.csv has a line per entry.
		seen := map[string]bool{}
		for _, h := range r.History {
			seen[h.ID] = true
		}
		for _, row := range r.Register {
			if !seen[row.ID] {
				t.Errorf("row %d (%s) has no history", row.N, row.ID)
			}
		}
		var b bytes.Buffer
		if err := r.WriteCSV(report.FileHistory, &b); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(recs) != len(r.History)+1 {
			t.Errorf("history.csv: %d records for %d entries (%v)", len(recs), len(r.History), err)
		}
	})
}

// TestRefusedAttemptsInHistory: a decision.refused event (docs/people.md)
// naming the campaign and an item is in that item's trail, read from the
// log as any decision.* event is.
func TestRefusedAttemptsInHistory(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.at("2026-11-06T09:00:00Z")
		err := f.Store.Write(ctx, func(tx *audit.Tx) error {
			_, err := tx.Append(ctx, "dana", "decision.refused", map[string]any{"campaign": "2026-Q4", "items": []string{idDana},
				"action": "keep", "rule": "holder", "detail": "dana added this deploy key"})
			if err != nil {
				return err
			}
			_, err = tx.Append(ctx, "dana", "decision.refused", map[string]any{"campaign": "2026-Q3", "items": []string{idDana}, "action": "keep"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		d := trail(r, idDana)
		if len(d) != 2 {
			t.Fatalf("dana's key: %+v", d)
		}
		if x := d[1]; x.Type != "decision.refused" || x.Actor != "dana" || x.Outcome != report.OutcomeRefused || x.Decision != "keep" ||
			x.Detail != "holder: dana added this deploy key" || x.At != "2026-11-06T09:00:00Z" {
			t.Errorf("refused attempt: %+v", x)
		}
		if d[0].Outcome != report.OutcomeCurrent {
			t.Errorf("a refusal changed the decision in force: %+v", d[0])
		}
	})
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}
