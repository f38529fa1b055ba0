package audit

import "fmt"

// fullBelow is the free space under which a disk counts as full: a
// batch of a snapshot's writes is a few MB.
const fullBelow = 64 << 20

// fileRoom is what limits the growth of an evidence file: the process's
// file size limit (0: none) and the free space of its file system.
type fileRoom struct {
	limit, free uint64
}

// NoRoomAdvice is what follows a failed write of the evidence file at
// path for want of room (NoRoom): what stops the file growing, as far as
// the system says, and what to do; again is how to try again ("run the
// command again"). The commands and the review UI say it alike: SQLite's
// "disk I/O error (778)", past a file size limit, names no cause.
func NoRoomAdvice(path, again string) string {
	return "Could not write to " + path + ": " + NoRoomWhy(path) + ". Make room (free space, raise the limit, or move the file to a disk with room) and " + again + ": " +
		"what was recorded before stands and each write is whole or not made (nhi verify checks the file)."
}

// NoRoomWhy is what stops a file at path growing, as far as the system
// says: "the disk holding it is full (12 bytes free)", "this process may
// write no file larger than 3.1 MB (ulimit -f), and nhi's write needed
// more".
func NoRoomWhy(path string) string {
	why := "the disk is full, or the file reached a size limit of its file system or of this process (ulimit -f), or the disk failed"
	if r, ok := roomOf(path); ok {
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
	return why
}

// sizeText is n bytes in MB (10^6) with one decimal, or in bytes below 1 MB.
func sizeText(n uint64) string {
	if n < 1e6 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
