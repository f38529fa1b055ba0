package report_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// copyDir copies a bundle, so each tampering starts from a clean one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(dst, e.Name()), readFile(t, filepath.Join(src, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func verify(t *testing.T, dir string, st *audit.Store, opts report.VerifyOptions) *report.BundleResult {
	t.Helper()
	res, err := report.VerifyBundle(ctx, dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// failsNaming checks verification failed with a problem about subject.
func failsNaming(t *testing.T, res *report.BundleResult, subject, says string) {
	t.Helper()
	if res.OK() {
		t.Errorf("verification passed; want a failure naming %s", subject)
		return
	}
	for _, p := range res.Problems() {
		if p.Subject == subject && strings.Contains(p.Text, says) {
			return
		}
	}
	t.Errorf("no problem names %s (%q); got %+v", subject, says, res.Problems())
}

func TestVerifyCleanBundle(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		dir, _ := export(t, f, exportOptions())
		res := verify(t, dir, f.Store, report.VerifyOptions{})
		if !res.OK() || !res.LogChecked {
			t.Fatalf("a fresh bundle fails: %+v", res.Problems())
		}
		// Without an evidence file, files alone.
		if res := verify(t, dir, nil, report.VerifyOptions{}); !res.OK() || res.LogChecked {
			t.Fatalf("files-only check: %+v", res.Problems())
		}
	})
}

// One edited byte in any file fails, naming the file.
func TestTamperOneByte(t *testing.T) {
	f := newFixture(t)
	dir, res := export(t, f, exportOptions())
	for _, fh := range res.Files {
		t.Run(fh.Path, func(t *testing.T) {
			d := copyDir(t, dir)
			path := filepath.Join(d, fh.Path)
			b := readFile(t, path)
			i := len(b) / 2
			if fh.Path == report.FileManifest {
				i = bytes.Index(b, []byte(`"generated_at": "2026-11-10`)) + len(`"generated_at": "2026-11-1`)
			}
			b[i] ^= 0x01
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := verify(t, d, f.Store, report.VerifyOptions{})
			switch fh.Path {
			case report.FileManifest:
				failsNaming(t, r, report.FileManifest, "rebuilt")
			default:
				failsNaming(t, r, fh.Path, "manifest.json says")
			}
			// Without the evidence file the hashes still catch it, except
			// an edit of the manifest that leaves it well-formed.
			if fh.Path != report.FileManifest && verify(t, d, nil, report.VerifyOptions{}).OK() {
				t.Errorf("the files-only check misses an edit of %s", fh.Path)
			}
		})
	}
}

// An edit carried into manifest.json and SHA256SUMS (an unsigned bundle
// rewritten by hand) is caught by rebuilding from the log and, without
// it, by the bundle itself: report.md no longer says what report.json
// says.
func TestConsistentEditIsRebuiltAway(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		dir, _ := export(t, f, exportOptions())
		d := copyDir(t, dir)
		md := readFile(t, filepath.Join(d, "report.md"))
		edited := bytes.Replace(md, []byte("| 7 | deploy key | old-ci | acme/api | — | orphaned (high, NHI1); stale (high, NHI1); unrotated (medium, NHI7) | decommission"),
			[]byte("| 7 | deploy key | old-ci | acme/api | — | orphaned (high, NHI1); stale (high, NHI1); unrotated (medium, NHI7) | keep"), 1)
		if bytes.Equal(md, edited) {
			t.Fatal("the row to edit is not in report.md")
		}
		rehash(t, d, "report.md", edited)
		alone := verify(t, d, nil, report.VerifyOptions{})
		failsNaming(t, alone, "report.md", `line 149 is …"high, NHI1); unrotated (medium, NHI7) | keep | alice | bob |`)
		failsNaming(t, alone, "report.md", `but rendered from report.json it is …"high, NHI1); unrotated (medium, NHI7) | decommission | alice | bob |`)
		if len(alone.Problems()) != 1 {
			t.Errorf("one edited file, %d problems: %+v", len(alone.Problems()), alone.Problems())
		}
		// With the evidence file the line is named too, against the log,
		// where it named only the file and the rebuilt one's SHA-256.
		withLog := verify(t, d, f.Store, report.VerifyOptions{})
		failsNaming(t, withLog, "report.md", `line 149 is …"high, NHI1); unrotated (medium, NHI7) | keep | alice | bob |`)
		failsNaming(t, withLog, "report.md", `as of event `)
		failsNaming(t, withLog, "report.md", ` it is …"high, NHI1); unrotated (medium, NHI7) | decommission | alice | bob |`)
		failsNaming(t, withLog, "report.md", "its content was changed after export, and manifest.json with it")
		// A CSV table's cell, by its row, identity and column.
		d = copyDir(t, dir)
		csv := readFile(t, filepath.Join(d, "decisions.csv"))
		edited = bytes.Replace(csv, []byte(",decommission,"), []byte(",keep,"), 1)
		if bytes.Equal(csv, edited) {
			t.Fatal("no decommission in decisions.csv")
		}
		rehash(t, d, "decisions.csv", edited)
		failsNaming(t, verify(t, d, f.Store, report.VerifyOptions{}), "decisions.csv", `: decision is "keep", the log says "decommission": its content was changed after export, and manifest.json with it`)
	})
}

