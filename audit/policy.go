package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Finding rules (docs/policy.md, "Rules").
const (
	RuleStale           = "stale"
	RuleUnrotated       = "unrotated"
	RuleNoExpiry        = "no-expiry"
	RuleExpired         = "expired"
	RuleExpiring        = "expiring"
	RuleOrphaned        = "orphaned"
	RuleOverprivileged  = "overprivileged"
	RuleBroadScope      = "broad-scope"
	RuleThirdParty      = "third-party"
	RuleHumanCredential = "human-credential"
	RuleInsecureWebhook = "insecure-webhook"
	RuleWeakKey         = "weak-key"
	RuleSelfSigned      = "self-signed"
	// RuleNotYetValid: a TLS endpoint serves a certificate whose
	// not-before is still ahead, which its clients refuse until then. In
	// a file it is normal (issued ahead of a rotation), so the rule reads
	// only certificates a TLS endpoint presented.
	RuleNotYetValid = "not-yet-valid"
	RuleLongLived   = "long-lived"
	RuleWildcard    = "wildcard"
	RuleBroadTrust  = "broad-trust"
	// RuleExceptionExpired: a keep on an identity with findings (an
	// exception) outlived its expiry, or was never approved where the
	// policy requires it (docs/campaigns.md, "Exceptions").
	RuleExceptionExpired = "exception-expired"
)

// Rules lists every rule in the order findings are reported.
var Rules = []string{
	RuleExpired, RuleNotYetValid, RuleOrphaned, RuleInsecureWebhook, RuleWeakKey, RuleOverprivileged, RuleStale,
	RuleUnrotated, RuleNoExpiry, RuleExpiring, RuleSelfSigned, RuleLongLived, RuleBroadScope, RuleWildcard,
	RuleBroadTrust, RuleDefaultSA, RuleAutomount, RuleUnused, RuleReuse, RuleThirdParty, RuleHumanCredential, RuleExceptionExpired,
}

// OWASPNHI maps each rule to its OWASP Non-Human Identities Top 10 (2025)
// entry; "" where none fits.
var OWASPNHI = map[string]string{
	RuleStale:           "NHI1",
	RuleUnrotated:       "NHI7",
	RuleNoExpiry:        "NHI7",
	RuleExpired:         "NHI1",
	RuleExpiring:        "",
	RuleOrphaned:        "NHI1",
	RuleOverprivileged:  "NHI5",
	RuleBroadScope:      "NHI5",
	RuleThirdParty:      "NHI3",
	RuleHumanCredential: "NHI10",
	RuleInsecureWebhook: "NHI4",
	RuleWeakKey:         "NHI4",
	RuleSelfSigned:      "NHI4",
	// Not a risk of misuse but of an outage, like expiring.
	RuleNotYetValid: "",
	RuleLongLived:   "NHI7",
	RuleWildcard:    "NHI9",
	RuleBroadTrust:  "NHI5, NHI9",
	// An expired exception is a risk accepted for longer than agreed:
	// which OWASP entry applies is the underlying finding's.
	RuleExceptionExpired: "",
	RuleDefaultSA:        "NHI5",
	RuleAutomount:        "NHI5",
	RuleUnused:           "NHI1",
	RuleReuse:            "NHI9",
}

// SourceImported stands, in RuleSources, for every source an import
// records (nhi import --source NAME): any source no connector reads.
const SourceImported = "import"

// connectorSources are the sources nhi's own connectors read.
var connectorSources = []string{"github", "aws", "k8s", "x509"}

