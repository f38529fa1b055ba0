package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An evidence file moved, deleted or replaced while nhi has it open (the
// review UI stays open for hours): a write refuses, saying so and that
// nothing was written, where it was recorded through a connection still
// on the file no longer at the path (deleted: gone once nhi closed it;
// moved: into a write-ahead log left under the old name), and said so;
// and a new connection of the pool opens nothing at the old path, where
// it created an empty file there and read "no such table" from it.
func TestWriteRefusedWhenTheFileIsNoLongerWhereItWasOpened(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		gone   bool // nothing is at path after the change
	}{
		{"moved", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".moved"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"replaced", func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(path), "other.db")
			o, err := Open(ctx, other, OpenOptions{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			o.Close()
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nhi.db")
			s, err := Open(ctx, path, OpenOptions{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			snapshot(t, s, nil, nil, obs("deploy", KindGitHubDeployKey))
			id := IdentityID("github", "acme", KindGitHubDeployKey, "deploy")
			if _, err := s.SetOwner(ctx, "lead@example.com", id, "alice"); err != nil {
				t.Fatal(err)
			}
			tc.change(t, path)
			_, err = s.SetOwner(ctx, "lead@example.com", id, "bob")
			if !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("a write after the file was %s: %v", tc.name, err)
			}
			// What to do, and where the last writes are until then.
			say := "Quit nhi, then open the file where it is now: until nhi quits, what it recorded last is held in nhi.db-wal under the old name"
			if tc.name == "replaced" {
				say = "Quit nhi before anything opens the file now at nhi.db: until nhi quits, what it recorded last is held in nhi.db-wal, a name that file shares"
			}
			if err == nil || !strings.Contains(err.Error(), say) {
				t.Errorf("a write after the file was %s says:\n%v\nnot %q", tc.name, err, say)
			}
			// A second connection, as the pool opens when one is busy.
			c1, err := s.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c1.Close()
			if c2, err := s.db.Conn(ctx); err == nil {
				c2.Close()
			}
			if _, err := os.Stat(path); tc.gone && err == nil {
				t.Errorf("a file was created at %s after it was %s", filepath.Base(path), tc.name)
			}
			c1.Close()
			// On quitting, what nhi recorded is in the file it opened,
			// and nothing of it in the file that replaced it.
			s.Close()
			for _, at := range []struct {
				path, owner string
			}{{path + ".moved", "alice"}, {path, ""}} {
				if tc.name == "deleted" || (tc.name == "moved") != strings.HasSuffix(at.path, ".moved") {
					continue
				}
				o, err := Open(ctx, at.path, OpenOptions{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				i, err := o.Identity(ctx, id)
				if at.owner != "" && (err != nil || i.Owner != at.owner) {
					t.Errorf("%s after nhi quit: owner %q (%v), want %q", filepath.Base(at.path), i.Owner, err, at.owner)
				}
				if at.owner == "" && err == nil {
					t.Errorf("the file that replaced %s holds the identity nhi recorded in the one it opened", filepath.Base(at.path))
				}
				o.Close()
			}
		})
	}
}