// rehash writes data as name and rewrites SHA256SUMS and manifest.json to
// match, as a forger would.
func rehash(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	old := report.HashForTest(name, readFile(t, filepath.Join(dir, name)))
	neu := report.HashForTest(name, data)
	must(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	sums := bytes.ReplaceAll(readFile(t, filepath.Join(dir, "SHA256SUMS")), []byte(old.SHA256), []byte(neu.SHA256))
	oldSums := report.HashForTest("SHA256SUMS", readFile(t, filepath.Join(dir, "SHA256SUMS")))
	newSums := report.HashForTest("SHA256SUMS", sums)
	must(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums, 0o644))
	m := readFile(t, filepath.Join(dir, "manifest.json"))
	m = bytes.ReplaceAll(m, []byte(old.SHA256), []byte(neu.SHA256))
	m = bytes.ReplaceAll(m, []byte(oldSums.SHA256), []byte(newSums.SHA256))
	m = bytes.Replace(m, []byte(`"bytes": `+strconv.FormatInt(old.Bytes, 10)), []byte(`"bytes": `+strconv.FormatInt(neu.Bytes, 10)), 1)
	must(t, os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMissingAndAddedFiles(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		dir, _ := export(t, f, exportOptions())
		d := copyDir(t, dir)
		must(t, os.Remove(filepath.Join(d, "exceptions.csv")))
		must(t, os.WriteFile(filepath.Join(d, "notes.txt"), []byte("hi"), 0o644))
		r := verify(t, d, f.Store, report.VerifyOptions{})
		failsNaming(t, r, "exceptions.csv", "deleted")
		failsNaming(t, r, "notes.txt", "not listed")
	})
}

func TestWrongEvidenceFile(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())

	other := otherFixture(t) // same story, one event more: event 29 has another hash
	failsNaming(t, verify(t, dir, other.Store, report.VerifyOptions{}), "evidence file", "not the evidence file this bundle came from")

	path := filepath.Join(t.TempDir(), "empty.db")
	st, err := audit.Open(ctx, path, audit.OpenOptions{Create: true})
	must(t, err)
	defer st.Close()
	failsNaming(t, verify(t, dir, st, report.VerifyOptions{}), "evidence file", "has no event 30")
}

