package campaigns

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Drawing a sample without holding the campaign (issue 21: nhi campaign
// sample of a campaign of a million items read every item with its
// history to keep 25): Sample's algorithm needs only the items' IDs, so
// SampleOf reads them alone, a row at a time, keeps the size best keys
// seen so far, and then reads the items drawn.

// SampleOf draws size items of campaign name by Sample's algorithm,
// giving the same items, ranks and keys as Sample over the items Get
// returns. The campaign comes without its items or progress (as Load
// gives it); each item drawn is as Get gives it.
func SampleOf(ctx context.Context, st *audit.Store, name string, size int, seed string) (*Campaign, []SampleItem, error) {
	c, err := Load(ctx, st, name)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.Query(ctx, `SELECT identity_id FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`, c.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	drawn := &sampleHeap{}
	h := sha256.New()
	for rows.Next() {
		var k sampleKey
		if err := rows.Scan(&k.id); err != nil {
			return nil, nil, err
		}
		h.Reset()
		h.Write([]byte(seed))
		h.Write([]byte{0})
		h.Write([]byte(k.id))
		h.Sum(k.sum[:0])
		switch {
		case drawn.Len() < size:
			heap.Push(drawn, k)
		case size > 0 && k.before(&(*drawn)[0]):
			(*drawn)[0] = k
			heap.Fix(drawn, 0)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading campaign items: %w", err)
	}
	rows.Close()
	keys := slices.Clone(*drawn)
	slices.SortFunc(keys, func(a, b sampleKey) int { return a.compare(&b) })
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = keys[i].id
	}
	slices.Sort(ids)
	items := make(map[string]Item, len(ids))
	r, err := NewItemReader(ctx, st, c)
	if err != nil {
		return nil, nil, err
	}
	// The cursor reuses its items: each drawn one is kept as a copy.
	if err := r.EachOf(ctx, st, ids, func(it *Item) error { items[it.ID] = *it; return nil }); err != nil {
		return nil, nil, err
	}
	out := make([]SampleItem, 0, len(keys))
	for i := range keys {
		it, ok := items[keys[i].id]
		if !ok { // the campaign's items are frozen: only a changed table lacks one
			return nil, nil, fmt.Errorf("campaign %s: item %s drawn but not read again", c.Name, audit.Printable(keys[i].id))
		}
		out = append(out, SampleItem{Rank: i + 1, Key: hex.EncodeToString(keys[i].sum[:]), Item: it})
	}
	return c, out, nil
}

// sampleKey is an item's ID and its key in Sample, as the digest's bytes:
// their order is that of the key's hex (lower-case hex keeps it).
type sampleKey struct {
	sum [sha256.Size]byte
	id  string
}

// compare orders as Sample sorts: by key, ties by identity ID.
func (k *sampleKey) compare(o *sampleKey) int {
	if c := bytes.Compare(k.sum[:], o.sum[:]); c != 0 {
		return c
	}
	return strings.Compare(k.id, o.id)
}

func (k *sampleKey) before(o *sampleKey) bool { return k.compare(o) < 0 }

// sampleHeap keeps the keys drawn so far, the last in Sample's order on
// top, so a key before it takes its place.
type sampleHeap []sampleKey

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[j].before(&h[i]) }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(sampleKey)) }
func (h *sampleHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
