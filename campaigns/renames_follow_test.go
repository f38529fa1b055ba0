package campaigns_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// TestCarryForwardFollowsRenames: a keep decided in the earlier campaign
// under an ID the identity had then is carried to the ID it has now, as
// a keep under an unchanged ID is: same owner (recorded under the old ID
// and followed), same findings and permissions, marked carried until
// confirmed; the campaign.create event records where it came from
// (carried_as), which Get and the report's read (EachAsOf) give as
// Item.CarriedAs. A rotate decided under the old ID is never carried, and
// a renamed identity whose permissions changed is reviewed again.
func TestCarryForwardFollowsRenames(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		old1, new1 := keyID("api", "1"), keyID("api-v2", "1")
		old2, new2 := keyID("api", "2"), keyID("api-v2", "2")
		old3, new3 := keyID("api", "3"), keyID("api-v2", "3")
		web := keyID("web", "4")
		f.Snapshot(t, nil, lineageKey("api", "1", "alice"), lineageKey("api", "2", "bob"), lineageKey("api", "3", "carol"), key("web", "4", "dave"))
		if _, err := f.Store.SetOwner(ctx, "lead@acme.test", old2, "olga"); err != nil {
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "q3", Scope: "kind:deploy_key"})
		for id, d := range map[string]campaigns.Decision{old1: campaigns.Rotate, old2: campaigns.Keep, old3: campaigns.Keep, web: campaigns.Keep} {
			if _, err := campaigns.Decide(ctx, f.Store, "rita", "q3", id, d, "deploys production"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead@acme.test", "q3"); err != nil {
			t.Fatal(err)
		}

		// Repository api is renamed api-v2; key 3 gains write access.
		f.Clock.Add(24 * time.Hour)
		k3 := lineageKey("api-v2", "3", "carol")
		k3.Permissions = map[string]string{"contents": "write"}
		f.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), lineageKey("api-v2", "2", "bob"), k3, key("web", "4", "dave"))
		res := create(t, f, campaigns.Spec{Name: "q4", Scope: "kind:deploy_key", CarryForward: "q3"})
		if res.Carried != 2 {
			t.Errorf("carried %d, want 2 (%s as %s, and %s)", res.Carried, new2, old2, web)
		}
		c := get(t, f, "q4")
		if len(c.Items) != 4 {
			t.Fatalf("%d items, want 4", len(c.Items))
		}
		want := map[string]campaigns.Decision{new1: campaigns.Pending, new2: campaigns.Keep, new3: campaigns.Pending, web: campaigns.Keep}
		wantAs := map[string]string{new1: "", new2: old2, new3: "", web: ""}
		gotAs := map[string]string{}
		for _, it := range c.Items {
			gotAs[it.ID] = it.CarriedAs
			if it.Carried != want[it.ID] {
				t.Errorf("%s: carried %q, want %q", it.ID, it.Carried, want[it.ID])
			}
			if it.Carried == campaigns.Keep && (it.CarriedReason != "deploys production" || it.State() != "carried") {
				t.Errorf("%s: carried with reason %q, state %s", it.ID, it.CarriedReason, it.State())
			}
		}
		if !maps.Equal(gotAs, wantAs) {
			t.Errorf("carried as %v; want %v", gotAs, wantAs)
		}
		if it := item(t, c, new2); it.Owner != "olga" {
			t.Errorf("%s frozen with owner %q; want olga, recorded under %s", new2, it.Owner, old2)
		}
		// The report's read, now and as of the creation.
		for _, at := range []int64{0, c.CreateSeq} {
			if at == 0 {
				head, err := f.Store.LogHead(ctx)
				if err != nil {
					t.Fatal(err)
				}
				at = head.Seq
			}
			got := map[string]string{}
			err := campaigns.EachAsOf(ctx, f.Store, "q4", at, func(*campaigns.Campaign) error { return nil }, func(b *campaigns.Batch) error {
				for _, it := range b.Items {
					got[it.ID] = it.CarriedAs
				}
				return nil
			})
			if err != nil || !maps.Equal(got, wantAs) {
				t.Errorf("EachAsOf(%d): carried as %v, %v; want %v", at, got, err, wantAs)
			}
		}

		// Confirmed as any carried keep, by the ID the campaign froze.
		o, err := campaigns.ConfirmCarried(ctx, f.Store, "sam", "q4", "", "unchanged since q3")
		if err != nil || len(o.Items) != 2 {
			t.Fatalf("confirm: %+v %v", o, err)
		}
		if it := item(t, get(t, f, "q4"), new2); it.Decision != campaigns.Keep || it.DecidedBy != "sam" || it.CarriedAs != old2 {
			t.Errorf("confirmed %s: %s by %s, carried as %q", new2, it.Decision, it.DecidedBy, it.CarriedAs)
		}
		verifyOK(t, f)
	})
}

