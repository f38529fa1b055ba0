package campaigns

import (
	"errors"
	"fmt"
	"testing"
)

// The pipe hands every item on, batch by batch, in the order added, the
// last partial batch too.
func TestBatchPipeKeepsOrder(t *testing.T) {
	var got []string
	sizes := map[int]int{}
	p := newBatchPipe(4, func(b []frozen) error {
		sizes[len(b)]++
		for _, f := range b {
			got = append(got, f.id)
		}
		return nil
	})
	for i := range 23 {
		if err := p.add(frozen{id: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 23 || sizes[4] != 5 || sizes[3] != 1 {
		t.Fatalf("handed on %d items in batches %v, want 23 in five of 4 and one of 3", len(got), sizes)
	}
	for i, id := range got {
		if id != fmt.Sprint(i) {
			t.Fatalf("item %d handed on as %s: out of order", i, id)
		}
	}
}

// fn's first error stops the pipe: add returns it, later batches are not
// handed on, and close returns it.
func TestBatchPipeStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("disk full")
	calls := 0
	p := newBatchPipe(2, func(b []frozen) error {
		calls++
		return boom
	})
	var addErr error
	for i := 0; i < 100 && addErr == nil; i++ {
		addErr = p.add(frozen{id: fmt.Sprint(i)})
	}
	if err := p.close(); !errors.Is(err, boom) || !errors.Is(addErr, boom) {
		t.Fatalf("close: %v, add: %v; want %v from both", err, addErr, boom)
	}
	if calls != 1 {
		t.Errorf("fn was called %d times after its error, want once", calls)
	}
}

// Each batch goes through the stages in turn, in the order added: the
// second stage sees every batch after the first stage has done with it.
func TestBatchPipeStagesInTurn(t *testing.T) {
	var first, second []string
	p := newBatchPipe(3, func(b []frozen) error {
		for i := range b {
			b[i].rowHash = "h" + b[i].id
			first = append(first, b[i].id)
		}
		return nil
	}, func(b []frozen) error {
		for _, f := range b {
			second = append(second, f.rowHash)
		}
		return nil
	})
	for i := range 50 {
		if err := p.add(frozen{id: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if len(first) != 50 || len(second) != 50 {
		t.Fatalf("the stages saw %d and %d items, want 50 each", len(first), len(second))
	}
	for i := range 50 {
		if first[i] != fmt.Sprint(i) || second[i] != "h"+fmt.Sprint(i) {
			t.Fatalf("item %d: first stage saw %s, second %s; want %d and h%d, in order", i, first[i], second[i], i, i)
		}
	}
}

// A later stage's error stops the pipe as a first stage's does.
func TestBatchPipeStopsAtALaterStagesError(t *testing.T) {
	boom := errors.New("disk full")
	calls := 0
	p := newBatchPipe(2, func([]frozen) error { return nil }, func([]frozen) error {
		calls++
		return boom
	})
	var addErr error
	for i := 0; i < 1000 && addErr == nil; i++ {
		addErr = p.add(frozen{id: fmt.Sprint(i)})
	}
	if err := p.close(); !errors.Is(err, boom) || !errors.Is(addErr, boom) {
		t.Fatalf("close: %v, add: %v; want %v from both", err, addErr, boom)
	}
	if calls != 1 {
		t.Errorf("the second stage was called %d times after its error, want once", calls)
	}
}
