package campaigns

import (
	"testing"

	"github.com/nhi-audit/nhi/audit"
	spoolfile "github.com/nhi-audit/nhi/internal/spool"
)

// A bulk decision's payload is written by hand from the items picked on
// disk (bulkPicked.withItems); its bytes are what encoding the payload
// with its list of items wrote before, which the event's hash covers and
// verify reads back: IDs plain and IDs every escape of the encoder
// touches, in a decision's and a confirmation's payload, none and many.
func TestBulkPayloadIsTheEncodersPayload(t *testing.T) {
	ids := []string{"", "github:acme/repo/deploy_key/1", `quo"te\back`, "<b>&amp;</b>", "tab\tnew\nline\rcr",
		"\b\f bell\x07 esc\x1b nul\x00", "line\u2028para\u2029", "bad \xff\xfe utf8", "ünïcødé ✓ 😀", "\x7f del", `"items":[]`}
	for _, n := range []int{0, 1, len(ids)} {
		each, err := spoolfile.Create(t.TempDir(), "picked-*.spool")
		if err != nil {
			t.Fatal(err)
		}
		p := &bulkPicked{each: each}
		for i, id := range ids[:n] {
			p.record(id, i%2, i%3 == 0)
		}
		if err := each.Close(); err != nil {
			t.Fatal(err)
		}
		list := append([]string{}, ids[:n]...)
		for _, pair := range []struct{ empty, whole any }{
			{DecidePayload{Campaign: `c"items":[]`, Items: []string{}, Decision: Keep, Reason: `r "items":[]`, Filter: "id:*", ExceptionExpires: "2027-01-01", ExceptionApproval: true},
				DecidePayload{Campaign: `c"items":[]`, Items: list, Decision: Keep, Reason: `r "items":[]`, Filter: "id:*", ExceptionExpires: "2027-01-01", ExceptionApproval: true}},
			{ConfirmPayload{Campaign: "<c>", Items: []string{}, Reason: "r", SignedBy: "SHA256:x"},
				ConfirmPayload{Campaign: "<c>", Items: list, Reason: "r", SignedBy: "SHA256:x"}},
		} {
			got, err := p.withItems(pair.empty)
			if err != nil {
				t.Fatal(err)
			}
			want, err := audit.Canonical(pair.whole)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%d items:\n got %s\nwant %s", n, got, want)
			}
		}
		each.Remove()
	}
}
