package main

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// A write to the evidence file that fails for want of room (audit.NoRoom)
// comes from SQLite as "database or disk is full" or, past a file size
// limit, as "disk I/O error (778)": the second names no cause. So run
// follows either with what stops the file growing, as far as the system
// says, and what to do (audit.NoRoomAdvice, which the review UI says too).

// exportFailed is the error of an export into dir that could not write
// the bundle, as one sentence: the first file that could not be written
// (report.FileError, named as the bundle names it) and why, that nothing
// was written to dir, and what to do. Before, each file the export writes
// side by side gave a line naming the temporary folder beside dir, gone
// by then, and a failure other than a full disk or a file size limit (a
// quota, a failing disk) came as Go's error alone. Any other error is err.
func exportFailed(err error, dir string) error {
	var fe *report.FileError
	noRoom := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT)
	if !noRoom && !errors.As(err, &fe) {
		return err
	}
	all := leaves(err)
	first, n := all[0], len(all)
	what := first.Error()
	var pe *fs.PathError
	if errors.As(first, &fe) {
		what = fe.Error() // a file of the bundle: report.json: …
	} else if errors.As(first, &pe) {
		what = fmt.Sprintf("the temporary file %s: %v", pe.Path, pe.Err) // a long table's spool (TMPDIR)
	}
	if errors.Is(first, syscall.EFBIG) {
		what += " (past a file size limit: ulimit -f, or the file system's)"
	}
	if n > 1 {
		what += fmt.Sprintf(" (and %d more %s)", n-1, plural(n-1, "file", "files"))
	}
	if noRoom {
		return fmt.Errorf("no room to write the bundle: %s; nothing was written to %s (an earlier bundle there is as it was): make room (on the disk of %s, and of TMPDIR for the long tables while they are written), or export to another disk, and run the command again", what, dir, dir)
	}
	todo := "export to another disk (this one may be failing), and run the command again"
	if errors.Is(first, fs.ErrPermission) || errors.Is(first, syscall.EROFS) {
		todo = "choose a folder you can write, and run the command again"
	}
	return fmt.Errorf("cannot write the bundle: %s; nothing was written to %s (an earlier bundle there is as it was): %s", what, dir, todo)
}

// dbExportNoRoom is the error of nhi db export --to to that found no
// room: it names to, whose disk or size limit stopped it, where run's
// advice after a write that found no room named the store (--db), which
// the export only reads, and told the user to make room there. Its text
// holds err's but does not wrap it, so run adds nothing of the store; it
// begins with nhi's sentence, err's words (SQLite's "disk I/O error (778)")
// after it, in parentheses, where they came first, a line of their own.
func dbExportNoRoom(err error, to, store string) error {
	return fmt.Errorf("could not write %s: %s (the write failed: %v). Nothing was written to %s (the partial copy beside it was removed; a file there before is as it was), and %s is as it was: make room (free space, or raise the limit), or write to another disk, and run the command again",
		to, audit.NoRoomWhy(to), err, to, store)
}

// leaves is the errors err joins (errors.Join, nested), or err.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var all []error
	for _, e := range j.Unwrap() {
		all = append(all, leaves(e)...)
	}
	if len(all) == 0 {
		return []error{err}
	}
	return all
}

// outputCut reports whether err is a failed write of standard output (a
// full disk or a file size limit under a redirection, `> out.csv`): what
// was written before it is a part that may look whole (a CSV cut after a
// row), so run says so (outputLost).
func outputCut(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Op == "write" && pe.Path == "/dev/stdout"
}
