package audit

// siftDown restores a binary min-heap's order below i. The reads that
// merge one cursor a snapshot in ID order (a campaign's population,
// verify's identities) keep their cursors in such a heap; by hand rather
// than container/heap, whose interface calls and boxing cost a merge of
// a million rows more than the few cursors it orders.
func siftDown[T any](h []T, i int, less func(a, b T) bool) {
	for {
		m := 2*i + 1
		if m >= len(h) {
			return
		}
		if r := m + 1; r < len(h) && less(h[r], h[m]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// dropTop removes a heap's first element, its last taking the place; the
// caller restores the order (siftDown from 0).
func dropTop[T any](h []T) []T {
	last := len(h) - 1
	h[0] = h[last]
	var zero T
	h[last] = zero // the cursor dropped is not kept alive by the array
	return h[:last]
}
