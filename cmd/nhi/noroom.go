package main

import "fmt"

// A write to the evidence file that fails for want of room (audit.NoRoom)
// comes from SQLite as "database or disk is full" or, past a file size
// limit, as "disk I/O error (778)": the second names no cause. So run
// follows either with what stops the file growing, as far as the system
// says (room, below), and what to do.

// fullBelow is the free space under which a disk counts as full: a
// batch of a snapshot's writes is a few MB.
const fullBelow = 64 << 20

// fileRoom is what limits the growth of an evidence file: the process's
// file size limit (0: none) and the free space of its file system.
type fileRoom struct {
	limit, free uint64
}

// noRoomHint is what follows a failed write of the evidence file db for
// want of room.
func noRoomHint(db string) string {
	why := "the disk is full, or the file reached a size limit of its file system or of this process (ulimit -f), or the disk failed"
	if r, ok := roomOf(db); ok {
		switch {
		case r.free < fullBelow:
			why = fmt.Sprintf("the disk holding it is full (%s free)", sizeText(r.free))
		case r.limit > 0:
			// The evidence file, its write-ahead log, or a temporary file
			// SQLite sorts in: gone or shrunk by now, so not named.
			why = fmt.Sprintf("this process may write no file larger than %s (ulimit -f), and nhi's write needed more", sizeText(r.limit))
		default:
			why += fmt.Sprintf(" (%s free on its disk)", sizeText(r.free))
		}
	}
	return "Could not write to " + db + ": " + why + ". Make room (free space, raise the limit, or move the file to a disk with room) and run the command again: " +
		"what was recorded before stands and each write is whole or not made (nhi verify checks the file)."
}

// sizeText is n bytes in MB (10^6) with one decimal, or in bytes below 1 MB.
func sizeText(n uint64) string {
	if n < 1e6 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
