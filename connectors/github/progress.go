package github

import "time"

// Phases of a run, in Progress.Phase.
const (
	PhaseOrg     = "org"     // reading organisation-level endpoints
	PhaseRepos   = "repos"   // reading repositories
	PhaseWaiting = "waiting" // waiting for the rate limit to reset
	PhaseDone    = "done"    // everything read
)

// Progress is how a run is going, handed to Options.Progress whenever
// something changes: a phase starts, a repository is done, a second passes
// while waiting for the rate limit, or there is something to say (Message).
type Progress struct {
	Org        string
	Phase      string
	Doing      string // what is being read, e.g. "GET /orgs/acme/hooks" or "repositories"
	ReposDone  int    // repositories fully read, including those a resumed run skipped
	ReposTotal int    // 0 until the repository list is read
	Stats             // counters so far
	// The primary rate limit as GitHub last reported it (RateRemaining
	// is -1 before the first answer).
	RateLimit     int
	RateRemaining int
	RateReset     time.Time
	// Wait is, while Phase is PhaseWaiting, the time left until the reset
	// or the end of a secondary-limit pause, and Until that time.
	Wait  time.Duration
	Until time.Time
	// Secondary: the wait is a secondary rate limit's pause (every
	// worker waits; the primary budget may have plenty left), not the
	// primary budget's reset.
	Secondary bool
	// Message, when not "", is a line to show as is: resuming, backing off.
	Message string
}

// emit tells Options.Progress the state, with phase and doing when not "".
func (c *Connector) emit(phase, doing string, wait time.Duration) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	if phase != "" {
		c.phase = phase
	}
	if doing != "" {
		c.doing = doing
	}
	c.sendLocked(wait, "")
}

// note tells Options.Progress a one-off message.
func (c *Connector) note(msg string) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	c.sendLocked(0, msg)
}

func (c *Connector) repoDone() {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	c.reposDone++
	c.sendLocked(0, "")
}

func (c *Connector) sendLocked(wait time.Duration, msg string) {
	if c.progress == nil {
		return
	}
	limit, remaining, reset := c.rate.snapshot()
	p := Progress{
		Org: c.org, Phase: c.phase, Doing: c.doing,
		ReposDone: c.reposDone, ReposTotal: c.reposTotal,
		Stats:     c.Stats(),
		RateLimit: limit, RateRemaining: remaining, RateReset: reset,
		Message: msg,
	}
	if c.phase == PhaseWaiting {
		p.Wait, p.Until, p.Secondary = wait, c.waitUntil, c.waitSecondary
	}
	c.progress(p)
}
