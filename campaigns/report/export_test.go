package report

// AppendRowForTest exposes appendRow to the tests.
var AppendRowForTest = appendRow

// HashForTest exposes hashOf to the tests.
var HashForTest = hashOf

// AppendHistoryForTest exposes appendHistory to the tests.
var AppendHistoryForTest = appendHistory