func TestExportRefusesAndLeavesNothing(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		parent := t.TempDir()
		dir := filepath.Join(parent, "bundle")
		opts := exportOptions()

		if _, err := report.Export(ctx, f.Store, "no-such", dir, opts); err == nil {
			t.Fatal("exported a campaign that does not exist")
		}
		bad := opts
		bad.Formats = []string{"pdf"}
		if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, bad); !errors.Is(err, report.ErrBadFormat) {
			t.Fatalf("unknown format: %v", err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Fatalf("a failed export left %v behind", entries)
		}

		if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, opts); !errors.Is(err, report.ErrNotEmpty) {
			t.Fatalf("second export into the same folder: %v", err)
		}
		opts.Force = true
		opts.Formats = []string{report.FormatMD}
		if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, opts); err != nil {
			t.Fatalf("--force over an earlier bundle: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"SHA256SUMS", "manifest.json", "report.md"}) {
			t.Errorf("the forced export holds %v; want only the new bundle", names)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Errorf("the folder beside the bundle holds %d entries; want only the bundle", len(entries))
		}

		home := filepath.Join(parent, "home")
		must(t, os.Mkdir(home, 0o755))
		must(t, os.WriteFile(filepath.Join(home, "thesis.tex"), []byte("precious"), 0o644))
		opts.Force = false
		if _, err := report.Export(ctx, f.Store, "2026-Q4", home, opts); !errors.Is(err, report.ErrNotEmpty) || !strings.Contains(err.Error(), "holds 1 file;") {
			t.Fatalf("export into a folder holding one file: %v", err)
		}
		opts.Force = true
		if _, err := report.Export(ctx, f.Store, "2026-Q4", home, opts); !errors.Is(err, report.ErrNotEmpty) {
			t.Fatalf("--force over a folder that is not a bundle: %v", err)
		}
		if string(readFile(t, filepath.Join(home, "thesis.tex"))) != "precious" {
			t.Fatal("--force touched a folder that is not a bundle")
		}
	})
}

// TestExportMakesItsFolders checks that --out evidence/2026-Q4 in a new
// folder (the README's example) creates evidence/, that an export that
// fails creates nothing, and that a file where a folder should be is
// refused.
func TestExportMakesItsFolders(t *testing.T) {
	f := newFixture(t)
	parent := t.TempDir()
	opts := exportOptions()

	if _, err := report.Export(ctx, f.Store, "no-such", filepath.Join(parent, "evidence", "q4", "no-such"), opts); err == nil {
		t.Fatal("exported a campaign that does not exist")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a failed export left %v behind", entries)
	}

	dir := filepath.Join(parent, "evidence", "q4", "2026-Q4")
	if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, opts); err != nil {
		t.Fatalf("export into folders that do not exist yet: %v", err)
	}
	if res := verify(t, dir, f.Store, report.VerifyOptions{}); !res.OK() {
		t.Fatalf("the bundle written into new folders does not verify: %+v", res.Problems())
	}

	must(t, os.WriteFile(filepath.Join(parent, "notes"), []byte("x"), 0o644))
	_, err := report.Export(ctx, f.Store, "2026-Q4", filepath.Join(parent, "notes", "2026-Q4"), opts)
	if err == nil || !strings.Contains(err.Error(), "is a file, not a folder") {
		t.Fatalf("export below a file: %v", err)
	}
}

// sshKeygen skips the test when ssh-keygen is not installed.
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	return p
}

