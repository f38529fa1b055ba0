package report

// AppendRowForTest exposes appendRow to the tests.
var AppendRowForTest = appendRow

// HashForTest exposes hashOf to the tests.
var HashForTest = hashOf

// AppendHistoryForTest exposes appendHistory to the tests.
var AppendHistoryForTest = appendHistory

// SetPageRowsForTest sets how many rows a long table of the HTML and
// Markdown reports lists, and returns a function that restores it.
func SetPageRowsForTest(n int) (restore func()) {
	old := pageRows
	pageRows = n
	return func() { pageRows = old }
}

// ReadForTest is what readReport read: the report (its long tables
// aside) and the rows of its long tables.
type ReadForTest struct {
	Report  Report
	Tables  [3][]Row // register, exceptions, decommissions
	History []HistoryEntry
}

// ErrNotFastForTest is the fast reader's answer to what it does not take.
var ErrNotFastForTest = errNotFast

// ReadReportForTest reads the report.json at path as readReport does
// (how "auto"), with the fast reader alone ("fast"), or with
// encoding/json's alone ("decode").
func ReadReportForTest(path, how string) (*ReadForTest, error) {
	var r *Report
	var err error
	switch how {
	case "auto":
		r, err = readReport(path)
	default:
		r, err = readReportWith(path, how == "fast")
	}
	if err != nil {
		return nil, err
	}
	defer r.close()
	out := &ReadForTest{}
	for t := range out.Tables {
		if err := r.eachRow(table(t), func(x *Row) { out.Tables[t] = append(out.Tables[t], *x) }); err != nil {
			return nil, err
		}
	}
	if err := r.eachHistory(func(h *HistoryEntry) { out.History = append(out.History, *h) }); err != nil {
		return nil, err
	}
	out.Report = *r
	out.Report.long = nil
	return out, nil
}
