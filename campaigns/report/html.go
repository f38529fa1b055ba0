package report

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// The HTML report: one self-contained file (inline CSS, no script, no
// font, image or link that leaves the file) that prints to PDF with a page
// per section and repeated table headers. html/template escapes every
// value of the page for the context it lands in; the rows of the three
// long tables (a row per identity) are written here, every value through
// template.HTMLEscapeString, html/template's escaper for element content,
// since a template walk per cell is too slow for 100,000 rows.

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"join":           strings.Join,
	"wbr":            wbr,
	"recon":          reconText,
	"remediation":    remediationText,
	"flagLegend":     flagsOf,
	"closedEarly":    closedEarlyText,
	"marked":         func(r ReviewerRow, m string) bool { return slices.Contains(r.Marks, m) },
	"exceptionsText": exceptionsText,
	"over":           over,
	"pageRows":       func() int { return pageRows },
	"tablesAgree":    func() string { return tablesAgree },
	"count":          func(r *Report, name string) int { return r.count(tableNamed[name]) },
	"counted":        audit.Counted,
	"at":             keepDates,
}).Parse(htmlSource))

// pageRows is how many rows of each long table (the register, the
// exceptions, the decommissions, the trails) the HTML and Markdown
// reports list. A campaign of a million items would be a page no browser
// opens and no printer finishes: above it those reports list the first
// pageRows in identity order, say so, and point at the CSV table and
// report.json, which hold every row (docs/report.md, "Large campaigns").
// A variable so tests can cross it with a small campaign.
var pageRows = 10_000

// tableNamed names the long tables for the template.
var tableNamed = map[string]table{"register": tableRegister, "exceptions": tableExceptions, "decommissions": tableDecommissions}

// over is how many of n rows a report page leaves to the CSV tables.
func over(n int) int { return max(n-pageRows, 0) }

// page is the part of rows a report page lists.
func page[T any](rows []T) []T { return rows[:min(len(rows), pageRows)] }

// WriteHTML writes the report as one HTML file: the page from the
// template, the rows of the register, exceptions and decommissions in
// between its parts.
func (r *Report) WriteHTML(out io.Writer) error {
	w := &htmlRows{bufio.NewWriterSize(out, 1<<16)}
	for _, part := range []struct {
		name string
		rows func()
	}{
		{"head", func() { w.register(page(r.Register)) }},
		{"afterRegister", func() { w.trails(r) }},
		{"afterTrails", func() { w.exceptions(page(r.Exceptions)) }},
		{"afterExceptions", func() { w.remediation(page(r.Remediation.Rows), &r.Attestation) }},
		{"tail", func() {}},
	} {
		if part.name == "tail" { // it holds the integrity section
			r.awaitDataFiles()
		}
		if err := htmlTemplate.ExecuteTemplate(w, part.name, r); err != nil {
			return err
		}
		part.rows()
	}
	return w.Flush()
}

// htmlRows writes table rows; every value goes through
// template.HTMLEscapeString, every class and tag is nhi's own.
type htmlRows struct{ *bufio.Writer }

// text writes s escaped, each date and time in it kept whole
// (keepDates), or "—" when it is empty.
func (w *htmlRows) text(s string) {
	if s == "" {
		w.WriteString("—")
		return
	}
	writeDated(w.Writer, s)
}

// keepDates is s escaped, each date ("2026-12-04") or time
// ("2026-12-04T18:54:32Z") in it inside a <time> element, which the page
// keeps on one line: a narrow column broke a time at its date's hyphen,
// "2026-12-" above "04T18:54:32Z", which reads as two values. For the
// template's values: times, and text that may hold one (a note, a finding's
// explanation, a verification's reason).
func keepDates(s string) template.HTML {
	var b strings.Builder
	writeDated(&b, s)
	return template.HTML(b.String())
}

// writeDated writes s as keepDates returns it.
func writeDated(w io.StringWriter, s string) {
	for {
		i, n := nextDate(s)
		if n == 0 {
			w.WriteString(template.HTMLEscapeString(s))
			return
		}
		w.WriteString(template.HTMLEscapeString(s[:i]))
		w.WriteString("<time>") // digits, - T : . Z: nothing to escape
		w.WriteString(s[i : i+n])
		w.WriteString("</time>")
		s = s[i+n:]
	}
}

