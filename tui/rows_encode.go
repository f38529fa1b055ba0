package tui

import (
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/nhi-audit/nhi/audit"
)

// Encoding: the rowBuilder turns an identity into a row (rows.go),
// interning its texts into the tables the rows share.

// rowBuilder turns identities into rows, interning their text. One
// builder serves every version of a population; the table read (its fn's
// goroutine, batcher.add) and the event loop both encode, so it is locked.
type rowBuilder struct {
	mu     sync.Mutex
	t      tables
	strIdx *textIndex
	fkIdx  map[findingKind]uint32
	// suggIdx shares the runs of suggestions of the lists the store
	// already shares between the identities of one scope
	// (audit.derivation.byScope): keyed by the address of a list's first
	// suggestion, not a pointer, so it neither keeps the store's lists
	// alive nor is visited by the garbage collector; a run found is
	// compared with the list (sameSuggestions), as an address may be
	// another list's once the first is collected.
	suggIdx map[uintptr]pairRun
	// unindexed is, for tables read from a cache (restore), which texts
	// strIdx is to hold, until the first row encoded builds the indexes
	// (index); nil once they are built.
	unindexed []uint64
	// lastSugg is the run of suggestions the previous row had: rows of
	// one scope come one after the other and share it. lastList is the
	// list it was encoded from, or nil: a row whose list is that list
	// itself (the store shares a scope's list between its identities,
	// and never writes one handed out) has its run without comparing
	// its texts. Held, so its address is no other list's while it is
	// compared with.
	lastSugg pairRun
	lastList []audit.OwnerSuggestion
	// block is where the bytes of new texts go, the room left in
	// t.strs.blocks[blockAt]: a few large blocks hold the million texts
	// of a population, rather than a million small allocations the
	// garbage collector visits one by one.
	block   []byte
	blockAt uint32
	// repeats says, per class of text (names, each attribute's values),
	// how often a text was seen before, so that a class whose texts are
	// each their own (a lineage, a fingerprint) is stored without
	// interning: an intern map of millions of unique texts costs more
	// than it saves.
	repeats map[uint32]*repeatCount
	// fixedRepeats are the repeats of the classes of names, messages and
	// suggestions (className...), by MaxUint32 - class: the most used,
	// found without a look-up in repeats.
	fixedRepeats [nFixedClasses]*repeatCount
	// encoded counts the rows encoded; expected is how many the
	// population will hold, once counted (expect).
	encoded, expected int
	reserved          bool
	// last is, per field of a row, the text the previous row had and its
	// index: rows read in ID order repeat their kind, source, account,
	// status and often scope one after the other, and a comparison is
	// cheaper than a look-up in the intern map of every text.
	last [nLastFields]lastText
	// lastAttr and lastPerm are the previous row's run of attributes and
	// of permissions: a row whose map holds the same pairs shares the run
	// (many rows have the same permissions), found by a look-up per pair
	// in the small map rather than by iterating it (pairs).
	lastAttr, lastPerm pairRun
	// pairBuf is pairs' list of the pairs a row shares with the last run,
	// reused from row to row.
	pairBuf []uint32
	// lastMsg is, per finding kind (an index into tables.fkinds), the
	// message its last finding had: a row's findings are of several
	// rules, so the message class's last text (repeatCount.last) changes
	// at every finding, while a rule's message ("no owner recorded",
	// "not used for 412 days") is often the one its previous finding had.
	lastMsg []lastText
	// lastFk is, per position in a row's findings, the kind (an index
	// into tables.fkinds) the previous row's finding there had: rows
	// find the same rules in the same order, and comparing the three
	// texts (the evaluator's, the same strings each time) was cheaper
	// than hashing them for a look-up in fkIdx, two million times at a
	// million identities (issue 21).
	lastFk [4]uint32
}

// pairRun is a run of pairs in tables.pairs.
type pairRun struct {
	at uint32
	n  uint16
}

// lastText is a text and its index.
type lastText struct {
	s  string
	i  uint32
	ok bool
}

// Fields of rowBuilder.last.
const (
	lastScope = iota
	lastOwner
	lastReason
	lastKind
	lastSource
	lastAccount
	lastStatus
	lastChange
	nLastFields
)

// repeatCount is how many texts of a class were interned and how many
// of them were already known; last is the class's text seen last.
type repeatCount struct {
	n, known int
	last     lastText
	// idx interns the class's texts. A map per class rather than the
	// builder's one of every text (strIdx): a look-up in a map of a
	// class's texts (the dates of findings' messages, a key's values)
	// misses the processor's cache less than one in millions, which was
	// a twentieth of a first open of a million identities (issue 21).
	// A text of two classes is kept once in each; a table read from its
	// cache starts the maps anew (tablecache.go keeps strIdx's texts).
	// Dropped once the class is stored without interning.
	idx *textIndex
}

