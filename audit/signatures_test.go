package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/nhi-audit/nhi/sshsig"
)

// keyFile writes a new Ed25519 private key in OpenSSH form, as ssh-keygen
// would, loads it back as a signing key from the file, and returns it with
// its public key line.
func keyFile(t testing.TB) (*sshsig.SigningKey, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := sshsig.LoadKey(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return key, key.Public.Authorized
}

type signedPayload struct {
	N        int    `json:"n"`
	SignedBy string `json:"signed_by,omitempty"`
}

// signedLog writes n events by alice, signed with key, in one transaction
// per batch of 1,000, after recording alice with pub as her signing key.
func signedLog(t testing.TB, s *Store, key *sshsig.SigningKey, pub string, n int) {
	t.Helper()
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{{Email: "alice@acme.test", SigningKey: pub}}}, false); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		err := s.Write(ctx, func(tx *Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				if _, err := tx.AppendSigned(ctx, "alice@acme.test", "test.decide", signedPayload{N: i, SignedBy: key.Public.Fingerprint}, key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignedEventsVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		key, pub := keyFile(t)
		signedLog(t, s, key, pub, 3)
		r, err := s.Verify(ctx)
		if err != nil || !r.OK() || r.Signed != 3 {
			t.Fatalf("verify: %+v %v", r, err)
		}
		// A signature deleted: the payload still claims it.
		tamper(t, s, `DROP TRIGGER event_signatures_no_delete`, `DELETE FROM event_signatures WHERE seq = 3`)
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], "event 3 (test.decide by alice@acme.test) says it is signed by SHA256:") {
			t.Errorf("verify after deleting a signature: %v", r.Problems)
		}
		// A key that is not alice's.
		other, otherPub := keyFile(t)
		s2 := openAt(t, eng.new(t))
		signedLog(t, s2, other, pub, 1)
		if r, _ := s2.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], "which was not alice@acme.test's signing key in the directory then") {
			t.Errorf("verify of another key: %v", r.Problems)
		}
		allowed := []byte("alice@acme.test namespaces=\"nhi-decision\" " + otherPub + "\n")
		if r, _ := s2.VerifyWithSigners(ctx, allowed); !r.OK() {
			t.Errorf("verify with the key in allowed signers: %v", r.Problems)
		}
	})
}

// TestWhatSignaturesDoNotCover pins docs/verify.md, "What verify cannot
// see": a signature covers its event's number, time, actor, type and
// payload, not the hash before it. So the newest events cut off, signed or
// not, with the head and length in meta set to match, and an event before
// a signed one edited with every hash after it redone, pass verify; an
// event deleted before a signed one does not (the numbers after it shift);
// and a head recorded earlier catches every one.
func TestWhatSignaturesDoNotCover(t *testing.T) {
	key, pub := keyFile(t)
	fresh := func(t *testing.T) (*Store, Head) {
		s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
		signedLog(t, s, key, pub, 3) // event 1 records alice; 2, 3 and 4 are signed
		e, err := s.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s, Head{Seq: e.Seq, Hash: e.Hash}
	}
	rehash := func(t *testing.T, s *Store, from int64) {
		evs, err := s.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		prev := GenesisHash
		for _, ev := range evs {
			if ev.Seq >= from {
				h, _ := recordHash(prev, ev.Seq, ev.At.Format(eventTimeLayout), ev.Actor, ev.Type, string(ev.Payload))
				tamper(t, s, `UPDATE events SET prev_hash = '`+prev+`', hash = '`+h+`' WHERE seq = `+strconv.FormatInt(ev.Seq, 10))
				ev.Hash = h
			}
			prev = ev.Hash
		}
		tamper(t, s, `UPDATE meta SET value = '`+prev+`' WHERE key = 'log_head'`,
			`UPDATE meta SET value = (SELECT count(*) FROM events) WHERE key = 'log_length'`)
	}
	t.Run("tail cut", func(t *testing.T) {
		s, anchored := fresh(t)
		tamper(t, s, `DROP TRIGGER IF EXISTS event_signatures_no_delete`,
			`DELETE FROM event_signatures WHERE seq = 4`, `DELETE FROM events WHERE seq = 4`)
		rehash(t, s, 5)
		if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Signed != 2 {
			t.Fatalf("the cut is not a clean one: %+v %v", r, err)
		}
		if p, _ := s.CheckHead(ctx, anchored); !strings.Contains(p, "the log has no event 4") {
			t.Errorf("anchored head after the cut: %q", p)
		}
	})
	t.Run("edited before a signed event", func(t *testing.T) {
		s, anchored := fresh(t)
		tamper(t, s, `UPDATE people SET record = replace(record, '"alice@acme.test"', '"alice@acme.test","name":"Mallory"')`,
			`UPDATE events SET payload = replace(payload, '"alice@acme.test"', '"alice@acme.test","name":"Mallory"') WHERE seq = 1`)
		rehash(t, s, 1)
		if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Signed != 3 {
			t.Fatalf("the rewrite is not a clean one: %+v %v", r, err)
		}
		if p, _ := s.CheckHead(ctx, anchored); !strings.Contains(p, "the log was rewritten at or before event 4") {
			t.Errorf("anchored head after the rewrite: %q", p)
		}
	})
	t.Run("deleted before a signed event", func(t *testing.T) {
		s, _ := fresh(t)
		tamper(t, s, `DROP TRIGGER IF EXISTS event_signatures_no_delete`, `DROP TRIGGER IF EXISTS event_signatures_no_update`,
			`DELETE FROM event_signatures WHERE seq = 2`, `DELETE FROM events WHERE seq = 2`,
			`UPDATE event_signatures SET seq = seq - 1`, `UPDATE events SET seq = seq - 1 WHERE seq > 2`)
		rehash(t, s, 2)
		r, err := s.Verify(ctx)
		if err != nil || r.OK() || !strings.Contains(r.Problems[0], "signatures: event 2 (test.decide by alice@acme.test at ") || !strings.Contains(r.Problems[0], "does not verify") {
			t.Errorf("an event deleted before signed ones: %+v %v", r, err)
		}
	})
}

