package tui

import (
	"context"
	"errors"
	"os"
)

// PreparedTable is what PrepareTable did.
type PreparedTable struct {
	// Wrote says a table was derived and written; false when dir already
	// held the table at the log's head, or the log is empty.
	Wrote bool
	// Identities is how many rows the table holds.
	Identities int
}

// ErrEvidenceMoved is PrepareTable's error when the event log moved while
// the table was read: the rows may mix two states of the evidence, so
// nothing is written (an open derives the table again, as one does after
// a read the log moved under).
var ErrEvidenceMoved = errors.New("the evidence changed while its table was read")

// PrepareTable derives the table a TUI open of st would show and writes it
// to the table cache in dir, without a terminal (tablecache.go): the
// command that just wrote a population (a snapshot, an import) does the
// deriving, so the next open reads the table back rather than derive it
// while the auditor waits. It is an open's load, shared: the cache is
// looked up as an open looks it up (newTableLoad, cachedTable), the rows
// are derived by deriveTable with the row builder, batches and name
// ranking an open uses, taken into a population as the event loop takes
// them (population.appended), and written by snapshotTable and
// writeTableCache, at the head the read was made at and only if the log
// did not move during it (ErrEvidenceMoved). dir must be set, and st must
// read in batches and tell its log's head (*audit.Store does). ctx
// cancelled stops it and writes nothing. Like the TUI's, the cache is
// never evidence.
func PrepareTable(ctx context.Context, st Store, dir string) (PreparedTable, error) {
	if dir == "" {
		return PreparedTable{}, errors.New("no folder for the table cache")
	}
	s, ok := st.(identityStreamer)
	l := newTableLoad(st, dir)
	if !ok || l.store == nil {
		return PreparedTable{}, errors.New("this store's table cannot be cached")
	}
	defer limitMemory()() // as an open's load: the garbage each batch leaves
	head, known := l.before(ctx)
	if !known {
		if err := ctx.Err(); err != nil {
			return PreparedTable{}, err
		}
		return PreparedTable{}, nil // an empty log: nothing to show
	}
	if _, err := os.Stat(tableCacheName(dir, head)); err == nil {
		// Written already (an open, or an earlier command at this head):
		// used if it checks out, as an open would use it.
		if c := cachedTable(ctx, dir, l.store, head); c != nil && c.at == head {
			return PreparedTable{Identities: len(c.rows)}, nil
		}
	}
	pop, last := derivePopulation(ctx, s, l, head, known)
	if last.err != nil {
		return PreparedTable{}, last.err
	}
	if err := ctx.Err(); err != nil {
		return PreparedTable{}, err
	}
	if last.readAt == nil {
		return PreparedTable{}, ErrEvidenceMoved
	}
	if err := writeTableCache(ctx, dir, snapshotTable(pop, *last.readAt)); err != nil {
		return PreparedTable{}, err
	}
	return PreparedTable{Wrote: true, Identities: pop.len()}, nil
}

// derivePopulation derives the table into a population of its own, off
// the event loop, as the event loop takes an open's batches (deriveTable,
// population.appended), counted beside the read, as an open counts, so
// the builder sizes its tables once (rowBuilder.expect). last is
// deriveTable's last batch, already taken when it has no err: readAt says
// the read was whole at head. PrepareTable and ctrl+r (reread.go) derive
// through it.
func derivePopulation(ctx context.Context, s identityStreamer, l *tableLoad, head logPoint, known bool) (*population, identitiesBatchMsg) {
	pop := newPopulation(nil)
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		if n, err := s.IdentityCount(ctx); err == nil {
			pop.b.expect(n)
		}
	}()
	last := deriveTable(ctx, s, l, pop.b, head, known, false, func(msg identitiesBatchMsg) error {
		pop = pop.appended(msg.rows, nil)
		return ctx.Err()
	})
	<-counted
	if last.err == nil && ctx.Err() == nil {
		pop = pop.appended(last.rows, last.names)
	}
	return pop, last
}
