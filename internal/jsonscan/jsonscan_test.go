package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// tokens lists the tokens of data as s reads them, each with its line
// and column, and whether it read it all; the strings and numbers as
// encoding/json reads them (a number's text).
func tokens(s *Scanner) (out []string, ok bool) {
	for {
		s.Space()
		if s.AtEnd() {
			return out, s.Err() == nil
		}
		line, col := s.Pos()
		at := fmt.Sprintf("%d:%d ", line, col)
		switch c := s.Peek(); c {
		case '"':
			_, text, ok := s.Str()
			if !ok {
				return out, false
			}
			out = append(out, at+fmt.Sprintf("%q", text))
		case '{', '}', '[', ']', ',', ':':
			s.Next()
			out = append(out, at+string(c))
		case 't', 'f', 'n':
			w := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
			if !s.Word(w) {
				return out, false
			}
			out = append(out, at+w)
		default:
			n, ok := s.Number()
			if !ok {
				return out, false
			}
			out = append(out, at+n)
		}
	}
}

// decoderTokens lists the tokens encoding/json's Decoder reads from data
// (commas and colons aside), as tokens writes them without positions.
func decoderTokens(data []byte) (out []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return out, false
		}
		switch v := tok.(type) {
		case string:
			out = append(out, fmt.Sprintf("%q", v))
		case json.Number:
			out = append(out, string(v))
		case nil:
			out = append(out, "null")
		default:
			out = append(out, fmt.Sprint(v))
		}
	}
}

func withoutPunctuation(toks []string) []string {
	var out []string
	for _, t := range toks {
		_, t, _ = strings.Cut(t, " ")
		if t != "," && t != ":" {
			out = append(out, t)
		}
	}
	return out
}

var docs = []string{
	`{"a": [1, -0, 2.5e-3, 1E+9, -12.25, 0.0], "b": {"c": null, "d": true, "e": false}}`,
	`["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC\ud83d\ude00\u003c", "\ud800x\udc00", "é€😀", "a` + "\xff\xfe" + `b"]`,
	"[\n  {\"n\":1,\"s\":\"x\"},\r\n\t{\"n\":2,\"s\":\"" + strings.Repeat("long ", 30_000) + "\"}\n]",
	`[` + strings.Repeat(`"\\\"", `, 20_000) + `1]`,
	`[` + strings.Repeat(`123456789, `, 20_000) + `1]`,
}

// A document reads the same, token for token and position for position,
// however its reader hands it over (a byte at a time, half a read, an
// error with the last bytes), and as encoding/json reads it.
func TestScannerReadsAsDecoder(t *testing.T) {
	for i, doc := range docs {
		want, ok := tokens(New(strings.NewReader(doc)))
		if !ok {
			t.Fatalf("doc %d: not read: %v", i, want[max(0, len(want)-3):])
		}
		dec, _ := decoderTokens([]byte(doc))
		if got := withoutPunctuation(want); !slices.Equal(got, dec) {
			t.Fatalf("doc %d: read %d tokens, encoding/json %d", i, len(got), len(dec))
		}
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(doc)),
			"half":     iotest.HalfReader(strings.NewReader(doc)),
			"data err": iotest.DataErrReader(strings.NewReader(doc)),
		} {
			got, ok := tokens(New(r))
			if !ok || !slices.Equal(got, want) {
				t.Errorf("doc %d, %s: read %d tokens (%v), want %d", i, name, len(got), ok, len(want))
			}
		}
	}
}

// firstDiff shows where a and b first differ, cut short.
func firstDiff(a, b []string) string {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			at := func(s []string) string {
				if i < len(s) {
					return fmt.Sprintf("%.60q", s[i])
				}
				return "none"
			}
			return fmt.Sprintf("token %d: %s, %s", i, at(a), at(b))
		}
	}
	return "none"
}

// Skip and Value read past one value as encoding/json does, whatever the
// reader, and Skip refuses what encoding/json refuses.
func TestSkipAndValue(t *testing.T) {
	bad := []string{`[1,]`, `{"a" 1}`, `{"a":1,}`, `[01]`, `"a` + "\t" + `"`, `"\x"`, `"\u12"`, `[1 2]`, `{1:2}`, `tru`, `-`, `1.`, `1e`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)}
	for _, doc := range append(append([]string{}, docs...), bad...) {
		valid := json.Valid([]byte(doc))
		deep := strings.HasPrefix(doc, "[[[") // valid, deeper than Skip follows
		for _, r := range []io.Reader{strings.NewReader(doc), iotest.OneByteReader(strings.NewReader(doc))} {
			s := New(r)
			if ok := s.Skip() && s.AtEnd(); ok != (valid && !deep) {
				t.Errorf("Skip of %.40q: %v, json.Valid %v", doc, ok, valid)
			}
		}
		if !valid {
			continue
		}
		s := New(iotest.OneByteReader(strings.NewReader(doc + " ,")))
		if v, ok := s.Value(); !ok || string(v) != doc {
			t.Errorf("Value of %.40q: %.40q, %v", doc, v, ok)
		}
	}
}