// RuleSources names, for each rule, the sources whose identities it can
// fire for (SourceImported: imported ones), as the evaluator's checks
// (findings.go, findings_aws.go, findings_k8s.go) dispatch by kind. A
// report lists only the rules of the sources its campaign covers
// (docs/report.md).
var RuleSources = map[string][]string{
	RuleExpired:          {"github", "x509", SourceImported},
	RuleExpiring:         {"github", "x509", SourceImported},
	RuleStale:            {"github", "aws", "k8s", SourceImported},
	RuleUnrotated:        {"github", "aws", SourceImported},
	RuleNoExpiry:         {"github", "aws", "k8s"},
	RuleOrphaned:         {"github", "aws", "k8s", "x509", SourceImported},
	RuleOverprivileged:   {"github", "aws", "k8s", SourceImported},
	RuleBroadScope:       {"github", SourceImported},
	RuleThirdParty:       {"github", "aws"},
	RuleHumanCredential:  {"github", "aws"},
	RuleInsecureWebhook:  {"github"},
	RuleWeakKey:          {"x509"},
	RuleSelfSigned:       {"x509"},
	RuleNotYetValid:      {"x509"},
	RuleLongLived:        {"x509"},
	RuleWildcard:         {"x509"},
	RuleBroadTrust:       {"aws"},
	RuleDefaultSA:        {"k8s"},
	RuleAutomount:        {"k8s"},
	RuleUnused:           {"k8s"},
	RuleReuse:            {"k8s"},
	RuleExceptionExpired: {"github", "aws", "k8s", "x509", SourceImported},
}

// RuleApplies reports whether rule can fire for identities of source (an
// import's source when no connector reads it).
func RuleApplies(rule, source string) bool {
	if !slices.Contains(connectorSources, source) {
		source = SourceImported
	}
	return slices.Contains(RuleSources[rule], source)
}

// Severities, lowest first.
var Severities = []string{"low", "medium", "high", "critical"}

// SeverityRank orders severities: low 1 … critical 4, unknown 0.
func SeverityRank(s string) int { return slices.Index(Severities, s) + 1 }

