package audit

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"deploy-prod", "deploy-prod"},
		{"", ""},
		{"évité 日本 🔑", "évité 日本 🔑"},
		{"evil\x1b]0;pwned\x07\x1b[31mred", "evilred"},                    // OSC title + SGR
		{"a\x1b]0;pwned\x1b\\b", "ab"},                                    // OSC ended by ST
		{"a\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"}, // hyperlink
		{"a\x1b]0;never ends", "a"},                                       // unterminated OSC
		{"a\x1b[2J\x1b[1;1H\x1b[?25lb", "ab"},                             // clear, move, hide cursor
		{"a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},                                // DCS (sixel)
		{"a\x1b_Gf=100;AAAA\x1b\\b", "ab"},                                // APC (kitty graphics)
		{"a\x1b^pm\x1b\\b\x1bXsos\x1b\\c", "abc"},                         // PM, SOS
		{"a\x1b7\x1b8\x1bcb", "ab"},                                       // save/restore cursor, reset
		{"a\x1b(0b", "ab"},                                                // charset designation
		{"a\x1b", "a"},                                                    // lone ESC at the end
		{"a\u009b31mb", "ab"},                                             // C1 CSI
		{"a\u009d0;t\u009cb", "ab"},                                       // C1 OSC ended by C1 ST
		{"a\u0085b\u0090x\u009cc", "a bc"},                                // NEL, C1 DCS
		{"a\x9bb", "a\ufffdb"},                                            // raw 8-bit CSI byte: invalid UTF-8
		{"line1\nline2\r\n\tx", "line1 line2   x"},
		{"a\x00b\x07c\x08d\x7fe", "abcde"},
		{"a\u2028b\u2029c", "a b c"},
		{"user\u202egnp.exe", "usergnp.exe"}, // right-to-left override
		{"a\u2066b\u2069c", "abc"},
		// What prints nothing is shown, so that two values a reader
		// would take for one show apart: "\u200fbob" is not "bob".
		{"\u200fbob", "<U+200F>bob"},
		{"ri\u200bta", "ri<U+200B>ta"},
		{"\ufeffowner", "<U+FEFF>owner"},
		{"dep\u00adloy", "dep<U+00AD>loy"},
		{"a\u200e\u061cb", "a<U+200E><U+061C>b"},
	} {
		got := Printable(c.in)
		if got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Printable(%q) is not valid UTF-8", c.in)
		}
	}
}

func TestPrintablePlainDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("acme/repo-name ", 4)
	if n := testing.AllocsPerRun(100, func() { _ = Printable(s) }); n != 0 {
		t.Errorf("sanitize of plain ASCII allocates %v times", n)
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"evil\x1b]0;pwned\x07\x1b[31mred", "a\u009b31mb", "\x1bP", "日本\t", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Printable(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Printable(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("Printable(%q) = %q: kept control %U", s, got, r)
			}
		}
		if again := Printable(got); again != got {
			t.Fatalf("sanitize is not idempotent on %q: %q then %q", s, got, again)
		}
	})
}

func TestCounted(t *testing.T) {
	for n, want := range map[int]string{0: "0 identities", 1: "1 identity", 2: "2 identities", 1000: "1000 identities"} {
		if got := Counted(n, "identity", "identities"); got != want {
			t.Errorf("Counted(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	cases := map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 100000: "100,000",
		1234567: "1,234,567", -7: "-7", -123: "-123", -1234: "-1,234", -100000: "-100,000"}
	// An int's extremes: 64 bits, or 32 where Go's int is (GOARCH=386,
	// which .ci/run vets).
	hi, lo := "9,223,372,036,854,775,807", "-9,223,372,036,854,775,808"
	if strconv.IntSize == 32 {
		hi, lo = "2,147,483,647", "-2,147,483,648"
	}
	cases[math.MaxInt], cases[math.MinInt] = hi, lo
	for n, want := range cases {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
