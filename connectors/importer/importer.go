// Package importer reads a population of non-human identities from a CSV
// or JSON file (an export from a system nhi has no connector for) and
// records it as one snapshot, exactly as a connector run does. The file is
// the whole population: docs/import.md describes its columns and rules.
package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// DefaultAccount is the account of an import that names none.
const DefaultAccount = "default"

// MaxErrors is how many errors a refused file lists before it stops reading.
const MaxErrors = 50

// KindPrefix marks the kinds nhi does not know, so they never collide with
// a connector's own.
const KindPrefix = audit.ImportKindPrefix

// DefaultKind is the kind of a row whose kind cell is empty.
const DefaultKind = KindPrefix + "identity"

// Reserved source names: the connectors' own. Importing under one of them
// would make every identity the connector read look removed.
var reserved = []string{"github", "aws", "x509", "k8s"}

var (
	sourceName  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	accountName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@/-]{0,127}$`)
	kindName    = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,62}$`)
)

// Options say what a file is the population of.
type Options struct {
	Source  string // required; not a connector's name
	Account string // DefaultAccount when empty
	Format  string // FormatCSV or FormatJSON
	// File names the input in messages and in the snapshot's record.
	File string
}

// Check reports a usage mistake in opts, before any reading.
func (o *Options) Check() error {
	if o.Account == "" {
		o.Account = DefaultAccount
	}
	switch {
	case o.Source == "":
		return fmt.Errorf("--source is required: name the system the file comes from (for example slack, okta, vault)")
	case slices.Contains(reserved, strings.ToLower(o.Source)):
		return fmt.Errorf("--source %s is a connector's own source; an import under it would mark every identity the connector read as removed. Name the system the file comes from instead (for example %s-export)", o.Source, strings.ToLower(o.Source))
	case !sourceName.MatchString(o.Source):
		return fmt.Errorf("--source %q: use lower-case letters, digits, '.', '_' or '-' (up to 63), starting with a letter or digit", audit.Printable(o.Source))
	case !accountName.MatchString(o.Account):
		return fmt.Errorf("--account %q: use letters, digits, '.', '_', '@', '/' or '-' (up to 128), starting with a letter or digit", audit.Printable(o.Account))
	case o.Format != FormatCSV && o.Format != FormatJSON:
		return fmt.Errorf("--format %q: use csv or json", audit.Printable(o.Format))
	}
	return nil
}

// Error is one problem in the file, where it is.
type Error struct {
	Line, Column int    // 1-based; Column 0 when the whole line is meant
	Field        string // the column, when known
	Msg          string
}

func (e Error) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (%s)", audit.Printable(e.Field))
	}
	return b.String() + ": " + e.Msg
}

// Errors is a refused file: nothing of it was recorded.
type Errors struct {
	File string
	List []Error
	More bool // reading stopped at MaxErrors
}

func (e *Errors) Error() string {
	var b strings.Builder
	n := fmt.Sprint(len(e.List))
	if e.More {
		n = "more than " + n
	}
	noun := "errors"
	if len(e.List) == 1 && !e.More {
		noun = "error"
	}
	fmt.Fprintf(&b, "%s: %s %s, so nothing was imported (an import is all or nothing):", audit.Printable(e.File), n, noun)
	for _, x := range e.List {
		b.WriteString("\n  " + x.String())
	}
	if e.More {
		fmt.Fprintf(&b, "\n  … reading stopped after %d errors; fix these and run the import again", MaxErrors)
	}
	return b.String()
}

// collector gathers errors up to MaxErrors.
type collector struct {
	errs Errors
}

// add records an error; it reports false once reading should stop.
func (c *collector) add(e Error) bool {
	if len(c.errs.List) >= MaxErrors {
		c.errs.More = true
		return false
	}
	c.errs.List = append(c.errs.List, e)
	return true
}

func (c *collector) full() bool { return len(c.errs.List) >= MaxErrors }

// secretWords are column names that suggest a secret value rather than
// metadata; nhi refuses the whole file rather than store one.
var secretWords = []string{"secret", "token", "password", "value"}

// secretColumn reports whether a column name (normalised) looks like it
// holds a secret value: one of secretWords, or ending in one
// (client_secret, api_token). has_… columns are yes/no facts.
func secretColumn(name string) bool {
	if strings.HasPrefix(name, "has_") {
		return false
	}
	words := strings.Split(name, "_")
	return slices.Contains(secretWords, words[len(words)-1])
}

const secretMsg = "looks like it holds a secret value; nhi stores metadata only (names, dates, owners, permissions), never a secret, token or password. Remove the column from the file (or rename it if it holds no secret) and import again"

// normColumn is how a header cell names a column: trimmed, lower case,
// spaces and hyphens as underscores.
func normColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

// Known columns; any other becomes an attribute.
const (
	colKey         = "key"
	colKind        = "kind"
	colName        = "name"
	colScope       = "scope"
	colOwner       = "owner"
	colCreated     = "created_at"
	colLastUsed    = "last_used_at"
	colRotated     = "rotated_at"
	colExpires     = "expires_at"
	colPermissions = "permissions"
)

