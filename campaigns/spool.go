package campaigns

import (
	"fmt"
	"sync"

	spoolfile "github.com/nhi-audit/nhi/internal/spool"
)

// spool holds a campaign's frozen population on disk between the read
// that freezes it and the transaction that records it, on PostgreSQL
// (recordSpooled): a million items are never all in memory (issue 21),
// and the advisory lock is held only while they are inserted, not while
// they are read and evaluated.
type spool struct {
	w *spoolfile.Writer
	n int // items written
}

func newSpool() (*spool, error) {
	w, err := spoolfile.Create("", "nhi-campaign-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the campaign's population: %w", err)
	}
	return &spool{w: w}, nil
}

// fields are the strings of an item the spool keeps, in a fixed order:
// the frozen columns and the row hash.
func (f *frozen) fields(hash *string) []*string {
	return []*string{&f.id, &f.kind, &f.name, &f.scope, &f.owner, &f.naturalOwner,
		&f.findings, &f.permissions, &f.reviewer, &f.carried, &f.carriedReason, hash}
}

// add appends an item and its row hash.
func (s *spool) add(f *frozen, hash string) error {
	for _, p := range f.fields(&hash) {
		s.w.String(*p)
	}
	s.n++
	return s.w.Err()
}

// each reads the items back in the order they were added, batch at a
// time; the slices are reused between calls of fn. Nothing can be added
// after.
func (s *spool) each(batch int, fn func(items []frozen, hashes []string) error) error {
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("spooling the campaign's population: %w", err)
	}
	r, err := spoolfile.Open(s.w.Name(), false)
	if err != nil {
		return fmt.Errorf("reading the campaign's population back: %w", err)
	}
	defer r.Close()
	items, hashes := make([]frozen, 0, batch), make([]string, 0, batch)
	for read := 0; read < s.n; read++ {
		var f frozen
		var hash string
		r.Next()
		for _, p := range f.fields(&hash) {
			*p = r.String()
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("reading the campaign's population back: %w", err)
		}
		items, hashes = append(items, f), append(hashes, hash)
		if len(items) == batch || read == s.n-1 {
			if err := fn(items, hashes); err != nil {
				return err
			}
			items, hashes = items[:0], hashes[:0]
		}
	}
	return nil
}

// remove deletes the file.
func (s *spool) remove() error { return s.w.Remove() }

// batchPipe hands items, a batch at a time, to fn on a goroutine of its
// own, in the order they were added: what is done to a batch overlaps
// reading the next. Its first error stops it; add then returns it.
type batchPipe struct {
	fn      func([]frozen) error
	size    int
	cur     []frozen
	batches chan []frozen
	free    chan []frozen // emptied batches, for reuse
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

// pipeDepth is how many full batches wait for fn at most: enough that
// neither side waits for the other when one is descheduled for a moment
// on a busy machine, a few MB.
const pipeDepth = 8

func newBatchPipe(size int, fn func([]frozen) error) *batchPipe {
	p := &batchPipe{fn: fn, size: size, batches: make(chan []frozen, pipeDepth),
		free: make(chan []frozen, pipeDepth+2), done: make(chan struct{})}
	for range pipeDepth + 1 {
		p.free <- make([]frozen, 0, size)
	}
	p.cur = make([]frozen, 0, size)
	go func() {
		defer close(p.done)
		for b := range p.batches {
			if p.failed() == nil {
				if err := fn(b); err != nil {
					p.mu.Lock()
					p.err = err
					p.mu.Unlock()
				}
			}
			clear(b) // its strings are not kept past the batch
			p.free <- b[:0]
		}
	}()
	return p
}

func (p *batchPipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add appends f to the batch being filled and hands the batch on when it
// is full.
func (p *batchPipe) add(f frozen) error {
	p.cur = append(p.cur, f)
	if len(p.cur) < p.size {
		return nil
	}
	if err := p.failed(); err != nil {
		return err
	}
	p.batches <- p.cur
	p.cur = <-p.free
	return nil
}

// close hands on the last, partial batch, waits until fn has seen every
// batch and returns its first error.
func (p *batchPipe) close() error {
	if len(p.cur) > 0 {
		p.batches <- p.cur
		p.cur = nil
	}
	close(p.batches)
	<-p.done
	return p.failed()
}
