package audit

import (
	"strings"
	"time"
)

// Snapshot status values.
const (
	SnapshotRunning  = "running"  // being written, or interrupted before it finished
	SnapshotComplete = "complete" // every endpoint was read
	SnapshotPartial  = "partial"  // finished, but some endpoints could not be read (see Gaps)
	SnapshotFailed   = "failed"   // stopped by an error; never used as the current population
)

// Snapshot is one connector run: the population of one account of one
// source at one time. Once finished it never changes.
type Snapshot struct {
	ID          int64
	Source      string // "github"
	Account     string // organisation login
	APIURL      string
	Credential  string // what read it: token owner login or App slug, and scopes
	ToolVersion string
	StartedAt   time.Time
	FinishedAt  *time.Time
	Status      string
	Error       string // why it failed, when it did
	Counts      map[Kind]int
	Gaps        []Gap
	Digest      string // SHA-256 over the snapshot's observations, hex
	// ServerVersion is the server's own version when it says one (GitHub
	// Enterprise Server), "" for the cloud.
	ServerVersion string
	// Notes are what the connector says once of the whole run: kinds the
	// server does not have, what no credential of this sort can see.
	Notes []string
	// Reach is how much of its source the run read and what its connector
	// cannot see; nil when the connector did not say (snapshots before
	// schema v7).
	Reach *Reach
	// Runner and Stopped say, of a snapshot still running when it was
	// read (Store.Snapshots), whether it is: Runner names the live process
	// that holds its account's snapshot lock; Stopped is set when no live
	// process does (it was killed, its machine lost, or it exited without
	// closing it), so nothing will finish it but the next run of its
	// source and account. Neither is set when the locks could not be read.
	Runner  *SnapshotRunningError
	Stopped bool
}

// Reach is how much of its source a snapshot read, as its connector
// counted it, and the limits of the connector itself: what an evidence
// report's completeness section states per source (docs/report.md).
type Reach struct {
	// Unit is what the source is made of, plural: "repositories",
	// "accounts", "files and TLS endpoints", "rows".
	Unit string `json:"unit"`
	// Read counts the units read; NotRead names each unit that exists but
	// was not read, with why.
	Read    int      `json:"read"`
	NotRead []string `json:"not_read"`
	// Requests counts the requests the run sent to the source (API calls,
	// TLS handshakes; retries included); 0 for a file.
	Requests int `json:"requests"`
	// NotCollected are the kinds of credential the source has that the
	// connector does not read; CannotSee what no credential the connector
	// can use sees at all.
	NotCollected []string `json:"not_collected"`
	CannotSee    []string `json:"cannot_see"`
}

// ErrorSummary is why a failed snapshot failed, short enough for a line:
// its error up to the advice that follows the first "; " (nhi snapshots
// show N has the whole of it), with control characters made printable.
func (s *Snapshot) ErrorSummary() string {
	e, _, _ := strings.Cut(s.Error, "; ")
	return Printable(strings.TrimSpace(e))
}

// UnreadState is the state of an account whose newest snapshot is s and
// which has no finished one (UnreadOf), as nhi snapshots and the review
// UI's overview say it: "failed: " and the error's summary, or that s is
// running or was stopped before it finished.
func (s *Snapshot) UnreadState() string {
	switch {
	case s.Status == SnapshotRunning:
		return s.RunState()
	case s.Error != "":
		return Printable(s.Status) + ": " + s.ErrorSummary()
	}
	return Printable(s.Status)
}

// RunState says of a running snapshot whether it runs: "running (pid
// 4242 on host build-1, started 09:12 UTC)", "stopped before it finished
// (no live nhi process holds it)", or, when the locks could not be read,
// "running, or stopped before it finished".
func (s *Snapshot) RunState() string {
	switch {
	case s.Runner != nil:
		return "running (" + s.Runner.process() + ")"
	case s.Stopped:
		return "stopped before it finished (no live nhi process holds it)"
	}
	return "running, or stopped before it finished"
}

// LastAt is when the snapshot finished, or when it started while it has
// not: the time a list of snapshots shows for it.
func (s *Snapshot) LastAt() time.Time {
	if s.FinishedAt != nil {
		return *s.FinishedAt
	}
	return s.StartedAt
}

// Total is the number of identities in the snapshot.
func (s *Snapshot) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}