// A signing key proves one person: a directory where two people have one
// key lets either sign as the other, and nhi verify would pass it. An
// import that gives a key already someone else's is refused, the same
// key under another comment too; a log an older nhi wrote with one key
// for two people fails nhi verify for the decisions that key signed.
func TestSigningKeyProvesOnePerson(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		key, pub := keyFile(t)
		_, otherPub := keyFile(t)
		fp := key.Public.Fingerprint
		both := PeopleImport{People: []Person{
			{Email: "rita@acme.test", SigningKey: pub + " rita@laptop"},
			{Email: "sam@acme.test", SigningKey: pub + " copied"},
		}}
		_, err := s.SetPeople(ctx, "root", both, false)
		var errs PeopleErrors
		if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(err.Error(), "sam@acme.test: signing_key "+fp+" is already the signing key of rita@acme.test; a key proves one person") {
			t.Fatalf("one key for two people in one file: %v", err)
		}
		if d, _ := s.People(ctx); d.Len() != 0 {
			t.Fatalf("a refused import wrote %d people", d.Len())
		}
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: both.People[:1]}, false); err != nil {
			t.Fatal(err)
		}
		// Sam's row, later, with Rita's key: refused on his row.
		in, err := ReadPeopleCSV(strings.NewReader("email,signing_key\nsam@acme.test,"+pub+"\n"), "keys.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPeople(ctx, "root", *in, false); err == nil || !strings.Contains(err.Error(), "line 2: signing_key "+fp+" is already the signing key of rita@acme.test") {
			t.Fatalf("a key already rita's, given to sam: %v", err)
		}
		// Rita's own row again, and a key of his own for Sam: accepted.
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{{Email: "rita@acme.test", SigningKey: pub}, {Email: "sam@acme.test", SigningKey: otherPub}}}, false); err != nil {
			t.Fatalf("each their own key: %v", err)
		}

		// As an older nhi recorded it: Sam given Rita's key, and a
		// decision in Sam's name signed with it.
		err = s.Write(ctx, func(tx *Tx) error {
			if err := writePeople(ctx, tx, "root", "import old.csv", &PeopleChange{Updated: []Person{{Email: "sam@acme.test", Status: PersonActive, SigningKey: pub}}}); err != nil {
				return err
			}
			_, err := tx.AppendSigned(ctx, "sam@acme.test", "test.decide", signedPayload{N: 1, SignedBy: fp}, key)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Verify(ctx)
		if err != nil || r.OK() || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "event 5 (test.decide by sam@acme.test) is signed by key "+fp+", which was then the signing key of rita@acme.test too: the signature does not tell who signed") {
			t.Fatalf("verify of a decision signed with a key two people had: %+v %v", r.Problems, err)
		}
	})
}

// BenchmarkSignedDecision is the cost signing adds to one decision with a
// key file: an event appended and signed in its own transaction, against
// the same unsigned. Target: signing adds ≤ 5 ms.
func BenchmarkSignedDecision(b *testing.B) {
	key, pub := keyFile(b)
	for _, signed := range []bool{false, true} {
		name := "unsigned"
		k := key
		if signed {
			name = "signed"
		} else {
			k = nil
		}
		b.Run(name, func(b *testing.B) {
			s := openNew(b)
			signedLog(b, s, key, pub, 0)
			i := 0
			for b.Loop() {
				i++
				err := s.Write(ctx, func(tx *Tx) error {
					_, err := tx.AppendSigned(ctx, "alice@acme.test", "test.decide", signedPayload{N: i}, k)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify100kSigned verifies a log of 100,000 signed decisions:
// the chain, and every signature against the directory. Target: ≤ 10 s.
func BenchmarkVerify100kSigned(b *testing.B) {
	s := openNew(b)
	key, pub := keyFile(b)
	signedLog(b, s, key, pub, 100_000)
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Verify(ctx)
		if err != nil || !r.OK() || r.Signed != 100_000 {
			b.Fatalf("%+v %v", r.Problems, err)
		}
	}
}
