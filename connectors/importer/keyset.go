package importer

import "hash/maphash"

// keySet holds the keys of a file being checked, to find one repeated,
// with the line each was first on. A million keys in a map[string]int
// cost some 60 bytes each besides their text, and a key cut from a CSV
// record keeps the whole record's text alive; here the texts are copied
// end to end into one buffer, and an open-addressed table of 4-byte
// indexes finds them: 20 to 28 bytes a key besides its text.
type keySet struct {
	seed  maphash.Seed
	text  []byte   // the keys, end to end
	ends  []int    // where key i ends in text (it starts where i-1 ends)
	lines []uint32 // the line key i is on
	slots []uint32 // 1 + the index of the key hashed there; 0 empty
}

// add records key, on line; if key was already added it records nothing
// and reports the line it was first on.
func (s *keySet) add(key string, line int) (first int, dup bool) {
	if len(s.ends) >= len(s.slots)/2 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := maphash.String(s.seed, key) & mask; ; i = (i + 1) & mask {
		k := s.slots[i]
		if k == 0 {
			s.text = append(s.text, key...)
			s.ends = append(s.ends, len(s.text))
			s.lines = append(s.lines, uint32(line))
			s.slots[i] = uint32(len(s.ends))
			return 0, false
		}
		if string(s.key(int(k-1))) == key { // compared without a copy
			return int(s.lines[k-1]), true
		}
	}
}

// key is the text of key i.
func (s *keySet) key(i int) []byte {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.text[start:s.ends[i]]
}

// grow doubles the table (from 1,024 slots) and places every key again.
func (s *keySet) grow() {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
	}
	s.slots = make([]uint32, max(1024, 2*len(s.slots)))
	mask := uint64(len(s.slots) - 1)
	for k := range s.ends {
		i := maphash.Bytes(s.seed, s.key(k)) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = uint32(k + 1)
	}
}
