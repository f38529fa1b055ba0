package audit

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// TestStreamIdentitiesMatchesEachIdentity: the TUI's read gives what
// EachIdentity gives, in the same order, on a file where stored
// findings hold (the current snapshot, taken under the policy in force)
// and where they do not (identities last seen before the policy changed);
// where owners recorded since change the owner-dependent rules (an owner
// set on an unowned identity: no longer orphaned); with removed, new and
// changed identities, across batches.
func TestStreamIdentitiesMatchesEachIdentity(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { eachBatch = n }(eachBatch)
		eachBatch = 64
		s := openAt(t, eng.new(t))
		first := make([]Observation, 300)
		for i := range first {
			first[i] = obs(fmt.Sprintf("item-%05d", i), Kinds[i%len(Kinds)])
			if i%3 == 0 {
				delete(first[i].Attributes, "added_by") // no owner: orphaned
			}
		}
		one := snapshot(t, s, nil, nil, first...)
		// A stricter policy after the first snapshot: what was removed
		// before the second is judged under it, not its stored findings.
		p := DefaultPolicy()
		r := p.Rules[RuleUnrotated]
		r.Severity, r.Days = "critical", 30
		p.Rules[RuleUnrotated] = r
		if _, err := s.SetPolicy(ctx, "auditor@acme.test", p); err != nil {
			t.Fatal(err)
		}
		second := append([]Observation(nil), first[10:]...)
		second[0].Permissions = map[string]string{"contents": "read"}
		second = append(second, obs("item-new", KindGitHubDeployKey))
		two := snapshot(t, s, nil, nil, second...)
		// The second snapshot's stored findings are read, the first's are
		// not.
		if under, err := s.snapshotsUnderPolicy(ctx, p); err != nil || !under[two.ID] || under[one.ID] {
			t.Fatalf("snapshots under the policy in force: %v, %v; want %d, not %d", under, err, two.ID, one.ID)
		}
		if _, err := s.SetOwner(ctx, "auditor@acme.test", first[12].ID, "carol"); err != nil {
			t.Fatal(err)
		}

		var want []Identity
		if err := s.EachIdentity(ctx, func(id *Identity) error {
			want = append(want, *id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var got []Identity
		if err := s.StreamIdentities(ctx, func(id *Identity) error {
			got = append(got, *id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("streamed %d identities, EachIdentity %d", len(got), len(want))
		}
		seen := map[string]int{}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("identity %d differs:\nstreamed %+v\neach     %+v", i, got[i], want[i])
			}
			seen[want[i].Status+"/"+want[i].Change]++
			for _, f := range want[i].Findings {
				seen[f.Rule+"/"+f.Severity]++
			}
			if want[i].Owner == "carol" {
				seen["carol, orphaned"] += len(slices.DeleteFunc(slices.Clone(want[i].Findings), func(f Finding) bool { return f.Rule != RuleOrphaned }))
			}
		}
		// The fixture has what the test is about.
		if seen["removed/"] != 10 || seen["active/new"] != 1 || seen["active/changed"] != 1 ||
			seen[RuleUnrotated+"/critical"] == 0 || seen[RuleOrphaned+"/"+p.Rules[RuleOrphaned].Severity] == 0 || seen["carol, orphaned"] != 0 {
			t.Errorf("fixture: %v", seen)
		}
	})
}

// TestStreamIdentitiesStopsOnError: the callback's error ends the read
// and is returned as it is.
func TestStreamIdentitiesStopsOnError(t *testing.T) {
	s := openAt(t, testEngine{"sqlite"}.new(t))
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey), obs("b", KindGitHubDeployKey), obs("c", KindGitHubDeployKey))
	stop := errors.New("stop")
	var calls []string
	err := s.StreamIdentities(ctx, func(id *Identity) error {
		calls = append(calls, id.Name)
		return stop
	})
	if !errors.Is(err, stop) || fmt.Sprint(calls) != "[a]" {
		t.Fatalf("StreamIdentities = %v after %v, want the callback's error after a", err, calls)
	}
}
