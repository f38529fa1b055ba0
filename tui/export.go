package tui

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
)

// export writes the active campaign's evidence report into dir (default
// evidence-CAMPAIGN in the working directory), off the event loop. It
// writes files, not the evidence file, so a read-only session may.
func (m *Model) export(arg string) tea.Cmd {
	r := m.st.reviewer
	campaign := m.st.campaign
	dir, force, problem := m.exportArgs(arg)
	if problem != "" {
		m.setFlash("Not exported: "+problem+".", true)
		return nil
	}
	switch {
	case r == nil:
		return nil
	case campaign == "":
		m.setFlash("Choose a campaign first: :campaigns, then enter; then :export [DIR].", true)
		return nil
	case m.st.actor == "":
		m.setFlash("Cannot tell who attests the report: restart with --as EMAIL or set NHI_REVIEWER.", true)
		return nil
	}
	signer, at := m.st.actor, m.st.now()
	cmd := m.write("the export of the evidence report of "+campaign+" to "+dir, func(ctx context.Context) tea.Msg {
		res, err := r.Export(ctx, campaign, dir, signer, at, force)
		return exportedMsg{campaign: campaign, res: res, err: err}
	})
	m.setFlash("Exporting the evidence report of "+campaign+" to "+absPath(dir)+"…", false)
	return cmd
}

// exportArgs reads :export [DIR] [--force]: options are words of their
// own, never a folder's name. DIR defaults to evidence-CAMPAIGN, in the
// folder nhi was started in. problem says what is wrong with the line.
func (m *Model) exportArgs(arg string) (dir string, force bool, problem string) {
	for _, w := range strings.Fields(arg) {
		switch {
		case w == "--force" || w == "-f":
			force = true
		case strings.HasPrefix(w, "-"):
			return "", false, "unknown option " + w + " (:export [DIR] [--force])"
		case dir != "":
			return "", false, "one folder only (:export [DIR] [--force])"
		default:
			dir = w
		}
	}
	if dir == "" {
		dir = "evidence-" + strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == os.PathSeparator || unicode.IsSpace(r) || !unicode.IsPrint(r) {
				return '-'
			}
			return r
		}, m.st.campaign)
	}
	return dir, force, ""
}

// exportHint is what the : prompt says under :export: the whole path
// of the folder the report goes to, where "evidence-CAMPAIGN" left the
// reader to guess in which folder.
func (m *Model) exportHint(arg string) string {
	if m.st.campaign == "" {
		return "writes a campaign's evidence report: choose one first (:campaigns, then enter)"
	}
	dir, force, problem := m.exportArgs(arg)
	if problem != "" {
		return problem
	}
	// The path first: a narrow terminal cuts the end of the line.
	what := "writes"
	if force {
		what = "replaces"
	}
	return what + " " + absPath(dir) + ": the evidence report of " + m.st.campaign + " · :export [DIR] [--force]"
}

// absPath is dir as a whole path, from the folder nhi was started in.
func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

type exportedMsg struct {
	campaign string
	res      Exported
	err      error
}

// exported says where the report went and the command that checks it.
func (m *Model) exported(msg exportedMsg) {
	if msg.err != nil {
		m.setFlash("Not exported: "+msg.err.Error(), true)
		return
	}
	what := "the report"
	if msg.res.Draft {
		what = "an interim report (still open)"
	}
	m.setFlash("Exported "+what+" of "+msg.campaign+": "+plural(msg.res.Files, "file", "files")+", as of event "+
		strconv.FormatInt(msg.res.Head, 10)+" · check it with "+m.verifyReportCommand(msg.res.Dir), false)
}

// verifyReportCommand is the command that checks the bundle in dir
// against the evidence the UI has open, as nhi export prints it: the
// folder, and --db where the store says its path (a database's URL
// without its password), each quoted for the shell when it needs to be.
func (m *Model) verifyReportCommand(dir string) string {
	cmd := "nhi verify --report " + shellWord(dir)
	if f, ok := m.st.store.(interface{ Path() string }); ok && f.Path() != "" {
		cmd += " --db " + shellWord(f.Path())
	}
	return cmd
}

// shellWord is s as one word a POSIX shell reads back as s: as it is
// when it has nothing the shell would read otherwise, else in single
// quotes.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@,=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
