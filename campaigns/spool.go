package campaigns

import (
	"cmp"
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
	r, err := s.w.Open(false)
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

// batchPipe hands items, a batch at a time, to its stages, each on a
// goroutine of its own, in the order they were added: each batch goes
// through the stages in turn, so what each stage does to a batch
// overlaps what the others do to the batches before and after it, and
// the reading that adds them. Its first error stops it; add then
// returns it, and no stage sees a batch after.
type batchPipe struct {
	size    int
	cur     []frozen
	batches chan []frozen // to the first stage
	free    chan []frozen // emptied batches, for reuse
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

// pipeDepth is how many full batches wait for a stage at most: enough
// that no side waits for another when one is descheduled for a moment on
// a busy machine, a few MB.
const pipeDepth = 8

func newBatchPipe(size int, stages ...func([]frozen) error) *batchPipe {
	// Every batch there is: the one being filled, and those waiting for
	// or in the hands of each stage.
	n := 1 + len(stages)*(pipeDepth+1)
	p := &batchPipe{size: size, batches: make(chan []frozen, pipeDepth),
		free: make(chan []frozen, n), done: make(chan struct{})}
	for range n - 1 {
		p.free <- make([]frozen, 0, size)
	}
	p.cur = make([]frozen, 0, size)
	var wg sync.WaitGroup
	in := p.batches
	for i, fn := range stages {
		var out chan []frozen
		if i < len(stages)-1 {
			out = make(chan []frozen, pipeDepth)
		}
		src := in
		wg.Go(func() {
			for b := range src {
				if p.failed() == nil {
					if err := fn(b); err != nil {
						p.mu.Lock()
						p.err = cmp.Or(p.err, err)
						p.mu.Unlock()
					}
				}
				if out != nil {
					out <- b
					continue
				}
				clear(b) // its strings are not kept past the batch
				p.free <- b[:0]
			}
			if out != nil {
				close(out)
			}
		})
		in = out
	}
	go func() {
		wg.Wait()
		close(p.done)
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

// close hands on the last, partial batch, waits until every stage has
// seen every batch and returns the first error.
func (p *batchPipe) close() error {
	if len(p.cur) > 0 {
		p.batches <- p.cur
		p.cur = nil
	}
	close(p.batches)
	<-p.done
	return p.failed()
}
