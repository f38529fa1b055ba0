package audit

import (
	"strings"
	"testing"
)

func TestVerifyDetectsTampering(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		cases := []struct {
			name  string
			stmts []string
			first string
		}{
			// Event 1 records the snapshot; 2, 3 and 4 set a's owner.
			{"edited payload", []string{`UPDATE events SET payload = replace(payload, 'bob', 'mallory') WHERE seq = 3`}, "event 3 (owner.set by auditor@acme.test"},
			{"edited actor", []string{`UPDATE events SET actor = 'someone-else' WHERE seq = 2`}, "event 2 (owner.set by someone-else"},
			{"edited projection", []string{`UPDATE owners SET owner = 'mallory'`}, `owners: github:acme:github_deploy_key:a has owner "mallory" in the table but "carol" by the event log`},
			// What is wrong of an owners row, never `has owner "" in the table but "" by the event log`.
			{"owner row no event left", []string{`INSERT INTO owners (identity_id, owner, person, event_seq) VALUES ('github:acme:github_deploy_key:b', '', '', 3)`}, `owners: github:acme:github_deploy_key:b has a row in the owners table with no owner (naming event 3), which no owner.set event leaves: nhi deletes the row when an owner is cleared: the table was edited`},
			{"owner emptied", []string{`UPDATE owners SET owner = ''`}, `owners: github:acme:github_deploy_key:a has a row in the owners table with no owner (naming event 4) but owner "carol" by the event log (event 4): the table was edited`},
			{"owner row deleted", []string{`DELETE FROM owners`}, `owners: github:acme:github_deploy_key:a has no row in the owners table but owner "carol" by the event log (event 4): the table was edited`},
			{"owner row names another event", []string{`UPDATE owners SET event_seq = 2`}, `owners: github:acme:github_deploy_key:a has owner "carol" in the table and by the event log, but its row names event 2 where the owner.set event that set it is event 4: the table was edited`},
			{"deleted middle event", []string{`DELETE FROM events WHERE seq = 3`}, "event 3 is missing"},
			{"deleted last event", []string{`DELETE FROM events WHERE seq = 4`}, "the file recorded 4 events but the log holds 3"},
			{"rewritten chain tail", []string{`DELETE FROM events WHERE seq = 4`, `UPDATE meta SET value = '3' WHERE key = 'log_length'`}, "head the file recorded"},
			{"edited snapshot", []string{`UPDATE observations SET name = 'innocent' WHERE identity_id LIKE '%:b'`}, "snapshot 1: its observations no longer match its digest"},
			// A time never recorded (NULL) is not the empty text.
			{"unset time made empty", []string{`UPDATE observations SET expires_at = '' WHERE expires_at IS NULL AND identity_id LIKE '%:b'`}, "snapshot 1: its observations no longer match its digest"},
			// What the snapshot's record in the log covers beyond its observations.
			{"partial made complete", []string{`UPDATE snapshots SET status = 'complete'`, `DELETE FROM snapshot_gaps`}, `snapshot 1: its status is "complete" but its record says "partial"`},
			{"gaps deleted", []string{`DELETE FROM snapshot_gaps`}, "snapshot 1: its gaps (endpoints not read) are 0 rows that differ from the 1 its record holds"},
			{"credential edited", []string{`UPDATE snapshots SET credential = 'auditor-app'`}, `snapshot 1: its credential is "auditor-app" but its record says "nhi-auditor (classic token)"`},
			{"API URL edited", []string{`UPDATE snapshots SET api_url = 'https://ghe.acme.test/api/v3/'`}, `snapshot 1: its API URL is "https://ghe.acme.test/api/v3/" but its record says "http://127.0.0.1/"`},
			{"times edited", []string{`UPDATE snapshots SET started_at = '2020-01-01T00:00:00Z', finished_at = '2020-01-01T00:10:00Z'`}, `snapshot 1: its start time is "2020-01-01T00:00:00Z"`},
			{"reach edited", []string{`UPDATE snapshots SET reach = replace(reach, '"read":3', '"read":9')`}, `snapshot 1: its reach is "{\"unit\":\"repositories\",\"read\":9`},
			{"snapshot deleted", []string{`DELETE FROM observations`, `DELETE FROM snapshots`}, "snapshot 1, recorded by event 1, is missing from the file: it was deleted"},
			{"identities deleted", []string{`DELETE FROM identities WHERE id LIKE '%:b'`}, "identities: 1 identities the snapshots observed are missing from the table (rows were deleted): github:acme:github_deploy_key:b (observed by snapshot 1)"},
			{"identity added", []string{`INSERT INTO identities SELECT 'github:acme:github_deploy_key:z', kind, source, account, first_snapshot, last_snapshot, first_seen, last_seen FROM identities LIMIT 1`}, "identities: 1 identities in the table were never observed by a finished snapshot (rows were added): github:acme:github_deploy_key:z"},
			{"identity edited", []string{`UPDATE identities SET first_seen = '2020-01-01T00:00:00Z' WHERE id LIKE '%:b'`}, "identities: 1 rows differ from what the snapshots' observations imply (rows were edited): github:acme:github_deploy_key:b"},
			{"principals edited", []string{`UPDATE principals SET login = 'mallory'`}, "snapshot 1: its principals (members, teams, collaborators, CODEOWNERS) are 1 rows that differ from the 1 its record holds"},
			{"principals deleted", []string{`DELETE FROM principals`}, "snapshot 1: its principals (members, teams, collaborators, CODEOWNERS) are 0 rows that differ from the 1 its record holds"},
			{"running snapshot made complete", []string{`INSERT INTO snapshots (source, account, api_url, credential, tool_version, started_at, finished_at, status, policy_id, counts, digest) SELECT source, account, api_url, credential, tool_version, started_at, finished_at, 'complete', policy_id, '{}', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' FROM snapshots`}, "snapshot 2: it is complete but the event log has no record of it finishing"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := openAt(t, eng.new(t))
				a := obs("a", KindGitHubDeployKey)
				w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", Credential: "nhi-auditor (classic token)", ToolVersion: "test"})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range []Observation{a, obs("b", KindGitHubDeployKey)} {
					w.Record(o)
				}
				w.Gap(Gap{Endpoint: "GET /orgs/acme/hooks", Status: 403, Reason: "needs admin:org_hook"})
				w.Principal(Principal{Type: PrincipalMember, Scope: "acme", Login: "alice", Role: "member"})
				if err := w.SetReach(ctx, Reach{Unit: "repositories", Read: 3, Requests: 12, CannotSee: []string{"OAuth apps authorized outside SAML"}}); err != nil {
					t.Fatal(err)
				}
				snap, err := w.Finish(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r := snap.Reach; r == nil || r.Read != 3 || r.Requests != 12 || len(r.NotRead) != 0 || r.NotRead == nil {
					t.Fatalf("reach %+v", snap.Reach)
				}
				if all, err := s.Snapshots(ctx); err != nil || all[0].Reach == nil || all[0].Reach.CannotSee[0] != "OAuth apps authorized outside SAML" {
					t.Fatalf("reach read back: %+v %v", all, err)
				}
				for _, owner := range []string{"alice", "bob", "carol"} {
					if _, err := s.SetOwner(ctx, "auditor@acme.test", a.ID, owner); err != nil {
						t.Fatal(err)
					}
				}
				tamper(t, s, c.stmts...)
				r, err := s.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK() {
					t.Fatal("verify passed a tampered file")
				}
				if !strings.Contains(r.Problems[0], c.first) {
					t.Errorf("first problem %q; want it to name %q (all: %q)", r.Problems[0], c.first, r.Problems)
				}
			})
		}
	})
}