// Interning is tried on the first internTrial texts of a class and kept
// while at least one in internRatio was a repeat.
const (
	internTrial = 4096
	internRatio = 4
	blockSize   = 1 << 20
)

// classes of text for repeatCount: attribute keys' indices are the others.
const (
	className       = math.MaxUint32 - iota
	classMessage    // findings' messages: "not used for 412 days"
	classSuggOwner  // owner suggestions' owners
	classSuggSource // owner suggestions' sources: "admin team of acme/api"
	nFixedClasses   = math.MaxUint32 - classSuggSource + 1
)

func newRowBuilder() *rowBuilder {
	b := &rowBuilder{strIdx: newTextIndex(0), fkIdx: map[findingKind]uint32{}, suggIdx: map[uintptr]pairRun{},
		repeats: map[uint32]*repeatCount{}}
	for _, s := range fixedTexts {
		b.text(s)
	}
	return b
}

// tables is a copy of the builder's slice headers: everything encoded so
// far.
func (b *rowBuilder) tables() tables {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.t
}

// reserveAfter is how many rows the builder encodes before it sizes its
// tables for the expected population: enough to tell how many texts,
// pairs and findings a row brings.
const reserveAfter = 4096

// expect says how many rows the population will hold: once reserveAfter
// rows are encoded, the findings' table is allocated at about its final
// size, rather than grown by doubling while a million rows load — each
// doubling copied all that was already there (issue 21). The texts and
// the pairs grow by chunks (textStore, pairStore) and need no estimate.
func (b *rowBuilder) expect(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = n
	b.reserve()
}

// reserve sizes the findings for the expected rows, scaling what the rows
// encoded so far brought; the caller holds b.mu.
func (b *rowBuilder) reserve() {
	if b.reserved || b.expected <= b.encoded || b.encoded < reserveAfter {
		return
	}
	b.reserved = true
	grow := func(n int) int { return n * (b.expected + b.expected/8) / b.encoded }
	b.t.finds = slices.Grow(b.t.finds, grow(len(b.t.finds))-len(b.t.finds))
	// The read's heap grows to half again what is live before the
	// collector runs (readGCPercent), and what is live is mostly the
	// rows: it touches at least that much.
	populateHeap(b.held() / b.encoded * b.expected * 3 / 2)
}

// held is about how many bytes the rows encoded so far hold: their texts,
// the texts' references, their pairs and findings, and the rows
// themselves. The caller holds b.mu.
func (b *rowBuilder) held() int {
	n := int(b.t.strs.n)*int(unsafe.Sizeof(textRef{})) + int(b.t.pairs.n)*4 +
		len(b.t.finds)*int(unsafe.Sizeof(findingRef{})) + b.encoded*int(unsafe.Sizeof(idRow{}))
	for i, block := range b.t.strs.blocks {
		if b.block != nil && uint32(i) == b.blockAt {
			n += len(b.block) // the block being filled: what is taken
			continue
		}
		n += len(block)
	}
	return n
}

// encode is the row of id; the caller holds b.mu.
func (b *rowBuilder) encode(id *audit.Identity) idRow {
	b.index()
	b.encoded++
	if b.encoded == reserveAfter {
		b.reserve()
	}
	r := idRow{
		id:        b.raw(id.ID),
		name:      b.textOf(className, id.Name),
		scope:     b.textAt(lastScope, id.Scope),
		owner:     b.textAt(lastOwner, id.Owner),
		reason:    b.textAt(lastReason, id.StatusReason),
		kind:      b.textAt(lastKind, string(id.Kind)),
		source:    b.textAt(lastSource, id.Source),
		account:   b.textAt(lastAccount, id.Account),
		status:    b.textAt(lastStatus, id.Status),
		change:    b.textAt(lastChange, id.Change),
		snapshot:  id.SnapshotID,
		created:   unixOf(id.CreatedAt),
		lastUsed:  unixOf(id.LastUsedAt),
		rotated:   unixOf(id.RotatedAt),
		expires:   unixOf(id.ExpiresAt),
		firstSeen: unixOf(&id.FirstSeen),
		lastSeen:  unixOf(&id.LastSeen),
	}
	r.attr, r.nAttr = b.pairs(id.Attributes, &b.lastAttr)
	r.perm, r.nPerm = b.pairs(id.Permissions, &b.lastPerm)
	r.find = uint32(len(b.t.finds))
	for _, f := range id.Findings[:min(len(id.Findings), math.MaxUint16)] {
		ki := b.findingKind(int(r.nFind), f)
		b.t.finds = append(b.t.finds, findingRef{ki, b.message(ki, f.Message)})
		r.nFind++
	}
	r.sugg, r.nSugg = b.suggestions(id.Suggestions)
	return r
}

