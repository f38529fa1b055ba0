package main

import (
	"bytes"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// TestTransferOfARenamedItemSaysBothIDs: nhi decide … transfer on an item
// frozen before its repository was renamed names the identity's ID now
// and the frozen one, as a decision does ("Decided … on NEW (was OLD)").
func TestTransferOfARenamedItemSaysBothIDs(t *testing.T) {
	var b bytes.Buffer
	printTransfer(&b, "offboard-alice", "bob@acme.test", "carol@acme.test", []campaigns.Outcome{
		{Item: "github:acme:github_deploy_key:api/1", Current: "github:acme:github_deploy_key:api-v2/1", Event: audit.Event{Seq: 12}, Assigned: true},
		{Item: "github:acme:github_deploy_key:web/3", Event: audit.Event{Seq: 13}, Assigned: true},
	})
	want := "Decided transfer of github:acme:github_deploy_key:api-v2/1 (was github:acme:github_deploy_key:api/1) to bob@acme.test in offboard-alice (event 12, by carol@acme.test); owner recorded\n" +
		"Decided transfer of github:acme:github_deploy_key:web/3 to bob@acme.test in offboard-alice (event 13, by carol@acme.test); owner recorded\n"
	if b.String() != want {
		t.Errorf("got:\n%swant:\n%s", b.String(), want)
	}
}
