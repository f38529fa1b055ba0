package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// creation is a campaign Create has checked and is about to record: what
// reading its population needs, and what its campaign.create event says
// besides the population.
type creation struct {
	st       *audit.Store
	actor    string
	spec     Spec
	expr     string // the scope as typed
	scope    *filter.Filter
	envs     map[int64]*filter.Env // by snapshot ID: each snapshot as of its own start
	snaps    []*audit.Snapshot     // in source/account order
	all      []audit.Snapshot      // every snapshot of the file, newest first
	newest   *audit.Snapshot       // stands for the campaign where one is named
	status   string                // partial when any of snaps is
	uses     []SnapshotUse         // snaps, counts not yet filled
	policy   string                // the policy's digest
	aliases  map[string]string     // reviewer aliases typed
	rmap     map[string]string     // owner -> reviewer
	pool     []string              // reviewers that share the items
	listed   []string              // reviewers as listed, deduplicated
	sep      *separation
	carry    *Campaign // --carry-forward, closed
	lineages *lineages // with carry: the renames, read once (carryForward); nil without any
	notRead  []NotRead // accounts reviewed whose newest run did not finish
}

// population is what one read of a campaign's population found.
type population struct {
	n          int // items
	total      int // identities read, in scope or not
	carried    int
	carriedAs  map[string]string // carried under an earlier ID: item -> that ID
	assigned   map[string]int    // items per reviewer ("" for none eligible)
	unassigned []string
	returned   []string // out of scope, back for an expired exception
	// unevaluated counts the identities the scope could not judge, what
	// it asks of them not read (filter.Filter.Decide), and left out.
	unevaluated int
	reviewers   []string      // listed first, then mapped ones as met
	counts      map[int64]int // items per snapshot ID
	digest      string
}

// read streams the population from the store in ID order, a batch at a
// time: each item is frozen and assigned on the reading goroutine, and
// each full batch is carried forward and hashed into the digest in order
// on a goroutine of its own, then handed to sink with its row hashes on
// another (batchPipe), while the store reads and evaluates the next: on
// two cores the three overlap, the one or two the machine has free at
// each moment busy. sink's slices are reused after it returns.
func (c *creation) read(ctx context.Context, sink func(items []frozen, hashes []string) error) (*population, error) {
	ids := make([]int64, len(c.snaps))
	for i, s := range c.snaps {
		ids[i] = s.ID
	}
	pop := &population{assigned: map[string]int{}, reviewers: slices.Clone(c.listed), counts: map[int64]int{}}
	assigner := newAssigner(c.pool, c.rmap, c.sep.dir, func(f *frozen, r string) bool { return c.sep.refusal(f, "", r) != nil })
	digest := newPopulationDigest()
	hashes := make([]string, 0, itemBatch)
	carried, carriedAs := 0, map[string]string{} // the pipe's first stage's; read after close
	pipe := newBatchPipe(itemBatch, func(batch []frozen) error {
		if c.carry != nil {
			n, err := carryForward(ctx, c.st, c.carry, batch, c.lineages, carriedAs)
			if err != nil {
				return err
			}
			carried += n
		}
		for i := range batch {
			batch[i].rowHash = digest.add(&batch[i])
		}
		return nil
	}, func(batch []frozen) error {
		hashes = hashes[:0]
		for i := range batch {
			hashes = append(hashes, batch[i].rowHash)
		}
		err := sink(batch, hashes)
		clear(hashes)
		return err
	})
	err := c.st.EachIdentityInSnapshots(ctx, ids, func(id *audit.Identity) error {
		pop.total++
		if match, known := c.scope.Decide(id, c.envs[id.SnapshotID]); !match {
			// An identity whose exception lapsed comes back for review,
			// whatever the scope (docs/campaigns.md, "Exceptions").
			if !slices.ContainsFunc(id.Findings, func(f audit.Finding) bool { return f.Rule == audit.RuleExceptionExpired }) {
				if !known {
					pop.unevaluated++
				}
				return nil
			}
			pop.returned = append(pop.returned, id.ID)
		}
		fr, err := freeze(id)
		if err != nil {
			return err
		}
		assigner.assign(&fr)
		r := fr.reviewer
		if r == "" {
			pop.unassigned = append(pop.unassigned, fr.id)
		} else if j := slices.IndexFunc(pop.reviewers, func(x string) bool { return sameActor(x, r) }); j >= 0 {
			r = pop.reviewers[j]
		} else {
			pop.reviewers = append(pop.reviewers, r)
		}
		pop.assigned[r]++
		pop.counts[id.SnapshotID]++
		pop.n++
		return pipe.add(fr)
	})
	if perr := pipe.close(); err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	pop.carried, pop.digest = carried, digest.sum()
	if len(carriedAs) > 0 {
		pop.carriedAs = carriedAs
	}
	return pop, nil
}

