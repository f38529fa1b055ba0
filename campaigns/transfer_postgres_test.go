package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// reviewerOffboarding is an offboarding of alice on PostgreSQL reviewed
// by carol and bob, each a login role granted nhi_reviewer alone, the
// directory giving each their role as an alias: carol's store, the
// campaign, and carol's and bob's items.
type reviewerOffboarding struct {
	f           *fixture
	carolURL    string
	carol       *audit.Store
	c           *campaigns.Campaign
	hers, his   []string
	carolPerson audit.Person
}

func newReviewerOffboarding(t *testing.T) *reviewerOffboarding {
	t.Helper()
	f := offboardFixtureOn(t, campaignstest.Postgres)
	db := pgtest.DatabaseName(f.Path)
	r := &reviewerOffboarding{f: f, carolPerson: audit.Person{Email: "carol@acme.test", GitHub: "carol", Aliases: []string{"carol_" + db}}}
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
		r.carolPerson, {Email: "bob@acme.test", GitHub: "bob", Aliases: []string{"bob_" + db}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := campaigns.CreateOffboarding(ctx, f.Store, "lead@acme.test", campaigns.OffboardSpec{Person: "alice@acme.test", Reviewers: []string{"carol@acme.test", "bob@acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	r.c = get(t, f, res.Campaign.Name)
	for _, it := range r.c.Items {
		switch it.Reviewer {
		case "carol@acme.test":
			r.hers = append(r.hers, it.ID)
		case "bob@acme.test":
			r.his = append(r.his, it.ID)
		}
	}
	if len(r.hers) < 2 || len(r.his) == 0 {
		t.Fatalf("carol reviews %d items and bob %d; the test wants two and one", len(r.hers), len(r.his))
	}
	r.carolURL = loginRole(t, f, "carol", audit.RoleReviewer)
	if r.carol, err = audit.Open(ctx, r.carolURL, audit.OpenOptions{Now: f.Clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.carol.Close() })
	return r
}

// ownerOf is the owner recorded now of identity id.
func (r *reviewerOffboarding) ownerOf(t *testing.T, id string) string {
	t.Helper()
	o, err := r.f.Store.Identity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return o.Owner
}

// verified fails the test unless the store and its campaigns verify.
func (r *reviewerOffboarding) verified(t *testing.T, after string) {
	t.Helper()
	if rep, err := r.f.Store.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify after %s: %v %v", after, rep.Problems, err)
	}
	if problems, err := campaigns.Verify(ctx, r.f.Store); err != nil || len(problems) != 0 {
		t.Fatalf("campaigns verify after %s: %q %v", after, problems, err)
	}
}

// TestReviewerRoleTransfers: on PostgreSQL a reviewer whose role has
// nhi_reviewer alone transfers an offboarding item assigned to her, as
// nhi_admin does: the decision and the owner.set event nhi writes for a
// transfer, one chain that verifies, the owner recorded. Before,
// the database refused her the owner (owners are nhi_admin's), so no
// reviewer role could transfer. Each refusal says why in nhi's words:
// another reviewer's item, to herself, to a leaver, once she left, and
// in a closed campaign; nothing is recorded but the refusals nhi
// records.
func TestReviewerRoleTransfers(t *testing.T) {
	r := newReviewerOffboarding(t)
	f, name := r.f, r.c.Name
	outs, err := campaigns.TransferItems(ctx, r.carol, "carol@acme.test", name, r.hers[:1], "bob", "bob runs it now")
	if err != nil {
		t.Fatalf("carol's role transferring her item: %v", err)
	}
	if len(outs) != 1 || outs[0].Decision != campaigns.Transfer || !outs[0].Assigned {
		t.Errorf("outcomes: %+v", outs)
	}
	if o := r.ownerOf(t, r.hers[0]); o != "bob@acme.test" {
		t.Errorf("owner after carol's transfer: %q; want bob@acme.test", o)
	}
	evs, err := f.Store.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-2:]
	if last[0].Type != campaigns.EventDecide || last[1].Type != audit.EventOwnerSet || last[1].Actor != "carol@acme.test" ||
		string(last[1].Payload) != `{"identity":"`+r.hers[0]+`","owner":"bob@acme.test","person":"bob@acme.test"}` {
		t.Errorf("the transfer's events: %s %s %s, %s %s %s", last[0].Type, last[0].Actor, last[0].Payload, last[1].Type, last[1].Actor, last[1].Payload)
	}
	if it := item(t, get(t, f, name), r.hers[0]); it.Decision != campaigns.Transfer || it.DecidedBy != "carol@acme.test" {
		t.Errorf("carol's item after the transfer: %s by %s", it.Decision, it.DecidedBy)
	}
	r.verified(t, "carol's transfer")

	mine := r.hers[1]
	refused := func(what string, ids []string, to string, is error, says ...string) {
		t.Helper()
		head, err := f.Store.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = campaigns.TransferItems(ctx, r.carol, "carol@acme.test", name, ids, to, "x")
		if !errors.Is(err, is) {
			t.Errorf("carol transferring %s: %v; want %v", what, err, is)
		}
		for _, s := range says {
			if err == nil || !strings.Contains(err.Error(), s) {
				t.Errorf("carol transferring %s: %v; want it to say %q", what, err, s)
			}
		}
		for _, id := range ids {
			if o := r.ownerOf(t, id); o != "" {
				t.Errorf("carol transferring %s: the owner of %s is now %q", what, id, o)
			}
		}
		evs, err := f.Store.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs[head.Seq:] {
			if e.Type != campaigns.EventRefused {
				t.Errorf("carol transferring %s recorded %s (event %d)", what, e.Type, e.Seq)
			}
		}
	}
	refused("bob's item", r.his[:1], "dave@acme.test", audit.ErrNotPermitted, "may not decide "+r.his[0], "it is assigned to bob@acme.test")
	refused("to herself", []string{mine}, "@carol", campaigns.ErrSelfReview, "you would own what you reviewed")
	refused("to a leaver", []string{mine}, "erin@acme.test", campaigns.ErrBadTransfer, "left on 2026-08-01")
	refused("to the leaver", []string{mine}, "alice", campaigns.ErrBadTransfer, "is the person being offboarded")

	left := r.carolPerson
	left.Status, left.LeftAt = audit.PersonLeft, "2026-10-01"
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{left}}, false); err != nil {
		t.Fatal(err)
	}
	refused("once she left", []string{mine}, "dave@acme.test", audit.ErrActorLeft, "left on 2026-10-01")
	if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{r.carolPerson}}, false); err != nil {
		t.Fatal(err)
	}

	if _, err := campaigns.Close(ctx, f.Store, "lead@acme.test", name); err != nil {
		t.Fatal(err)
	}
	refused("in a closed campaign", []string{mine}, "dave@acme.test", campaigns.ErrClosed, "decisions can no longer change")
	r.verified(t, "the refusals")
}

