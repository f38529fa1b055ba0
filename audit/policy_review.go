package audit

import (
	"fmt"
	"strings"
)

// The review's own rules in the policy: how long an exception (a keep on
// an identity with findings) may last and whether a second person must
// approve it (docs/policy.md, "Exceptions"). They sit at the top level of
// the policy file beside rules, in their own struct so other review
// settings keep to theirs.

// Exception approval settings.
const (
	ApprovalNone     = "none"     // the reviewer's keep is the exception
	ApprovalRequired = "required" // a second person, not the reviewer, approves it
)

// DefaultExceptionDays is how long an exception lasts when the policy
// does not say.
const DefaultExceptionDays = 90

// ExceptionPolicy bounds exceptions. Its zero value is the default: an
// unset field is not written into the policy's canonical form, so the
// digest of a policy that leaves them out is what it was before they
// existed.
type ExceptionPolicy struct {
	// Days is the longest an exception lasts, from the decision; 0 means
	// DefaultExceptionDays.
	Days int `yaml:"exception_days,omitempty" json:"exception_days,omitempty"`
	// Approval is ApprovalRequired or ApprovalNone ("" is none).
	Approval string `yaml:"exception_approval,omitempty" json:"exception_approval,omitempty"`
}

// ExceptionDays is how long an exception may last, in days.
func (e ExceptionPolicy) ExceptionDays() int {
	if e.Days > 0 {
		return e.Days
	}
	return DefaultExceptionDays
}

// ApprovalRequired reports whether a second person must approve each
// exception.
func (e ExceptionPolicy) ApprovalRequired() bool { return e.Approval == ApprovalRequired }

func (e ExceptionPolicy) validate() error {
	if e.Days < 0 {
		return fmt.Errorf("policy: exception_days cannot be negative (it is %d)", e.Days)
	}
	switch e.Approval {
	case "", ApprovalNone, ApprovalRequired:
	default:
		return fmt.Errorf("policy: exception_approval %q is not one of %s, %s", e.Approval, ApprovalRequired, ApprovalNone)
	}
	return nil
}

// exceptionsYAML is the policy file's exceptions part: the values set, or
// the defaults as comments, so the file round-trips to the same digest.
func (e ExceptionPolicy) exceptionsYAML(b *strings.Builder) {
	b.WriteString("# Exceptions: a keep on an identity with findings lasts at most exception_days\n")
	b.WriteString("# (default 90); exception_approval: required makes a second person approve it.\n")
	if e.Days > 0 {
		fmt.Fprintf(b, "exception_days: %d\n", e.Days)
	} else {
		fmt.Fprintf(b, "# exception_days: %d\n", DefaultExceptionDays)
	}
	if e.Approval != "" {
		fmt.Fprintf(b, "exception_approval: %s\n", e.Approval)
	} else {
		fmt.Fprintf(b, "# exception_approval: %s\n", ApprovalNone)
	}
}