// RulePolicy configures one rule. Fields that do not apply to a rule are
// ignored for it; Validate says which.
type RulePolicy struct {
	Enabled       *bool  `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Severity      string `yaml:"severity" json:"severity"`
	Days          int    `yaml:"days,omitempty" json:"days,omitempty"`
	UnusedDays    int    `yaml:"unused_days,omitempty" json:"unused_days,omitempty"`
	NeverUsedDays int    `yaml:"never_used_days,omitempty" json:"never_used_days,omitempty"`
}

// On reports whether the rule runs.
func (r RulePolicy) On() bool { return r.Enabled == nil || *r.Enabled }

// Policy holds every threshold findings use. The zero value is not useful:
// start from DefaultPolicy or ParsePolicy.
type Policy struct {
	Version int `yaml:"version" json:"version"`
	// FirstPartyApps are the GitHub App slugs the organisation owns; every
	// other installed App is third-party.
	FirstPartyApps []string              `yaml:"first_party_apps" json:"first_party_apps"`
	Rules          map[string]RulePolicy `yaml:"rules" json:"rules"`
	// ExceptionPolicy: exception_days and exception_approval.
	ExceptionPolicy `yaml:",inline"`
	// Review holds the thresholds the evidence report judges the review
	// by; a field left at 0 takes its default (Policy.ReviewThresholds),
	// so a policy that sets none keeps the digest it had before they
	// existed.
	Review ReviewPolicy `yaml:"review,omitempty" json:"review,omitzero"`
}

// ReviewPolicy holds the thresholds of the review's quality signals
// (docs/policy.md, "Review signals"): justifications too short or pasted
// across kinds, and reviewers deciding too fast, in bulk or keeping risk.
// 0 means the default.
type ReviewPolicy struct {
	// MinReasonChars: an exception's justification shorter than this is
	// flagged short-reason.
	MinReasonChars int `yaml:"min_reason_chars,omitempty" json:"min_reason_chars,omitempty"`
	// MaxReasonKinds: one justification on exceptions of more kinds than
	// this is flagged reused-reason.
	MaxReasonKinds int `yaml:"max_reason_kinds,omitempty" json:"max_reason_kinds,omitempty"`
	// MinMedianSeconds: a reviewer whose median interval between decision
	// events is shorter is marked.
	MinMedianSeconds int `yaml:"min_median_seconds,omitempty" json:"min_median_seconds,omitempty"`
	// MaxBulkPercent: a reviewer with a larger share of decisions made in
	// bulk is marked.
	MaxBulkPercent int `yaml:"max_bulk_percent,omitempty" json:"max_bulk_percent,omitempty"`
	// MaxKeptFindingsPercent: a reviewer who kept a larger share of the
	// items with findings they decided is marked.
	MaxKeptFindingsPercent int `yaml:"max_kept_findings_percent,omitempty" json:"max_kept_findings_percent,omitempty"`
	// MaxDecisionsPerMinute: a reviewer who recorded more decision events
	// within one minute is marked.
	MaxDecisionsPerMinute int `yaml:"max_decisions_per_minute,omitempty" json:"max_decisions_per_minute,omitempty"`
}

// DefaultReview is the review thresholds of a policy that sets none.
func DefaultReview() ReviewPolicy {
	return ReviewPolicy{MinReasonChars: 10, MaxReasonKinds: 3, MinMedianSeconds: 30, MaxBulkPercent: 50,
		MaxKeptFindingsPercent: 50, MaxDecisionsPerMinute: 6}
}

// fields pairs each review threshold's policy-file key with its
// field, in file order, and says whether it is a percentage.
func (r *ReviewPolicy) fields() []struct {
	key     string
	v       *int
	percent bool
} {
	return []struct {
		key     string
		v       *int
		percent bool
	}{
		{"min_reason_chars", &r.MinReasonChars, false}, {"max_reason_kinds", &r.MaxReasonKinds, false},
		{"min_median_seconds", &r.MinMedianSeconds, false}, {"max_bulk_percent", &r.MaxBulkPercent, true},
		{"max_kept_findings_percent", &r.MaxKeptFindingsPercent, true}, {"max_decisions_per_minute", &r.MaxDecisionsPerMinute, false},
	}
}

// ReviewThresholds are the policy's review thresholds, defaults filled in.
func (p Policy) ReviewThresholds() ReviewPolicy {
	out, d := p.Review, DefaultReview()
	df := d.fields()
	for i, f := range out.fields() {
		if *f.v == 0 {
			*f.v = *df[i].v
		}
	}
	return out
}

// DefaultPolicy is the policy in force until one is set.
func DefaultPolicy() Policy {
	return Policy{
		Version:        1,
		FirstPartyApps: []string{},
		Rules: map[string]RulePolicy{
			RuleStale:            {Severity: "medium", UnusedDays: 90, NeverUsedDays: 30},
			RuleUnrotated:        {Severity: "medium", Days: 90},
			RuleNoExpiry:         {Severity: "medium"},
			RuleExpired:          {Severity: "high"},
			RuleExpiring:         {Severity: "low", Days: 14},
			RuleOrphaned:         {Severity: "high"},
			RuleOverprivileged:   {Severity: "high"},
			RuleBroadScope:       {Severity: "medium"},
			RuleThirdParty:       {Severity: "medium"},
			RuleHumanCredential:  {Severity: "medium"},
			RuleInsecureWebhook:  {Severity: "high"},
			RuleWeakKey:          {Severity: "high"},
			RuleSelfSigned:       {Severity: "medium"},
			RuleNotYetValid:      {Severity: "high"},
			RuleLongLived:        {Severity: "medium", Days: 398},
			RuleWildcard:         {Severity: "low"},
			RuleBroadTrust:       {Severity: "high"},
			RuleDefaultSA:        {Severity: "high"},
			RuleAutomount:        {Severity: "medium"},
			RuleUnused:           {Severity: "low"},
			RuleReuse:            {Severity: "medium"},
			RuleExceptionExpired: {Severity: "high"},
		},
	}
}

// ParsePolicy reads a policy file (YAML; JSON is YAML too). Rules it leaves
// out keep their defaults, and so do fields a rule leaves out; a field it
// sets, even to 0, is taken as written (Validate refuses a 0 threshold).
// Unknown keys, a number of days that is not a whole number and a file of
// more than one YAML document are errors, so a typo cannot silently switch a
// threshold off or be ignored.
func ParsePolicy(data []byte) (Policy, error) {
	var file struct {
		Version        *wholeNumber        `yaml:"version"`
		FirstPartyApps []string            `yaml:"first_party_apps"`
		Rules          map[string]fileRule `yaml:"rules"`
		Review         *fileReview         `yaml:"review"`
		ExceptionDays  *wholeNumber        `yaml:"exception_days"`
		Approval       *string             `yaml:"exception_approval"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return Policy{}, errors.New("policy: the file is empty; start from `nhi policy show`")
		}
		return Policy{}, fmt.Errorf("policy: %w", unknownPolicyFields(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Policy{}, errors.New("policy: the file holds more than one YAML document (a line '---' starts another); keep one policy per file")
	}
	p := DefaultPolicy()
	if file.Version != nil {
		p.Version = int(*file.Version)
	}
	if file.FirstPartyApps != nil {
		p.FirstPartyApps = file.FirstPartyApps
	}
	if file.ExceptionDays != nil {
		if *file.ExceptionDays == 0 {
			return Policy{}, errors.New("policy: exception_days needs a number greater than 0 (leave it out for the default, 90)")
		}
		p.Days = int(*file.ExceptionDays)
	}
	if file.Approval != nil {
		p.Approval = *file.Approval
	}
	for name, r := range file.Rules {
		d, ok := p.Rules[name]
		if !ok {
			return Policy{}, fmt.Errorf("policy: unknown rule %q%s (rules: %s; nhi help policy)", name, didYouMean(name, sortedRules()), strings.Join(sortedRules(), ", "))
		}
		if r.Enabled != nil {
			d.Enabled = r.Enabled
		}
		if r.Severity != "" {
			d.Severity = r.Severity
		}
		for _, f := range []struct {
			in  *wholeNumber
			out *int
		}{{r.Days, &d.Days}, {r.UnusedDays, &d.UnusedDays}, {r.NeverUsedDays, &d.NeverUsedDays}} {
			if f.in != nil {
				*f.out = int(*f.in)
			}
		}
		p.Rules[name] = d
	}
	if file.Review != nil {
		d := DefaultReview()
		df := d.fields()
		for i, f := range p.Review.fields() {
			in := file.Review.value(df[i].key)
			if in == nil {
				continue
			}
			if *in <= 0 {
				return Policy{}, fmt.Errorf("policy: review: %s must be 1 or more (it was %d); to stop flagging, set a threshold no one reaches", f.key, int(*in))
			}
			// A threshold set to its default is stored as the default (0),
			// so the policy show prints round-trips to the same digest.
			if int(*in) != *df[i].v {
				*f.v = int(*in)
			}
		}
	}
	return p, p.Validate()
}