// Int reads what encoding/json reads into an int64, and says false at
// what it refuses.
func TestInt(t *testing.T) {
	for _, n := range []string{"0", "-0", "7", "-12", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1.0", "1e3", "2.5", "01", "-"} {
		var want int64
		wantErr := json.Unmarshal([]byte(n), &want)
		got, ok := New(strings.NewReader(n + ",")).Int()
		if ok != (wantErr == nil) || got != want {
			t.Errorf("Int(%s) = %d, %v; encoding/json %d, %v", n, got, ok, want, wantErr)
		}
	}
}

// FuzzScanner: whatever the input, it reads the same a byte at a time
// as at once, and what it reads whole is what encoding/json reads.
func FuzzScanner(f *testing.F) {
	for _, d := range docs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, ok := tokens(New(bytes.NewReader(data)))
		got, gotOK := tokens(New(iotest.OneByteReader(bytes.NewReader(data))))
		if ok != gotOK || !slices.Equal(got, want) {
			t.Fatalf("a byte at a time: %d tokens, %v; at once: %d, %v (first difference: %s)", len(got), gotOK, len(want), ok, firstDiff(got, want))
		}
		if ok && json.Valid(data) {
			dec, _ := decoderTokens(data)
			if !slices.Equal(withoutPunctuation(want), dec) {
				t.Fatalf("read %d tokens, encoding/json %d (first difference: %s)", len(withoutPunctuation(want)), len(dec), firstDiff(withoutPunctuation(want), dec))
			}
		}
	})
}

// NewBytes reads a document in memory as New reads it from a reader,
// token for token and position for position, and Skip and Value as
// well, and leaves the document as it was.
func TestNewBytes(t *testing.T) {
	for _, doc := range append(append([]string{}, docs...), `{"a":1,}`, `"a`, `[1 2]`, `tru`, `{"k\u005f":"\ud800"}`, ``) {
		checkNewBytes(t, []byte(doc))
	}
}

func checkNewBytes(t *testing.T, doc []byte) {
	t.Helper()
	was := bytes.Clone(doc)
	want, ok := tokens(New(bytes.NewReader(doc)))
	got, gotOK := tokens(NewBytes(doc))
	if ok != gotOK || !slices.Equal(got, want) {
		t.Fatalf("%.40q: NewBytes read %d tokens, %v; New %d, %v (first difference: %s)", doc, len(got), gotOK, len(want), ok, firstDiff(got, want))
	}
	a, b := New(bytes.NewReader(doc)), NewBytes(doc)
	if sa, sb := a.Skip(), b.Skip(); sa != sb || a.AtEnd() != b.AtEnd() {
		t.Fatalf("%.40q: Skip %v, at the end %v; New %v, %v", doc, sb, b.AtEnd(), sa, a.AtEnd())
	}
	va, oka := New(bytes.NewReader(doc)).Value()
	vb, okb := NewBytes(doc).Value()
	if oka != okb || !bytes.Equal(va, vb) {
		t.Fatalf("%.40q: Value %.40q, %v; New %.40q, %v", doc, vb, okb, va, oka)
	}
	if !bytes.Equal(doc, was) {
		t.Fatalf("NewBytes changed the document: %.40q, was %.40q", doc, was)
	}
}

// FuzzNewBytes: whatever the input, NewBytes reads it as New does and
// leaves it as it was.
func FuzzNewBytes(f *testing.F) {
	for _, d := range docs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkNewBytes(t, data) })
}

// SkipKnown reads past a value of a document that is JSON as Skip does,
// ending at the same place with the same answer, however the document is
// handed over.
func TestSkipKnown(t *testing.T) {
	for _, doc := range append(append([]string{}, docs...), `0`, `-1.5e3`, `"x"`, `true`, ` null `, `{}`, `[]`, `{"a":{"b":[1,{"c":"}]"}]},"d":2}`, `[1,"\"]",[[]],{}]`) {
		checkSkipKnown(t, []byte(doc))
	}
}

func checkSkipKnown(t *testing.T, doc []byte) {
	t.Helper()
	for _, s := range []func() *Scanner{
		func() *Scanner { return NewBytes(doc) },
		func() *Scanner { return New(iotest.OneByteReader(bytes.NewReader(doc))) },
	} {
		a, b := s(), s()
		a.Space()
		b.Space()
		wantOK, gotOK := a.Skip(), b.SkipKnown()
		wl, wc := a.Pos()
		gl, gc := b.Pos()
		if wantOK != gotOK || wl != gl || wc != gc {
			t.Fatalf("%.60q: SkipKnown %v at %d:%d; Skip %v at %d:%d", doc, gotOK, gl, gc, wantOK, wl, wc)
		}
	}
}

// FuzzSkipKnown: on any JSON, SkipKnown ends where Skip does; on anything
// else it ends.
func FuzzSkipKnown(f *testing.F) {
	for _, d := range docs {
		f.Add([]byte(d))
	}
	f.Add([]byte(`{"a":{"b":[1,{"c":"}]"}]},"d":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) || bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) >= maxDepth {
			NewBytes(data).SkipKnown()
			return
		}
		checkSkipKnown(t, data)
	})
}
