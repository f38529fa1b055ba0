package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// helpTopics names what each help topic explains, for the hints that
// point to it ("Run 'nhi help filter' for the filter language.").
var helpTopics = map[string]string{
	"filter": "the filter language",
	"policy": "the policy file",
}

// filterExamples open nhi help filter; TestHelpFilter parses each.
var filterExamples = []struct{ expr, says string }{
	{"kind:deploy_key unused>90d", "deploy keys idle for more than 90 days"},
	{"finding:stale -owner:none", "stale and owned: ask the owner"},
	{"severity:high decision:pending", "what still needs a decision, worst first"},
	{"scope:acme/payments* (perm:admin or perm.contents:write)", "admin or write access in the payments repositories"},
	{"expires<14d or expired", "credentials about to break, or broken"},
	{`"release bot"`, "anything whose ID, name, scope or owner says so"},
}

// newFilterHelp is the help topic nhi help filter: docs/filter.md in
// short, its field table generated from the filter package's field list
// as the document's is, so the two cannot disagree.
func newFilterHelp() *cobra.Command {
	var b strings.Builder
	b.WriteString(`One language selects identities everywhere in nhi: nhi identities --filter,
the review UI's live filter (/), campaign scopes (--scope), and the bulk
writes (owner set, note add and decide --filter).

Examples:
`)
	for _, e := range filterExamples {
		b.WriteString("  " + e.expr + "\n      " + e.says + "\n")
	}
	b.WriteString(`
Syntax:
  a b, a and b                  both
  a or b                        either; or binds more loosely than and
  -a, not a                     not a
  ( … )                         grouping
  field:value                   a field matches a value (* and ? are globs)
  field>90d, <, >=, <=          a relative time: h, d, w, mo (30 d), y (365 d)
  word, "a phrase"              free text over ID, name, scope and owner
  expired                       expiry date in the past

Keywords and field names are case-insensitive, and so are value comparisons.
Values of kind, finding, severity, status, decision and used are checked: a
typo is an error with a suggestion, never a filter that matches nothing.

Fields (an identity matches when it…):
`)
	b.WriteString(filter.FieldsText())
	b.WriteString(`
The whole reference, with relative time and globs in detail: docs/filter.md.
`)
	return &cobra.Command{
		Use:   "filter",
		Short: "The filter language: fields, operators, examples",
		Long:  b.String(),
	}
}

// policyHelp is what nhi help policy adds to the policy command's own help:
// the file's keys and, from the built-in default, every rule with its
// thresholds (what nhi policy show prints before any policy is set).
func policyHelp() string {
	return `
The policy file is YAML (JSON works too). Everything is optional: what the
file leaves out keeps its default. Keys:
  version            1
  first_party_apps   GitHub App slugs your organisation owns; any other
                     installed App is third-party
  rules              one entry per rule, each with:
    enabled          true (the default) or false to switch the rule off
    severity         low, medium, high or critical
    days, unused_days, never_used_days
                     the rule's thresholds in whole days, where it has them
                     (0 is refused while the rule is on)
  review             the thresholds the evidence report judges the review
                     by: min_reason_chars, max_reason_kinds,
                     min_median_seconds, max_bulk_percent,
                     max_kept_findings_percent, max_decisions_per_minute
                     (whole numbers of 1 or more; docs/policy.md, "Review
                     signals")

Unknown keys and rules are errors, with the nearest name, so a typo cannot
switch a check off. The built-in default, with every rule:

` + indent(strings.TrimSuffix(audit.DefaultPolicy().YAML(), "\n"), "  ") + `

See docs/policy.md for when a policy applies to findings and snapshots.`
}