// findingKind is the index in tables.fkinds of f's kind, the finding at
// position k of its row: the kind the previous row's finding there had
// (lastFk) when it is the same, else found, or added, through fkIdx.
func (b *rowBuilder) findingKind(k int, f audit.Finding) uint32 {
	if k < len(b.lastFk) {
		if ki := b.lastFk[k]; int(ki) < len(b.t.fkinds) {
			if fk := &b.t.fkinds[ki]; fk.rule == f.Rule && fk.severity == f.Severity && fk.owasp == f.OWASP {
				return ki
			}
		}
	}
	key := findingKind{f.Rule, f.Severity, f.OWASP}
	ki, ok := b.fkIdx[key]
	if !ok {
		ki = uint32(len(b.t.fkinds))
		b.t.fkinds = append(b.t.fkinds, key)
		b.fkIdx[key] = ki
	}
	if k < len(b.lastFk) {
		b.lastFk[k] = ki
	}
	return ki
}

// suggestions is the run of the owner suggestions l in tables.pairs, as
// (owner, source) text indices: the previous row's run or a run of a
// list seen before if it holds the same suggestions, else a new one. The
// rows keep no audit.OwnerSuggestion: a million identities' lists were
// two million pointers the garbage collector followed at every
// collection of a first open (issue 21).
func (b *rowBuilder) suggestions(l []audit.OwnerSuggestion) (uint32, uint16) {
	if suggestionsPending(l) {
		return 0, suggPending
	}
	l = l[:min(len(l), suggPending-1)]
	if len(l) == 0 {
		return 0, 0
	}
	if len(l) == len(b.lastList) && &l[0] == &b.lastList[0] {
		return b.lastSugg.at, b.lastSugg.n
	}
	if b.sameSuggestions(l, b.lastSugg) {
		b.lastList = l
		return b.lastSugg.at, b.lastSugg.n
	}
	key := uintptr(unsafe.Pointer(&l[0]))
	if run, ok := b.suggIdx[key]; ok && b.sameSuggestions(l, run) {
		b.lastSugg, b.lastList = run, l
		return run.at, run.n
	}
	at, room := b.t.pairs.add(len(l))
	for k, s := range l {
		room[2*k], room[2*k+1] = b.textOf(classSuggOwner, s.Owner), b.textOf(classSuggSource, s.Source)
	}
	run := pairRun{at, uint16(len(l))}
	b.suggIdx[key], b.lastSugg, b.lastList = run, run, l
	return run.at, run.n
}

// sameSuggestions reports whether run holds the suggestions l.
func (b *rowBuilder) sameSuggestions(l []audit.OwnerSuggestion, run pairRun) bool {
	if len(l) != int(run.n) {
		return false
	}
	p := b.t.pairs.run(run.at, run.n)
	for k, s := range l {
		if s.Owner != b.t.strs.at(p[2*k]) || s.Source != b.t.strs.at(p[2*k+1]) {
			return false
		}
	}
	return true
}

// text is s's index, interned.
func (b *rowBuilder) text(s string) uint32 {
	h := hashText(s)
	i, slot, ok := b.strIdx.find(&b.t.strs, s, h)
	if !ok {
		i = b.raw(s)
		b.strIdx.add(&b.t.strs, slot, h, i)
	}
	return i
}

// textAt is text(s) for field f of a row (rowBuilder.last).
func (b *rowBuilder) textAt(f int, s string) uint32 {
	l := &b.last[f]
	if l.ok && l.s == s {
		return l.i
	}
	i := b.text(s)
	*l = lastText{b.t.strs.at(i), i, true}
	return i
}

// textOf is s's index, interned while texts of its class repeat
// (repeatCount).
func (b *rowBuilder) textOf(class uint32, s string) uint32 {
	c := b.repeatOf(class)
	if c.n >= internTrial && c.known*internRatio < c.n {
		c.idx = nil
		if s == "" {
			return textNone
		}
		return b.raw(s)
	}
	c.n++
	if c.last.ok && c.last.s == s {
		c.known++
		return c.last.i
	}
	if s == "" {
		c.known++ // a fixed text, known from the start
		c.last = lastText{"", textNone, true}
		return textNone
	}
	if c.idx == nil {
		c.idx = newTextIndex(0)
	}
	h := hashText(s)
	i, slot, ok := c.idx.find(&b.t.strs, s, h)
	if ok {
		c.known++
	} else {
		i = b.raw(s)
		c.idx.add(&b.t.strs, slot, h, i)
	}
	c.last = lastText{b.t.strs.at(i), i, true}
	return i
}

