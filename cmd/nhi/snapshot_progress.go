package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
)

// progressPrinter shows how a snapshot goes on stderr: on a terminal one
// line redrawn in place (at most ten times a second); otherwise plain log
// lines, few of them: one per tenth of the repositories, one when the
// phase changes, one a minute while waiting for the rate limit, and one
// every 30 seconds when nothing else was said. Messages (resuming,
// retrying) always get their own line.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	width int // of the terminal, 0 if unknown
	now   func() time.Time
	last  time.Time // when a line was last written
	drawn bool      // a live line is on screen
	phase string
	step  int // tenths of the repositories reported
}

const (
	ttyRedraw = 100 * time.Millisecond
	logQuiet  = 30 * time.Second
	logWait   = time.Minute
)

func newProgressPrinter(w io.Writer, tty bool, width int, now func() time.Time) *progressPrinter {
	return &progressPrinter{w: w, tty: tty, width: width, now: now}
}

func terminalWidth(w io.Writer) int {
	f, ok := osFile(w)
	if !ok || !term.IsTerminal(f.Fd()) {
		return 0
	}
	width, _, err := term.GetSize(f.Fd())
	if err != nil {
		return 0
	}
	return width
}

// Update takes one report from the connector.
func (p *progressPrinter) Update(pr ghconn.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if pr.Message != "" {
		p.clearLine()
		fmt.Fprintln(p.w, audit.Printable(pr.Message))
		p.last = now
		if p.tty {
			p.draw(pr)
		}
		return
	}
	changed := pr.Phase != p.phase
	p.phase = pr.Phase
	if p.tty {
		if changed || now.Sub(p.last) >= ttyRedraw || pr.Phase == ghconn.PhaseDone {
			p.draw(pr)
			p.last = now
		}
		return
	}
	step := 0
	if pr.ReposTotal > 0 {
		step = pr.ReposDone * 10 / pr.ReposTotal
	}
	quiet := logQuiet
	if pr.Phase == ghconn.PhaseWaiting {
		quiet = logWait
	}
	if changed || step > p.step || now.Sub(p.last) >= quiet {
		p.step = max(p.step, step)
		fmt.Fprintln(p.w, line(pr))
		p.last = now
	}
}

// Close ends the live line, if any.
func (p *progressPrinter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progressPrinter) draw(pr ghconn.Progress) {
	l := line(pr)
	if p.width > 1 && len(l) >= p.width {
		l = l[:p.width-2] + "…"
	}
	fmt.Fprint(p.w, "\r\x1b[K"+l)
	p.drawn = true
}

func (p *progressPrinter) clearLine() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// line is one report in words.
func line(pr ghconn.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "github/%s: ", pr.Org)
	switch pr.Phase {
	case ghconn.PhaseWaiting:
		if pr.Secondary {
			// Not the primary budget, which may have plenty left.
			fmt.Fprintf(&b, "GitHub's secondary rate limit asked to pause; every worker waits %s, until %s (--no-wait stops instead)",
				pr.Wait.Round(time.Second), pr.Until.UTC().Format("15:04:05 MST"))
			return b.String()
		}
		fmt.Fprintf(&b, "API rate limit exhausted; waiting %s for the reset at %s (--no-wait stops instead)",
			pr.Wait.Round(time.Second), pr.RateReset.UTC().Format("15:04:05 MST"))
		return b.String()
	case ghconn.PhaseDone:
		fmt.Fprintf(&b, "done, %s", counted(pr.ReposTotal, "repository", "repositories"))
	case ghconn.PhaseRepos:
		if pr.ReposTotal > 0 {
			fmt.Fprintf(&b, "repositories %d/%d (%d%%)", pr.ReposDone, pr.ReposTotal, pr.ReposDone*100/pr.ReposTotal)
		} else {
			b.WriteString("no repositories")
		}
	default:
		fmt.Fprintf(&b, "reading %s", pr.Doing)
	}
	fmt.Fprintf(&b, ", %s, %s", counted(pr.Identities, "identity", "identities"), counted(pr.Requests, "request", "requests"))
	if pr.Requests > 0 && pr.NotModified > 0 {
		fmt.Fprintf(&b, " (%d%% unchanged)", pr.NotModified*100/pr.Requests)
	}
	if pr.GraphQLQueries > 0 {
		// Two budgets at GitHub (docs/github.md): say what each was charged.
		fmt.Fprintf(&b, ", rate-limit points %d REST and %d GraphQL", pr.RESTPoints, pr.GraphQLPoints)
	}
	if pr.Gaps > 0 {
		fmt.Fprintf(&b, ", %d not readable", pr.Gaps)
	}
	if pr.RateRemaining >= 0 && pr.RateLimit > 0 {
		fmt.Fprintf(&b, ", rate limit %d/%d left", pr.RateRemaining, pr.RateLimit)
		if !pr.RateReset.IsZero() {
			fmt.Fprintf(&b, " until %s", pr.RateReset.UTC().Format("15:04 MST"))
		}
	}
	return b.String()
}
