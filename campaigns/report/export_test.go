package report

// AppendRowForTest exposes appendRow to the tests.
var AppendRowForTest = appendRow

// HashForTest exposes hashOf to the tests.
var HashForTest = hashOf
