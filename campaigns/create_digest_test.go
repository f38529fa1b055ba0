package campaigns_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// The population digest and every item's row hash of a campaign over
// several sources are what encoding/json writes of what
// IdentitiesInSnapshot reads of each snapshot, the plain way: the
// streamed read (a cursor a snapshot, merged; rows packed into one text)
// and the items' JSON appended by hand give the same bytes. Some texts
// hold the packed read's separator (\x1f), an HTML character or a
// character JSON escapes.
func TestCreateDigestIsThePlainEncoding(t *testing.T) {
	f := newFixture(t)
	var obs []audit.Observation
	for i := range 1100 { // more than two batches of items
		o := key(fmt.Sprintf("repo-%04d", i/3), fmt.Sprint(i), fmt.Sprintf("user%d", i%7))
		switch i % 50 {
		case 1:
			o.Name = "deploy\x1fkey <b>&"
		case 2:
			o.Scope = "acme/\x1f"
		case 3:
			o.Attributes = map[string]string{"added_by": "a\x1fb", "note": "tab\there \"quoted\""}
		case 4:
			o.Permissions = map[string]string{"contents": "write", "a\x1f": "<read>"}
		}
		obs = append(obs, o)
	}
	gh := f.Snapshot(t, nil, obs...)
	github := f.Source
	f.Clock.Add(time.Hour)
	f.Source = slackSource
	sl := f.Snapshot(t, nil, slackBot("B1", "deploy-bot"), slackBot("B2", "legacy\x1falerts"))
	f.Source = github
	if _, err := f.Store.SetOwner(ctx, "lead@acme.test", keyID("repo-0003", "10"), "carol\x1fdave"); err != nil {
		t.Fatal(err)
	}
	res := create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita", "sam", "tess"}})
	c := get(t, f, "q")

	var want []audit.Identity
	for _, sn := range []*audit.Snapshot{gh, sl} {
		ids, err := f.Store.IdentitiesInSnapshot(ctx, sn.ID)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ids...)
	}
	slices.SortFunc(want, func(a, b audit.Identity) int { return strings.Compare(a.ID, b.ID) })
	if len(c.Items) != len(want) || res.Campaign.Count != len(want) {
		t.Fatalf("campaign of %d items (%d counted), the snapshots hold %d", len(c.Items), res.Campaign.Count, len(want))
	}
	hashes := map[string]string{}
	rows, err := f.Raw(t).Query(`SELECT identity_id, row_hash FROM campaign_items`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			t.Fatal(err)
		}
		hashes[id] = h
	}
	rows.Close()
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	digest := sha256.New()
	for i, id := range want {
		it := c.Items[i]
		if it.ID != id.ID {
			t.Fatalf("item %d is %s, the snapshots' %d is %s", i, it.ID, i, id.ID)
		}
		findings := id.Findings
		if findings == nil {
			findings = []audit.Finding{}
		}
		perms := id.Permissions
		if perms == nil {
			perms = map[string]string{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode([]string{id.ID, string(id.Kind), id.Name, id.Scope, id.Owner, audit.NaturalOwner(&id.Observation),
			marshal(findings), marshal(perms), it.Reviewer, "", ""}); err != nil {
			t.Fatal(err)
		}
		row := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		digest.Write(row)
		digest.Write([]byte("\n"))
		sum := sha256.Sum256(row)
		if h := hex.EncodeToString(sum[:]); hashes[id.ID] != h {
			t.Fatalf("item %s: row hash %s, its plain encoding %s hashes to %s", id.ID, hashes[id.ID], row, h)
		}
	}
	if d := hex.EncodeToString(digest.Sum(nil)); c.PopulationDigest != d {
		t.Errorf("population digest %s, the plain encoding's %s", c.PopulationDigest, d)
	}
	seps := 0
	for _, it := range c.Items {
		if strings.Contains(it.Name+it.Scope+it.Owner+fmt.Sprint(it.Permissions), "\x1f") {
			seps++
		}
	}
	if seps < 4 {
		t.Errorf("only %d items hold the separator", seps)
	}
}
