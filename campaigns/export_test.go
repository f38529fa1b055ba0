package campaigns

import (
	"context"

	"github.com/nhi-audit/nhi/audit"
)

// setHook sets the test hook *hook to f and returns what sets it back.
func setHook[T any](hook *T, f T) (restore func()) {
	old := *hook
	*hook = f
	return func() { *hook = old }
}

// BeforeDecideLock sets a function decideChecked runs between its reads
// and the write lock, where another writer may change what it read; the
// returned function restores the old one.
func BeforeDecideLock(f func()) (restore func()) {
	return setHook(&beforeDecideLock, f)
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

// StandingExceptions is what package audit reads the standing exceptions
// with (standingExceptions).
func StandingExceptions(ctx context.Context, st *audit.Store) (map[string]audit.Exception, error) {
	return standingExceptions(ctx, st)
}

// StandingExceptionsByScan is the same read by the query it was before
// the kept items had an index (campaigns' step 3): every decided item
// grouped by identity for the newest campaign that decided it. The
// answer the indexed query must give.
func StandingExceptionsByScan(ctx context.Context, st *audit.Store) (map[string]audit.Exception, error) {
	return standingExceptionsOf(ctx, st, `
		WITH latest AS (
			SELECT i.identity_id, max(c.create_seq) AS create_seq FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
			WHERE i.decision NOT IN ('', 'no-response') GROUP BY i.identity_id)
		SELECT c.name, i.identity_id, i.decision_seq, i.decided_by, COALESCE(c.closed_at, '')
		FROM latest JOIN campaigns c ON c.create_seq = latest.create_seq
		JOIN campaign_items i ON i.campaign_id = c.id AND i.identity_id = latest.identity_id
		WHERE i.decision = 'keep' AND i.findings <> '[]'`)
}

// OneTripDecided sets a function run after each decision made in one
// round trip (decideOneTrip); the returned function restores the old one.
func OneTripDecided(f func()) (restore func()) {
	return setHook(&oneTripDecided, f)
}

// DecideAlone is ctx, under which each decision made in one round trip
// calls nhi_decide, a turn of the write lock of its own, as an older nhi
// does (decideAloneKey), where it is queued for a group append.
func DecideAlone(ctx context.Context) context.Context {
	return context.WithValue(ctx, decideAloneKey{}, true)
}

// VerifiedAccount sets a function VerifyRemediation runs after each
// source/account's check (verifiedAccount); the returned function
// restores the old one.
func VerifiedAccount(f func()) (restore func()) {
	return setHook(&verifiedAccount, f)
}

// BulkHeld sets a function a bulk decision gives the ID of each identity
// its filter judges and of each item it reads under the lock (bulkHeld);
// the returned function restores the old one.
func BulkHeld(f func(id string)) (restore func()) {
	return setHook(&bulkHeld, f)
}

// EscalateHeld sets a function Escalate gives the ID of each item it
// reads under the lock (escalateHeld); the returned function restores the
// old one.
func EscalateHeld(f func(id string)) (restore func()) {
	return setHook(&escalateHeld, f)
}

// RemindHeld sets a function Remind gives the ID of each pending item it
// reads (remindHeld); the returned function restores the old one.
func RemindHeld(f func(id string)) (restore func()) {
	return setHook(&remindHeld, f)
}

// ItemCursorsOpened sets a function told of each item cursor opened,
// and whether it reads the whole campaign (itemCursorOpened); the
// returned function restores the old one.
func ItemCursorsOpened(f func(whole bool)) (restore func()) {
	return setHook(&itemCursorOpened, f)
}

// ItemCursorScanned sets a function told of each row an item cursor
// scans, an item's or one of the decision history
// (itemCursorScanned); the returned function restores the old one.
func ItemCursorScanned(f func(history bool)) (restore func()) {
	return setHook(&itemCursorScanned, f)
}

// ReviewHeld sets a function given the ID of each item a filter's
// campaign review reads, as read (reviewHeld); the returned function
// restores the old one.
func ReviewHeld(f func(id string)) (restore func()) {
	return setHook(&reviewHeld, f)
}

// OffboardHeld sets a function an offboarding gives the findings of each
// item it freezes, as it keeps them (offboardHeld); the returned function
// restores the one before.
func OffboardHeld(f func(findings string)) (restore func()) {
	return setHook(&offboardHeld, func(fz *frozen) { f(fz.findings) })
}

// NotReadHeld sets a function ItemReader gives what each item's snapshot
// did not read of it, as it completes the item (notReadHeld); the
// returned function restores the old one.
func NotReadHeld(f func(nr []audit.NotRead)) (restore func()) {
	return setHook(&notReadHeld, f)
}

// ProgressRead sets a function told of each campaign whose progress is
// counted (progressRead); the returned function restores the old one.
func ProgressRead(f func(campaignID int64)) (restore func()) {
	return setHook(&progressRead, f)
}

// ProgressAsGrouped is campaign name's progress as the database's
// grouping counts it (progressGroupsBySQL): what loadProgress ran on
// every engine before it read SQLite's items in key order (issue 21),
// the oracle of what it answers now.
func ProgressAsGrouped(ctx context.Context, st *audit.Store, name string) (Progress, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return Progress{}, err
	}
	groups, err := progressGroupsBySQL(ctx, st, c.ID)
	if err != nil {
		return Progress{}, err
	}
	return progressOf(c, groups), nil
}
