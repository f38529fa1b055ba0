//go:build !unix

package audit

// folderRefusesFiles cannot tell on this platform without writing:
// SQLite's own SQLITE_READONLY_DIRECTORY is then all that says so.
func folderRefusesFiles(string) bool { return false }