// never, in expires_at or rotated_at, says outright that the identity
// never expires or was never rotated, where an empty cell says nothing.
const never = "never"

// builder turns cells into observations, reporting each bad cell. It
// runs twice over a file: Parse checks (emit is nil: it counts, and keeps
// the keys), then Each records (emit hands on each identity).
type builder struct {
	source, account string
	c               *collector
	keys            *keySet // the keys seen so far; nil in Each
	// kinds remembers each kind cell's stored kind (or why it is refused):
	// a file has a few kinds over many rows.
	kinds  map[string]kindOf
	counts map[audit.Kind]int // identities per kind; nil in Each
	n      int                // identities read
	delim  rune               // the CSV separator the header says
	emit   func(audit.Observation) error
	err    error // emit's first error: reading stops
}

// newBuilder is a builder of a file of source and account: one that
// checks (emit nil: it counts, and keeps the keys) or one that records,
// handing each identity to emit.
func newBuilder(source, account, file string, emit func(audit.Observation) error) *builder {
	b := &builder{source: source, account: account, c: &collector{errs: Errors{File: file}}, kinds: map[string]kindOf{}, emit: emit}
	if emit == nil {
		b.keys, b.counts = &keySet{}, map[audit.Kind]int{}
	}
	return b
}

// stopped reports whether reading should stop: too many errors, or the
// recorder refused an identity.
func (b *builder) stopped() bool { return b.c.errs.More || b.err != nil }

type kindOf struct {
	kind string
	err  error
}

// cell is one value with where it was.
type cell struct {
	line, col int
	field     string
	text      string
	list      []string // a JSON array (permissions only)
	isList    bool
	null      bool
}

// row turns the cells of one record into an observation; line and col
// are where the record starts. Checking, it only checks: the maps and
// pointers of an observation are built when it is recorded.
func (b *builder) row(line, col int, cells []cell) {
	record := b.emit != nil
	o := audit.Observation{}
	var key, kind string
	var keyCell cell
	// What the row says of expiry, rotation and permissions: an empty or
	// absent cell is "not reported", never "none" (docs/import.md).
	var saysExpiry, saysRotation, saysPermissions bool
	errs := len(b.c.errs.List)
	bad := func(c cell, msg string) { b.c.add(Error{Line: c.line, Column: c.col, Field: c.field, Msg: msg}) }
	for _, c := range cells {
		if c.null {
			continue
		}
		if c.isList && c.field != colPermissions {
			bad(c, "a list is only read in the permissions column; write this value as text")
			continue
		}
		text := strings.TrimSpace(c.text)
		switch c.field {
		case colKey:
			key, keyCell = text, c
		case colKind:
			kind = text
			if kind != "" {
				k, ok := b.kinds[kind]
				if !ok {
					k.kind, k.err = normKind(kind)
					b.kinds[kind] = k
				}
				if k.err != nil {
					bad(c, k.err.Error())
				}
				kind = k.kind
			}
		case colName:
			o.Name = text
		case colScope:
			o.Scope = text
		case colCreated, colLastUsed, colRotated, colExpires:
			if text == "" {
				continue
			}
			saysExpiry = saysExpiry || c.field == colExpires
			saysRotation = saysRotation || c.field == colRotated
			if (c.field == colExpires || c.field == colRotated) && strings.EqualFold(text, never) {
				continue // said outright: it never expires, it was never rotated
			}
			t, err := parseTimestamp(text)
			if err != nil {
				bad(c, err.Error())
				continue
			}
			if !record {
				continue
			}
			switch c.field {
			case colCreated:
				o.CreatedAt = &t
			case colLastUsed:
				o.LastUsedAt = &t
			case colRotated:
				o.RotatedAt = &t
			case colExpires:
				o.ExpiresAt = &t
			}
		case colPermissions:
			list := c.list
			// A list, even an empty one ([]), says what is granted; an
			// empty cell does not.
			saysPermissions = c.isList || text != ""
			if !c.isList {
				if strings.HasPrefix(text, "[") {
					if err := json.Unmarshal([]byte(text), &list); err != nil {
						bad(c, "starts with [ but is not a JSON array of strings; write permissions separated by spaces, or as [\"a\", \"b\"]")
						continue
					}
				} else if record {
					list = strings.Fields(text)
				}
			}
			if record {
				o.Permissions = permissions(list)
			}
		default: // an attribute; colOwner too (a suggestion, see docs/import.md)
			if text != "" && record {
				if o.Attributes == nil {
					o.Attributes = map[string]string{}
				}
				o.Attributes[c.field] = text
			}
		}
	}
	if key == "" {
		c := keyCell
		if c.line == 0 {
			c = cell{line: line, col: col, field: colKey}
		}
		bad(c, "the key is empty; every identity needs a key that is unique within the source")
	} else if b.keys != nil {
		if first, dup := b.keys.add(key, keyCell.line); dup {
			bad(keyCell, fmt.Sprintf("key %q is also on line %d; keys are unique within the source", audit.Printable(key), first))
		}
	}
	if len(b.c.errs.List) > errs || b.c.full() {
		return
	}
	if kind == "" {
		kind = DefaultKind
	}
	o.Kind = audit.Kind(kind)
	b.n++
	if !record {
		b.counts[o.Kind]++
		return
	}
	o.ID = audit.IdentityID(b.source, b.account, o.Kind, key)
	// A last use, an expiry, a rotation or permissions the row does not
	// give, on a kind that has them (a last use: one of nhi's own kinds
	// whose source reports use, an AWS access key, or an imported kind,
	// whose file may give it): not reported, never "never used", "never
	// expires", "never rotated" or "no permission" (docs/import.md).
	// On one of nhi's own kinds the marks name the cells too
	// (audit.AttrEmptyInFile), so what was not read says the file left
	// them empty, not a gap of a snapshot as a connector's would.
	var empty []string
	for _, m := range [...]struct {
		unsaid     bool
		attr, cell string
	}{
		{o.LastUsedAt == nil && (o.Kind.TracksLastUse() || o.Kind.Imported()), audit.AttrLastUseUnknown, colLastUsed},
		{!saysExpiry && o.Kind.MayExpire(), audit.AttrExpiryUnknown, colExpires},
		{!saysRotation && o.Kind.ReportsRotation(), audit.AttrRotationUnknown, colRotated},
		{!saysPermissions && o.Kind.CarriesPermissions(), audit.AttrPoliciesUnknown, colPermissions},
	} {
		if m.unsaid {
			if o.Attributes == nil {
				o.Attributes = map[string]string{}
			}
			o.Attributes[m.attr] = "true"
			empty = append(empty, m.cell)
		}
	}
	if len(empty) > 0 && !o.Kind.Imported() {
		o.Attributes[audit.AttrEmptyInFile] = strings.Join(empty, " ")
	}
	if o.Name == "" {
		o.Name = key
	}
	b.err = b.emit(o)
}

