package report

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
	"strconv"
	"strings"
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
	"join":        strings.Join,
	"recon":       reconText,
	"remediation": remediationText,
	"flagLegend":  func() string { return flagLegend },
}).Parse(htmlSource))

// WriteHTML writes the report as one HTML file: the page from the
// template, the rows of the register, exceptions and decommissions in
// between its parts.
func (r *Report) WriteHTML(out io.Writer) error {
	w := &htmlRows{bufio.NewWriterSize(out, 1<<16)}
	for _, part := range []struct {
		name string
		rows func()
	}{
		{"head", func() { w.register(r.Register) }},
		{"afterRegister", func() { w.exceptions(r.Exceptions) }},
		{"afterExceptions", func() { w.remediation(r.Remediation.Rows) }},
		{"tail", func() {}},
	} {
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

// text writes s escaped, or "—" when it is empty.
func (w *htmlRows) text(s string) {
	if s == "" {
		w.WriteString("—")
		return
	}
	w.WriteString(template.HTMLEscapeString(s))
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

func (w *htmlRows) register(rows []Row) {
	for i := range rows {
		x := &rows[i]
		w.open(x.Overdue, x.N)
		w.cell("", x.KindLabel)
		w.cell("", x.Name)
		w.cell("", x.Scope)
		w.cell("", ownerText(x))
		w.findings(x.Findings, false)
		w.decision(x.Decision)
		w.cell("", x.Reviewer)
		w.cell("", x.DecidedBy)
		w.cell("t", x.DecidedAt)
		w.cell("", x.Reason)
		w.cell("hash", signedText(x))
		w.WriteString("<td>")
		for _, f := range x.Flags {
			e := template.HTMLEscapeString(f)
			w.WriteString(`<span class="flag flag-` + e + `">` + e + "</span>")
		}
		w.WriteString("</td></tr>\n")
	}
}

func (w *htmlRows) exceptions(rows []Row) {
	for i := range rows {
		x := &rows[i]
		w.open(false, x.N)
		w.cell("", x.KindLabel)
		w.cell("", x.Name)
		w.cell("", x.Scope)
		w.findings(x.Findings, true)
		w.decision(x.Decision)
		w.cell("", x.DecidedBy)
		w.cell("t", x.DecidedAt)
		w.cell("", x.Reason)
		w.WriteString("</tr>\n")
	}
}

func (w *htmlRows) remediation(rows []Row) {
	for i := range rows {
		x := &rows[i]
		w.open(x.Overdue, x.N)
		w.cell("", x.KindLabel)
		w.cell("", x.Name)
		w.cell("", x.Scope)
		w.cell("", x.DecidedBy)
		w.cell("t", x.DecidedAt)
		state := x.Verification
		if x.Overdue {
			state += " · OVERDUE"
		}
		w.cell("d", state)
		snap := ""
		if x.VerifiedSnapshot != 0 {
			snap = strconv.FormatInt(x.VerifiedSnapshot, 10)
		}
		w.cell("n", snap)
		w.WriteString("</tr>\n")
	}
}
