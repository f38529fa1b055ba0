// Package campaigns runs quarterly access reviews: a frozen population,
// reviewers, decisions, close, verification of removals, and the evidence
// report. It builds on audit and is filled in by the campaigns issue.
package campaigns