// The keys a policy file may hold, at the top, in each rule and in the
// review section: the yaml tags of ParsePolicy's file struct, fileRule and
// fileReview.
var (
	policyKeys = []string{"version", "first_party_apps", "rules", "review", "exception_days", "exception_approval"}
	ruleKeys   = []string{"enabled", "severity", "days", "unused_days", "never_used_days"}
	reviewKeys = []string{"min_reason_chars", "max_reason_kinds", "min_median_seconds", "max_bulk_percent", "max_kept_findings_percent", "max_decisions_per_minute"}
)

// unknownKey is how the YAML decoder reports a key KnownFields refuses:
// "line 4: field dasy not found in type audit.fileRule".
var unknownKey = regexp.MustCompile(`^line (\d+): field (.+) not found in type (.*)$`)

// wrongShape is how the YAML decoder reports a value of the wrong shape
// for its key, naming the Go type it wanted: "line 1: cannot unmarshal
// !!seq into struct { Version … }", "line 2: cannot unmarshal !!int `5`
// into audit.fileRule".
var wrongShape = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.*)$")

// yamlShape says what a value of the YAML tag is, in words.
func yamlShape(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping (key: value lines)"
	case "str":
		return fmt.Sprintf("the text %q", value)
	case "null":
		return "an empty value"
	}
	return fmt.Sprintf("the %s %s", map[string]string{"int": "number", "float": "number", "bool": "value"}[tag], value)
}

