package campaigns

import "github.com/nhi-audit/nhi/audit"

// BeforeDecideLock sets a function decideChecked runs between its reads
// and the write lock, where another writer may change what it read; the
// returned function restores the old one.
func BeforeDecideLock(f func()) (restore func()) {
	old := beforeDecideLock
	beforeDecideLock = f
	return func() { beforeDecideLock = old }
}

// DecideLocked makes every decision go the long way, everything read
// under the write lock, as before decisions were prepared outside it: for
// the benchmark's comparison. The returned function restores the default.
func DecideLocked() (restore func()) {
	decideAlwaysLocked = true
	return func() { decideAlwaysLocked = false }
}

// CreateSpooled makes Create read the population to a spool file before
// taking the write lock on an evidence file too, as it does on
// PostgreSQL. The returned function restores the default.
func CreateSpooled() (restore func()) {
	createSpooled = true
	return func() { createSpooled = false }
}

// DecisionCheck is the statement a prepared decision stamps what it read
// with (decisionCheck).
func DecisionCheck(campaign, id string) audit.Stmt { return decisionCheck(campaign, id) }

// DecisionRead is the statement a prepared decision reads the item and
// its stamp with, before the lock (decisionRead).
func DecisionRead(campaign, id string) audit.Stmt { return decisionRead(campaign, id) }