// reviewerSQL is a reviewer's own session, as psql would have it, in
// one transaction rolled back at the end.
type reviewerSQL struct {
	tx    pgx.Tx
	c     *campaigns.Campaign
	actor string
}

// record is the record after its number of an event, as nhi encodes it,
// for names and IDs of plain ASCII.
func record(at, actor, typ, payload string) string {
	return fmt.Sprintf("%q,%q,%q,%s]\n", at, actor, typ, payload)
}

const sqlAt = "2026-10-01T12:00:00.000000Z"

// decideTransfer writes a transfer of item to to as nhi writes it — the
// event, the item's decision columns and its history row — which the
// triggers check as any decision of hers.
func (s reviewerSQL) decideTransfer(t *testing.T, item, to string) error {
	t.Helper()
	payload := fmt.Sprintf(`{"campaign":%q,"items":[%q],"decision":"transfer","reason":"x","to":%q}`, s.c.Name, item, to)
	var seq int64
	if err := s.tx.QueryRow(ctx, `SELECT seq FROM nhi_append_event(true, $1, $2, $3, $4, $5)`,
		sqlAt, s.actor, campaigns.EventDecide, payload, record(sqlAt, s.actor, campaigns.EventDecide, payload)).Scan(&seq); err != nil {
		return err
	}
	if _, err := s.tx.Exec(ctx, `UPDATE campaign_items SET decision = 'transfer', reason = 'x', decided_by = $1, decided_at = $2, decision_seq = $3
		WHERE campaign_id = $4 AND identity_id = $5`, s.actor, sqlAt, seq, s.c.ID, item); err != nil {
		return err
	}
	_, err := s.tx.Exec(ctx, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
		VALUES ($1, $2, $3, 'transfer', 'x', $4, $5, 'single')`, s.c.ID, item, seq, s.actor, sqlAt)
	return err
}

// transferOwner calls nhi_transfer_owner for item, the owner.set event
// naming identity and owner.
func (s reviewerSQL) transferOwner(item, identity, owner string) error {
	payload := fmt.Sprintf(`{"identity":%q,"owner":%q,"person":%q}`, identity, owner, owner)
	_, err := s.tx.Exec(ctx, `SELECT * FROM nhi_transfer_owner($1, $2, $3, $4, $5, $6, $7, $8)`, s.c.ID, item, identity, owner,
		sqlAt, s.actor, payload, record(sqlAt, s.actor, audit.EventOwnerSet, payload))
	return err
}

// TestReviewerCannotSetOwnersThroughTheTransfer: nhi_transfer_owner runs
// as the tables' owner, past the triggers, so it must set no owner but
// the one a transfer of the session's own decided in the same
// transaction. A reviewer with a SQL client, as her own role, calls it
// for her item with no transfer decided, for another reviewer's item,
// for another identity than the item she transferred, for another owner
// than the one she decided, and to herself after deciding that with
// SQL (which the triggers let through: they do not read the new
// owner): each refused, saying why. The same statements with the
// transfer hers and right go through, so the refusals are the checks'.
func TestReviewerCannotSetOwnersThroughTheTransfer(t *testing.T) {
	r := newReviewerOffboarding(t)
	conn := pgtest.Connect(t, r.carolURL)
	mine, his := r.hers[0], r.his[0]
	try := func(what, says string, steps func(s reviewerSQL) error) {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		err = steps(reviewerSQL{tx: tx, c: r.c, actor: "carol@acme.test"})
		var pe *pgconn.PgError
		switch {
		case says == "" && err != nil:
			t.Errorf("%s: %v; want it to go through", what, err)
		case says != "" && (!errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, says)):
			t.Errorf("%s: %v; want it refused (42501) saying %q", what, err, says)
		}
	}
	try("her item, no transfer decided", "the item's decision is no transfer to them", func(s reviewerSQL) error {
		return s.transferOwner(mine, mine, "bob@acme.test")
	})
	try("bob's item, no transfer decided", "the item's decision is no transfer to them", func(s reviewerSQL) error {
		return s.transferOwner(his, his, "dave@acme.test")
	})
	try("bob's item, decided by her with SQL", "it is assigned to bob@acme.test", func(s reviewerSQL) error {
		return s.decideTransfer(t, his, "dave@acme.test")
	})
	try("her transfer, bob's identity", "it is not the one the transfer of", func(s reviewerSQL) error {
		if err := s.decideTransfer(t, mine, "dave@acme.test"); err != nil {
			return err
		}
		return s.transferOwner(mine, his, "dave@acme.test")
	})
	try("her transfer to dave, the owner bob", "the item's decision is no transfer to them", func(s reviewerSQL) error {
		if err := s.decideTransfer(t, mine, "dave@acme.test"); err != nil {
			return err
		}
		return s.transferOwner(mine, mine, "bob@acme.test")
	})
	try("her transfer to herself", "she would own what she reviewed", func(s reviewerSQL) error {
		if err := s.decideTransfer(t, mine, "carol@acme.test"); err != nil {
			return err
		}
		return s.transferOwner(mine, mine, "carol@acme.test")
	})
	try("her transfer to dave, as decided", "", func(s reviewerSQL) error {
		if err := s.decideTransfer(t, mine, "dave@acme.test"); err != nil {
			return err
		}
		return s.transferOwner(mine, mine, "dave@acme.test")
	})
	for _, id := range []string{mine, his} {
		if o := r.ownerOf(t, id); o != "" {
			t.Errorf("after carol's statements, all rolled back, %s has owner %q", id, o)
		}
	}
	r.verified(t, "carol's statements")
}
