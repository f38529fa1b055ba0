package report

import "testing"

// TestKeepDates: every date and time in a value is put in a <time>
// element, which the page keeps on one line (TestTimesStayWhole checks
// the page in Chromium), and nothing else: a longer run of digits, a
// version or a hyphenated word is left as it is, and the rest is escaped.
func TestKeepDates(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2026-12-04T18:54:32Z", "<time>2026-12-04T18:54:32Z</time>"},
		{"effective 2026-10-31 (event 4)", "effective <time>2026-10-31</time> (event 4)"},
		{"2026-12-04T18:54:32Z → 2026-12-04T18:57:01.125Z", "<time>2026-12-04T18:54:32Z</time> → <time>2026-12-04T18:57:01.125Z</time>"},
		{"asked <b>bob</b> on 2026-12-04, again 2026-12-05T09:00:00Z.", "asked &lt;b&gt;bob&lt;/b&gt; on <time>2026-12-04</time>, again <time>2026-12-05T09:00:00Z</time>."},
		{"key created 2025-10-31", "key created <time>2025-10-31</time>"},
		{"ticket OPS-2231-follow-up, 12026-12-04, 2026-12-045, 2026-1-04, a-b-c-", "ticket OPS-2231-follow-up, 12026-12-04, 2026-12-045, 2026-1-04, a-b-c-"},
		{"2026-12-04T18:54", "<time>2026-12-04</time>T18:54"},
		{"", ""},
	} {
		if got := string(keepDates(c.in)); got != c.want {
			t.Errorf("keepDates(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
