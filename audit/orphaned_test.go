package audit

import (
	"strings"
	"testing"
)

// AWS and Kubernetes identities are orphaned as every other kind is: an
// owner recorded who has left makes the key or service account orphaned,
// saying so, and an import's owner cell keeps the rule from firing
// (docs/import.md), where both kinds looked only at whether any owner was
// recorded, so a leaver's AWS key read as owned and an imported key with
// its owner named read "no owner recorded".
func TestOrphanedOnAWSAndKubernetes(t *testing.T) {
	ev := NewEvaluator(DefaultPolicy(), evalNow)
	ev.SetPeople(newDirectory([]Person{
		{Email: "rita@acme.test", Aliases: []string{"rita"}, Status: PersonLeft, LeftAt: "2026-09-30"},
		{Email: "bob@acme.test", Aliases: []string{"bob"}},
	}))
	key := Observation{Kind: KindAWSAccessKey, Name: "AKIAEXAMPLE", CreatedAt: daysAgo(10), RotatedAt: daysAgo(10), LastUsedAt: daysAgo(1),
		Attributes: map[string]string{"status": "Active", "user": "deploy"}}
	sa := Observation{Kind: KindK8sServiceAccount, Name: "ci", Attributes: map[string]string{"namespace": "build"}}
	imported := key
	imported.Attributes = map[string]string{"status": "Active", "owner": "bob@acme.test"}
	importedLeaver := key
	importedLeaver.Attributes = map[string]string{"status": "Active", "owner": "rita@acme.test"}
	for _, c := range []struct {
		name string
		id   Identity
		want string // the orphaned finding's words; "" for none
	}{
		{"AWS key nobody owns", Identity{Observation: key}, "no owner recorded"},
		{"AWS key owned by someone here", Identity{Owner: "bob", Observation: key}, ""},
		{"AWS key owned by a leaver", Identity{Owner: "rita", Observation: key}, "owner rita left on 2026-09-30"},
		{"imported AWS key whose file names its owner", Identity{Observation: imported}, ""},
		{"imported AWS key whose file names a leaver", Identity{Observation: importedLeaver}, "rita@acme.test, who holds it according to the source, left on 2026-09-30"},
		{"service account nobody owns", Identity{Observation: sa}, "no owner recorded"},
		{"service account owned by a leaver", Identity{Owner: "rita@acme.test", Observation: sa}, "owner rita@acme.test left on 2026-09-30"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got string
			for _, f := range ev.Evaluate(&c.id, "acme") {
				if f.Rule == RuleOrphaned {
					got = f.Message
				}
			}
			if c.want == "" && got != "" {
				t.Errorf("orphaned: %q; want none", got)
			}
			if c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("orphaned: %q; want it to say %q", got, c.want)
			}
		})
	}
}