// wantedShape says what the policy file wanted where the decoder found a
// value of another shape, in the file's words rather than the Go type's.
func wantedShape(goType string) string {
	keysOf := func(what string, keys []string) string {
		return fmt.Sprintf("is not %s: it is key: value lines (keys: %s; nhi help policy)", what, strings.Join(keys, ", "))
	}
	switch {
	case strings.HasPrefix(goType, "struct {"):
		return keysOf("a policy", policyKeys)
	case strings.HasSuffix(goType, "]audit.fileRule"):
		return fmt.Sprintf("is not the rules: they are a rule's name, then its keys indented under it (rules: %s; nhi help policy)", strings.Join(sortedRules(), ", "))
	case strings.HasSuffix(goType, ".fileRule"):
		return keysOf("a rule", ruleKeys)
	case strings.HasSuffix(goType, ".fileReview"):
		return keysOf("the review section", reviewKeys)
	case goType == "[]string":
		return "is not a list of names: write [name, …] or one \"- name\" line each"
	case goType == "bool":
		return "is not true or false"
	case goType == "string":
		return "is not a single value"
	}
	return "is not what this key takes (nhi help policy)"
}

// unknownPolicyFields rewrites the decoder's report of an unknown key,
// which names a Go type, into the key, the keys allowed there and the
// nearest of them.
func unknownPolicyFields(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		if w := wrongShape.FindStringSubmatch(m); w != nil {
			msgs[i] = fmt.Sprintf("line %s: %s %s", w[1], yamlShape(w[2], w[3]), wantedShape(w[4]))
			continue
		}
		g := unknownKey.FindStringSubmatch(m)
		if g == nil {
			continue
		}
		keys, where := policyKeys, "at the top of the file"
		if strings.HasSuffix(g[3], ".fileRule") {
			keys, where = ruleKeys, "in a rule"
		}
		if strings.HasSuffix(g[3], ".fileReview") {
			keys, where = reviewKeys, "in the review section"
		}
		msgs[i] = fmt.Sprintf("line %s: unknown key %q %s%s (keys: %s; nhi help policy)", g[1], g[2], where, didYouMean(g[2], keys), strings.Join(keys, ", "))
	}
	return errors.New(strings.Join(msgs, "; "))
}