// check refuses a population nothing selected, and one that took items
// from a partial snapshot unless the spec allows it.
func (c *creation) check(pop *population) error {
	if pop.n == 0 {
		var partial []string
		for _, sn := range c.snaps {
			if sn.Status == audit.SnapshotPartial {
				partial = append(partial, fmt.Sprintf("snapshot %d could not read %s", sn.ID, audit.Counted(len(sn.Gaps), "endpoint", "endpoints")))
			}
		}
		why := ""
		if len(partial) > 0 {
			why = " (" + strings.Join(partial, ", ") + ": what it did not read is not here)"
		}
		return fmt.Errorf("%w: %q matches none of the %d identities of %s%s; check it with `nhi identities --filter`",
			ErrEmptyScope, audit.Printable(c.expr), pop.total, describeSnapshots(c.snaps), why)
	}
	return refusePartial(c.all, c.snaps, pop.counts, c.spec.AllowPartial)
}

// payload is the campaign.create event of the population.
func (c *creation) payload(pop *population) CreatePayload {
	p := CreatePayload{
		Name: c.spec.Name, Scope: c.scope.String(), Due: c.spec.Due,
		Snapshot: c.newest.ID, SnapshotStatus: c.status, SnapshotDigest: c.newest.Digest,
		AsOf: c.newest.StartedAt.UTC().Format(time.RFC3339), PolicyDigest: c.policy,
		Reviewers: pop.reviewers, CarriedFrom: c.spec.CarryForward, Carried: pop.carried, CarriedAs: pop.carriedAs,
		Count: pop.n, PopulationDigest: pop.digest,
		ReviewerAliases: c.aliases, AllowAdminReview: c.spec.AllowAdminReview, RequireSigned: c.spec.RequireSigned,
		ExceptionsReturned: pop.returned,
		OnNoResponse:       c.spec.OnNoResponse, FallbackReviewer: c.spec.FallbackReviewer, EscalateAfter: c.spec.EscalateAfter,
		NotRead: records(c.notRead), Unevaluated: pop.unevaluated,
	}
	if c.expr != p.Scope {
		p.ScopeInput = c.expr
	}
	if len(c.uses) > 1 {
		p.Snapshots = slices.Clone(c.uses)
		for i := range p.Snapshots {
			p.Snapshots[i].Count = pop.counts[p.Snapshots[i].ID]
		}
	}
	if len(c.rmap) > 0 {
		p.ReviewerMap = c.rmap
	}
	return p
}

// checkUnique refuses a name another campaign has, under the write lock.
func (c *creation) checkUnique(ctx context.Context, tx *audit.Tx) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM campaigns WHERE name = ?`, c.spec.Name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: %s; campaign names are unique, choose another (e.g. %s-2)", ErrExists, c.spec.Name, c.spec.Name)
	}
	return nil
}

// insertCampaign inserts the campaign's row as p and ev say, and
// returns its ID.
func (c *creation) insertCampaign(ctx context.Context, tx *audit.Tx, p *CreatePayload, ev audit.Event) (int64, error) {
	revJSON, _ := json.Marshal(p.Reviewers)
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO campaigns (name, scope, due, snapshot_id, as_of, policy_digest, reviewers, carried_from,
		item_count, population_digest, created_at, created_by, create_seq, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id`,
		p.Name, p.Scope, p.Due, p.Snapshot, p.AsOf, p.PolicyDigest, string(revJSON),
		p.CarriedFrom, p.Count, p.PopulationDigest, formatAt(ev.At), c.actor, ev.Seq).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording campaign %s: %w", c.spec.Name, err)
	}
	return id, nil
}

// errEmptyLog is recordLocked's: an evidence file whose log has no event
// yet, for the campaign's row to point at while its items go in.
var errEmptyLog = errors.New("the event log is empty")