// nextDate finds the first date in s that stands alone (no digit right
// before or after it), with the time of day that follows it: its start
// and length, 0 when there is none.
func nextDate(s string) (int, int) {
	for from := 0; ; {
		k := strings.IndexByte(s[from:], '-')
		if k < 0 {
			return 0, 0
		}
		i := from + k - 4 // a date's first hyphen is its fifth byte
		from += k + 1
		if i < 0 || i+10 > len(s) || !isDate(s[i:i+10]) || i > 0 && isDigit(s[i-1]) {
			continue
		}
		n := 10
		if t := s[i+10:]; len(t) >= 10 && t[0] == 'T' && isClock(t[1:9]) {
			n += 9
			for n < len(s)-i && (isDigit(s[i+n]) || s[i+n] == '.' && n == 19) {
				n++
			}
			if i+n < len(s) && s[i+n] == 'Z' {
				n++
			}
		}
		if i+n < len(s) && isDigit(s[i+n]) {
			continue
		}
		return i, n
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isClock is whether s is a time of day as hh:mm:ss.
func isClock(s string) bool {
	for i := range len(s) {
		if c := s[i]; i == 2 || i == 5 {
			if c != ':' {
				return false
			}
		} else if !isDigit(c) {
			return false
		}
	}
	return len(s) == 8
}

// cell writes <td class=...>s</td>.
func (w *htmlRows) cell(class, s string) {
	if class == "" {
		w.WriteString("<td>")
	} else {
		w.WriteString(`<td class="` + class + `">`)
	}
	w.text(s)
	w.WriteString("</td>")
}

// time writes a time's cell, "2026-12-04T18:54:32Z" or "closed 2026-…":
// the date and the time each stay on a line, and the cell may break
// between them, where a column narrower than the whole time let it run
// over the justification beside it (a date alone would break at its
// hyphens).
func (w *htmlRows) time(s string) {
	w.WriteString(`<td class="t">`)
	if i := strings.IndexByte(s, 'T'); i >= 10 && isDate(s[i-10:i]) {
		if i > 10 {
			w.text(s[:i-10]) // "closed "
		}
		w.WriteString(`<span class="day">`)
		w.WriteString(s[i-10 : i]) // a date: nothing to escape
		w.WriteString("</span><wbr>")
		w.WriteString(template.HTMLEscapeString(s[i:]))
	} else {
		w.text(s)
	}
	w.WriteString("</td>")
}

// isDate is whether s is a date as YYYY-MM-DD.
func isDate(s string) bool {
	for i := range len(s) {
		if c := s[i]; i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) == 10
}

func (w *htmlRows) open(overdue bool, n int) {
	if overdue {
		w.WriteString(`<tr class="overdue">`)
	} else {
		w.WriteString("<tr>")
	}
	w.WriteString(`<td class="n">`)
	w.WriteString(strconv.Itoa(n))
	w.WriteString("</td>")
}

func (w *htmlRows) decision(d string) {
	w.WriteString(`<td class="d d-` + template.HTMLEscapeString(d) + `">`)
	w.text(d)
	w.WriteString("</td>")
}

func (w *htmlRows) findings(fs []Finding, messages bool) {
	w.WriteString("<td>")
	if len(fs) == 0 {
		w.WriteString("—")
	}
	for _, f := range fs {
		w.WriteString("<div>")
		if messages {
			w.WriteString("<b>")
		}
		w.text(f.Rule)
		if messages {
			w.WriteString("</b>")
		}
		w.WriteString(` <span class="sev">(`)
		w.text(f.Severity)
		if f.OWASP != "" {
			w.WriteString(", ")
			w.text(f.OWASP)
		}
		w.WriteString(")</span>")
		if messages && f.Message != "" {
			w.WriteString(": ")
			w.text(f.Message)
		}
		w.WriteString("</div>")
	}
	w.WriteString("</td>")
}

// breakable writes s escaped, with a <wbr> after each / @ and : so a
// narrow column breaks an ID, e-mail address or team only there (or at a
// hyphen), never mid-word; "—" when s is empty.
func (w *htmlRows) breakable(s string) {
	if s == "" {
		w.WriteString("—")
		return
	}
	w.WriteString(string(wbr(s)))
}

// wbr is s escaped, with a <wbr> after each / @ and : (an ARN, a URL, an
// e-mail address), so a table cell that holds it can be narrower than
// the whole string without breaking it mid-word.
func wbr(s string) template.HTML {
	var b strings.Builder
	for {
		i := strings.IndexAny(s, "/@:")
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			return template.HTML(b.String())
		}
		b.WriteString(template.HTMLEscapeString(s[:i+1]))
		b.WriteString("<wbr>")
		s = s[i+1:]
	}
}

// who writes a cell of people or teams: whole words, breaking only at / @ : -.
func (w *htmlRows) who(s string) {
	w.WriteString(`<td class="who">`)
	w.breakable(s)
	w.WriteString("</td>")
}

// identity writes the cell that names an item in print: its name in bold
// and scope over its ID, which tells two "jenkins-ci" of one repository apart.
func (w *htmlRows) identity(x *Row) {
	w.WriteString(`<td class="who"><b>`)
	w.breakable(x.Name)
	w.WriteString(`</b> <span class="sev">`)
	w.breakable(x.Scope)
	w.WriteString(`</span><div class="id">`)
	w.breakable(x.ID)
	if x.CurrentID != "" {
		// Renamed since the campaign froze it: the ID it goes on under.
		w.WriteString(`</div><div class="id">renamed: now `)
		w.breakable(x.CurrentID)
	}
	w.WriteString("</div></td>")
}

func (w *htmlRows) register(rows []Row) {
	for i := range rows {
		x := &rows[i]
		w.open(x.Overdue, x.N)
		w.identity(x)
		w.WriteString(`<td class="who">`)
		switch {
		case x.Owner != "":
			w.breakable(x.Owner)
		case x.Holder != "":
			w.breakable(x.Holder)
			w.WriteString(` <span class="sev">(holder)</span>`)
		default:
			w.WriteString("—")
		}
		w.WriteString("</td><td>")
		for k, f := range x.Findings {
			if k > 0 {
				w.WriteString(", ")
			}
			w.text(f.Rule)
		}
		if len(x.Findings) == 0 {
			w.WriteString("—")
		}
		w.WriteString("</td>")
		w.decisionFlags(x)
		w.reviewer(x)
		w.time(timeText(x))
		w.cell("", x.Reason)
		w.WriteString("</tr>\n")
	}
}

// decisionFlags writes the cell of a row's decision and its flags.
func (w *htmlRows) decisionFlags(x *Row) {
	w.WriteString(`<td><span class="d d-` + template.HTMLEscapeString(x.Decision) + `">`)
	w.text(x.Decision)
	w.WriteString("</span>")
	for _, f := range x.Flags {
		if f == x.Decision {
			// The no-response flag beside the no-response decision
			// would read "no-response no-response".
			continue
		}
		e := template.HTMLEscapeString(f)
		if f == FlagSelfReview {
			e += " flag-over" // marked as a reviewer beyond a threshold is
		}
		w.WriteString(` <span class="flag flag-` + e + `">` + template.HTMLEscapeString(f) + "</span>")
	}
	w.WriteString("</td>")
}

// reviewer writes the cell of a row's assigned reviewer, who decided when
// that was someone else, and the key that signed the decision ("no" for an
// unsigned one, on screen only: see the print rules).
func (w *htmlRows) reviewer(x *Row) {
	w.WriteString(`<td class="who">`)
	w.breakable(x.Reviewer)
	if x.DecidedBy != "" && x.DecidedBy != x.Reviewer {
		w.WriteString(`<div><span class="sev">decided by</span> `)
		w.breakable(x.DecidedBy)
		w.WriteString("</div>")
	}
	if sig := signedText(x); sig != "" {
		if x.SignedBy == "" {
			w.WriteString(`<div class="unsigned">`)
		} else {
			w.WriteString(`<div>`)
		}
		w.WriteString(`<span class="sev">signed</span> `)
		w.breakable(sig)
		w.WriteString("</div>")
	}
	w.WriteString("</td>")
}

func (w *htmlRows) exceptions(rows []Row) {
	for i := range rows {
		x := &rows[i]
		w.open(false, x.N)
		w.identity(x)
		w.findings(x.Findings, true)
		w.decisionFlags(x)
		w.reviewer(x)
		w.time(x.DecidedAt)
		w.cell("", x.Reason)
		// Expiry and approval share a cell, a line each: the row is
		// already several lines high with its findings, so the terms cost
		// no height and the findings keep their width on paper.
		w.WriteString(`<td class="t">`)
		w.text(x.ExceptionExpires)
		if a := approvalText(x); a != "" {
			w.WriteString("<br>")
			w.text(a)
		}
		w.WriteString("</td>")
		w.WriteString("</tr>\n")
	}
}

func (w *htmlRows) remediation(rows []Row, a *Attestation) {
	for i := range rows {
		x := &rows[i]
		w.open(x.Overdue, x.N)
		w.identity(x)
		w.who(a.remediationDecider(x))
		w.time(x.DecidedAt)
		state := x.Verification
		if x.Overdue {
			state += " · OVERDUE"
		} else if slices.Contains(x.Flags, FlagNotYetChecked) {
			state += " · not yet checked after the due date"
		}
		// Why it stands so, in campaign verify's words: the gap behind a
		// not-checked row, that no later snapshot has checked it yet.
		w.WriteString(`<td class="d">`)
		w.text(state)
		if x.VerificationReason != "" {
			w.WriteString(`<div class="why">`)
			w.text(x.VerificationReason)
			w.WriteString("</div>")
		}
		w.WriteString("</td>")
		snap := ""
		if x.VerifiedSnapshot != 0 {
			snap = strconv.FormatInt(x.VerifiedSnapshot, 10)
		}
		w.cell("n", snap)
		w.WriteString("</tr>\n")
	}
}

// trails writes a <details> trail for each item whose history has more
// than one event; the rest are their register row.
func (w *htmlRows) trails(r *Report) {
	none, routine := true, 0
	for t := range r.trails() {
		none = false
		x := r.trailRow(t[0].N)
		class := "trail"
		// A decision carried and then confirmed is the usual trail of a
		// carried item: on paper, where a campaign that carries
		// thousands would print thousands, the register's row says it.
		if len(t) == 2 && t[0].Action == ActionCarried && t[1].Action == ActionConfirm {
			class += " routine"
			routine++
		}
		w.WriteString(`<details class="` + class + `" open><summary>#` + strconv.Itoa(x.N) + " ")
		w.text(x.Name)
		w.WriteString(` · <span class="id">`)
		w.breakable(x.ID)
		w.WriteString("</span> · now ")
		w.text(x.Decision)
		w.WriteString("</summary>\n<table><thead><tr><th>Event</th><th>Time</th><th>By</th><th>Action</th><th>Decision</th><th>Justification</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>\n")
		for k := range t {
			e := &t[k]
			w.WriteString(`<tr><td class="n">` + strconv.FormatInt(e.Event, 10) + "</td>")
			w.time(e.At)
			w.who(e.Actor)
			w.cell("", e.Action)
			w.decision(e.Decision)
			w.cell("", e.Reason)
			out := e.Outcome
			if e.By != 0 {
				out += " by event " + strconv.FormatInt(e.By, 10)
			}
			if e.Other {
				out += " (conflict: another person)"
			}
			w.cell("", out)
			w.cell("", e.detailWithFilter())
			w.WriteString("</tr>\n")
		}
		w.WriteString("</tbody></table></details>\n")
	}
	left := r.trailsOut
	if none {
		w.WriteString("<p>No item has more than one event in its trail.</p>\n")
	}
	if left > 0 {
		w.WriteString(`<p class="more">` + strconv.Itoa(left) + " more items have more than one event in their trail: this page shows the first " + strconv.Itoa(pageRows) + "; <span class=\"mono\">history.csv</span> and <span class=\"mono\">report.json</span> have every trail.</p>\n")
	}
	if routine > 0 {
		w.WriteString(`<p class="paper">Not printed: the trails of ` + audit.Counted(routine, "carried item", "carried items") + ` whose only events are the carried decision and its confirmation (their register rows are flagged carried); the HTML file and history.csv have them.</p>` + "\n")
	}
}
