package tui

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestReadPopulatesWhatItsRowsHold checks what a read of the table lets
// the heap populater fault in ahead of it (populateHeap, once the
// builder has encoded its first rows and knows how many will come):
// half again what its rows hold once all are encoded (the collector's
// room over them at the read's GOGC), a few MB for 20,000
// identities, not the 512 MiB of heap prepared for a read of any size,
// which would stay resident.
func TestReadPopulatesWhatItsRowsHold(t *testing.T) {
	const n = 20_000
	path := filepath.Join(t.TempDir(), "nhi.db")
	if err := writeBigEvidence(path, n); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var allowed []int
	before := populateHeap
	populateHeap = func(n int) { allowed = append(allowed, n) }
	defer func() { populateHeap = before }()

	b := newRowBuilder()
	b.expect(n) // as the open's count does
	encoded := 0
	err = st.EachTableIdentity(context.Background(), func(id *audit.Identity) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.encode(id)
		if encoded++; encoded < reserveAfter && len(allowed) > 0 {
			t.Fatalf("the populater was allowed %v after %d rows, before the builder could tell what a row holds", allowed, encoded)
		}
		return nil
	})
	if err != nil || encoded != n {
		t.Fatalf("read %d identities of %d: %v", encoded, n, err)
	}
	if len(allowed) != 1 {
		t.Fatalf("the read allowed the populater %v: want one allowance", allowed)
	}
	held := b.held()
	if a := allowed[0]; a < held || a > 2*held {
		t.Fatalf("the read of %d identities allowed %d bytes to be populated; its rows hold %d", n, a, held)
	}
	if allowed[0] >= readHeapPrepared/16 {
		t.Fatalf("%d identities allowed %d bytes of the %d prepared", n, allowed[0], readHeapPrepared)
	}
}
