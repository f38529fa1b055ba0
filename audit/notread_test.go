package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNotReadOf: each mark of what a source did not tell nhi is listed
// once, in order, with the reason nhi knows (a policy named, the day a
// record of use begins, a certificate's missing trust store), and a mark
// beside a value that was read (a last use, an expiry) lists nothing.
func TestNotReadOf(t *testing.T) {
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		o    Observation
		want string // what/marker: why-fragment, joined by " | "
	}{
		{"read whole", Observation{Kind: KindAWSIAMRole}, ""},
		{"every mark", Observation{Kind: KindAWSIAMRole, CreatedAt: &created, Attributes: map[string]string{
			AttrPoliciesUnknown: "true", "policies_unreadable": "deploy (inline)", AttrTrustUnknown: "true",
			AttrLastUseUnknown: "true", AttrUseTrackedSince: "2024-11-01T00:00:00Z", AttrTagsUnknown: "true",
			AttrExpiryUnknown: "true", "rotated_unknown": "true"}},
			"permissions/policies_unknown: deploy (inline) | trust/trust_unknown: trust policy | last_used/last_used_unknown: none recorded since 2024-11-01 | tags/tags_unknown: tags were not read | expiry/expires_unknown: when it expires | rotation/rotated_unknown: last changed"},
		{"kubernetes", Observation{Kind: KindK8sServiceAccount, Attributes: map[string]string{AttrPoliciesUnknown: "true", "permissions_unknown": "rbac of team-a"}},
			"permissions/policies_unknown: (rbac of team-a)"},
		{"certificate", Observation{Kind: KindX509Certificate, Attributes: map[string]string{AttrTrustUnknown: "true"}},
			"trust/trust_unknown: trusts no root"},
		{"tracking unknown", Observation{Kind: KindK8sSAToken, Attributes: map[string]string{AttrLastUseUnknown: "true", AttrUseTrackedSince: "unknown"}},
			"last_used/last_used_unknown: does not say since when"},
		{"connector denied", Observation{Kind: KindAWSAccessKey, Attributes: map[string]string{AttrLastUseUnknown: "true"}},
			"last_used/last_used_unknown: a gap of its snapshot"},
		{"imported key", Observation{Kind: KindAWSAccessKey, Attributes: map[string]string{AttrLastUseUnknown: "true", AttrEmptyInFile: "last_used_at"}},
			"last_used/last_used_unknown: an import's empty last_used_at"},
		{"imported user", Observation{Kind: KindAWSIAMUser, Attributes: map[string]string{AttrPoliciesUnknown: "true", AttrEmptyInFile: "permissions"}},
			"permissions/policies_unknown: an import's empty or missing permissions"},
		{"imported kind", Observation{Kind: ImportKindPrefix + "bot_token", Attributes: map[string]string{AttrPoliciesUnknown: "true", AttrLastUseUnknown: "true"}},
			"permissions/policies_unknown: an import's empty or missing permissions | last_used/last_used_unknown: an import's empty last_used_at"},
		{"values read", Observation{Kind: KindGitHubFineGrainedPAT, LastUsedAt: &at, ExpiresAt: &at, RotatedAt: &at, Attributes: map[string]string{
			AttrLastUseUnknown: "true", AttrExpiryUnknown: "true", "rotated_unknown": "true"}}, ""},
	} {
		got := NotReadOf(&tc.o)
		var want []string
		if tc.want != "" {
			want = strings.Split(tc.want, " | ")
		}
		if len(got) != len(want) {
			t.Errorf("%s: %+v, want %d", tc.name, got, len(want))
			continue
		}
		for i, w := range want {
			head, frag, _ := strings.Cut(w, ": ")
			if g := got[i]; g.What+"/"+g.Marker != head || !strings.Contains(g.Why, frag) {
				t.Errorf("%s: %d is %+v, want %s with %q", tc.name, i, g, head, frag)
			}
		}
	}
}

// NotReadAmong reads what the snapshots did not read of the identities
// it names alone, found by key, where NotReadBetween reads every marked
// row from the first ID to the last: for a reviewer's items, which lie
// all over a campaign, that range is most of a snapshot, read again for
// each batch. The answers are the same.
func TestNotReadAmongReadsTheNamedRowsAlone(t *testing.T) {
	ctx := context.Background()
	st := openNew(t)
	const n = 3000
	var all []Observation
	for i := range n {
		o := obs(fmt.Sprintf("r%05d", i), KindGitHubDeployKey)
		if i%3 != 0 {
			o.Attributes[AttrPoliciesUnknown] = "true"
		}
		all = append(all, o)
	}
	snap := snapshot(t, st, nil, nil, all...)
	var named []string
	marked := 0
	for i := 1; i < n; i += 100 {
		named = append(named, all[i].ID)
		if i%3 != 0 {
			marked++
		}
	}
	want := func(id string) bool { return slices.Contains(named, id) }
	read := 0
	notReadRowRead = func() { read++ }
	defer func() { notReadRowRead = nil }()

	between := map[string][]NotRead{}
	if err := st.NotReadBetween(ctx, []int64{snap.ID}, named[0], named[len(named)-1], want, between); err != nil {
		t.Fatal(err)
	}
	byRange := read
	read = 0
	list, err := json.Marshal(named)
	if err != nil {
		t.Fatal(err)
	}
	among := map[string][]NotRead{}
	if err := st.NotReadAmong(ctx, []int64{snap.ID}, list, want, among); err != nil {
		t.Fatal(err)
	}
	if len(among) != marked || !reflect.DeepEqual(among, between) {
		t.Fatalf("NotReadAmong: %d identities; want NotReadBetween's %d, the %d marked of the %d named", len(among), len(between), marked, len(named))
	}
	if read > len(named) {
		t.Errorf("NotReadAmong read %d marked rows for %d IDs named; want those named at most (NotReadBetween read %d)", read, len(named), byRange)
	}
	t.Logf("marked rows read: %d by key, %d by range", read, byRange)
}
