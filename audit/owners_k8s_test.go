package audit

import (
	"reflect"
	"testing"
)

// A Kubernetes identity's own owner labels are its own: they are not
// shared with the other identities of its namespace, whose suggestions
// come from the namespace's labels alone.
func TestK8sOwnerSuggestionsAreEachIdentitys(t *testing.T) {
	s := openNew(t)
	ns := map[string]string{"namespace": "ci", "namespace_label.team": "platform"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range ns {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// The token sorts first: the namespace's suggestions are computed
	// from it, and must not stand in for the deployer's own label.
	token := Observation{ID: IdentityID("k8s", "prod", KindK8sSAToken, "ci/deployer-token"), Kind: KindK8sSAToken, Name: "deployer-token", Scope: "prod/ci",
		Attributes: with(map[string]string{"service_account": "deployer"})}
	deployer := Observation{ID: IdentityID("k8s", "prod", KindK8sServiceAccount, "ci/deployer"), Kind: KindK8sServiceAccount, Name: "deployer", Scope: "prod/ci",
		Attributes: with(map[string]string{"label.owner": "dana", "annotation.team": "delivery"})}
	runner := Observation{ID: IdentityID("k8s", "prod", KindK8sServiceAccount, "ci/runner"), Kind: KindK8sServiceAccount, Name: "runner", Scope: "prod/ci", Attributes: with(nil)}
	snapshotOf(t, s, "k8s", "prod", nil, token, deployer, runner)

	ids, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]OwnerSuggestion{}
	for _, id := range ids {
		got[id.Name] = id.Suggestions
	}
	namespace := OwnerSuggestion{Owner: "platform", Source: "label team of namespace ci"}
	want := map[string][]OwnerSuggestion{
		"deployer-token": {namespace},
		"deployer":       {{Owner: "dana", Source: "label owner"}, {Owner: "delivery", Source: "annotation team"}, namespace},
		"runner":         {namespace},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("suggestions:\n got %+v\nwant %+v", got, want)
	}
}
