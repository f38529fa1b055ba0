package benchmem

import (
	"fmt"
	"runtime"
	"testing"
)

// Held counts what the read still holds, not what it was given: of a
// thousand IDs given, the half kept is counted and the half let go is
// not, at each count.
func TestHeldCountsWhatIsStillReachable(t *testing.T) {
	var (
		held Held[byte]
		kept []string
	)
	for i := range 1000 {
		// Longer than 16 bytes: a smaller allocation may share a block
		// with another, which keeps it reachable.
		id := fmt.Sprintf("github:acme:key-%020d", i)
		if i%2 == 0 {
			kept = append(kept, id)
		}
		AddString(&held, id)
	}
	if held.Given() != 1000 || held.Most() != 500 {
		t.Errorf("given %d, held at most %d; want 1000 given and the 500 kept", held.Given(), held.Most())
	}
	runtime.KeepAlive(kept)
}
