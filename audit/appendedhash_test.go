package audit

import (
	"strings"
	"testing"
)

// TestAppendedHashIsRecordHash: the hash an append computes piece by
// piece is the chain's, recordHash of the whole record, for payloads of
// every shape canonicalJSON writes (texts the encoder escapes or leaves,
// HTML characters, U+2028, invalid UTF-8, a payload larger than the piece)
// and for odd actors and types: a byte of difference would make every
// event appended fail verification.
func TestAppendedHashIsRecordHash(t *testing.T) {
	big := make([]string, 20_000)
	for i := range big {
		big[i] = "github:acme:github_deploy_key:repo-" + strings.Repeat("x", i%7) + "/\u00e9<&>"
	}
	payloads := []any{
		map[string]any{},
		[]any{},
		"plain",
		map[string]any{"a": "<b>&amp;</b>", "b": "line\u2028sep\u2029", "c": "\b\f\n\t\"\\", "d": "\xff\xfe", "e": 1.5, "f": nil, "g": true},
		map[string]any{"ids": big},
	}
	for _, who := range []struct{ actor, typ string }{{"lead@acme.test", "campaign.verify"}, {"a<b>&\"c\u2028", "t\\y\bpe"}} {
		for i, v := range payloads {
			p, err := canonicalJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			want, err := recordHash("abc123", 42, "2026-12-06T05:00:00.000000Z", who.actor, who.typ, p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendedHash("abc123", 42, "2026-12-06T05:00:00.000000Z", who.actor, who.typ, p)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("payload %d (%d bytes), actor %q: appended hash %s, the chain's %s", i, len(p), who.actor, got, want)
			}
		}
	}
}