// TestVerifyChecksCarriedAs: nhi verify holds what campaign.create records
// as carried under an earlier ID (carried_as) to the campaigns: in a log
// whose chain verifies, written by something other than nhi, a key that
// is no item of the campaign, or an item that carries no decision, or a
// value that is no item of the campaign carried from, is named.
func TestVerifyChecksCarriedAs(t *testing.T) {
	f := newFixture(t)
	old1, new1 := keyID("api", "1"), keyID("api-v2", "1")
	old3, new3 := keyID("api", "3"), keyID("api-v2", "3")
	f.Snapshot(t, nil, lineageKey("api", "1", "alice"), lineageKey("api", "3", "carol"), key("web", "2", "bob"))
	create(t, f, campaigns.Spec{Name: "q3", Scope: "kind:deploy_key"})
	for id, d := range map[string]campaigns.Decision{old1: campaigns.Keep, keyID("web", "2"): campaigns.Keep, old3: campaigns.Rotate} {
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q3", id, d, "deploys production"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead@acme.test", "q3"); err != nil {
		t.Fatal(err)
	}
	f.Clock.Add(24 * time.Hour)
	f.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), lineageKey("api-v2", "3", "carol"), key("web", "2", "bob"))
	create(t, f, campaigns.Spec{Name: "q4", Scope: "kind:deploy_key", CarryForward: "q3"})
	verifyOK(t, f)
	q4 := get(t, f, "q4")
	carried := `"carried_as":{"` + new1 + `":"` + old1 + `"}`

	stranger := keyID("nope", "9")
	for _, c := range []struct {
		name, to, says string
	}{
		{"key no item", `"carried_as":{"` + stranger + `":"` + old1 + `"}`,
			"campaign q4: its creation (event " + fmt.Sprint(q4.CreateSeq) + ") records item " + stranger + " as carried from q3 as " + old1 + ", but the campaign has no item " + stranger},
		{"key carries nothing", `"carried_as":{"` + new3 + `":"` + old3 + `"}`,
			"records item " + new3 + " as carried from q3 as " + old3 + ", but the item carries no decision"},
		{"value no item of q3", `"carried_as":{"` + new1 + `":"` + stranger + `"}`,
			"records item " + new1 + " as carried from q3 as " + stranger + ", but q3 has no item " + stranger},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := f.Copy(t)
			rewriteEvent(t, g, q4.CreateSeq, carried, c.to)
			if r, err := g.Store.Verify(ctx); err != nil || !r.OK() {
				t.Fatalf("the rewritten log's chain does not verify: %v %v", err, r.Problems)
			}
			problems, err := campaigns.Verify(ctx, g.Store)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != 1 || !strings.Contains(problems[0], c.says) {
				t.Errorf("verify says %q; want one problem saying %q", problems, c.says)
			}
		})
	}
}

// rewriteEvent replaces from by to in event seq's payload and chains the
// log again from it on, with the head the file records: a log written by
// something other than nhi, whose chain verifies (docs/verify.md).
func rewriteEvent(t *testing.T, f *fixture, seq int64, from, to string) {
	t.Helper()
	f.Exec(t, `DROP TRIGGER IF EXISTS events_no_update`)
	db := f.Raw(t)
	res, err := db.Exec(`UPDATE events SET payload = replace(payload, ?, ?) WHERE seq = ? AND instr(payload, ?) > 0`, from, to, seq, from)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("event %d holds no %q to rewrite: %v", seq, from, err)
	}
	evs, err := f.Store.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.GenesisHash
	for _, e := range evs {
		b, err := e.CanonicalBytes()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append([]byte(prev), b...))
		hash := hex.EncodeToString(sum[:])
		if e.PrevHash != prev || e.Hash != hash {
			f.Exec(t, `UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, hash, e.Seq)
		}
		prev = hash
	}
	f.Exec(t, `UPDATE meta SET value = ? WHERE key = 'log_head'`, prev)
}
