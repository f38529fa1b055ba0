// Package campaigns runs access-review campaigns over the evidence file: the
// quarterly review compliance asks for (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18,
// PCI DSS 7.2.5.1), from population to proof of removal.
//
// A campaign freezes its population at [Create]: a scope (a filter
// expression) evaluated over one finished snapshot, with each item's owner,
// findings and permissions as they were then, the policy in force (its
// digest) and an assigned reviewer. Reviewers [Decide] each item
// (decommission, keep, rotate), or many at once with [DecideMatching];
// [Close] turns every undecided item into no-response; [VerifyRemediation]
// and [VerifyAfterSnapshot] check in later snapshots that what was approved
// for removal is gone.
//
// Every human action is an event in the audit log (campaign.create,
// campaign.decide, campaign.confirm, campaign.close, campaign.verify),
// appended with [audit.Tx.Append] in the same transaction as the projection
// tables it implies (campaigns, campaign_items, campaign_decisions). The
// frozen population is covered by a digest in the campaign.create event;
// [Verify] replays the events, recomputes the digests and names every row
// that differs. docs/campaigns.md is the user's guide.
package campaigns