// normKind keeps a known kind and prefixes any other with KindPrefix.
func normKind(s string) (string, error) {
	k := normColumn(s)
	if !kindName.MatchString(k) {
		return "", fmt.Errorf("kind %q: use letters, digits and underscores (for example bot_token)", audit.Printable(s))
	}
	if slices.Contains(audit.Kinds, audit.Kind(k)) || strings.HasPrefix(k, KindPrefix) {
		return k, nil
	}
	return KindPrefix + k, nil
}

// levels are the permission levels nhi compares (read < write < admin).
var levels = []string{"read", "write", "admin"}

// permissions maps each entry to its level: "contents:write" is contents
// at write; an entry without a known level ("chat:write:bot",
// "admin") is granted as it is.
func permissions(list []string) map[string]string {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]string, len(list))
	for _, p := range list {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if i := strings.LastIndexByte(p, ':'); i > 0 {
			if lvl := strings.ToLower(p[i+1:]); slices.Contains(levels, lvl) {
				m[strings.ToLower(p[:i])] = lvl
				continue
			}
		}
		m[strings.ToLower(p)] = "granted"
	}
	return m
}

// Connector records a parsed population as one snapshot. It reads the
// whole population at once, so an interrupted earlier import is never
// resumed (connectors.Whole).
type Connector struct {
	pop *Population
	url string
}

// NewConnector records pop; path is the file it came from, for the record.
func NewConnector(pop *Population, path string) *Connector {
	return &Connector{pop: pop, url: "file:" + path}
}

// Source is the --source the file was imported as.
func (c *Connector) Source() string { return c.pop.Source }

// Account is the --account the file was imported as.
func (c *Connector) Account() string { return c.pop.Account }

// APIURL names the file.
func (c *Connector) APIURL() string { return c.url }

// Whole says an interrupted import is never resumed: the next import is
// the whole population again.
func (c *Connector) Whole() {}

// Credential records which file, by digest, the snapshot holds.
func (c *Connector) Credential(context.Context) (string, error) {
	return fmt.Sprintf("import of %s (sha256 %s)", c.pop.File, c.pop.SHA256), nil
}

// Reach says what the import read (connectors.Reacher): every row of the
// file, and what an import cannot see.
func (c *Connector) Reach() audit.Reach {
	return audit.Reach{Unit: "rows", Read: c.pop.Identities, CannotSee: CannotSee}
}

// CannotSee is what no import sees: the evidence report lists it.
var CannotSee = []string{
	"the system itself: nhi reads the export only, so an identity the export left out is not in the population (and the next import that lists it again shows it as new)",
}

// Run records every identity, reading the file again as it goes
// (Population.Each). It never fails on content: Parse already refused
// any file it could not take whole. It records no audit.ScopeRead: an
// import is all or nothing, so its complete snapshot looked everywhere,
// which is what a snapshot without scopes means (ARCHITECTURE.md,
// "Removals"); an identity missing from the file is removed.
func (c *Connector) Run(ctx context.Context, r connectors.Recorder) error {
	n := 0
	return c.pop.Each(func(o audit.Observation) error {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n++
		return r.Record(o)
	})
}