// didYouMean names the nearest of known to s, as "; did you mean "x"?",
// or "".
func didYouMean(s string, known []string) string {
	if best := Nearest(s, known); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// Nearest is the name of known closest to s, as NearestAll finds them
// (the first, where several are as near), or "" when none is: the "did
// you mean" of commands, help topics, flags, policy keys and campaign
// names.
func Nearest(s string, known []string) string {
	if near := NearestAll(s, known); len(near) > 0 {
		return near[0]
	}
	return ""
}

// NearestAll is every name of known as near to s as the nearest is, in
// known's order, or none. A name is near when it is a typo of s away,
// case aside (typoLimit), or s is a prefix of it (counted as far as a
// typo may be): "identites" and "campain" are one edit from identities
// and campaign, "shwo" one transposition from show, "snap" the start of
// snapshot; "foo" is two edits from log, as many as it has letters but
// one, and no typo of it.
func NearestAll(s string, known []string) []string {
	low := strings.ToLower(s)
	limit := typoLimit(low)
	best := limit + 1
	var near []string
	for _, k := range known {
		lk := strings.ToLower(k)
		d := typoDistance(low, lk)
		if d > limit && low != "" && strings.HasPrefix(lk, low) {
			d = limit
		}
		switch {
		case d > limit:
		case d < best:
			best, near = d, []string{k}
		case d == best:
			near = append(near, k)
		}
	}
	return near
}

// typoLimit is how many edits make a typo of s: one in a word of up to
// four letters, two in a longer one. Two edits in three letters are
// another word.
func typoLimit(s string) int {
	if utf8.RuneCountInString(s) <= 4 {
		return 1
	}
	return 2
}

// typoDistance is the number of edits from a to b: a letter left out,
// added, changed, or two side by side swapped (optimal string alignment;
// a swap is one typo, where Levenshtein's distance counts it two).
func typoDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance from ra[:i] to rb[:j]; three rows suffice.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// fileReview is the review section as written in a policy file.
type fileReview struct {
	MinReasonChars         *wholeNumber `yaml:"min_reason_chars"`
	MaxReasonKinds         *wholeNumber `yaml:"max_reason_kinds"`
	MinMedianSeconds       *wholeNumber `yaml:"min_median_seconds"`
	MaxBulkPercent         *wholeNumber `yaml:"max_bulk_percent"`
	MaxKeptFindingsPercent *wholeNumber `yaml:"max_kept_findings_percent"`
	MaxDecisionsPerMinute  *wholeNumber `yaml:"max_decisions_per_minute"`
}

func (f *fileReview) value(key string) *wholeNumber {
	return map[string]*wholeNumber{
		"min_reason_chars": f.MinReasonChars, "max_reason_kinds": f.MaxReasonKinds, "min_median_seconds": f.MinMedianSeconds,
		"max_bulk_percent": f.MaxBulkPercent, "max_kept_findings_percent": f.MaxKeptFindingsPercent,
		"max_decisions_per_minute": f.MaxDecisionsPerMinute,
	}[key]
}

// fileRule is a rule as written in a policy file: a field left out is
// nil, told apart from one set to 0.
type fileRule struct {
	Enabled       *bool        `yaml:"enabled"`
	Severity      string       `yaml:"severity"`
	Days          *wholeNumber `yaml:"days"`
	UnusedDays    *wholeNumber `yaml:"unused_days"`
	NeverUsedDays *wholeNumber `yaml:"never_used_days"`
}

// wholeNumber is an integer field that refuses 1.5, "30" and 1e3 rather
// than round or convert them.
type wholeNumber int

func (n *wholeNumber) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %s is not a whole number", v.Line, yamlShape(strings.TrimPrefix(v.ShortTag(), "!!"), ""))
	}
	if v.ShortTag() != "!!int" {
		return fmt.Errorf("line %d: %q is not a whole number", v.Line, v.Value)
	}
	var i int
	if err := v.Decode(&i); err != nil {
		return fmt.Errorf("line %d: %w", v.Line, err)
	}
	*n = wholeNumber(i)
	return nil
}

func sortedRules() []string {
	r := slices.Clone(Rules)
	slices.Sort(r)
	return r
}

// Validate reports the first setting that cannot work.
func (p Policy) Validate() error {
	if p.Version != 1 {
		return fmt.Errorf("policy: version %d is not supported (this nhi reads version 1)", p.Version)
	}
	if err := p.ExceptionPolicy.validate(); err != nil {
		return err
	}
	for _, name := range Rules {
		r, ok := p.Rules[name]
		if !ok {
			return fmt.Errorf("policy: rule %s is missing", name)
		}
		if SeverityRank(r.Severity) == 0 {
			return fmt.Errorf("policy: rule %s: severity %q is not one of %s", name, r.Severity, strings.Join(Severities, ", "))
		}
		if r.Days < 0 || r.UnusedDays < 0 || r.NeverUsedDays < 0 {
			return fmt.Errorf("policy: rule %s: a number of days cannot be negative", name)
		}
		needs := map[string]int{}
		switch name {
		case RuleStale:
			needs["unused_days"], needs["never_used_days"] = r.UnusedDays, r.NeverUsedDays
		case RuleUnrotated, RuleExpiring, RuleLongLived:
			needs["days"] = r.Days
		}
		for _, field := range []string{"days", "unused_days", "never_used_days"} {
			if v, ok := needs[field]; ok && v == 0 && r.On() {
				return fmt.Errorf("policy: rule %s needs %s greater than 0 (0 would fire on everything); to turn the rule off, set enabled: false", name, field)
			}
		}
	}
	review := p.Review
	for _, f := range review.fields() {
		if *f.v < 0 {
			return fmt.Errorf("policy: review: %s cannot be negative", f.key)
		}
		if f.percent && *f.v > 100 {
			return fmt.Errorf("policy: review: %s is a percentage: %d is over 100", f.key, *f.v)
		}
	}
	return nil
}

