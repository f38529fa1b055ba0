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
	// A file that cannot be what the command reads is a mistake in the
	// call, exit 2 as a wrong flag's; one the system will not read, 1.
	cases := []struct {
		file, says string // says: the whole of stderr but the give
		code       int
	}{
		{"owners.csv", "owners.csv does not exist in " + dir, exitUsage},
		{filepath.Join(dir, "owners.csv"), filepath.Join(dir, "owners.csv") + " does not exist", exitUsage},
		{"exports", "exports is a folder, not a file: give the path of the file to read", exitUsage},
		{"unicode.csv", "unicode.csv is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as GIVE and give that file", exitUsage},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct {
			file, says string
			code       int
		}{"locked.csv", "cannot read locked.csv: permission denied", exitFailure})
	}
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		// A file that opens and cannot be read: the process's own memory
		// at address 0, which nobody reads, root neither.
		cases = append(cases, struct {
			file, says string
			code       int
		}{"/proc/self/mem", "cannot read /proc/self/mem: input/output error", exitFailure})
	}
	for _, cmd := range commands {
		for _, c := range cases {
			args := append(append([]string{}, cmd.args...), c.file, "--db", db, "--dry-run")
			stderr, code := runIn(t, dir, nil, args...)
			want := "nhi: " + strings.ReplaceAll(c.says, "GIVE", cmd.give) + "\n"
			if code != c.code || stderr != want {
				t.Errorf("nhi %s: exit %d, said\n%s\nwant exit %d, saying\n%s", strings.Join(args, " "), code, stderr, c.code, want)
			}
		}
	}
	// Standard input ("-") is said as such.
	for _, cmd := range commands[1:] {
		args := append(append([]string{}, cmd.args...), "-", "--db", db, "--dry-run")
		stderr, code := runIn(t, dir, utf16, args...)
		want := "nhi: standard input is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as CSV UTF-8 and give that file\n"
		if code != exitUsage || stderr != want {
			t.Errorf("nhi %s: exit %d, said\n%s\nwant exit 2, saying\n%s", strings.Join(args, " "), code, stderr, want)
		}
	}
}

// TestPolicyAndSignersFilesAreSaidAsInputs: nhi policy set FILE,
// --allowed-signers FILE (verify, verify --report, and decide, which
// signs), verify --head-file FILE, snapshot kubernetes --kubeconfig
// FILE, --sign-with KEY (decide, export) and snapshot github --app-key
// KEY (and a key that is no PEM) refuse a file that is missing, a folder, empty or not text as
// import does, each led by its flag, exit 2, and write nothing (policy
// set and snapshot do not even create the evidence file), where each
// said Go's own words ("read keys: is a directory"), exit 1, took a
// binary policy for YAML, an empty kubeconfig for none given, and an
// empty allowed_signers file, or one in another format, pinned no key
// and said only that the key was not in it.
func TestPolicyAndSignersFilesAreSaidAsInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := demoCopy(t)
	key, _ := sshKey(t, "dan")
	utf16 := []byte{0xff, 0xfe}
	for _, c := range "version: 1\r\n" {
		utf16 = append(utf16, byte(c), 0)
	}
	for name, data := range map[string][]byte{"empty": nil, "blank": []byte("\n  \n"), "unicode": utf16, "notes.txt": []byte("# keys\nthe team's keys are in the wiki\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	const signersForm = `give an allowed_signers file: a line "PRINCIPALS [namespaces="…"] KEY" for each signer, ssh-keygen's format, as nhi signature writes`
	files := func(flag, give, empty string) []struct{ file, says string } {
		return []struct{ file, says string }{
			{"gone", flag + "gone does not exist in " + dir},
			{"keys", flag + "keys is a folder, not a file: give the path of the file to read"},
			{"empty", flag + "empty is empty: " + empty},
			{"blank", flag + "blank is empty: " + empty},
			{"unicode", flag + "unicode is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export it as " + give + " and give that file"},
		}
	}
	signers := append(files("--allowed-signers: ", "text", signersForm), struct{ file, says string }{"notes.txt", "--allowed-signers: notes.txt lists no signer: " + signersForm})
	newDB := filepath.Join(dir, "new.db")
	commands := []struct {
		args  func(file string) []string
		files []struct{ file, says string }
	}{
		{func(f string) []string { return []string{"policy", "set", f, "--db", newDB} },
			files("", "YAML", "give a policy file; `nhi policy show > policy.yaml` writes one to start from")},
		{func(f string) []string { return []string{"verify", "--allowed-signers", f, "--db", demo} }, signers},
		{func(f string) []string {
			return []string{"verify", "--report", filepath.Join(dir, "bundle"), "--allowed-signers", f, "--db", demo}
		}, signers},
		{func(f string) []string {
			return []string{"decide", "demo-deploy-keys", "github/northwind/deploy-key/1", "keep", "--sign-with", key, "--allowed-signers", f, "--db", demo}
		}, signers},
		// --sign-with and --app-key said Go's words, exit 1 ("signing
		// key: open gone: no such file or directory").
		{func(f string) []string {
			return []string{"decide", "demo-deploy-keys", "github/northwind/deploy-key/1", "keep", "--reason", "r", "--sign-with", f, "--db", demo}
		}, files("--sign-with: ", "an OpenSSH key", signingKeyForm)},
		{func(f string) []string {
			return []string{"export", "demo-deploy-keys", "--out", filepath.Join(dir, "bundle"), "--sign-with", f, "--signer", "lead@northwind.test", "--db", demo}
		}, files("--sign-with: ", "an OpenSSH key", signingKeyForm)},
		{func(f string) []string {
			return []string{"snapshot", "github", "--org", "northwind", "--app-id", "12", "--app-key", f, "--api-url", "http://127.0.0.1:1/", "--db", newDB}
		}, append(files("--app-key: ", "PEM text", appKeyForm), struct{ file, says string }{"notes.txt", "--app-key: notes.txt is not a PEM private key: " + appKeyForm})},
		{func(f string) []string { return []string{"verify", "--head-file", f, "--db", demo} },
			files("--head-file: ", "text", "give the file nhi log head's line was saved in, or a bundle's manifest.json")},
		// An empty --kubeconfig was taken for none given: "no kubeconfig
		// found …; pass --kubeconfig FILE".
		{func(f string) []string { return []string{"snapshot", "kubernetes", "--kubeconfig", f, "--db", newDB} },
			files("--kubeconfig: ", "YAML", "give a kubeconfig file (kubectl config view --raw writes one)")},
	}
	before, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range commands {
		for _, c := range cmd.files {
			args := cmd.args(c.file)
			stderr, code := runIn(t, dir, nil, args...)
			if want := "nhi: " + c.says + "\n"; code != exitUsage || stderr != want {
				t.Errorf("nhi %s: exit %d, said\n%s\nwant exit 2, saying\n%s", strings.Join(args, " "), code, stderr, want)
			}
		}
	}
	if _, err := os.Stat(newDB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("policy set of a file it refused made %s (%v)", newDB, err)
	}
	if after, err := os.ReadFile(demo); err != nil || !bytes.Equal(before, after) {
		t.Errorf("a command that refused its file changed the evidence file (%v)", err)
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
