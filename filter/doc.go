// Package filter is the filter language: one syntax for `nhi identities
// --filter`, the TUI's live filter, campaign scopes, bulk decisions, notes
// and owner assignment. docs/filter.md is the user's reference; this
// comment is the implementer's.
//
//	expr    = or
//	or      = and { "or" and }
//	and     = unary { ["and"] unary }          adjacency is "and"
//	unary   = ("not" | "-") unary | "(" or ")" | term
//	term    = field op value | "expired" | text
//	op      = ":" | ">" | "<" | ">=" | "<="
//
// A word is a run of characters up to unquoted white space or a
// parenthesis; double-quoted parts and backslash-escaped characters are
// literal (no keyword, no glob, no field). A word is a field term when an
// unquoted ":", "<", ">" or "=" follows a leading run of unquoted
// characters; that run is the field name.
//
// The package imports nothing of nhi's (see ARCHITECTURE.md): it matches a
// [Subject], which *audit.Identity implements, and it learns the kinds,
// rules, severities and statuses it checks values against from a
// [Vocabulary] (audit.Vocabulary). The fields are one table, in terms.go;
// lex.go is the lexer, parse.go the parser, match.go what each term
// matches, print.go the canonical form and glob.go the case-folding globs.
//
// Compilation does all the work: needles are case-folded, globs classified
// (exact, prefix, contains, general), enum values resolved, durations turned
// into thresholds. Match allocates nothing and reads the clock never: time
// comes from Env.Now. A Filter is immutable and safe for concurrent use.
package filter
