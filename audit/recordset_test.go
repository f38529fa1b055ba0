package audit

import (
	"crypto/sha256"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// A recordSet keeps each ID once, first record standing, and digests
// exactly as digestRecords over the map the writer used to keep, with
// coverage records merged in (some of them on an observation's key).
func TestRecordSetDigestsAsTheMapDid(t *testing.T) {
	r := newRecordSet()
	m := map[string][sha256.Size]byte{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60_000 { // more than a chunk of records and of ID bytes
		id := fmt.Sprintf("github:acme:github_deploy_key:repo-%d/%d", rng.IntN(900), rng.IntN(50))
		sum := sha256.Sum256([]byte(fmt.Sprint(i)))
		_, had := m[id]
		if added := r.add(id, sum); added == had {
			t.Fatalf("add(%q) = %v with the ID already there: %v", id, added, had)
		}
		if !had {
			m[id] = sum
		}
	}
	if r.len() != len(m) || len(r.recs) < 2 || len(r.ids) < 2 {
		t.Fatalf("%d records kept (in %d chunks, IDs in %d), want %d in more than one chunk", r.len(), len(r.recs), len(r.ids), len(m))
	}
	scopes := map[string][sha256.Size]byte{"acme\x00*": sha256.Sum256([]byte("x")), "zzz": sha256.Sum256([]byte("y"))}
	for id := range m { // one scope record on an observation's key
		scopes[id] = sha256.Sum256([]byte("scope"))
		break
	}
	for _, sc := range []map[string][sha256.Size]byte{nil, scopes} {
		if got, want := r.digest(sc), digestRecords(withScopes(m, sc)); got != want {
			t.Errorf("digest with %d scopes = %s, the map gives %s", len(sc), got, want)
		}
	}
	if got, want := recordSetOf(m).digest(scopes), digestRecords(withScopes(m, scopes)); got != want {
		t.Errorf("digest of a resumed set = %s, want %s", got, want)
	}
}

// Two IDs whose hashes collide are both kept, each once.
func TestRecordSetKeepsIDsWhoseHashesClash(t *testing.T) {
	r := newRecordSet()
	a, b := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	r.add("first", a)
	r.index[maphash.String(r.seed, "second")] = 0 // "second" hashes as "first" does
	if !r.add("second", b) {
		t.Fatal("an ID whose hash clashes was taken for a repeat")
	}
	if r.add("second", a) || r.add("first", b) {
		t.Fatal("a repeat was added again")
	}
	if !r.has("first") || !r.has("second") || r.has("third") || r.len() != 2 {
		t.Fatalf("the set holds %d records; has first %v, second %v, third %v", r.len(), r.has("first"), r.has("second"), r.has("third"))
	}
	m := map[string][sha256.Size]byte{"first": a, "second": b}
	if got, want := r.digest(nil), digestRecords(m); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
}