// createSpooled makes Create take recordSpooled on an evidence file too
// (export_test.go): the two paths must record the same bytes.
var createSpooled = false

// recordLocked records the campaign on an evidence file: the write lock
// first, then the population read on another connection and inserted as
// it is read, so reading (one core) and inserting (the other) overlap.
// Under WAL the read starts after the lock is held, so it sees the last
// commit, and nothing else can commit until this one has. Other writers
// wait for the lock meanwhile (docs/campaigns.md, "Large campaigns").
//
// The items reference the campaign's row, so it goes in first, pointing
// at the log's last event; what is known only once every item is in (the
// count, the digest, the reviewers met, the campaign.create event) is
// set when it is. Pointing it at the event to come instead, with foreign
// keys checked at commit, made appending that event scan every campaign's
// items for a reference to it: 5 s of CPU at a million.
func (c *creation) recordLocked(ctx context.Context) (*population, audit.Event, error) {
	var (
		pop *population
		ev  audit.Event
	)
	err := c.st.WriteLong(ctx, "a campaign create of "+c.spec.Name, func(tx *audit.Tx) error {
		if err := c.checkUnique(ctx, tx); err != nil {
			return err
		}
		var head sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT max(seq) FROM events`).Scan(&head); err != nil {
			return err
		}
		if !head.Valid {
			return errEmptyLog
		}
		pending := c.payload(&population{reviewers: c.listed})
		cid, err := c.insertCampaign(ctx, tx, &pending, audit.Event{Seq: head.Int64})
		if err != nil {
			return err
		}
		ins := newItemInserter(tx, cid)
		read, err := c.read(ctx, func(items []frozen, hashes []string) error {
			return ins.insert(ctx, items, hashes)
		})
		if err != nil {
			return err
		}
		if err := c.check(read); err != nil {
			return err
		}
		if err := refuseLeaverIn(ctx, tx, c.actor, "create a campaign"); err != nil {
			return err
		}
		p := c.payload(read)
		if ev, err = tx.Append(ctx, c.actor, EventCreate, p); err != nil {
			return err
		}
		revJSON, _ := json.Marshal(p.Reviewers)
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET reviewers = ?, item_count = ?, population_digest = ?, created_at = ?, create_seq = ?
			WHERE id = ?`, string(revJSON), p.Count, p.PopulationDigest, formatAt(ev.At), ev.Seq, cid); err != nil {
			return fmt.Errorf("recording campaign %s: %w", c.spec.Name, err)
		}
		pop = read
		return nil
	})
	if errors.Is(err, errEmptyLog) {
		return c.recordSpooled(ctx)
	}
	return pop, ev, err
}

// recordSpooled records the campaign on PostgreSQL: the population is read
// first, to a temporary spool file (spool.go), and inserted under the
// advisory lock afterwards, so the lock is held for the insert only and
// other writers (reviewers deciding) wait that long and no longer.
func (c *creation) recordSpooled(ctx context.Context) (*population, audit.Event, error) {
	sp, err := newSpool()
	if err != nil {
		return nil, audit.Event{}, err
	}
	defer sp.remove()
	pop, err := c.read(ctx, func(items []frozen, hashes []string) error {
		for i := range items {
			if err := sp.add(&items[i], hashes[i]); err != nil {
				return fmt.Errorf("spooling the campaign's population: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, audit.Event{}, err
	}
	if err := c.check(pop); err != nil {
		return nil, audit.Event{}, err
	}
	var ev audit.Event
	err = c.st.Write(ctx, func(tx *audit.Tx) error {
		if err := c.checkUnique(ctx, tx); err != nil {
			return err
		}
		if err := refuseLeaverIn(ctx, tx, c.actor, "create a campaign"); err != nil {
			return err
		}
		p := c.payload(pop)
		recorded, err := tx.Append(ctx, c.actor, EventCreate, p)
		if err != nil {
			return err
		}
		cid, err := c.insertCampaign(ctx, tx, &p, recorded)
		if err != nil {
			return err
		}
		ev = recorded
		ins := newItemInserter(tx, cid)
		return sp.each(itemBatch, func(items []frozen, hashes []string) error {
			return ins.insert(ctx, items, hashes)
		})
	})
	return pop, ev, err
}
