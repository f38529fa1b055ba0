package campaigns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
	spoolfile "github.com/nhi-audit/nhi/internal/spool"
)

// offboardPopulation is an offboarding's items in ID order, frozen, with
// what nhi offboard lists of each (the identity's kind, name, scope,
// source and last use). A leaver's few are held; a retired system's,
// which may be every identity of the file (--scope 'id:*'), are on disk,
// a record an item, read back as often as needed: to assign and hash
// them, to insert them under the lock, and for the list printed (issue
// 21: each was cloned and held, 2–4 KB an identity, beside its frozen
// row).
type offboardPopulation struct {
	related []audit.Related   // a leaver's, in ID order
	frozen  []frozen          // related, frozen
	sp      *spoolfile.Writer // a system's, frozen and listed
	items   []OffboardItem    // in ID order: the offboard.create event lists them
	counts  map[int64]int     // items per snapshot ID
	// unevaluated counts the active identities the scope could not judge
	// (filter.Filter.Decide).
	unevaluated int
}

// offboardHeld, when set, is given each item an offboarding froze, as
// it keeps it (TestOffboardScopeHoldsNoIdentityOfItsScope).
var offboardHeld func(f *frozen)

// personPopulation freezes a leaver's related identities, sorted by ID.
func personPopulation(related []audit.Related) (*offboardPopulation, error) {
	slices.SortFunc(related, func(a, b audit.Related) int { return strings.Compare(a.Identity.ID, b.Identity.ID) })
	p := &offboardPopulation{related: related, frozen: make([]frozen, 0, len(related)),
		items: make([]OffboardItem, 0, len(related)), counts: map[int64]int{}}
	for i := range related {
		id := &related[i].Identity
		fz, err := freeze(id)
		if err != nil {
			return nil, err
		}
		if offboardHeld != nil {
			offboardHeld(&fz)
		}
		p.frozen = append(p.frozen, fz)
		p.items = append(p.items, OffboardItem{ID: fz.id, Snapshot: id.SnapshotID, Relations: related[i].Relations})
		p.counts[id.SnapshotID]++
	}
	return p, nil
}

// scopePopulation streams the file's current identities past the scope
// and spools the active ones it selects, keeping of each only its ID
// and snapshot. The stream gives them in ID order (byte by byte, as Go
// compares), the order the campaign records them in.
func scopePopulation(ctx context.Context, st *audit.Store, f *filter.Filter) (*offboardPopulation, error) {
	env := &filter.Env{Now: st.Now()}
	var err error
	if people := f.People(); len(people) > 0 {
		if env.Related, err = st.PersonRelated(ctx, people); err != nil {
			return nil, err
		}
	}
	w, err := spoolfile.Create("", "nhi-offboard-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the offboarding's population: %w", err)
	}
	p := &offboardPopulation{sp: w, items: []OffboardItem{}, counts: map[int64]int{}} // the event lists none as []
	err = st.StreamIdentities(ctx, func(id *audit.Identity) error {
		if id.Status != audit.StatusActive {
			return nil
		}
		switch match, known := f.Decide(id, env); {
		case !match:
			if !known {
				p.unevaluated++
			}
			return nil
		}
		if n := len(p.items); n > 0 && p.items[n-1].ID >= id.ID {
			return fmt.Errorf("the identities came out of ID order (%s after %s)", audit.Printable(id.ID), audit.Printable(p.items[n-1].ID))
		}
		fz, err := freeze(id)
		if err != nil {
			return err
		}
		if offboardHeld != nil {
			offboardHeld(&fz)
		}
		for _, s := range fz.fields(new(string)) {
			w.String(*s)
		}
		writeListed(w, id)
		p.items = append(p.items, OffboardItem{ID: strings.Clone(id.ID), Snapshot: id.SnapshotID})
		p.counts[id.SnapshotID]++
		return w.Err()
	})
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		w.Remove()
		return nil, err
	}
	return p, nil
}

// writeListed spools what nhi offboard lists of id (readListed).
func writeListed(w *spoolfile.Writer, id *audit.Identity) {
	w.String(id.Source)
	w.String(id.Account)
	w.String(id.Attributes[audit.AttrLastUseUnknown])
	w.Bool(id.LastUsedAt != nil)
	if id.LastUsedAt != nil {
		w.Int(id.LastUsedAt.UnixNano())
	} else {
		w.Int(0)
	}
}

