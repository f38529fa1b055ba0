package main

import (
	"errors"
	"syscall"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestExportFailuresNameTheOut: an export whose files could not be
// written for a reason other than a full disk or a file size limit (a
// quota, a read-only or failing disk: none can be made in a test without
// root) is said as those are, naming the file as the bundle names it,
// that nothing was written to --out, and what to do, where it was Go's
// error alone, naming the temporary folder beside --out. The errors are
// those report.Export returns: a report.FileError for each file the
// export wrote side by side, joined.
func TestExportFailuresNameTheOut(t *testing.T) {
	t.Parallel()
	files := func(errno error, names ...string) error {
		var errs []error
		for _, n := range names {
			errs = append(errs, &report.FileError{File: n, Err: errno})
		}
		return errors.Join(errs...)
	}
	const kept = "; nothing was written to evidence/q4 (an earlier bundle there is as it was): "
	for _, c := range []struct {
		err  error
		says string
	}{
		{files(syscall.EDQUOT, "report.json", "report.md"), "no room to write the bundle: report.json: disk quota exceeded (and 1 more file)" + kept +
			"make room (on the disk of evidence/q4, and of TMPDIR for the long tables while they are written), or export to another disk, and run the command again"},
		{files(syscall.EIO, "population.csv"), "cannot write the bundle: population.csv: input/output error" + kept +
			"export to another disk (this one may be failing), and run the command again"},
		{files(syscall.EROFS, "report.html", "SHA256SUMS"), "cannot write the bundle: report.html: read-only file system (and 1 more file)" + kept +
			"choose a folder you can write, and run the command again"},
	} {
		if got := exportFailed(c.err, "evidence/q4").Error(); got != c.says {
			t.Errorf("export failing with %v says\n%s\nwant\n%s", c.err, got, c.says)
		}
	}
}