// YAML renders the policy as a commented policy file.
func (p Policy) YAML() string {
	var b strings.Builder
	b.WriteString("# nhi policy: the thresholds behind every finding.\n")
	b.WriteString("# Record a changed copy with `nhi policy set FILE`; see docs/policy.md.\n")
	fmt.Fprintf(&b, "version: %d\n", p.Version)
	b.WriteString("# GitHub App slugs your organisation owns; any other installed App is third-party.\n")
	apps, _ := json.Marshal(p.FirstPartyApps)
	fmt.Fprintf(&b, "first_party_apps: %s\n", apps)
	p.exceptionsYAML(&b)
	b.WriteString("rules:\n")
	p = p.withDefaults()
	for _, name := range sortedRules() {
		r := p.Rules[name]
		fmt.Fprintf(&b, "  %s:\n", name)
		if !r.On() {
			b.WriteString("    enabled: false\n")
		}
		fmt.Fprintf(&b, "    severity: %s\n", r.Severity)
		switch name {
		case RuleStale:
			fmt.Fprintf(&b, "    unused_days: %d      # last used more than this many days ago\n", r.UnusedDays)
			fmt.Fprintf(&b, "    never_used_days: %d  # never used, and created more than this many days ago\n", r.NeverUsedDays)
		case RuleUnrotated:
			fmt.Fprintf(&b, "    days: %d  # secret or key unchanged for more than this many days\n", r.Days)
		case RuleExpiring:
			fmt.Fprintf(&b, "    days: %d  # expires within this many days\n", r.Days)
		case RuleLongLived:
			fmt.Fprintf(&b, "    days: %d  # a publicly trusted TLS certificate valid for longer (CA/Browser Forum: 398)\n", r.Days)
		}
	}
	rv := p.ReviewThresholds()
	b.WriteString("# Thresholds the evidence report judges the review by (docs/policy.md, \"Review signals\").\n")
	b.WriteString("review:\n")
	fmt.Fprintf(&b, "  min_reason_chars: %d  # an exception's justification shorter than this is flagged short-reason\n", rv.MinReasonChars)
	fmt.Fprintf(&b, "  max_reason_kinds: %d  # one justification on exceptions of more kinds than this is flagged reused-reason\n", rv.MaxReasonKinds)
	fmt.Fprintf(&b, "  min_median_seconds: %d  # a reviewer's median time between decisions below this is marked\n", rv.MinMedianSeconds)
	fmt.Fprintf(&b, "  max_bulk_percent: %d  # a reviewer's share of decisions made in bulk above this is marked\n", rv.MaxBulkPercent)
	fmt.Fprintf(&b, "  max_kept_findings_percent: %d  # a reviewer's share of items with findings kept above this is marked\n", rv.MaxKeptFindingsPercent)
	fmt.Fprintf(&b, "  max_decisions_per_minute: %d  # a reviewer's most decision events within one minute above this is marked\n", rv.MaxDecisionsPerMinute)
	return b.String()
}

