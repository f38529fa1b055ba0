// Package connectors defines the contract every identity source implements;
// one sub-package per source (connectors/github, later others) does the reading.
package connectors

import (
	"context"

	"github.com/nhi-audit/nhi/audit"
)

// Recorder receives what a connector reads during one snapshot. A connector
// sees only this: never decisions, owners or earlier snapshots.
type Recorder interface {
	// Record stores one identity as observed now. Secret values must already
	// be dropped: an Observation carries metadata only.
	Record(audit.Observation) error
	// Gap records an endpoint that could not be read. The snapshot becomes
	// partial; the gap is never read as "zero identities".
	Gap(audit.Gap) error
	// Principal records a person or team read as context for ownership
	// (org members, repository admin teams, CODEOWNERS). Not an NHI.
	Principal(audit.Principal) error
	// Scope records, as positive evidence, what was read in full: a
	// removal is claimed only where a later snapshot looked (see
	// audit.ScopeRead). A connector records it for every place it reads,
	// with the unit of work that read it.
	Scope(audit.ScopeRead) error
	// Checkpoint says a unit of work (an endpoint, a repository) is fully
	// recorded; Checkpointed says an interrupted earlier run already did
	// it, so a resumed run skips it.
	Checkpoint(unit string) error
	Checkpointed(unit string) bool
}

// Connector reads the non-human identities of one account of one source.
type Connector interface {
	// Source names the system ("github").
	Source() string
	// Account names what is read within it (the organisation login).
	Account() string
	// APIURL is the base URL the connector reads from, for the record.
	APIURL() string
	// Run reads everything and streams it to r. A returned error means the
	// snapshot could not be completed; gaps are not errors.
	Run(ctx context.Context, r Recorder) error
}
