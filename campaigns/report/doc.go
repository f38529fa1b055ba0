// Package report writes a review campaign's evidence bundle for an external auditor — the same report as HTML, Markdown, CSV and JSON with a manifest tied to the event log, optionally signed — and verifies such a bundle (docs/report.md).
package report