// readListed fills id with what writeListed spooled and f's kind, name
// and scope.
func readListed(r *spoolfile.Reader, f *frozen, id *audit.Identity, at *time.Time) {
	id.ID, id.Kind, id.Name, id.Scope = f.id, audit.Kind(f.kind), f.name, f.scope
	id.Source, id.Account = r.String(), r.String()
	clear(id.Attributes)
	if v := r.String(); v != "" {
		if id.Attributes == nil {
			id.Attributes = map[string]string{}
		}
		id.Attributes[audit.AttrLastUseUnknown] = v
	}
	id.LastUsedAt = nil
	if used, ns := r.Bool(), r.Int(); used {
		*at = time.Unix(0, ns).UTC()
		id.LastUsedAt = at
	}
}

// each calls fn with every item in ID order: its index, its frozen row
// and the identity as listed (for a system's, only what nhi offboard
// lists is filled, and both are reused for the next item).
func (p *offboardPopulation) each(fn func(i int, f *frozen, id *audit.Identity) error) error {
	if p.sp == nil {
		for i := range p.frozen {
			if err := fn(i, &p.frozen[i], &p.related[i].Identity); err != nil {
				return err
			}
		}
		return nil
	}
	r, err := p.sp.Open(true)
	if err != nil {
		return fmt.Errorf("reading the offboarding's population back: %w", err)
	}
	defer r.Close()
	var (
		f  frozen
		id audit.Identity
		at time.Time
	)
	for i := range p.items {
		r.Next()
		f = frozen{}
		for _, s := range f.fields(new(string)) {
			*s = r.String()
		}
		readListed(r, &f, &id, &at)
		if err := r.Err(); err != nil {
			return fmt.Errorf("reading the offboarding's population back: %w", err)
		}
		if err := fn(i, &f, &id); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes a system's spool.
func (p *offboardPopulation) remove() {
	if p.sp != nil {
		p.sp.Remove()
	}
}

// offboardAssignment is each item's reviewer and row hash, as assign and
// the population digest gave them, kept for the insert under the lock
// rather than the items themselves.
type offboardAssignment struct {
	reviewers []string
	hashes    [][sha256.Size]byte
	digest    string
}

// assignOffboard gives each item of p its reviewer, as an assigner does in ID
// order, and hashes it into the population digest.
func assignOffboard(p *offboardPopulation, reviewers []string, sep *separation, res *OffboardCreated) (*offboardAssignment, error) {
	a := &offboardAssignment{reviewers: make([]string, len(p.items)), hashes: make([][sha256.Size]byte, len(p.items))}
	as := newAssigner(reviewers, nil, sep.dir, func(f *frozen, r string) bool { return sep.refusal(f, "", r) != nil })
	digest := newPopulationDigest()
	err := p.each(func(i int, f *frozen, _ *audit.Identity) error {
		as.assign(f)
		if f.reviewer == "" {
			res.Unassigned = append(res.Unassigned, strings.Clone(f.id))
		}
		res.Assigned[f.reviewer]++
		a.reviewers[i] = f.reviewer // one of reviewers: shared, not copied
		a.hashes[i] = digest.addSum(f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.digest = digest.sum()
	return a, nil
}

// insert writes p's items, with their reviewers and row hashes, a batch
// at a time.
func (a *offboardAssignment) insert(ctx context.Context, tx *audit.Tx, campaignID int64, p *offboardPopulation) error {
	ins := newItemInserter(tx, campaignID)
	batch, hashes := make([]frozen, 0, itemBatch), make([]string, 0, itemBatch)
	flush := func() error {
		err := ins.insert(ctx, batch, hashes)
		clear(batch)
		batch, hashes = batch[:0], hashes[:0]
		return err
	}
	err := p.each(func(i int, f *frozen, _ *audit.Identity) error {
		fz := *f
		if p.sp != nil { // the spool's strings are the next record's
			for _, s := range fz.fields(new(string)) {
				*s = strings.Clone(*s)
			}
		}
		fz.reviewer = a.reviewers[i]
		batch, hashes = append(batch, fz), append(hashes, hex.EncodeToString(a.hashes[i][:]))
		if len(batch) == itemBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}
