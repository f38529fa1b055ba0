package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readOnlyFolder makes dir unwritable for real, the strongest way the
// machine allows: a read-only bind mount (read-only media), else the
// immutable attribute (chattr +i), else, for a user other than root,
// chmod 0555. Root ignores mode bits, so as root without either of the
// first two there is no honest test and it skips, saying why.
func readOnlyFolder(t *testing.T, dir string) string {
	t.Helper()
	mnt := dir + "-ro"
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if exec.Command("mount", "--bind", dir, mnt).Run() == nil {
		if exec.Command("mount", "-o", "remount,bind,ro", mnt).Run() == nil {
			t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
			return mnt
		}
		_ = exec.Command("umount", mnt).Run()
	}
	if exec.Command("chattr", "+i", dir).Run() == nil {
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
		return dir
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir
	}
	t.Skip("running as root without mount or chattr: nothing here makes a folder read-only for root")
	return ""
}

// TestReadOnlyEvidenceIsReadable: an evidence file in a folder nobody may
// write (read-only media) opens for verify, identities, snapshots, log
// head and export, and nothing is written beside it; in a folder that
// may be written, those reads leave nothing beside it either. Before, SQLite could
// not create the -shm file of the file's WAL mode and every command said
// "unable to open database file".
func TestReadOnlyEvidenceIsReadable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "evidence")
	os.Mkdir(dir, 0o755)
	db := filepath.Join(dir, "nhi.db")
	src, _, _ := githubDB(t, 3)
	b, _ := os.ReadFile(src)
	os.WriteFile(db, b, 0o600)
	ok(t, "campaign", "create", "q", "--scope", "kind:deploy_key", "--due", due(30), "--reviewer", "alice", "--allow-partial", "--db", db, "--as", "lead")
	before, _ := os.ReadDir(dir)
	out := filepath.Join(t.TempDir(), "bundle")
	reads := [][]string{
		{"verify"},
		{"identities", "--json"},
		{"snapshots"},
		{"log", "head"},
		{"export", "q", "--out", out, "--as", "lead"},
	}

	// Where the folder may be written, the reads leave nothing beside
	// the file either: the nhi.db-wal and nhi.db-shm SQLite makes to
	// read it are gone when each ends, where they stayed.
	for _, args := range reads {
		if r := nhi(t, nil, append(args, "--db", db)...); r.code != 0 {
			t.Errorf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if after, _ := os.ReadDir(dir); len(after) != len(before) {
			t.Errorf("nhi %s left files beside the evidence: %v, then %v", strings.Join(args, " "), before, after)
		}
	}
	os.RemoveAll(out)

	ro := filepath.Join(readOnlyFolder(t, dir), "nhi.db")
	if err := os.WriteFile(filepath.Join(filepath.Dir(ro), "probe"), nil, 0o600); err == nil {
		t.Fatal("the folder is still writable")
	}
	for _, args := range reads {
		r := nhi(t, nil, append(args, "--db", ro)...)
		if r.code != 0 {
			t.Errorf("nhi %s on read-only evidence: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	if r := nhi(t, nil, "verify", "--report", out, "--db", ro); r.code != 0 {
		t.Errorf("verify --report against read-only evidence: %s%s", r.stdout, r.stderr)
	}
	// A write says why it cannot, and nothing was added beside the file.
	r := nhi(t, nil, "owner", "set", "x", "y", "--db", ro, "--as", "lead")
	if r.code != 1 || !strings.Contains(r.stderr, "read-only") && !strings.Contains(r.stderr, "cannot be opened for writing") {
		t.Errorf("a write to read-only evidence: exit %d %s", r.code, r.stderr)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Errorf("files beside the evidence: %v, then %v", before, after)
	}
}

// lockedFolder makes dir refuse new files while the files in it may still
// be written: the immutable attribute on the folder (chattr +i), else,
// for a user other than root, chmod 0555. As root without chattr there
// is no honest test and it skips, saying why.
func lockedFolder(t *testing.T, dir string) {
	t.Helper()
	if exec.Command("chattr", "+i", dir).Run() == nil {
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
		return
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	t.Skip("running as root without chattr: nothing here makes a folder refuse new files for root")
}

// TestWritableEvidenceInALockedFolder: an evidence file that may be
// written, in a folder that takes no new file (SQLite's write-ahead log
// lives beside the file), refuses a write saying the folder is what
// refuses and what to do, where it said the file was "not an nhi
// evidence file"; a read works where the file is.
func TestWritableEvidenceInALockedFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "evidence")
	os.Mkdir(dir, 0o755)
	db := filepath.Join(dir, "nhi.db")
	b, _ := os.ReadFile(campaignDB(t, 3))
	os.WriteFile(db, b, 0o600)
	lockedFolder(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600); err == nil {
		t.Fatal("the folder still takes new files")
	}
	r := nhi(t, nil, "owner", "set", keyID(1), "alice", "--db", db, "--as", "lead")
	if r.code != 1 || strings.Contains(r.stderr, "not an nhi evidence file") ||
		!strings.Contains(r.stderr, "evidence file is read-only: "+db+" cannot be written in its folder") ||
		!strings.Contains(r.stderr, "Make the folder writable, or copy nhi.db to a folder you can write") {
		t.Errorf("a write in a locked folder: exit %d\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 {
		t.Errorf("the refusal is %d lines, want 1:\n%s", n, r.stderr)
	}
	if r := nhi(t, nil, "identities", "-o", "id", "--db", db); r.code != 0 || !strings.Contains(r.stdout, keyID(1)) {
		t.Errorf("a read in a locked folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
