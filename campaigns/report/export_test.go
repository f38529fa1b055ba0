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
