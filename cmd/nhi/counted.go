package main

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// plural is one when n is 1 and many otherwise (audit.Plural).
func plural(n int, one, many string) string { return audit.Plural(n, one, many) }

// counted is n and its noun, which agree: "1 identity", "2 identities",
// "0 identities" (audit.Counted, which the reports use too).
func counted(n int, one, many string) string { return audit.Counted(n, one, many) }

// cobraArgs is the count in cobra's own argument checks: "accepts 1
// arg(s), received 0", "requires at least 2 arg(s), only received 1".
var cobraArgs = regexp.MustCompile(`(\d+) arg\(s\)`)

// cobraArgCount is cobra's argument-count message with its count agreeing
// with its noun ("accepts 1 argument, received 0"), and whether msg was one.
func cobraArgCount(msg string) (string, bool) {
	if !cobraArgs.MatchString(msg) {
		return msg, false
	}
	return cobraArgs.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimSuffix(m, " arg(s)"))
		return counted(n, "argument", "arguments")
	}), true
}

// eventSpan names the events a write appended, first to last: "event 7"
// when there is one, "events 7–9" otherwise.
func eventSpan(first, last int64) string {
	if first == last {
		return "event " + strconv.FormatInt(first, 10)
	}
	return "events " + strconv.FormatInt(first, 10) + "–" + strconv.FormatInt(last, 10)
}

// failedSnapshots is the error a run of total accounts (or clusters) ends
// with when the snapshots of those in failed failed: it names them, and
// says the others are saved only when there were others.
func failedSnapshots(failed []string, total int, one, many string) error {
	msg := "the snapshot of " + one + " " + failed[0] + " failed"
	if len(failed) > 1 {
		msg = "the snapshots of " + counted(len(failed), one, many) + " failed (" + strings.Join(failed, ", ") + ")"
	}
	if len(failed) < total {
		msg += "; the others are saved"
	}
	return errors.New(msg)
}