// withDefaults fills in the rules a policy recorded by an earlier nhi
// predates, with their defaults, for evaluation and display. The stored
// policy and its digest stay as they were recorded.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	missing := false
	for name := range d.Rules {
		if _, ok := p.Rules[name]; !ok {
			missing = true
		}
	}
	if !missing {
		return p
	}
	rules := make(map[string]RulePolicy, len(d.Rules))
	for name, r := range d.Rules {
		rules[name] = r
	}
	for name, r := range p.Rules {
		rules[name] = r
	}
	p.Rules = rules
	return p
}

// canonical is the policy's stored form and the input to its digest.
func (p Policy) canonical() (body, digest string) {
	b, _ := canonicalJSON(p)
	sum := sha256.Sum256([]byte(b))
	return b, hex.EncodeToString(sum[:])
}

// Digest identifies the policy's content.
func (p Policy) Digest() string {
	_, d := p.canonical()
	return d
}

// Event type for policy changes.
const EventPolicySet = "policy.set"

// PolicySet is the payload of a policy.set event.
type PolicySet struct {
	Digest string `json:"digest"`
	Policy Policy `json:"policy"`
}

// SetPolicy records p as the policy in force from now on, as an event.
func (s *Store) SetPolicy(ctx context.Context, actor string, p Policy) (Event, error) {
	if s.readOnly {
		return Event{}, fmt.Errorf("%w: cannot set the policy in %s", ErrReadOnly, s.path)
	}
	if err := p.Validate(); err != nil {
		return Event{}, err
	}
	tx, err := s.beginWriteWaiting(ctx, nil, "")
	if err != nil {
		return Event{}, err
	}
	defer tx.Rollback()
	// A leaver sets no policy, even from a command started before they
	// left: the directory as it is in this transaction.
	dir, err := readPeople(ctx, &Tx{s: s, tx: tx})
	if err != nil {
		return Event{}, err
	}
	if err := dir.RefuseLeaver(actor, "set the policy"); err != nil {
		return Event{}, err
	}
	body, digest := p.canonical()
	ev, err := appendEvent(ctx, tx, s.now(), actor, EventPolicySet, PolicySet{Digest: digest, Policy: p})
	if err != nil {
		return Event{}, err
	}
	id, err := storePolicy(ctx, tx, body, digest, s.now())
	if err != nil {
		return Event{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('policy_id', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(id)); err != nil {
		return Event{}, err
	}
	return ev, tx.Commit()
}

// Policy returns the policy in force and its row in the policies table
// (0 while the built-in default has never been used).
func (s *Store) Policy(ctx context.Context) (Policy, int64, error) {
	return policyInForce(ctx, s.db)
}

// policyInForceDigest is policyInForce plus the digest recorded for it; ""
// while the built-in default is in force.
func (s *Store) policyInForceDigest(ctx context.Context) (Policy, int64, string, error) {
	var digest sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT p.digest FROM meta m JOIN policies p ON p.id = CAST(m.value AS INTEGER) WHERE m.key = 'policy_id'`).Scan(&digest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Policy{}, 0, "", err
	}
	p, id, err := policyInForce(ctx, s.db)
	return p, id, digest.String, err
}

// querier is what reads need: *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func policyInForce(ctx context.Context, q querier) (Policy, int64, error) {
	var id int64
	var body string
	err := q.QueryRowContext(ctx, `SELECT p.id, p.body FROM meta m JOIN policies p ON p.id = CAST(m.value AS INTEGER) WHERE m.key = 'policy_id'`).Scan(&id, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultPolicy(), 0, nil
	}
	if err != nil {
		return Policy{}, 0, fmt.Errorf("reading the policy: %w", err)
	}
	var p Policy
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return Policy{}, 0, fmt.Errorf("policy %d: %w", id, err)
	}
	return p, id, nil
}

// storePolicy returns the policies row holding body, adding it if new.
func storePolicy(ctx context.Context, tx *sql.Tx, body, digest string, now time.Time) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO policies (digest, body, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
		digest, body, formatTime(now)); err != nil {
		return 0, fmt.Errorf("storing the policy: %w", err)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM policies WHERE digest = ?`, digest).Scan(&id)
	return id, err
}
