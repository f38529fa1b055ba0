package campaigns

import (
	"maps"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// carriedAs checks what each campaign.create records as carried under
// an earlier ID (CreatePayload.CarriedAs, Item.CarriedAs): each key is an
// item of the campaign, frozen with a decision carried, and each value an
// item of the campaign it was carried from (CarriedFrom), created before
// it. The event's hash proves only that nothing changed it since it was
// written: a writer that is not nhi can chain any payload.
//
// It rides the walk (Verify): the items of the campaign carried from are
// walked first (campaigns are walked in creation order), and the IDs a
// later campaign names among them are all it keeps of them.
type carriedAs struct {
	// wanted holds, by campaign, the IDs some later campaign's carried_as
	// names among its items: true once the walk passed the item.
	wanted map[string]map[string]bool
	// seen holds the keys of the walked campaign's carried_as whose
	// item the walk passed.
	seen map[string]bool
}

func newCarriedAs(v *verifier) *carriedAs {
	c := &carriedAs{wanted: map[string]map[string]bool{}}
	for _, name := range v.order {
		r := v.replay[name]
		if from := v.carriedFrom(r); from != nil {
			m := c.wanted[from.create.Name]
			if m == nil {
				m = map[string]bool{}
				c.wanted[from.create.Name] = m
			}
			for _, id := range r.create.CarriedAs {
				m[id] = false
			}
		}
	}
	return c
}

// carriedFrom is the campaign r's carried_as names items of, when r has
// any and that campaign was created before it and has a table to walk.
func (v *verifier) carriedFrom(r *replayed) *replayed {
	from := v.replay[r.create.CarriedFrom]
	if len(r.create.CarriedAs) == 0 || from == nil || from.createSeq >= r.createSeq || from.table == nil {
		return nil
	}
	return from
}

// item notes w, an item of campaign r, as the walk passes it.
func (c *carriedAs) item(v *verifier, r *replayed, w *walkedItem) {
	if m := c.wanted[r.create.Name]; m != nil {
		if _, ok := m[w.id]; ok {
			m[w.id] = true
		}
	}
	as, ok := r.create.CarriedAs[w.id]
	if !ok {
		return
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[w.id] = true
	if w.carried == "" {
		v.add(c.key(r, w.id, 0), "campaign %s: its creation (event %d) records item %s as carried from %s as %s, but the item carries no decision",
			audit.Printable(r.create.Name), r.createSeq, audit.Printable(w.id), audit.Printable(r.create.CarriedFrom), audit.Printable(as))
	}
}

// done names the keys of campaign r's carried_as that the walk of its
// items did not pass.
func (c *carriedAs) done(v *verifier, r *replayed) {
	for id, as := range r.create.CarriedAs {
		if !c.seen[id] {
			v.add(c.key(r, id, 0), "campaign %s: its creation (event %d) records item %s as carried from %s as %s, but the campaign has no item %s",
				audit.Printable(r.create.Name), r.createSeq, audit.Printable(id), audit.Printable(r.create.CarriedFrom), audit.Printable(as), audit.Printable(id))
		}
	}
	c.seen = nil
}

// earlier names, once every campaign is walked, the values of each
// carried_as that name no item of the campaign carried from.
func (c *carriedAs) earlier(v *verifier) {
	for _, name := range v.order {
		r := v.replay[name]
		if len(r.create.CarriedAs) == 0 || r.table == nil {
			continue
		}
		from := v.carriedFrom(r)
		for _, id := range slices.Sorted(maps.Keys(r.create.CarriedAs)) {
			as := r.create.CarriedAs[id]
			switch {
			case from == nil && v.replay[r.create.CarriedFrom] != nil && v.replay[r.create.CarriedFrom].table == nil:
				// Its table is missing: said already.
			case from == nil:
				v.add(c.key(r, id, 1), "campaign %s: its creation (event %d) records item %s as carried as %s from campaign %q, which no event created before it",
					audit.Printable(r.create.Name), r.createSeq, audit.Printable(id), audit.Printable(as), audit.Printable(r.create.CarriedFrom))
			case !c.wanted[from.create.Name][as]:
				v.add(c.key(r, id, 1), "campaign %s: its creation (event %d) records item %s as carried from %s as %s, but %s has no item %s",
					audit.Printable(r.create.Name), r.createSeq, audit.Printable(id), audit.Printable(from.create.Name), audit.Printable(as),
					audit.Printable(from.create.Name), audit.Printable(as))
			}
		}
	}
}

// key orders a problem of r's carried_as after those of its items and
// count, by item.
func (c *carriedAs) key(r *replayed, id string, n int64) problemKey {
	return problemKey{k: [4]int64{phaseEvents, r.createSeq, 2, 0}, id: id, n: n}
}