func genKey(t *testing.T, typ, passphrase string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_"+typ)
	args := []string{"-q", "-t", typ, "-N", passphrase, "-C", "test", "-f", path}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command(sshKeygen(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

// sshVerify runs ssh-keygen -Y verify on a bundle's manifest.
func sshVerify(t *testing.T, dir, allowed, principal string) (string, error) {
	t.Helper()
	af := filepath.Join(t.TempDir(), "allowed_signers")
	must(t, os.WriteFile(af, []byte(allowed+"\n"), 0o644))
	cmd := exec.Command(sshKeygen(t), "-Y", "verify", "-f", af, "-I", principal, "-n", report.Namespace, "-s", filepath.Join(dir, report.FileSignature))
	cmd.Stdin = bytes.NewReader(readFile(t, filepath.Join(dir, report.FileManifest)))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestSignatureAcceptedBySSHKeygen(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
			t.Run(typ, func(t *testing.T) {
				key, err := report.LoadSigningKey(genKey(t, typ, ""), nil)
				must(t, err)
				opts := exportOptions()
				opts.Key = key
				dir, res := export(t, f, opts)
				sig := res.Report.Integrity.Signature
				if sig == nil || sig.Fingerprint != key.Public.Fingerprint {
					t.Fatalf("the report does not name the signing key: %+v", sig)
				}
				line := report.AllowedSignersLine("carol@acme.test", key.Public.Authorized)
				if out, err := sshVerify(t, dir, line, "carol@acme.test"); err != nil || !strings.Contains(out, "Good") {
					t.Fatalf("ssh-keygen -Y verify: %v\n%s", err, out)
				}
				if out, err := sshVerify(t, dir, line, "mallory@acme.test"); err == nil {
					t.Fatalf("ssh-keygen accepted another principal:\n%s", out)
				}
				r := verify(t, dir, f.Store, report.VerifyOptions{AllowedSigners: []byte(line + "\n")})
				if !r.OK() || !r.Pinned || r.SignedBy.Fingerprint != key.Public.Fingerprint {
					t.Fatalf("nhi's check of its own signature: %+v", r.Problems())
				}
			})
		}
	})
}

// A signature ssh-keygen -Y sign made verifies with nhi's verifier.
func TestSSHKeygenSignatureVerifies(t *testing.T) {
	keyPath := genKey(t, "ed25519", "")
	msg := filepath.Join(t.TempDir(), "m")
	must(t, os.WriteFile(msg, []byte("manifest bytes\n"), 0o644))
	if out, err := exec.Command(sshKeygen(t), "-Y", "sign", "-f", keyPath, "-n", report.Namespace, msg).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	key, err := report.LoadSigningKey(keyPath, nil)
	must(t, err)
	got, err := report.VerifySignature(readFile(t, msg+".sig"), []byte("manifest bytes\n"), report.Namespace)
	if err != nil || got.Fingerprint != key.Public.Fingerprint {
		t.Fatalf("VerifySignature: %v, %+v", err, got)
	}
	if _, err := report.VerifySignature(readFile(t, msg+".sig"), []byte("manifest bytes!\n"), report.Namespace); err == nil {
		t.Fatal("a signature verified another message")
	}
	if _, err := report.VerifySignature(readFile(t, msg+".sig"), []byte("manifest bytes\n"), "git"); err == nil {
		t.Fatal("a signature verified in another namespace")
	}
}

func TestSignatureFromAnotherKey(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		key, err := report.LoadSigningKey(genKey(t, "ed25519", ""), nil)
		must(t, err)
		opts := exportOptions()
		opts.Key = key
		dir, _ := export(t, f, opts)

		// Replace the signature with one by another key.
		d := copyDir(t, dir)
		otherPath := genKey(t, "ed25519", "")
		must(t, os.Remove(filepath.Join(d, report.FileSignature))) // ssh-keygen does not overwrite it
		if out, err := exec.Command(sshKeygen(t), "-Y", "sign", "-f", otherPath, "-n", report.Namespace, filepath.Join(d, report.FileManifest)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
		}
		failsNaming(t, verify(t, d, f.Store, report.VerifyOptions{}), report.FileSignature, "the signature was replaced")

		// A whole bundle signed by another key passes on its own, but not
		// against the allowed signers of the real signer.
		other, err := report.LoadSigningKey(otherPath, nil)
		must(t, err)
		opts.Key = other
		forged, _ := export(t, f, opts)
		pinned := []byte(report.AllowedSignersLine("carol@acme.test", key.Public.Authorized) + "\n")
		failsNaming(t, verify(t, forged, f.Store, report.VerifyOptions{AllowedSigners: pinned}), report.FileSignature, "not in the allowed signers")

		// A signature deleted, or an edit of the signed manifest.
		d = copyDir(t, dir)
		must(t, os.Remove(filepath.Join(d, report.FileSignature)))
		failsNaming(t, verify(t, d, f.Store, report.VerifyOptions{}), report.FileSignature, "deleted")
		d = copyDir(t, dir)
		m := readFile(t, filepath.Join(d, report.FileManifest))
		must(t, os.WriteFile(filepath.Join(d, report.FileManifest), bytes.Replace(m, []byte(`"status": "closed"`), []byte(`"status": "closed" `), 1), 0o644))
		failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), report.FileSignature, "does not verify")
	})
}

func TestEncryptedKey(t *testing.T) {
	path := genKey(t, "ed25519", "correct horse")
	if _, err := report.LoadSigningKey(path, nil); !errors.Is(err, report.ErrEncryptedKey) || !strings.Contains(err.Error(), "NHI_SIGN_PASSPHRASE") {
		t.Fatalf("an encrypted key without its passphrase: %v", err)
	}
	if _, err := report.LoadSigningKey(path, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "passphrase is wrong") {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	if _, err := report.LoadSigningKey(path, []byte("correct horse")); err != nil {
		t.Fatalf("the right passphrase: %v", err)
	}
}