// repeatOf is class's repeatCount, made when first asked for.
func (b *rowBuilder) repeatOf(class uint32) *repeatCount {
	var fixed **repeatCount
	if class >= classSuggSource {
		fixed = &b.fixedRepeats[math.MaxUint32-class]
		if *fixed != nil {
			return *fixed
		}
	}
	c := b.repeats[class]
	if c == nil {
		c = &repeatCount{}
		b.repeats[class] = c
	}
	if fixed != nil {
		*fixed = c
	}
	return c
}

// message is the index of a finding's message s, of finding kind ki:
// textOf(classMessage, s), but a message its kind's last finding had is
// found without a look-up in the class's map, and counted as the repeat
// it is.
func (b *rowBuilder) message(ki uint32, s string) uint32 {
	if int(ki) >= len(b.lastMsg) {
		b.lastMsg = append(b.lastMsg, make([]lastText, int(ki)+1-len(b.lastMsg))...)
	}
	if l := &b.lastMsg[ki]; l.ok && l.s == s {
		if c := b.repeatOf(classMessage); c.n < internTrial || c.known*internRatio >= c.n {
			c.n++
			c.known++
		}
		return l.i
	}
	i := b.textOf(classMessage, s)
	b.lastMsg[ki] = lastText{b.t.strs.at(i), i, true}
	return i
}

// raw is s's index for a text no other row has (an identity's ID): not
// worth a place in the intern map. Its bytes are copied into the current
// block.
func (b *rowBuilder) raw(s string) uint32 {
	t := &b.t.strs
	switch {
	case s == "":
		return t.add(textRef{})
	case len(s) > blockSize/16:
		// Long texts (policy documents) keep their own memory.
		t.blocks = append(t.blocks, []byte(s))
		return t.add(textRef{uint32(len(t.blocks) - 1), 0, uint32(len(s))})
	case b.block == nil || len(b.block)+len(s) > cap(b.block):
		t.blocks = append(t.blocks, make([]byte, blockSize))
		b.blockAt = uint32(len(t.blocks) - 1)
		b.block = t.blocks[b.blockAt][:0]
	}
	at := len(b.block)
	b.block = append(b.block, s...)
	return t.add(textRef{b.blockAt, uint32(at), uint32(len(s))})
}

// pairs is the run of m's pairs: last's if m holds the same pairs (last
// becomes the run returned), else a new one. The pairs the last run has
// too keep its texts, and a key it has keeps its index, without a look-up
// in the intern maps: a row's attributes mostly differ from the previous
// row's in a value or two (a lineage, a fingerprint), and the look-ups of
// the others were most of the encoding of a first open of a million
// identities (issue 21). Each key of the last run is looked up in m once,
// for both the comparison and the new run, where a comparison of the two
// (samePairs) looked each up again for the new run.
func (b *rowBuilder) pairs(m map[string]string, last *pairRun) (uint32, uint16) {
	n := min(len(m), math.MaxUint16)
	if n == 0 {
		if last.n == 0 {
			return last.at, 0
		}
		*last = pairRun{b.t.pairs.n, 0}
		return last.at, 0
	}
	prev := b.t.pairs.run(last.at, last.n)
	same := len(m) == int(last.n)
	kept := b.pairBuf[:0]
	for j := 0; j < len(prev) && len(kept) < 2*n; j += 2 {
		v, ok := m[b.t.strs.at(prev[j])]
		if !ok {
			same = false
			continue
		}
		vi := prev[j+1]
		if v != b.t.strs.at(vi) {
			same = false
			vi = b.textOf(prev[j], v)
		}
		kept = append(kept, prev[j], vi)
	}
	b.pairBuf = kept
	if same {
		return last.at, last.n
	}
	at, room := b.t.pairs.add(n)
	k := copy(room, kept)
	*last = pairRun{at, uint16(n)}
	if k == len(room) {
		return at, uint16(n)
	}
	// The keys the last run did not have.
	for key, v := range m {
		if k == len(room) {
			break
		}
		if inRun(&b.t, prev, key) {
			continue
		}
		ki := b.text(key)
		room[k], room[k+1] = ki, b.textOf(ki, v)
		k += 2
	}
	return at, uint16(n)
}

// inRun reports whether the run p has the key.
func inRun(t *tables, p []uint32, key string) bool {
	for j := 0; j < len(p); j += 2 {
		if t.strs.at(p[j]) == key {
			return true
		}
	}
	return false
}
