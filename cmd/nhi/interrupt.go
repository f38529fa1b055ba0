package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// A command stopped by ctrl-c, SIGTERM or SIGHUP (main's context, signals.go) fails with
// whatever its work was doing when the context ended: "context canceled",
// or, when the interrupt closed a statement under a goroutine still using
// it, "sql: statement is closed". Neither says what happened, nor what
// is kept. So run says it: the command was interrupted, and what its
// annotation (interruptedNote) says of what is left and what to run next.
// An error that already says "interrupted" (a connector run's: what was
// read is kept, run again to continue) is left as it is.

// annInterrupted is the annotation a command keeps its interruptedNote in.
const annInterrupted = "nhi.interrupted"

// interruptedNote records what an interrupted cmd leaves and what to do:
// a clause that follows "interrupted before nhi CMD finished: ".
func interruptedNote(cmd *cobra.Command, note string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annInterrupted] = note
}

// interrupted is err, of cmd, once ctx has ended, as what the user reads.
func interrupted(ctx context.Context, cmd *cobra.Command, err error) error {
	if ctx.Err() == nil || err == nil || strings.Contains(err.Error(), "interrupted") {
		return err
	}
	path := "nhi"
	if cmd != nil {
		path = cmd.CommandPath()
		if note := cmd.Annotations[annInterrupted]; note != "" {
			return fmt.Errorf("interrupted before %s finished: %s", path, note)
		}
	}
	if errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "statement is closed") {
		return fmt.Errorf("interrupted before %s finished; run it again", path)
	}
	return fmt.Errorf("interrupted before %s finished; run it again (%w)", path, err)
}
