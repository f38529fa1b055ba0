package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputFileFailuresAreSaidAlike: nhi import, owner import and people
// import say the same thing the same way of a file they cannot read: one
// that does not exist (and, for a relative path, where it was looked
// for), a folder, one that cannot be opened or read, one that is not
// text (UTF-16, as Excel's "Unicode Text" saves it); each names the path
// the user gave and what to do.
func TestInputFileFailuresAreSaidAlike(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	if err := os.Mkdir(filepath.Join(dir, "exports"), 0o755); err != nil {
		t.Fatal(err)
	}
	// "id,owner" as UTF-16 little-endian, byte-order mark first.
	utf16 := []byte{0xff, 0xfe}
	for _, c := range "id,owner\r\n" {
		utf16 = append(utf16, byte(c), 0)
	}
	if err := os.WriteFile(filepath.Join(dir, "unicode.csv"), utf16, 0o644); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked.csv")
	if err := os.WriteFile(locked, []byte("id,owner\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	commands := []struct {
		args []string
		give string // the forms the command takes
	}{
		{[]string{"import", "--source", "vault"}, "CSV UTF-8 or JSON"},
		{[]string{"owner", "import"}, "CSV UTF-8"},
		{[]string{"people", "import"}, "CSV UTF-8"},
	}
	cases := []struct {
		file, says string // says: the whole of stderr but the give
	}{
		{"owners.csv", "owners.csv does not exist in " + dir},
		{filepath.Join(dir, "owners.csv"), filepath.Join(dir, "owners.csv") + " does not exist"},
		{"exports", "exports is a folder, not a file: give the path of the file to read"},
		{"unicode.csv", "unicode.csv is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as GIVE and give that file"},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct{ file, says string }{"locked.csv", "cannot read locked.csv: permission denied"})
	}
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		// A file that opens and cannot be read: the process's own memory
		// at address 0, which nobody reads, root neither.
		cases = append(cases, struct{ file, says string }{"/proc/self/mem", "cannot read /proc/self/mem: input/output error"})
	}
	for _, cmd := range commands {
		for _, c := range cases {
			args := append(append([]string{}, cmd.args...), c.file, "--db", db, "--dry-run")
			stderr, code := runIn(t, dir, nil, args...)
			want := "nhi: " + strings.ReplaceAll(c.says, "GIVE", cmd.give) + "\n"
			if code != 1 || stderr != want {
				t.Errorf("nhi %s: exit %d, said\n%s\nwant exit 1, saying\n%s", strings.Join(args, " "), code, stderr, want)
			}
		}
	}
	// Standard input ("-") is said as such.
	for _, cmd := range commands[1:] {
		args := append(append([]string{}, cmd.args...), "-", "--db", db, "--dry-run")
		stderr, code := runIn(t, dir, utf16, args...)
		want := "nhi: standard input is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as CSV UTF-8 and give that file\n"
		if code != 1 || stderr != want {
			t.Errorf("nhi %s: exit %d, said\n%s\nwant exit 1, saying\n%s", strings.Join(args, " "), code, stderr, want)
		}
	}
}

// runIn runs nhi in dir with stdin, and returns its stderr and exit code.
func runIn(t *testing.T, dir string, stdin []byte, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(nhiBinary(t), args...)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=tester@example.com", "GITHUB_TOKEN=", "GH_TOKEN=")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return errb.String(), 0
}
