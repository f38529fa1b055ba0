package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrForeignLog: the write-ahead log beside an evidence file was written
// for another database file (foreignLog).
var ErrForeignLog = errors.New("the write-ahead log beside the evidence file belongs to another file")

// A write-ahead log names no database: SQLite applies a -wal file to
// whatever file it lies beside, and the first connection to write
// checkpoints it into that file for good. A file copied or restored over
// one whose process was killed (a backup put back after a crash, cp
// other.db nhi.db) meets the log that process left, and reads as pages
// of two files mixed: nhi verify then names snapshots "edited behind
// nhi's back" that nobody edited, and a write makes the mix permanent.
//
// What ties a log to its file is page 1. Every transaction that writes
// page 1 stamps its file change counter (byte 24) with the counter it
// read, plus one, and a connection that read page 1 before its own last
// commits stamps the same number again; the file changes only when a
// checkpoint copies frames of the log into it, whole. So in a log that
// belongs to a file, the first frame of page 1 carries the file's counter
// or the file's counter plus one, unless a checkpoint has copied page 1
// since, and then the file's page 1 is, byte for byte, one of the log's
// frames of it. A log with no frame of page 1 cannot be judged, and is
// taken as the file's.

// walFrameHeader is the size of a frame's header in a -wal file.
const walFrameHeader = 24

// foreignLog returns ErrForeignLog, in words that say what to do, when
// the write-ahead log beside the evidence file at path belongs to another
// file; db is the file, open for reading. A log a live writer changes
// while it is read is read again (up to three times), and is taken as the
// file's if it never holds still: only a log that no process is writing
// can have been left by another file.
func foreignLog(path string, db *os.File) error {
	for range 3 {
		foreign, settled := walForeign(path, db)
		if !settled {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if !foreign {
			return nil
		}
		base := filepath.Base(path)
		return fmt.Errorf("%w: %s-wal was not written for %s (its frames of the file's first page do not follow on from the file's: a file copied or restored over %s while the log of the one before was left beside it), and SQLite would write that other file's pages into this one; nothing was read or changed. Move %s-wal and %s-shm aside, keeping them (they may hold the last writes of the file they belong to), then run this command again",
			ErrForeignLog, path, base, base, base, base)
	}
	return nil
}

// walForeign reads the log beside path and db's page 1 once: foreign says
// whether the log cannot be db's, settled whether the log held still
// while it was read (same header, same size).
func walForeign(path string, db *os.File) (foreign, settled bool) {
	w, err := os.Open(path + "-wal")
	if err != nil {
		return false, true
	}
	defer w.Close()
	before, err := w.Stat()
	if err != nil || before.Size() < 32 {
		return false, true
	}
	var hdr [32]byte
	if _, err := io.ReadFull(w, hdr[:]); err != nil {
		return false, true
	}
	var page1 [100]byte
	if n, err := db.ReadAt(page1[:], 0); n < len(page1) || err != nil && err != io.EOF {
		return false, true // an empty or new file: nothing of its own to lose
	}
	pageSize := int(binary.BigEndian.Uint16(page1[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return false, true // not a header SQLite reads: refused elsewhere
	}
	own := make([]byte, pageSize)
	if n, _ := db.ReadAt(own, 0); n < pageSize {
		return false, true // cut short: refused elsewhere
	}
	if !walMismatch(w, hdr, before.Size(), own) {
		return false, true
	}
	return true, stillThe(w, hdr, before.Size())
}

// stillThe reports whether the log w still has header hdr and size.
func stillThe(w *os.File, hdr [32]byte, size int64) bool {
	var now [32]byte
	fi, err := w.Stat()
	if err != nil || fi.Size() != size {
		return false
	}
	if _, err := w.ReadAt(now[:], 0); err != nil {
		return false
	}
	return now == hdr
}

// walMismatch reports whether the log w (header hdr, size bytes) cannot
// belong to the file whose page 1 is own. It reads the frames SQLite
// would (salts and running checksum holding, up to the last commit
// frame) and stops at the first frame of page 1 that shows the log is
// the file's: a log whose frames SQLite would not read, or that has no
// frame of page 1, is not judged.
func walMismatch(w *os.File, hdr [32]byte, size int64, own []byte) bool {
	magic := binary.BigEndian.Uint32(hdr[0:4])
	if magic&^1 != 0x377f0682 {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic&1 == 1 {
		order = binary.BigEndian
	}
	pageSize := int(binary.BigEndian.Uint32(hdr[8:12]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return false
	}
	s0, s1 := walChecksum(order, hdr[:24], 0, 0)
	if s0 != binary.BigEndian.Uint32(hdr[24:28]) || s1 != binary.BigEndian.Uint32(hdr[28:32]) {
		return false // SQLite ignores a log whose header does not check
	}
	counter := binary.BigEndian.Uint32(own[24:28])
	// first: no frame of page 1 read yet; seen: one was (uncommitted
	// so far); judged: a frame of page 1 that committed was read, and
	// none showed the log to be the file's.
	first, seen, judged := true, false, false
	frame := make([]byte, walFrameHeader+pageSize)
	for off := int64(32); off+int64(len(frame)) <= size; off += int64(len(frame)) {
		if _, err := w.ReadAt(frame, off); err != nil {
			break
		}
		if !bytes.Equal(frame[8:16], hdr[16:24]) {
			break
		}
		s0, s1 = walChecksum(order, frame[:8], s0, s1)
		s0, s1 = walChecksum(order, frame[walFrameHeader:], s0, s1)
		if s0 != binary.BigEndian.Uint32(frame[16:20]) || s1 != binary.BigEndian.Uint32(frame[20:24]) {
			break
		}
		page := frame[walFrameHeader:]
		if binary.BigEndian.Uint32(frame[0:4]) == 1 {
			if pageSize != len(own) {
				seen = true // a log of pages of another size
			} else {
				c := binary.BigEndian.Uint32(page[24:28])
				if first && (c == counter || c == counter+1) || bytes.Equal(page, own) {
					return false
				}
				first, seen = false, true
			}
		}
		if binary.BigEndian.Uint32(frame[4:8]) != 0 && seen {
			judged = true
		}
	}
	return judged
}

// walChecksum is SQLite's checksum of a write-ahead log, continued over b
// from s0, s1: b's 32-bit words in the log's byte order, two at a time.
func walChecksum(order binary.ByteOrder, b []byte, s0, s1 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
