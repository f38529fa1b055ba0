package audit

import "time"

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

// Total is the number of identities in the snapshot.
func (s *Snapshot) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}
