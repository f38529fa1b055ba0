package audit

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// A write that holds an evidence file's write lock for long (a campaign
// create over a large population: tens of seconds at a million) says so
// first, in a row of meta, so that a writer that waits it out can name it
// (busyError), as a running snapshot is named by its lock
// (snapshotlock.go). The row goes out in the commit of the write itself.

// holdPrefix starts the meta key of a long write's row.
const holdPrefix = "write.hold "

// writeHold is what a long write's row says of it.
type writeHold struct {
	What    string `json:"what"` // "a campaign create of q4"
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Started string `json:"started"`
	Token   string `json:"token"`
}

// liveHolds holds the tokens of this process's long writes under way.
var liveHolds sync.Map

// live reports whether the write may still run: on this host, while its
// process does (in this process, while the write is under way). A row of
// another host cannot be checked, and is not named.
func (h *writeHold) live(host string) bool {
	switch {
	case h.Host != host:
		return false
	case h.PID == os.Getpid():
		_, ok := liveHolds.Load(h.Token)
		return ok
	default:
		return processAlive(h.PID)
	}
}

// holdPath is the file that says the long write with token holds the
// write lock: its row is written before it waits for the lock, so a
// create that is itself waiting (behind another) has a row too, and only
// the file, made once its transaction has begun and removed once it has
// committed or rolled back, tells the one that holds the file apart.
func (s *Store) holdPath(token string) string { return s.sideFile("-hold-", token) }

// holding reports whether the long write h holds the write lock now, as
// far as can be told: it may still run (live) and its hold file is there.
func (s *Store) holding(h *writeHold, host string) bool {
	if !h.live(host) {
		return false
	}
	p := s.holdPath(h.Token)
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// WriteLong is Write for a write that holds the lock for long; what
// says what it is ("a campaign create of q4"). On an evidence file a row
// of meta names it, this process and its start from just before it waits
// for the lock until its commit, which removes the row, so a writer that
// waits it out says what it waited for. The rows of such writes whose
// process is gone are removed by the next one.
func (s *Store) WriteLong(ctx context.Context, what string, fn func(*Tx) error) error {
	if s.engine != engineSQLite || s.readOnly {
		return s.Write(ctx, fn)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	host := hostname()
	hold := writeHold{What: what, PID: os.Getpid(), Host: host, Started: formatTime(s.now()), Token: hex.EncodeToString(b[:])}
	key := holdPrefix + hold.Token
	row, _ := json.Marshal(hold)
	err := s.Write(ctx, func(tx *Tx) error {
		if err := dropDeadHolds(ctx, tx, host); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, key, string(row))
		return err
	})
	if err != nil {
		return err
	}
	liveHolds.Store(hold.Token, s)
	defer liveHolds.Delete(hold.Token)
	drop := func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = ?`, key)
		return err
	}
	held := s.holdPath(hold.Token)
	err = s.writeJournalInMemory(ctx, func(tx *Tx) error {
		// The transaction has begun: this write holds the lock until
		// it commits or rolls back (a commit that failed busy and is
		// tried again keeps the file through that wait).
		if held != "" {
			_ = os.WriteFile(held, nil, 0o600)
		}
		if err := fn(tx); err != nil {
			return err
		}
		return drop(tx)
	})
	if held != "" {
		os.Remove(held)
	}
	if err != nil && !errors.Is(err, ErrBusy) {
		// fn's writes were rolled back, and the row's removal with
		// them. After a busy failure another wait would be as long: the
		// row is dead once this write is over (liveHolds), and removed
		// by the next long write.
		_ = s.Write(context.WithoutCancel(ctx), drop)
	}
	return err
}

// writeJournalInMemory is Write on a connection of its own whose
// statement journals stay in memory (temp_store MEMORY, set before the
// BEGIN, which fixes it for the transaction). A statement that writes
// many rows (a campaign's items, 500 a statement) keeps a journal of the
// pages it changes, to undo it alone should it fail half way; on a file
// beyond 64 KiB, which every such statement passed: writing the journal
// of a million-item campaign's inserts cost 1.6 CPU-seconds of system
// calls (issue 21). Its size is what one statement changes, here a few
// hundred KB. The connection goes back to the pool as it came.
func (s *Store) writeJournalInMemory(ctx context.Context, fn func(*Tx) error) error {
	if s.readOnly {
		return s.Write(ctx, fn)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return err
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA temp_store = DEFAULT"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // not back to the pool
		}
	}()
	err = s.waitBusy(ctx, "", func() error { return s.writeOnce(ctx, conn, fn, nil) })
	if errors.Is(err, ErrBusy) {
		return err
	}
	return s.permissionError(ctx, err)
}

// dropDeadHolds removes the rows of long writes of host whose process is
// gone (killed before its commit).
func dropDeadHolds(ctx context.Context, tx *Tx, host string) error {
	rows, err := tx.Query(ctx, `SELECT key, value FROM meta WHERE key LIKE ?`, holdPrefix+"%")
	if err != nil {
		return err
	}
	var dead []string
	for rows.Next() {
		var key, raw string
		var h writeHold
		if err := rows.Scan(&key, &raw); err != nil {
			rows.Close()
			return err
		}
		if json.Unmarshal([]byte(raw), &h) != nil || h.Host == host && !h.live(host) {
			dead = append(dead, key)
			if p := tx.s.holdPath(strings.TrimPrefix(key, holdPrefix)); p != "" {
				os.Remove(p) // a killed write's
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, key := range dead {
		if _, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = ?`, key); err != nil {
			return err
		}
	}
	return nil
}

// runningHolders names what may hold the write lock now, for busyError:
// the live snapshots but the one whose lock token is own (the writer's
// own run), "a snapshot of github/acme (pid 4242 on host build-1,
// started 09:12 UTC)", and the long write that holds it (holding), "a
// campaign create of q4 (pid …)", not those waiting behind it. It names
// nothing it cannot read.
func (s *Store) runningHolders(ctx context.Context, own string) []string {
	var names []string
	for _, r := range s.runningSnapshots(ctx, own) {
		names = append(names, fmt.Sprintf("a snapshot of %s/%s (%s)", Printable(r.Source), Printable(r.Account), r.process()))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT value FROM meta WHERE key LIKE ? ORDER BY key`, holdPrefix+"%")
	if err != nil {
		return names
	}
	defer rows.Close()
	host := hostname()
	for rows.Next() {
		var raw string
		var h writeHold
		if rows.Scan(&raw) != nil || json.Unmarshal([]byte(raw), &h) != nil || !s.holding(&h, host) {
			continue
		}
		started, _ := parseTime(h.Started)
		p := (&SnapshotRunningError{PID: h.PID, Host: h.Host, Started: started}).process()
		names = append(names, fmt.Sprintf("%s (%s)", strings.TrimSpace(Printable(h.What)), p))
	}
	return names
}
